"""The checkpoint of a run: one `.npz` archive of the model and optimizer variables and JSON
metadata (epoch, history), written atomically (keras_gan/io/atomic.py). Reading a damaged or truncated
one raises a RunFileError that names it.
"""

import json
import os

import numpy as np

from keras_gan.errors import RunFileError, reason
from keras_gan.io.atomic import atomic_path
from keras_gan.runs.folder import CHECKPOINT


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
