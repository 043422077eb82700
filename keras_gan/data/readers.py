"""Readers of the files datasets come in, each checking what it reads.

IDX (LeCun's MNIST format, plain or gzipped), `.npz` archives with x_train/y_train/x_test/y_test,
CIFAR-10's python pickles as `keras.datasets.cifar10` caches them, and `.npy` arrays of images that
commands take (`--images`). A damaged file raises a
DataError that names the file and what is wrong with it.
"""

import gzip
import math
import os
import pickle
import zlib

import numpy as np

from keras_gan.errors import DataError, reason

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    # in one call rather than GzipFile's chunks: a quarter faster on Fashion-MNIST's 26 MB
    return gzip.decompress(raw) if path.endswith(".gz") else raw


def read_idx(path: str) -> np.ndarray:
    """Reads an IDX file (LeCun's MNIST format), gzipped or not, checking its header and size."""
    try:
        raw = _read(path)
    except (OSError, EOFError, zlib.error) as e:  # what gzip raises on a damaged or truncated archive
        raise DataError(f"cannot read {path}: {e}. Replace the file with a good copy.") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(
            f"{path} is not an IDX file of unsigned bytes (bad magic number "
            f"{raw[:4].hex() or 'empty file'}; expected 00000801 or 00000803). "
            "Replace it with the original file.")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"{path} has a truncated IDX header. Replace it with the original file.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise DataError(
            f"{path} holds {len(raw) - header} bytes of data but its header says {shape} "
            f"({expected} bytes): the file is truncated or corrupt. Replace it with the original file.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find_idx(folder: str) -> dict[str, str] | None:
    """The four IDX files in `folder` (plain or .gz), or None if any is missing."""
    found = {}
    for key, stem in IDX_FILES.items():
        for candidate in (stem, stem + ".gz"):
            if os.path.isfile(os.path.join(folder, candidate)):
                found[key] = os.path.join(folder, candidate)
                break
        else:
            return None
    return found


def read_idx_folder(folder: str) -> dict[str, np.ndarray] | None:
    files = _find_idx(folder)
    return None if files is None else {k: read_idx(p) for k, p in files.items()}


def read_npz(path: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as f:
            if not hasattr(f, "files"):
                raise DataError(f"{path} holds a single array, not an .npz archive of {', '.join(NPZ_KEYS)}.")
            missing = [k for k in NPZ_KEYS if k not in f.files]
            if missing:
                raise DataError(
                    f"{path} lacks the arrays {', '.join(missing)} (it has: {', '.join(f.files) or 'none'}). "
                    f"An .npz dataset needs {', '.join(NPZ_KEYS)}.")
            return {k: f[k] for k in NPZ_KEYS}
    except DataError:
        raise
    except Exception as e:  # zipfile, zlib and NumPy raise their own types on a damaged or truncated archive
        raise DataError(f"cannot read {path} as an .npz archive ({reason(e)}): the file is damaged or truncated. "
                        "Replace it with a good copy.") from None


def read_dataset_folder(path: str, name: str) -> dict[str, np.ndarray] | None:
    """A user's folder (IDX files, CIFAR batches or one .npz) or an .npz path for dataset `name`;
    None if no data is there."""
    if os.path.isfile(path):
        if not path.endswith(".npz"):
            raise DataError(f"--data_dir={path} is a file but not an .npz archive. Pass the folder that "
                            "holds the four IDX files, or an .npz with x_train, y_train, x_test, y_test.")
        return read_npz(path)
    if not os.path.isdir(path):
        return None
    arrays = read_idx_folder(path)
    if arrays is None and name == "cifar10":
        arrays = read_cifar_batches(path)
    if arrays is None:
        npz = [f for f in sorted(os.listdir(path)) if f.endswith(".npz")]
        preferred = [f for f in npz if f.startswith(name.replace("_", "-")) or f.startswith(name)]
        if preferred or len(npz) == 1:
            arrays = read_npz(os.path.join(path, (preferred or npz)[0]))
    return arrays


def read_cifar_batches(folder: str) -> dict[str, np.ndarray] | None:
    """CIFAR-10's python pickles as `keras.datasets.cifar10` caches them."""
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    if not all(os.path.isfile(os.path.join(folder, n)) for n in names):
        return None
    parts = []
    for n in names:
        try:
            with open(os.path.join(folder, n), "rb") as f:
                d = pickle.load(f, encoding="bytes")
            x = np.asarray(d[b"data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
            parts.append((x, np.asarray(d[b"labels"])))
        except Exception as e:  # a damaged pickle can raise nearly anything
            raise DataError(f"cannot read CIFAR-10 batch {os.path.join(folder, n)} ({reason(e)}): the file is "
                            "damaged or truncated. Replace it with a good copy.") from None
    return {
        "x_train": np.concatenate([p[0] for p in parts[:5]]),
        "y_train": np.concatenate([p[1] for p in parts[:5]]),
        "x_test": parts[5][0], "y_test": parts[5][1],
    }


def read_images(path: str, shape, what: str) -> np.ndarray:
    """The images of an `.npy` file (`--images`) as float32 (N, H, W, C) in [-1, 1]: uint8 pixels 0..255
    (scaled as the deck's x / 127.5 - 1) or numbers in [-1, 1], shaped (N, H, W, C), (N, H, W) for one
    channel or (N, H*W*C), for images of `shape` (`what` they are, for the errors). A DataError of one line otherwise."""
    try:
        images = np.load(path, allow_pickle=False)
        images = images.astype(np.float32) / 127.5 - 1.0 if images.dtype == np.uint8 else images.astype(np.float32)
    except FileNotFoundError:
        raise DataError(f"--images={path}: file not found.") from None
    except Exception as e:  # a truncated, pickled or non-numeric file: NumPy raises many types
        raise DataError(f"--images={path}: cannot read it as an .npy array of numbers ({reason(e)}).") from None
    layouts = {tuple(shape), (math.prod(shape),)} | ({tuple(shape[:2])} if shape[-1] == 1 else set())
    if images.ndim >= 1 and len(images) == 0:
        raise DataError(f"--images={path} holds no images (shape {images.shape}); the metrics need at least 2.")
    if images.ndim < 2 or tuple(images.shape[1:]) not in layouts:
        raise DataError(f"--images={path} must hold {what} of {'x'.join(map(str, shape))}, as (N, H, W, C), "
                        f"(N, H, W) for one channel, or flat; got shape {images.shape}.")
    images = images.reshape((-1, *shape))
    broken = int(np.sum(~np.isfinite(images.reshape(len(images), -1)).all(axis=1)))
    if broken:
        raise DataError(f"--images={path}: {broken} of {len(images)} images hold NaN or infinite values; "
                        "images must be finite, in [-1, 1].")
    if images.min() < -1.001 or images.max() > 1.001:
        raise DataError(f"--images={path} must hold {what} with values in [-1, 1], or uint8 pixels 0..255; "
                        f"got range [{images.min():.3g}, {images.max():.3g}].")
    return images
