"""Noise, labels, and a generator's images: the one path that training figures, the generate
command, evaluation and `make experiment`'s figures all take.

    g = Generator(model, noise="uniform", image_shape=(28, 28, 1))
    images = g.sample(24, seed=1)                              # (24, 28, 28, 1) in [-1, 1]

Noise is the slide deck's `np.random.uniform(-1, 1, (n, dim))`, or N(0, 1) for kind 'normal', as
float32. A conditional generator takes `[noise, one_hot(label)]`; here labels are always integers
and are one-hot encoded in one place (`decode`). Loading a saved generator with its run's noise
and image shape is keras_gan.runs.load_generator.
"""

import dataclasses

import keras
import numpy as np

from keras_gan.errors import ConfigError

NOISE_KINDS = ("uniform", "normal")
BATCH = 1024


def make_noise(rng: np.random.Generator, n: int, dim: int, kind: str) -> np.ndarray:
    """`n` noise vectors of dimension `dim`: U(-1, 1) for kind 'uniform' (the deck's), else N(0, 1)."""
    if kind == "uniform":
        return rng.uniform(-1.0, 1.0, size=(n, dim)).astype(np.float32)
    return rng.standard_normal(size=(n, dim)).astype(np.float32)


def each_class(n: int, num_classes: int | None) -> np.ndarray | None:
    """Labels 0, 1, ..., C-1, 0, 1, ... for `n` samples of a conditional generator; None otherwise."""
    return None if num_classes is None else np.arange(n) % num_classes


def one_hot(labels, num_classes: int) -> np.ndarray:
    """Integer labels as the float32 one-hot rows a conditional generator or discriminator takes."""
    return np.eye(num_classes, dtype=np.float32)[np.asarray(labels)]


PATHS = ("spherical", "linear")


def path_between(start, end, steps: int, kind: str = "spherical") -> np.ndarray:
    """`steps` points from each row of `start` to the same row of `end`, both included: (rows, steps,
    dim). `linear`: the straight line. `spherical` (White 2016, "Sampling Generative Networks"):
    sin((1 - t) w) / sin w * start + sin(t w) / sin w * end, w the angle between the two vectors, which
    keeps the norms that Gaussian noise concentrates on (straight lines pass through the low-norm
    middle, where the generator saw little noise); parallel vectors fall back to the line."""
    if kind not in PATHS:
        raise ConfigError(f"the path must be one of {', '.join(PATHS)}. Received: {kind!r}")
    a, b = np.asarray(start, np.float64), np.asarray(end, np.float64)
    t = np.linspace(0.0, 1.0, steps)[None, :, None]
    line = a[:, None] * (1 - t) + b[:, None] * t
    if kind == "linear":
        return line.astype(np.float32)
    cos = np.sum(a * b, axis=1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)
    w = np.arccos(np.clip(cos, -1.0, 1.0))[:, None, None]
    sin = np.sin(w)
    arc = (np.sin((1 - t) * w) * a[:, None] + np.sin(t * w) * b[:, None]) / np.where(sin > 1e-6, sin, 1.0)
    return np.where(sin > 1e-6, arc, line).astype(np.float32)


def num_classes(model) -> int | None:
    """The number of classes of a conditional generator; None for an unconditional one."""
    return int(model.inputs[1].shape[-1]) if len(model.inputs) == 2 else None


def decode(model, noise: np.ndarray, labels=None) -> np.ndarray:
    """The generator's images in [-1, 1] for given noise vectors (and, for a conditional generator,
    one integer class per vector, or one row of class weights per vector: a blend of one-hot rows,
    as between two classes), in batches, in inference mode, as it makes them (flat for the dense
    generators)."""
    noise = np.asarray(noise, np.float32)
    num, classes = len(noise), num_classes(model)
    if classes is None and labels is not None:
        raise ConfigError("the generator is not a conditional generator: it takes no labels (--label).")
    if classes is not None:
        if labels is None:
            raise ConfigError(f"this generator is conditional: give it labels (0..{classes - 1}).")
        labels = np.asarray(labels)
        if labels.ndim == 2:
            if labels.shape != (num, classes) or not np.all(np.isfinite(labels)) or labels.min() < 0:
                raise ConfigError(f"class weights must be {num} rows of {classes} non-negative numbers.")
            rows = labels.astype(np.float32)
        elif labels.shape != (num,) or labels.min() < 0 or labels.max() >= classes:
            raise ConfigError(f"labels must be {num} integers in 0..{classes - 1}.")
        else:
            rows = one_hot(labels, classes)
    out = []
    for i in range(0, num, BATCH):
        x = noise[i:i + BATCH] if classes is None else [noise[i:i + BATCH], rows[i:i + BATCH]]
        out.append(keras.ops.convert_to_numpy(model(x, training=False)).astype(np.float32, copy=False))
    return np.concatenate(out)


def apply(model, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """An image-to-image generator's outputs (inference mode) for `images`, float32, in batches."""
    return np.concatenate([keras.ops.convert_to_numpy(model(images[i:i + batch_size], training=False))
                           .astype(np.float32, copy=False) for i in range(0, len(images), batch_size)])


@dataclasses.dataclass
class Generator:
    """A generator of noise with what sampling it needs: its noise distribution and image shape."""

    model: object
    noise: str = "uniform"
    image_shape: tuple = (28, 28, 1)

    @property
    def num_classes(self) -> int | None:
        return num_classes(self.model)

    @property
    def noise_dim(self) -> int:
        return int(self.model.inputs[0].shape[-1])

    def noise_for(self, n: int, seed) -> np.ndarray:
        return make_noise(np.random.default_rng(seed), n, self.noise_dim, self.noise)

    def decode(self, noise, labels=None) -> np.ndarray:
        """Images (n, H, W, C) in [-1, 1] of given noise vectors (and integer labels, if conditional)."""
        return decode(self.model, noise, labels).reshape((-1, *self.image_shape))

    def sample(self, n: int, seed=0, labels=None) -> np.ndarray:
        """`n` images (n, H, W, C) in [-1, 1] from noise drawn with `seed`; a conditional generator makes
        each class in turn unless `labels` says otherwise."""
        if labels is None:
            labels = each_class(n, self.num_classes)
        return self.decode(self.noise_for(n, seed), labels)
