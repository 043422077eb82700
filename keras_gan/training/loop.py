"""The training loop: `fit(config)` trains a preset of the family into its run folder.

    from keras_gan import TrainConfig, fit
    history = fit(TrainConfig(model="dcgan", dataset="fashion_mnist", epochs=5, output_dir="runs/dcgan"))

What one step is depends on the preset's task (tasks.py): for a GAN, `n_critic` D updates, each on
its own real batch of the tf.data pipeline, then one G update (the two `train_on_batch` calls of
keras_gan/models/gan.py); for CycleGAN and SRGAN, their discriminators' and generators' updates on
one batch of images. Every step's losses are checked: a NaN or infinite loss (or, after the epoch,
weight) stops the run at once with a DivergenceError, before anything of that epoch is written, so
the last good checkpoint and generator stay as they were. At the end of each epoch the callbacks
(callbacks.py) write the run folder (keras_gan/runs/folder.py lists its files), the checkpoint
last: a run stopped at any moment resumes from its last finished epoch and continues exactly as if
it had not stopped."""

import contextlib
import dataclasses
import json
import math
import os
import resource
import sys
import time

import keras
import numpy as np

from keras_gan import backend, interrupts
from keras_gan.data.datasets import Arrays, digest
from keras_gan.errors import ConfigError, DivergenceError, RunFileError
from keras_gan.io.atomic import write_text
from keras_gan.runs import checkpoint
from keras_gan.runs import folder as run_folder
from keras_gan.runs.config import TrainConfig, arrays_for, read_config, resumable
from keras_gan.training import callbacks as side_outputs
from keras_gan.training import strategies, tasks


@dataclasses.dataclass
class Run:
    """What the callbacks see of a run being trained."""

    config: TrainConfig
    model: object                  # a GAN (keras_gan/models/gan.py), CycleGAN or SRGAN
    arrays: Arrays
    task: tasks.Task               # how the model trains and draws (tasks.py)
    steps: int                     # steps per epoch
    history: dict                  # every loss of `model.loss_names` (every step), epochs, evals, best_epoch
    log: object = print
    chief: bool = True             # whether this process writes the run folder (one worker of several does)

    @property
    def preset(self):
        return self.config.preset

    @property
    def image_shape(self) -> tuple:
        return self.task.image_shape

    @property
    def folder(self) -> str:
        return self.config.run_dir

    def fixed_samples(self) -> np.ndarray:
        """The sample grid's images now: G's of the fixed noise, or fixed inputs beside their outputs."""
        return self.task.grid(self.model)


def rss_mb() -> float:
    """Current resident memory of this process in MiB (Linux), else the peak so far."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return peak_rss_mb()


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def fit(config: TrainConfig, *, resume: bool = False, log=print, callbacks=(), arrays: Arrays | None = None) -> dict:
    """Trains `config` into its run folder and returns the history (losses per step and epoch).

    The folder is held for the whole run. With `resume`, the run continues from the folder's
    checkpoint, after checking that `config` changes nothing a resumed run may not change (the
    command line reads those settings from config.json; a library caller must pass them).
    `callbacks` (keras_gan.RunCallback) run after the package's own, before the checkpoint.
    `arrays` are the configuration's data where the caller has read them already.

    Under --strategy=multi_worker every worker calls `fit`; only the chief holds and writes the folder
    (the others run the user's `callbacks` alone, with `run.chief` False)."""
    strategy = strategies.make_strategy(config.strategy, config.cpu_replicas)  # before TensorFlow's runtime starts
    chief = strategies.is_chief(strategy)
    if chief:
        run_folder.make(config.run_dir)
    with run_folder.lock(config.run_dir) if chief else contextlib.nullcontext(), strategies.training(strategy):
        return _fit(config, strategy, chief, resume, log, callbacks, arrays)


def _check_folder(config: TrainConfig, resume: bool, chief: bool = True) -> None:
    """Refuses to overwrite an existing run, and on resume to change what a resumed run may not."""
    folder = config.run_dir
    has_run = os.path.exists(os.path.join(folder, run_folder.CHECKPOINT))
    if resume and not has_run:
        shared = "" if chief else " Every worker reads the chief's run folder to resume: share it, or copy it here."
        raise ConfigError(f"--resume: {folder} holds no checkpoint to resume from.{shared}")
    if not resume and has_run:
        raise ConfigError(f"{folder} already holds a run; pass --resume to continue it, "
                          "or choose another --output_dir.")
    if resume:
        changes = config.changes_from(read_config(folder))
        if changes:
            raise ConfigError(
                f"--resume continues the run in {folder} with its saved settings; it cannot change "
                + ", ".join(f"--{k} (saved {a!r}, asked {b!r})" for k, (a, b) in sorted(changes.items()))
                + ". Only " + ", ".join(f"--{k}" for k in sorted(resumable())) + " may change; "
                "train other settings into a new --output_dir.")
    if chief:  # another worker's temporaries would be the chief's files being written
        run_folder.sweep(folder)


def _report_data(arrays: Arrays, folder: str | None, log) -> None:
    """Logs how a folder dataset was read, and names the files it skipped: their count in one line,
    every one of them with its reason in RUN/skipped_files.txt (written by the chief, `folder`)."""
    for note in arrays.notes:
        log(note)
    if not arrays.skipped:
        return
    where = ""
    if folder:
        path = os.path.join(folder, run_folder.SKIPPED)
        write_text(path, "".join(f"{p}\t{why}\n" for p, why in arrays.skipped))
        where = f"; all of them, with the reason, in {path}"
    first, why = arrays.skipped[0]
    log(f"skipped {len(arrays.skipped)} files that could not be read as images (for example {first}: {why}){where}")


def _diverged(folder: str, epoch: int, where: str) -> DivergenceError:
    kept = (f"{folder} keeps epoch {epoch - 1}, from which --resume continues" if epoch > 1
            else "nothing was saved")
    return DivergenceError(f"training diverged at epoch {epoch}, {where}. Nothing of epoch {epoch} was written: "
                           f"{kept}. A lower --learning_rate, or another --seed, in a new run may avoid it.")


def _steps_per_epoch(config: TrainConfig, task: tasks.Task) -> int:
    if config.batch_size > task.num_train:
        raise ConfigError(f"--batch_size={config.batch_size} is larger than the {task.num_train} training images "
                          f"of {config.data_name} ({task.description}).")
    steps = task.num_train // config.batch_size // task.batches_per_step
    if steps == 0:
        raise ConfigError(f"--n_critic={config.n_critic} batches of {config.batch_size} do not fit in the "
                          f"{task.num_train} training images of {config.data_name}.")
    return min(steps, config.steps_per_epoch) if config.steps_per_epoch else steps


def _restore(run: Run, folder: str) -> int:
    """Loads the folder's checkpoint into `run`; returns the first epoch to train."""
    state, meta = checkpoint.load(folder)
    trained_on = meta.get("data_fingerprint")
    if trained_on and trained_on != run.arrays.fingerprint:
        raise ConfigError(f"--resume: {folder} was trained on other data (fingerprint {trained_on}) than "
                          f"{run.config.data_name} from {run.arrays.source} (fingerprint {run.arrays.fingerprint}); "
                          "point --data_dir at the data it was trained on.")
    try:
        run.model.set_state(state)
    except ValueError as e:
        raise RunFileError(f"{os.path.join(folder, run_folder.CHECKPOINT)} does not fit the model that "
                           f"{run_folder.CONFIG} describes ({e}); was one of them copied from another run?") from None
    run.history = meta["history"]
    run.log(f"resuming from the checkpoint of epoch {meta['epoch']}")
    return meta["epoch"] + 1


def _fit(config: TrainConfig, strategy, chief: bool, resume: bool, log, extra, arrays) -> dict:
    preset = config.preset
    if config.batch_size % strategy.num_replicas_in_sync:
        raise ConfigError(f"--batch_size={config.batch_size} does not split evenly across the "
                          f"{strategy.num_replicas_in_sync} replicas of --strategy={config.strategy}.")
    _check_folder(config, resume, chief)
    folder = config.run_dir
    if arrays is None:
        arrays = arrays_for(config, log)
    elif arrays.spec.name != config.dataset:
        raise ConfigError(f"fit: the arrays given are {arrays.spec.name}'s, the configuration's dataset is "
                          f"{config.data_name}.")
    _report_data(arrays, folder if chief else None, log)
    task = tasks.make(config, arrays, log, resume)
    steps = _steps_per_epoch(config, task)
    per_step = f"{config.n_critic} D updates and 1 G update" if config.n_critic > 1 else "batch"
    replicas = "" if strategy.num_replicas_in_sync == 1 else f" on {strategy.num_replicas_in_sync} replicas"
    log(f"{config.data_name}: {task.description}; {config.model} "
        f"({preset.summary}); {steps} steps ({per_step} of {config.batch_size}{replicas}) per epoch; "
        + (f"writing to {folder}" if chief else "the chief writes the run folder"))

    backend.set_random_seed(config.seed)
    with strategy.scope():
        model = task.build(steps)
    history = {**{name: [] for name in model.loss_names}, "epochs": []}
    run = Run(config, model, arrays, task, steps, history, log, chief)
    start = _restore(run, folder) if resume else 1
    if strategies.is_multi_worker(strategy):
        shared = {k: v for k, v in config.values().items() if k not in resumable()}  # not where the data is
        strategies.check_agreement(strategy, settings=json.dumps(shared, sort_keys=True), data=arrays.fingerprint,
                                   epoch=str(start), weights=_state_digest(model.get_state()))
    callbacks = side_outputs.for_run(config, extra) if chief else list(extra)
    for callback in callbacks:
        callback.on_train_begin(run)
    try:
        for epoch in range(start, config.epochs + 1):
            try:
                record = _epoch(run, epoch, callbacks)
            except strategies.collective_errors() as e:
                if not strategies.is_multi_worker(strategy):
                    raise
                raise strategies.lost(e) from None
            means = ", ".join(f"{name} {record[name]:.4f}" for name in _shown(model.loss_names))
            log(f"epoch {epoch}/{config.epochs}: {means} "
                f"(means over {steps} steps) | {record['seconds']:.1f} s, {record['images_per_second']:.0f} img/s | "
                f"rss {record['rss_mb']:.0f} MiB")
            logs = dict(record)
            for callback in callbacks:
                callback.on_epoch_end(run, epoch, logs)
    finally:  # however training ends: finished, diverged or interrupted
        for callback in callbacks:
            callback.on_train_end(run)
    log(f"done: {folder if chief else 'the chief wrote the run folder'} (peak rss {peak_rss_mb():.0f} MiB)")
    return run.history


def _state_digest(state: dict[str, np.ndarray]) -> str:
    names = sorted(state)
    return digest([np.array(names), *(state[name] for name in names)])


def _shown(names) -> list[str]:
    """The losses that the progress bar and the epoch's line show: the models' own (not a loss's terms)."""
    return [name for name in names if name.endswith("_loss")]


def _epoch(run: Run, epoch: int, callbacks) -> dict:
    """Trains one epoch; records its losses in the history and returns its record."""
    config, model, steps, task = run.config, run.model, run.steps, run.task
    names, shown = model.loss_names, _shown(model.loss_names)
    rng = np.random.default_rng([config.seed, epoch])
    batches = task.batches(epoch, steps)
    interactive = sys.stdout.isatty()
    bar = keras.utils.Progbar(steps, verbose=1 if interactive else 0, unit_name="step", stateful_metrics=shown)
    started = time.perf_counter()
    epoch_losses = {name: [] for name in names}
    totals = dict.fromkeys(names, 0.0)
    first = len(run.history[names[0]])
    for step in range(1, steps + 1):
        losses = task.step(model, batches, rng)
        interrupts.check()  # a Ctrl-C or SIGTERM that landed where Python swallows exceptions
        for name in names:
            if not math.isfinite(losses[name]):
                raise _diverged(run.folder, epoch, f"step {step}: {name} is {losses[name]}")
        for name in names:
            epoch_losses[name].append(losses[name])
            totals[name] += losses[name]
        for callback in callbacks:
            callback.on_step_end(run, first + step, {"epoch": epoch, **losses})
        if interactive:  # running means over the epoch so far, as the summary line reports them
            bar.update(step, [(name, totals[name] / step) for name in shown])
    broken = model.nonfinite_parts()  # the last update of the epoch came after its loss was checked
    if broken:
        raise _diverged(run.folder, epoch, f"after its last step: {', '.join(broken)} hold NaN or infinite values")
    seconds = time.perf_counter() - started
    for name in names:
        run.history[name] += epoch_losses[name]
    record = {"epoch": epoch, **{name: float(np.mean(epoch_losses[name])) for name in names},
              "seconds": seconds, "images_per_second": steps * task.images_per_step / seconds, "rss_mb": rss_mb()}
    run.history["epochs"].append(record)
    return record
