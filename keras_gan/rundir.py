"""The run folder: what a training run keeps in it, the reader of its config.json, and its lock.

A run folder is self-contained: nothing in it names the folder itself, so a folder that was moved
or copied resumes where it now is (`--resume --output_dir=X` reads and writes X alone).

One process writes a run folder at a time. `lock` holds an exclusive `flock` on RUN/.lock for as
long as the run trains; the kernel releases it when the process ends, however it ends, so a killed
run never leaves a stale lock. A second process gets one line naming the process that holds it.
"""

import contextlib
import fcntl
import os

from keras_gan.errors import RunFileError, RunInUseError

CONFIG = "config.json"
LOCK = ".lock"


def read_config(folder: str):
    """The TrainConfig saved in `folder`/config.json, for the folder where it lies now."""
    from keras_gan.config import TrainConfig

    path = os.path.join(folder, CONFIG)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise RunFileError(f"{path} not found: {folder} is not the folder of a keras_gan.train run "
                           "(pass the folder that holds config.json and checkpoint.npz).") from None
    except (OSError, UnicodeDecodeError) as e:
        raise RunFileError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}.") from None
    try:
        return TrainConfig.from_json(text, output_dir=folder)
    except ValueError as e:  # not JSON, not an object, unknown keys, bad values
        raise RunFileError(f"{path} is damaged: {str(e).splitlines()[0]}. Restore it from a copy of the run, "
                           "or train a new run in another --output_dir.") from None


def config_beside(path: str):
    """The TrainConfig of the run folder that holds `path` (a generator file), or None if that folder
    has no config.json (a generator copied out of its run)."""
    folder = os.path.dirname(os.path.abspath(path))
    return read_config(folder) if os.path.isfile(os.path.join(folder, CONFIG)) else None


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
