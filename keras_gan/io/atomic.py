"""Files written so that a crash while saving never replaces a good file with a broken one.

Every file goes to a temporary name in the same folder, is flushed to disk, and then renamed over
the old one: `os.replace` is atomic on POSIX and Windows, so a reader sees the old file or the new
one, never half of either. The folder is flushed after the rename too, so that a power cut cannot
lose the rename itself. A process killed in the middle of a save leaves only a temporary
(`TEMPORARY_PREFIX`...), which `remove_temporaries` sweeps.
"""

import contextlib
import os
import tempfile

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
        sync_folder(folder)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def sync_folder(folder: str) -> None:
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


def up_to_date(target: str, *sources: str) -> bool:
    """Whether `target` exists and was written no earlier than every one of `sources` (files made from them)."""
    return os.path.exists(target) and all(os.path.getmtime(target) >= os.path.getmtime(s) for s in sources)
