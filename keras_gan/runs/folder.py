"""The run folder: every file a training run keeps, a reader for each, and the folder's lock.

    RUN/config.json            the TrainConfig (config.py: `read_config`)
    RUN/checkpoint.npz         weights, optimizer state, history (checkpoint.py)
    RUN/losses.csv             every loss (D and G; CycleGAN's and SRGAN's terms) at every step
    RUN/epochs.csv             one row per epoch: mean losses, seconds, images per second, memory
    RUN/evals.csv              scores every --eval_every epochs, with metric_curves.png
    RUN/generator.keras        G of the last epoch; generator_best.keras, of the best score
    RUN/discriminator.keras    D of the last epoch, with the loss's output activation
                               (CycleGAN: generator_a2b, generator_b2a, discriminator_a, discriminator_b)
    RUN/samples/epoch_NNN.png  the sample grid (G of the fixed noise, or inputs beside outputs),
                               with loss_curves.png
    RUN/tensorboard/           TensorBoard summaries (losses, scores, sample grids)
    RUN/metrics.json           the scores of keras_gan.evaluate and make experiment, with
    RUN/nearest_training_images.png   the samples closest to a training image (the CID index)
    RUN/comparison.png         image-to-image members: test inputs, the baselines' and the model's
                               outputs, and the truth, side by side (keras_gan/evaluation/image_scores.py)
    RUN/skipped_files.txt      the files of a folder dataset that could not be read, each with why
    RUN/.lock                  held by the one process that writes the folder

A run folder is self-contained: nothing in it names the folder itself, so a folder that was moved
or copied resumes where it now is (`--resume --output_dir=X` reads and writes X alone).

One process writes a run folder at a time. `lock` holds an exclusive `flock` on RUN/.lock for as
long as the run trains; the kernel releases it when the process ends, however it ends, so a killed
run never leaves a stale lock. A second process gets one line naming the process that holds it.
"""

import contextlib
import csv
import fcntl
import json
import os

from keras_gan.errors import ConfigError, RunFileError, RunInUseError, reason
from keras_gan.io.atomic import remove_temporaries, write_text

CONFIG = "config.json"
CHECKPOINT = "checkpoint.npz"
LOSSES = "losses.csv"
EPOCHS = "epochs.csv"
EVALS = "evals.csv"
GENERATOR = "generator.keras"
GENERATOR_BEST = "generator_best.keras"
GENERATOR_A2B = "generator_a2b.keras"
GENERATOR_B2A = "generator_b2a.keras"
SAMPLES = "samples"
LOSS_CURVES = "loss_curves.png"
METRIC_CURVES = "metric_curves.png"
TENSORBOARD = "tensorboard"
METRICS = "metrics.json"
NEAREST = "nearest_training_images.png"
COMPARISON = "comparison.png"
SKIPPED = "skipped_files.txt"
LOCK = ".lock"
RESTORE = "restore it from a copy, or delete the run's folder to train it again"


def sample_grid(folder: str, epoch: int) -> str:
    return os.path.join(folder, SAMPLES, f"epoch_{epoch:03d}.png")


def make(folder: str) -> None:
    """Creates the run folder (and its samples/), or says why it cannot."""
    try:
        os.makedirs(os.path.join(folder, SAMPLES), exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot write to --output_dir={folder}: {e.strerror or e}") from e


def sweep(folder: str) -> None:
    """Deletes what a killed save left, and checks that the folder can be written."""
    try:
        for sub in (folder, os.path.join(folder, SAMPLES)):
            remove_temporaries(sub)
        write_text(os.path.join(folder, ".writable"), "")
        os.remove(os.path.join(folder, ".writable"))
    except OSError as e:
        raise ConfigError(f"cannot write to --output_dir={folder}: {e.strerror or e}") from e


def read_csv(path: str, numbers: tuple[str, ...] = (), what_to_do: str = RESTORE) -> list[dict]:
    """The rows of a CSV file with a header (epochs.csv, evals.csv, sessions.csv) as dicts, the columns
    `numbers` as floats; [] if it is not there; a RunFileError naming the file if it is damaged."""
    if not os.path.exists(path):
        return []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        for i, row in enumerate(rows, 2):
            for column in numbers:
                try:
                    row[column] = float(row[column])
                except (KeyError, TypeError, ValueError):
                    raise ValueError(f"line {i} has no number in column {column!r}") from None
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as e:
        raise RunFileError(f"{path} is damaged ({e}); {what_to_do}.") from None
    return rows


def read_epochs(folder: str) -> list[dict]:
    """epochs.csv of a run: one dict per epoch, every column but the epoch a number (the mean of each
    of the model's losses, seconds, images per second, memory)."""
    path = os.path.join(folder, EPOCHS)
    rows = read_csv(path, ("seconds", "images_per_second"))
    return read_csv(path, tuple(k for k in rows[0] if k != "epoch")) if rows else []


def read_json(path: str, what_to_do: str = RESTORE) -> dict:
    """A JSON object (metrics.json), or a RunFileError naming the file."""
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
        if not isinstance(value, dict):
            raise ValueError("not a JSON object")
        return value
    except (OSError, ValueError) as e:
        raise RunFileError(f"{path} is damaged ({reason(e).splitlines()[0]}); {what_to_do}.") from None


def csv_text(header, rows) -> str:
    """CSV text of a header (column names) and rows of values; floats with 6 significant digits."""
    return ",".join(header) + "\n" + "".join(
        ",".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in row) + "\n" for row in rows)


@contextlib.contextmanager
def lock(folder: str, purpose: str = "training", hint: str = ""):
    """Holds the run folder `folder` (which must exist) for this process, or raises RunInUseError
    (its message ends with `hint`, where given)."""
    path = os.path.join(folder, LOCK)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise RunInUseError(f"{folder} is in use by {holder}: one process writes a run folder at a time. "
                                "Wait for it to finish or stop it, then try again." + (f" {hint}" if hint else "")) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} ({purpose})\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
