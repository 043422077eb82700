"""Files written so that a crash while saving never replaces a good file with a broken one.

Every file goes to a temporary name in the same folder, is flushed to disk, and then renamed over
the old one: `os.replace` is atomic on POSIX and Windows, so a reader sees the old file or the new
one, never half of either. The folder is flushed after the rename too, so that a power cut cannot
lose the rename itself.

The checkpoint is one `.npz` archive: the model and optimizer variables, and JSON metadata (epoch,
history). Reading a damaged or truncated one raises a RunFileError that names it.
"""

import contextlib
import json
import os
import tempfile

import numpy as np

from keras_gan.errors import RunFileError, reason

CHECKPOINT = "checkpoint.npz"
TEMPORARY_PREFIX = ".tmp-"


@contextlib.contextmanager
def atomic_path(path: str, suffix: str = ""):
    """Yields a temporary path beside `path`; on success renames it to `path`, else removes it."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=suffix or os.path.splitext(path)[1], dir=folder)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _sync_folder(folder)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _sync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a platform that cannot open folders (Windows): nothing to sync
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems do not sync folders; the rename itself is still atomic
    finally:
        os.close(fd)


def write_text(path: str, text: str) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        f.write(text)


def remove_temporaries(folder: str) -> None:
    """Deletes the temporaries that a process killed in the middle of a save left in `folder`."""
    for name in os.listdir(folder):
        if name.startswith(TEMPORARY_PREFIX):
            os.remove(os.path.join(folder, name))


def save(run_dir: str, state: dict[str, np.ndarray], meta: dict) -> str:
    """Writes the model/optimizer state and JSON-able `meta` (epoch, history) as one file."""
    path = os.path.join(run_dir, CHECKPOINT)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8), **state)
    return path


def _read(run_dir: str, arrays: bool):
    path = os.path.join(run_dir, CHECKPOINT)
    if not os.path.exists(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(archive["__meta__"].tobytes().decode())
            if not isinstance(meta, dict) or not isinstance(meta.get("epoch"), int) or \
                    not isinstance(meta.get("history"), dict):
                raise ValueError("its metadata has no epoch and history")
            state = {k: archive[k] for k in archive.files if k != "__meta__"} if arrays else None
    except Exception as e:  # zipfile, zlib, NumPy and JSON each raise their own types on damaged files
        raise RunFileError(f"{path} is damaged ({reason(e)}): the run cannot resume from it. Restore it from a "
                           "copy of the run, or train a new run in another --output_dir.") from None
    return state, meta


def load_meta(run_dir: str) -> dict | None:
    """The checkpoint's `meta` (epoch, history) without its arrays; None if there is none."""
    found = _read(run_dir, arrays=False)
    return None if found is None else found[1]


def load(run_dir: str) -> tuple[dict[str, np.ndarray], dict] | None:
    """(state, meta) of the run's checkpoint; None if there is none; RunFileError if it is damaged."""
    return _read(run_dir, arrays=True)
