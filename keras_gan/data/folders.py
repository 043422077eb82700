"""A folder of image files as a dataset: `--dataset=folder:PATH`.

    python -m keras_gan.train --model=dcgan_paper --dataset=folder:~/faces --image_size=64

What is read. PNG, JPEG, BMP and GIF files (the first frame of an animation), listed by Keras's
`image_dataset_from_directory` (so the formats and the class rule are Keras's):

* subfolders of PATH are classes, named after the folder (sorted by name), with the images anywhere
  below them; files beside the subfolders are left out (and counted). A folder without subfolders
  is one class.
* PATH/train and PATH/test, if PATH holds those two alone, are the training and test splits (each
  with the same class subfolders). Otherwise a tenth of the files (at least one) is held out as
  the test split, drawn with a fixed seed (`SPLIT_SEED`): the same files for every run and every
  --seed, so scores of runs on the same folder compare.

How an image becomes a training image (`decode`, in the `tf.data` pipeline): decoded at its own
channels; a transparent image is laid on white; then converted to `channels` (grey is repeated to
RGB; RGB becomes grey by luminance, ITU-R 601-2 as TensorFlow's `rgb_to_grayscale`); centre-cropped
to a square and resized to `image_size` by TensorFlow's bilinear filter with antialiasing (each
output pixel a tent-weighted mean of the input pixels it covers when shrinking); rounded to uint8.
Images of mixed sizes and channels are therefore one dataset; nothing about them is an error.

Bad files never stop a run. Every file is decoded once, in parallel, before training
(`read_split`): a file that cannot be read or decoded (a truncated JPEG, text named .png, an empty
file, a broken link) is skipped, counted and named with its reason (`Folder.skipped`; the train
command writes them all to RUN/skipped_files.txt and names the count in one line). A folder that
leaves fewer than two training images or no test image is a DataError.

Memory. When the decoded training images fit in `memory_mb`, they are kept in memory as uint8 and
served by pipeline.Pipeline, as the built-in datasets are. A larger folder streams: each epoch
decodes its files again in the tf.data pipeline (pipeline.FilePipeline), or, with `cache`, reads the
decoded images back from a cache file written once by the first pass (a raw uint8 file with a JSON
header beside it, reused while the folder's fingerprint and the image size match). Resident memory
then stays flat whatever the folder's size; the evaluation keeps a seeded subset of at most
`EVALUATION_IMAGES` of each split in memory.

The fingerprint of a folder (`Arrays.fingerprint`, which a resumed run checks) is a digest of its
files' names, sizes and labels and of the image shape, not of every byte: reading a large folder to
hash it would cost an epoch.
"""

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import sys

import keras
import numpy as np

from keras_gan import backend
from keras_gan.errors import DataError, reason
from keras_gan.io.atomic import atomic_path, write_text

SPLIT_SEED = 20160107  # the held-out split's seed: the DCGAN paper's arXiv date
HELD_OUT = 0.1
EVALUATION_IMAGES = 10_000
FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # Keras's image_dataset_from_directory's
SCAN_BATCH = 256
GIVEN_SPLITS = ("train", "test")


class _TensorFlow:
    """TensorFlow's module, imported where a folder is first read: its image decoding and tf.data
    are what read folders, on every Keras backend; without TensorFlow, a folder is one clear error."""

    def __getattr__(self, name):
        return getattr(backend.require_tensorflow("a folder dataset (--dataset=folder)"), name)


tf = _TensorFlow()


@dataclasses.dataclass(frozen=True)
class Listing:
    """The files of a folder dataset, split: paths and labels of each split, and the class names."""

    root: str
    class_names: tuple[str, ...]
    train: tuple[str, ...]
    train_labels: np.ndarray
    test: tuple[str, ...]
    test_labels: np.ndarray
    left_out: int              # files beside the class subfolders, which are no class's
    held_out: bool             # whether the test split was drawn (True) or given as PATH/test (False)

    def fingerprint(self, image_shape) -> str:
        """A digest of the files' names (relative to the folder), sizes and labels, and the image shape."""
        parts = [list(image_shape), list(self.class_names)]
        for paths, labels in ((self.train, self.train_labels), (self.test, self.test_labels)):
            parts.append([[os.path.relpath(p, self.root), _size(p), int(y)] for p, y in zip(paths, labels)])
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return -1


def _subfolders(root: str) -> list[str]:
    return sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))


def _split_root(root: str) -> bool:
    """Whether `root` holds its own splits: exactly the subfolders train and test."""
    return tuple(_subfolders(root)) == tuple(sorted(GIVEN_SPLITS))


def check_root(root: str) -> str:
    """`root` expanded (~), or a DataError if it is not a folder."""
    path = os.path.expanduser(root or "")
    if not path:
        raise DataError("--dataset=folder needs the folder: --dataset=folder:PATH (or --data_dir=PATH).")
    if not os.path.isdir(path):
        raise DataError(f"--dataset=folder:{root}: {'no such folder' if not os.path.exists(path) else 'not a folder'}."
                        " Give the folder that holds the images (or their class subfolders).")
    return path


def class_names(root: str) -> tuple[str, ...]:
    """The class names of a folder dataset (its subfolders, or those of its train/ split), without
    listing its files: what a configuration records. One class, "images", without subfolders."""
    path = check_root(root)
    if _split_root(path):
        path = os.path.join(path, "train")
    return tuple(_subfolders(path)) or ("images",)


def _index(folder: str, classes: tuple[str, ...] | None, shuffle: bool):
    """(paths, labels) of the image files in `folder` (Keras lists them: its formats, its class rule)."""
    labels = "inferred" if classes else None
    backend.require_tensorflow("a folder dataset (--dataset=folder)")  # Keras lists them with tf.data
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # Keras prints how many files it found
            found = keras.utils.image_dataset_from_directory(
                folder, labels=labels, class_names=list(classes) if classes else None, batch_size=None,
                shuffle=shuffle, seed=SPLIT_SEED, verbose=False)
    except ValueError as e:
        if "No images found" in str(e):
            return [], np.zeros(0, np.int64)
        raise DataError(f"cannot list the images of {folder}: {reason(e)}") from None
    paths = list(found.file_paths)
    if not classes:
        return paths, np.zeros(len(paths), np.int64)
    index = {name: i for i, name in enumerate(classes)}
    return paths, np.array([index[os.path.relpath(p, folder).split(os.sep)[0]] for p in paths], np.int64)


def _loose_files(folder: str) -> int:
    return sum(1 for e in os.scandir(folder) if e.is_file() and e.name.lower().endswith(FORMATS))


def list_folder(root: str) -> Listing:
    """The folder's files and labels, split (PATH/train and PATH/test, or a seeded tenth held out)."""
    path = check_root(root)
    if _split_root(path):
        classes = tuple(_subfolders(os.path.join(path, "train")))
        train, train_labels = _index(os.path.join(path, "train"), classes, shuffle=False)
        test, test_labels = _index(os.path.join(path, "test"), classes, shuffle=False)
        if not test:
            raise DataError(f"{path}/test holds no image files ({', '.join(FORMATS)}); put the test images there, "
                            "or move train/'s contents up to let a tenth be held out.")
        left_out = _loose_files(os.path.join(path, "train")) if classes else 0
        return Listing(path, classes or ("images",), tuple(train), train_labels, tuple(test), test_labels,
                       left_out, held_out=False)
    classes = tuple(_subfolders(path))
    paths, labels = _index(path, classes, shuffle=True)  # in an order drawn with SPLIT_SEED
    if not paths:
        raise DataError(f"{path} holds no image files ({', '.join(FORMATS)}) "
                        + ("in its subfolders " if classes else "")
                        + "(Keras lists them: image_dataset_from_directory). Put the images there, or in class "
                          "subfolders of it.")
    if len(paths) < 2:
        raise DataError(f"{path} holds one image file: a dataset needs at least two (one is held out for "
                        "evaluation), and a GAN learns from hundreds or more.")
    n_test = max(1, int(round(HELD_OUT * len(paths))))
    left_out = _loose_files(path) if classes else 0
    return Listing(path, classes or ("images",), tuple(paths[n_test:]), labels[n_test:],
                   tuple(paths[:n_test]), labels[:n_test], left_out, held_out=True)


def decode(path, image_shape):
    """The image file at `path` (a string tensor) as uint8 (H, W, C) of `image_shape`: see the
    module's docstring for each step. Raises (in the pipeline) for a file that is not an image."""
    size, channels = image_shape[0], image_shape[2]
    image = tf.io.decode_image(tf.io.read_file(path), channels=0, expand_animations=False)
    image = tf.cast(image, tf.float32)
    have = tf.shape(image)[-1]

    def on_white():  # grey+alpha or RGBA: composite over white
        alpha = image[..., -1:] / 255.0
        return image[..., :-1] * alpha + 255.0 * (1.0 - alpha)

    image = tf.cond(tf.equal(have % 2, 0), on_white, lambda: image)
    image.set_shape([None, None, None])
    if channels == 3:
        image = tf.cond(tf.equal(tf.shape(image)[-1], 1), lambda: tf.tile(image, [1, 1, 3]), lambda: image)
    else:
        image = tf.cond(tf.equal(tf.shape(image)[-1], 3), lambda: tf.image.rgb_to_grayscale(image), lambda: image)
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    side = tf.minimum(height, width)
    image = tf.image.crop_to_bounding_box(image, (height - side) // 2, (width - side) // 2, side, side)
    image = tf.image.resize(image, (size, size), method="bilinear", antialias=True)
    image = tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)
    image.set_shape((size, size, channels))
    return image


def why_unreadable(path: str, image_shape) -> str:
    """Why `decode` fails on `path`, in one line (the file's own error, not TensorFlow's op names)."""
    try:
        decode(tf.constant(path), image_shape)
    except Exception as e:  # TensorFlow raises several types for files it cannot read or decode
        text = reason(e)
        text = text.split("}}")[-1].split("[Op:")[0].strip() or text
        return text
    return "could not be decoded in the pipeline"


@dataclasses.dataclass(frozen=True)
class ImageFiles:
    """The training images of a folder that streams: the good files, their labels, the image shape,
    and the cache file of their decoded images (or "" to decode from the files every epoch)."""

    paths: tuple[str, ...]
    labels: np.ndarray
    image_shape: tuple[int, int, int]
    cache: str = ""

    @property
    def num_examples(self) -> int:
        return len(self.paths)

    def read_cached(self, indices: np.ndarray) -> np.ndarray:
        """Images `indices` of the cache file, uint8 (n, H, W, C), read with pread (no mapping, so
        resident memory does not grow with the file)."""
        record = int(np.prod(self.image_shape))
        out = np.empty((len(indices), record), np.uint8)
        fd = os.open(self.cache, os.O_RDONLY)
        try:
            for row, i in enumerate(np.asarray(indices, np.int64)):
                out[row] = np.frombuffer(os.pread(fd, record, int(i) * record), np.uint8)
        finally:
            os.close(fd)
        return out.reshape((len(indices), *self.image_shape))


def read_split(paths, image_shape, *, keep=True, write=None, what: str = "images", progress: bool = False):
    """Decodes every file of `paths` once, in parallel, in order: (positions of the good files, the
    images of those among `keep` as uint8). `keep` is True (all), False (none) or an array of
    positions; `write` gets each batch of good images (the cache file)."""
    shape = tuple(image_shape)
    n = len(paths)
    wanted = np.full(n, keep) if isinstance(keep, bool) else np.isin(np.arange(n), keep)
    files = tf.data.Dataset.from_tensor_slices((np.arange(n, dtype=np.int64), np.array(paths, dtype=object)))
    decoded = (files.map(lambda i, p: (i, decode(p, shape)), num_parallel_calls=tf.data.AUTOTUNE,
                         deterministic=True)
               .ignore_errors()  # a file that fails is left out here and named by why_unreadable
               .batch(SCAN_BATCH).prefetch(2))
    images = np.empty((int(wanted.sum()), *shape), np.uint8)
    good = []
    bar = keras.utils.Progbar(n, verbose=1 if progress else 0, unit_name=what)
    count = 0
    for index, batch in decoded.as_numpy_iterator():
        good.append(index)
        chosen = batch[wanted[index]]
        images[count:count + len(chosen)] = chosen
        count += len(chosen)
        if write is not None:
            write(batch)
        bar.update(min(n, int(index[-1]) + 1))
    good = np.concatenate(good) if good else np.zeros(0, np.int64)
    return good, images[:count]


@dataclasses.dataclass(frozen=True)
class Folder:
    """A folder dataset read: its splits in memory (all of them, or a seeded subset of each when the
    training split streams), the streamed training files (or None), and the files skipped."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    fingerprint: str
    stream: ImageFiles | None
    skipped: tuple[tuple[str, str], ...]   # (path, why) of every file that could not be read
    notes: tuple[str, ...]                 # lines for the log: what was left out, where the data lives


def load(root: str, image_shape, *, memory_mb: float = 2048, cache: str = "", log=print) -> Folder:
    """Reads the folder dataset at `root` at `image_shape` (see the module's docstring)."""
    listing = list_folder(root)
    image_shape = tuple(int(v) for v in image_shape)
    fingerprint = listing.fingerprint(image_shape)
    progress = sys.stdout.isatty()
    per_image = int(np.prod(image_shape))
    stream = len(listing.train) * per_image > memory_mb * 2**20
    notes = []
    if listing.left_out:
        notes.append(f"{listing.left_out} image files at the top of {listing.root}, beside its class subfolders, "
                     "belong to no class and are left out")
    if listing.held_out:
        notes.append(f"the test split: {len(listing.test)} of the files, held out with a fixed seed (the same for "
                     "every run)")
    skipped = []

    def checked(paths, good):
        """The good paths; the others, each with why, in `skipped`."""
        bad = np.setdiff1d(np.arange(len(paths)), good)
        skipped.extend((paths[i], why_unreadable(paths[i], image_shape)) for i in bad)
        return [paths[i] for i in good]

    # a folder that streams keeps a seeded subset of each split in memory, for the evaluation
    limit = EVALUATION_IMAGES if stream else max(len(listing.train), len(listing.test))
    test = _subset_indices(len(listing.test), limit)
    good, x_test = read_split([listing.test[i] for i in test], image_shape, what="test images", progress=progress)
    kept_test = checked([listing.test[i] for i in test], good)
    y_test = listing.test_labels[test[good]]

    if not stream:
        log(f"decoding {len(listing.train)} training images of {listing.root} into memory "
            f"({len(listing.train) * per_image / 2**20:.0f} MiB at {'x'.join(map(str, image_shape))})")
        good, x_train = read_split(listing.train, image_shape, what="training images", progress=progress)
        files, picked = None, good
    else:
        pick = _subset_indices(len(listing.train), limit)
        files, good, x_train = _stream(listing, image_shape, fingerprint, cache, pick, progress, log, notes)
        picked = good[np.isin(good, pick)]
    kept = checked(listing.train, good)
    if files is not None:
        files = dataclasses.replace(files, paths=tuple(kept), labels=listing.train_labels[good])
    if len(kept) < 2:
        raise DataError(f"{listing.root}: {len(kept)} of its {len(listing.train)} training image files could be read "
                        f"(a dataset needs at least two){_first_skipped(skipped)}.")
    if len(kept_test) == 0:
        raise DataError(f"{listing.root}: none of its {len(test)} test image files could be read"
                        f"{_first_skipped(skipped)}.")
    return Folder(x_train, listing.train_labels[picked], x_test, y_test, listing.class_names, fingerprint, files,
                  tuple(skipped), tuple(notes))


def _first_skipped(skipped) -> str:
    return f"; for example {skipped[0][0]}: {skipped[0][1]}" if skipped else ""


def _subset_indices(n: int, limit: int) -> np.ndarray:
    """`limit` of `n` positions drawn with SPLIT_SEED, in order (all of them where n <= limit)."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(SPLIT_SEED).choice(n, limit, replace=False))


def _stream(listing: Listing, image_shape, fingerprint: str, cache: str, pick, progress, log, notes):
    """The streamed training split: (ImageFiles without its paths yet, the positions of the good files,
    the images of those among `pick`), from one pass that decodes every file (finding the bad ones and,
    with `cache`, writing the cache file), or from the cache file written by such a pass."""
    header = {"fingerprint": fingerprint, "image_shape": list(image_shape)}
    cache = os.path.abspath(os.path.expanduser(cache)) if cache else ""
    files = ImageFiles((), np.zeros(0, np.int64), tuple(image_shape), cache)
    if cache and _cache_matches(cache, header):
        with open(cache + ".json") as f:
            good = np.asarray(json.load(f)["good"], np.int64)  # positions in the listing, which the fingerprint fixes
        log(f"streaming {len(good)} training images from the cache {cache}")
        notes.append(f"the decoded images are read from {cache}")
        return files, good, files.read_cached(np.flatnonzero(np.isin(good, pick)))
    size = len(listing.train) * int(np.prod(image_shape)) / 2**20
    if not cache:
        log(f"checking {len(listing.train)} training images of {listing.root} ({size:.0f} MiB decoded, more than "
            "--data_memory_mb): they stream from the files, decoded again every epoch (--data_cache=FILE keeps them)")
        good, subset = read_split(listing.train, image_shape, keep=pick, what="training images", progress=progress)
        return files, good, subset
    log(f"decoding {len(listing.train)} training images of {listing.root} into the cache {cache} ({size:.0f} MiB)")
    with atomic_path(cache, ".cache") as tmp, open(tmp, "wb") as out:
        good, subset = read_split(listing.train, image_shape, keep=pick, write=lambda b: out.write(b.tobytes()),
                                  what="training images", progress=progress)
        out.flush()
    write_text(cache + ".json", json.dumps({**header, "good": good.tolist()}))
    notes.append(f"the decoded images are kept in {cache}")
    return files, good, subset


def _cache_matches(cache: str, header: dict) -> bool:
    try:
        with open(cache + ".json") as f:
            saved = json.load(f)
        return (all(saved.get(k) == v for k, v in header.items())
                and os.path.getsize(cache) == len(saved["good"]) * int(np.prod(header["image_shape"])))
    except (OSError, ValueError, KeyError, TypeError):
        return False
