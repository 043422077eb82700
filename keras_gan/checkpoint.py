"""Files written so that a crash while saving never replaces a good file with a broken one.

Every file goes to a temporary name in the same folder, is flushed to disk, and then renamed over
the old one: `os.replace` is atomic on POSIX and Windows, so a reader sees the old file or the new
one, never half of either.
"""

import contextlib
import json
import os
import tempfile

import numpy as np

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
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


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


def _open(run_dir: str):
    path = os.path.join(run_dir, CHECKPOINT)
    return np.load(path) if os.path.exists(path) else None


def _meta(archive) -> dict:
    return json.loads(archive["__meta__"].tobytes().decode())


def load_meta(run_dir: str) -> dict | None:
    """The checkpoint's `meta` (epoch, history) without reading its arrays; None if there is none."""
    archive = _open(run_dir)
    if archive is None:
        return None
    with archive:
        return _meta(archive)


def load(run_dir: str) -> tuple[dict[str, np.ndarray], dict] | None:
    archive = _open(run_dir)
    if archive is None:
        return None
    with archive:
        return {k: archive[k] for k in archive.files if k != "__meta__"}, _meta(archive)
