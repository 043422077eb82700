"""Datasets by name, read from the first source that has them.

Sources are tried in order and the first that holds the data wins:

1. ``data_dir`` given by the user: IDX files (``train-images-idx3-ubyte[.gz]`` and the other three) or
   an ``.npz`` with ``x_train``, ``y_train``, ``x_test``, ``y_test``;
2. a system-installed copy (Debian's ``dataset-fashion-mnist`` package);
3. the Keras cache (``$KERAS_HOME/datasets`` or ``~/.keras/datasets``), as ``keras.datasets`` leaves it;
4. TensorFlow Datasets: data already prepared in its data directory, else a download when online
   (never when the environment sets KERAS_GAN_OFFLINE=1);
5. for ``photos``, the files a package ships (photos.py: scikit-image's photographs).

``folder`` is any folder of image files (``--dataset=folder:PATH``, folders.py), at the image size
and channels asked for; its spec (`folder_spec`) is made from them and the folder's class subfolders.

A missing source is skipped; a source that has the files but whose files are corrupt is an error
(silently falling back to other data would hide the problem). Nothing ever substitutes another
dataset or a subset. The arrays carry their dataset's spec (`Arrays.spec`), so nothing after the
loading looks the dataset up by name again; pipeline.py serves them to training.
"""

import dataclasses
import functools
import hashlib
import os
import socket
from collections.abc import Callable

import numpy as np

from keras_gan.data import folders, photos
from keras_gan.data.readers import IDX_FILES, read_dataset_folder
from keras_gan.errors import DataError
from keras_gan.registry import Registry

# TFDS downloads retry for minutes when offline; a quick look-up of its server says whether to try.
TFDS_DOWNLOAD_HOST = "storage.googleapis.com"


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    name: str
    image_shape: tuple[int, int, int]
    num_classes: int
    class_names: tuple[str, ...]
    system_dirs: tuple[str, ...] = ()
    keras_cache: str = ""  # a file or folder under the Keras datasets cache
    tfds_name: str = ""
    how_to_get: str = ""
    build: Callable[[], dict] | None = None  # made from files a package ships (or a DataError saying why not)
    build_label: str = ""  # what `build` reads, for the messages that name a dataset's source


DIGITS = tuple(str(i) for i in range(10))
DATASETS = Registry("dataset")
register, get_spec = DATASETS.add, DATASETS.named

for _spec in [
    DatasetSpec(
        "mnist", (28, 28, 1), 10, DIGITS, keras_cache="mnist.npz", tfds_name="mnist",
        how_to_get="online: python -c 'import keras; keras.datasets.mnist.load_data()'",
    ),
    DatasetSpec(
        "fashion_mnist", (28, 28, 1), 10,
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        keras_cache="fashion-mnist", tfds_name="fashion_mnist",
        how_to_get="offline: apt-get install dataset-fashion-mnist (Debian); "
                   "online: python -c 'import keras; keras.datasets.fashion_mnist.load_data()'",
    ),
    DatasetSpec(
        "cifar10", (32, 32, 3), 10,
        ("airplane", "automobile", "bird", "cat", "deer",
         "dog", "frog", "horse", "ship", "truck"),
        keras_cache="cifar-10-batches-py", tfds_name="cifar10",
        how_to_get="online: python -c 'import keras; keras.datasets.cifar10.load_data()'",
    ),
    DatasetSpec(
        "photos", (photos.PATCH, photos.PATCH, 3), len(photos.PHOTOS), photos.NAMES, build=photos.build,
        build_label=photos.SOURCE,
        how_to_get="scikit-image's photographs: pip install scikit-image (its wheel ships them; keras_gan/data/photos.py)",
    ),
]:
    register(_spec)


@dataclasses.dataclass(frozen=True)
class Arrays:
    """A dataset in memory: uint8 images (N, H, W, C), int64 labels (N,), where they came from, and
    the dataset's spec (its name, image shape and class names)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    spec: DatasetSpec
    stream: folders.ImageFiles | None = None  # a folder's training images on disk (x_train: a subset of them)
    identity: str = ""        # the fingerprint where it is not a digest of the arrays (a folder's)
    skipped: tuple = ()       # (path, why) of each file of a folder that could not be read
    notes: tuple = ()         # lines for the log about how the data was read

    @functools.cached_property
    def fingerprint(self) -> str:
        """A digest of the images and labels (not of where they came from): the same data read from
        IDX files, an .npz or TFDS has the same fingerprint, and any other data another. A folder's is
        that of its files' names and sizes (keras_gan/data/folders.py)."""
        return self.identity or digest((self.x_train, self.y_train, self.x_test, self.y_test))[:16]

    @property
    def num_train(self) -> int:
        """The training images: in memory, or streamed from disk."""
        return self.stream.num_examples if self.stream is not None else len(self.x_train)


def digest(arrays) -> str:
    """SHA-256 (hex) of a sequence of arrays: each one's dtype, shape and values, in order. The data's
    fingerprint, a feature network's name and the workers' agreement on their weights all use it."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.asarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(memoryview(np.ascontiguousarray(a)).cast("B"))
    return h.hexdigest()


def _check(arrays: dict[str, np.ndarray], spec: DatasetSpec, where: str) -> dict[str, np.ndarray]:
    """Brings images to (N, H, W, C) uint8 and labels to (N,) int64, or says what is wrong."""
    out = {}
    for split in ("train", "test"):
        x, y = np.asarray(arrays["x_" + split]), np.asarray(arrays["y_" + split]).reshape(-1)
        if x.ndim == 3 and spec.image_shape[2] == 1:
            x = x[..., None]
        if x.shape[1:] != spec.image_shape:
            raise DataError(
                f"{where}: x_{split} has images of shape {x.shape[1:]}, but {spec.name} images are "
                f"{spec.image_shape}. Is this the right dataset for --dataset={spec.name}?")
        if len(x) != len(y):
            raise DataError(f"{where}: x_{split} has {len(x)} images but y_{split} has {len(y)} labels.")
        if len(x) == 0:
            raise DataError(f"{where}: the {split} split is empty.")
        if not (np.issubdtype(x.dtype, np.integer) and x.min() >= 0 and x.max() <= 255):
            raise DataError(f"{where}: x_{split} must hold integer pixel values in 0..255 "
                            f"(found dtype {x.dtype}, range {x.min()}..{x.max()}).")
        if not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"{where}: y_{split} must hold integer class labels (found dtype {y.dtype}).")
        if y.min() < 0 or y.max() >= spec.num_classes:
            raise DataError(f"{where}: y_{split} has labels outside 0..{spec.num_classes - 1}.")
        out["x_" + split], out["y_" + split] = x.astype(np.uint8, copy=False), y.astype(np.int64)
    return out


# --- sources -------------------------------------------------------------------------------------

@dataclasses.dataclass
class Source:
    """One place a dataset may be: `load` returns its arrays, or None with `why_not` filled in."""

    label: str
    load: Callable[[], dict[str, np.ndarray] | None]
    why_not: str = ""


def keras_cache_dir() -> str:
    return os.path.join(os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras")),
                        "datasets")


def _folder_source(label: str, path: str, spec: DatasetSpec) -> Source:
    src = Source(f"{label}: {path}", lambda: None)

    def load():
        arrays = read_dataset_folder(path, spec.name)
        if arrays is None:
            src.why_not = "not found" if not os.path.exists(path) else "no dataset files there"
        return arrays

    src.load = load
    return src


def network_reachable(host: str = TFDS_DOWNLOAD_HOST, timeout: float = 3.0) -> bool:
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _tfds_source(spec: DatasetSpec, tfds_dir: str | None, download: bool) -> Source:
    src = Source(f"TensorFlow Datasets: {spec.tfds_name} in {tfds_dir or '~/tensorflow_datasets'}",
                 lambda: None)

    def load():
        try:
            import tensorflow_datasets as tfds  # only when the data is not on disk: a slow import
        except ImportError:
            src.why_not = "tensorflow-datasets is not installed"
            return None
        try:
            return _tfds_arrays(tfds, spec, tfds_dir, download=False)
        except Exception as e:  # TFDS signals "not prepared" with several exception types
            not_prepared = str(e).splitlines()[0][:200]
        if not download or os.environ.get("KERAS_GAN_OFFLINE") == "1":
            src.why_not = f"not prepared there ({not_prepared}); downloads disabled"
            return None
        if not network_reachable():
            src.why_not = "not prepared there, and no network to download it"
            return None
        try:
            return _tfds_arrays(tfds, spec, tfds_dir, download=True)
        except Exception as e:
            src.why_not = f"download failed: {str(e).splitlines()[0][:200]}"
            return None

    src.load = load
    return src


def _tfds_arrays(tfds, spec: DatasetSpec, tfds_dir: str | None, download: bool) -> dict[str, np.ndarray]:
    train, test = tfds.load(spec.tfds_name, split=["train", "test"], as_supervised=True,
                            data_dir=tfds_dir, download=download)
    out = {}
    for split, ds in (("train", train), ("test", test)):
        xs, ys = [], []
        for x, y in tfds.as_numpy(ds.batch(4096)):
            xs.append(x)
            ys.append(y)
        out["x_" + split], out["y_" + split] = np.concatenate(xs), np.concatenate(ys)
    return out


def sources(spec: DatasetSpec, data_dir: str | None = None, *, tfds_dir: str | None = None,
            download: bool = True) -> list[Source]:
    """The places `spec` is looked for, in order."""
    found = []
    if data_dir:
        found.append(_folder_source("--data_dir", data_dir, spec))
    for d in spec.system_dirs:
        found.append(_folder_source("system copy", d, spec))
    if spec.keras_cache:
        found.append(_folder_source("Keras cache", os.path.join(keras_cache_dir(), spec.keras_cache), spec))
    if spec.tfds_name:
        found.append(_tfds_source(spec, tfds_dir, download))
    if spec.build:
        found.append(Source(spec.build_label, spec.build))
    return found


FOLDER = "folder"
FOLDER_SIZE, FOLDER_CHANNELS = 64, 3


def split_name(name: str, data_dir: str | None = None) -> tuple[str, str | None]:
    """("folder", PATH) for "folder:PATH" (PATH and `data_dir` must agree); (name, data_dir) otherwise."""
    if name.startswith(FOLDER + ":"):
        path = name[len(FOLDER) + 1:]
        if data_dir and os.path.abspath(os.path.expanduser(data_dir)) != os.path.abspath(os.path.expanduser(path)):
            raise DataError(f"--dataset={name} and --data_dir={data_dir} name two folders; give the folder once.")
        return FOLDER, path
    return name, data_dir


def folder_spec(data_dir: str | None, image_size: int = 0, channels: int = 0,
                classes=None) -> DatasetSpec:
    """The spec of a folder dataset at `image_size` x `image_size` x `channels` (0: 64 and 3), with
    `classes` (default: the folder's class subfolders, listed now)."""
    size, channels = image_size or FOLDER_SIZE, channels or FOLDER_CHANNELS
    names = tuple(classes) if classes else folders.class_names(data_dir)
    return DatasetSpec(FOLDER, (size, size, channels), len(names), names,
                       how_to_get="--dataset=folder:PATH with PATH a folder of images")


def spec_of(name: str, data_dir: str | None = None, *, image_size: int = 0, channels: int = 0,
            classes=None) -> DatasetSpec:
    """The spec of dataset `name` ("folder:PATH" or "folder" with `data_dir` included)."""
    name, data_dir = split_name(name, data_dir)
    if name == FOLDER:
        return folder_spec(data_dir, image_size, channels, classes)
    spec = get_spec(name)
    asked = (image_size or spec.image_shape[0], channels or spec.image_shape[2])
    if asked != (spec.image_shape[0], spec.image_shape[2]):
        raise DataError(f"{name}'s images are {'x'.join(map(str, spec.image_shape))}; --image_size and --channels "
                        "resize the images of a folder dataset (--dataset=folder:PATH) only. Leave them out.")
    return spec


def load_folder(spec: DatasetSpec, data_dir: str, *, memory_mb: float = 2048, cache: str = "", log=print) -> Arrays:
    """A folder dataset read at `spec`'s image shape (keras_gan/data/folders.py)."""
    read = folders.load(data_dir, spec.image_shape, memory_mb=memory_mb, cache=cache, log=log)
    if read.class_names != spec.class_names:
        raise DataError(f"{data_dir} now has the classes {', '.join(read.class_names)}, not "
                        f"{', '.join(spec.class_names)} as when the run began; restore its class subfolders.")
    source = f"folder {os.path.abspath(os.path.expanduser(data_dir))}"
    return Arrays(read.x_train, read.y_train, read.x_test, read.y_test, source, spec, stream=read.stream,
                  identity=read.fingerprint, skipped=read.skipped, notes=read.notes)


def load_arrays(name: str, data_dir: str | None = None, *, tfds_dir: str | None = None,
                download: bool = True, image_size: int = 0, channels: int = 0, classes=None,
                memory_mb: float = 2048, cache: str = "", log=print) -> Arrays:
    """Loads dataset `name` from the first source that has it, or raises one DataError naming them all;
    a folder dataset ("folder:PATH", or "folder" with `data_dir`) at `image_size` and `channels`."""
    spec = spec_of(name, data_dir, image_size=image_size, channels=channels, classes=classes)
    name, data_dir = split_name(name, data_dir)
    if name == FOLDER:
        return load_folder(spec, data_dir, memory_mb=memory_mb, cache=cache, log=log)
    tried = sources(spec, data_dir, tfds_dir=tfds_dir, download=download)
    for src in tried:
        arrays = src.load()
        if arrays is not None:
            return Arrays(**_check(arrays, spec, src.label), source=src.label, spec=spec)
    lines = [f"dataset {name!r} was not found. Places tried, in order:"]
    lines += [f"  {i}. {s.label} -- {s.why_not or 'no data'}" for i, s in enumerate(tried, 1)]
    if not data_dir:
        lines.append("  (--data_dir was not given)")
    lines.append(f"To get it, {spec.how_to_get}; or put the four IDX files ({', '.join(IDX_FILES.values())}, "
                 "optionally .gz) or an .npz with x_train, y_train, x_test, y_test in a folder and pass "
                 "--data_dir=FOLDER.")
    raise DataError("\n".join(lines))
