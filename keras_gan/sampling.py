"""Sampling: noise, labels, and noise -> images, the one path that training figures, the generate
command, evaluation and `make experiment`'s figures all take.

    from keras_gan.sampling import Generator
    g = Generator.load("runs/vanilla_mnist/generator.keras")   # noise kind and shape from config.json
    images = g.sample(24, seed=1)                              # (24, 28, 28, 1) in [-1, 1]

Noise is the slide deck's `np.random.uniform(-1, 1, (n, dim))`, or N(0, 1) for kind 'normal', as
float32. A conditional generator takes `[noise, one_hot(label)]`; here labels are always integers
and are one-hot encoded in one place (`decode`).
"""

import dataclasses
import math

import numpy as np

from keras_gan import data, plots, rundir
from keras_gan.config import NOISE_KINDS, TrainConfig
from keras_gan.errors import ConfigError
from keras_gan.files import atomic_path
from keras_gan.saving import load_generator_model

KNOWN_SHAPES = {784: (28, 28, 1), 3072: (32, 32, 3)}
BATCH = 1024


def make_noise(rng: np.random.Generator, n: int, dim: int, kind: str) -> np.ndarray:
    """`n` noise vectors of dimension `dim`: U(-1, 1) for kind 'uniform' (the deck's), else N(0, 1)."""
    if kind == "uniform":
        return rng.uniform(-1.0, 1.0, size=(n, dim)).astype(np.float32)
    return rng.standard_normal(size=(n, dim)).astype(np.float32)


def fixed_noise(config: TrainConfig) -> np.ndarray:
    """The noise batch shown in every sample grid of a run (the same batch across epochs)."""
    rng = np.random.default_rng([config.seed, 0xF1ED])
    return make_noise(rng, config.sample_rows * config.sample_cols, config.noise_dim, config.noise)


def fixed_labels(config: TrainConfig, num_classes: int) -> np.ndarray:
    """Labels of a conditional model's sample grid: row r shows class r (seeds/002's class grid)."""
    return np.repeat(np.arange(config.sample_rows) % num_classes, config.sample_cols)


def each_class(n: int, num_classes: int | None) -> np.ndarray | None:
    """Labels 0, 1, ..., C-1, 0, 1, ... for `n` samples of a conditional generator; None otherwise."""
    return None if num_classes is None else np.arange(n) % num_classes


def one_hot(labels, num_classes: int) -> np.ndarray:
    """Integer labels as the float32 one-hot rows a conditional generator or discriminator takes."""
    return np.eye(num_classes, dtype=np.float32)[np.asarray(labels)]


def num_classes(model) -> int | None:
    """The number of classes of a conditional generator; None for an unconditional one."""
    return int(model.inputs[1].shape[-1]) if len(model.inputs) == 2 else None


def decode(model, noise: np.ndarray, labels=None) -> np.ndarray:
    """The generator's images in [-1, 1] for given noise vectors (and, for a conditional generator,
    one integer class per vector), in batches, in inference mode, as it makes them (flat for the
    dense generators)."""
    noise = np.asarray(noise, np.float32)
    num, classes = len(noise), num_classes(model)
    if classes is None and labels is not None:
        raise ConfigError("the generator is not a conditional generator: it takes no labels (--label).")
    if classes is not None:
        if labels is None:
            raise ConfigError(f"this generator is conditional: give it labels (0..{classes - 1}).")
        labels = np.asarray(labels)
        if labels.shape != (num,) or labels.min() < 0 or labels.max() >= classes:
            raise ConfigError(f"labels must be {num} integers in 0..{classes - 1}.")
        rows = one_hot(labels, classes)
    out = []
    for i in range(0, num, BATCH):
        x = noise[i:i + BATCH] if classes is None else [noise[i:i + BATCH], rows[i:i + BATCH]]
        out.append(np.asarray(model(x, training=False), np.float32))
    return np.concatenate(out)


def generate(model, num: int, seed: int, noise_kind: str = "uniform", labels=None) -> np.ndarray:
    """`num` samples from noise drawn with `seed` (see `decode`; a conditional generator needs `num`
    integer `labels`)."""
    noise = make_noise(np.random.default_rng(seed), num, int(model.inputs[0].shape[-1]), noise_kind)
    return decode(model, noise, labels)


def image_shape_for(model, dataset: str | None = None, override: str = "") -> tuple[int, int, int]:
    """The image shape of a generator's output: `override` ("H,W,C"), else `dataset`'s (the run's), else
    inferred from the output size."""
    size = math.prod(model.outputs[0].shape[1:])
    if override:
        try:
            shape = tuple(int(v) for v in override.split(","))
        except ValueError:
            raise ConfigError(f"--image_shape must be H,W,C. Received: {override!r}") from None
        if math.prod(shape) != size:
            raise ConfigError(f"--image_shape={override} has {math.prod(shape)} values; the generator makes {size}.")
        return shape
    if dataset:
        shape = data.get_spec(dataset).image_shape
        if math.prod(shape) == size:
            return shape
    if size in KNOWN_SHAPES:
        return KNOWN_SHAPES[size]
    side = math.isqrt(size)
    if side * side == size:
        return (side, side, 1)
    raise ConfigError(f"cannot tell the image shape of {size} values; pass --image_shape=H,W,C.")


@dataclasses.dataclass
class Generator:
    """A generator with what sampling it needs: its noise distribution and image shape, and the
    configuration of the run that trained it (None for a generator copied out of its run)."""

    model: object
    noise: str = "uniform"
    image_shape: tuple = (28, 28, 1)
    config: TrainConfig | None = None

    @classmethod
    def load(cls, path: str, *, noise: str = "", image_shape: str = "") -> "Generator":
        """The generator of a `.keras` file. Its noise distribution and image shape come from the run's
        config.json beside it when it is there (else U(-1, 1) and the shape its output size implies);
        `noise` and `image_shape` ("H,W,C") override them."""
        config = rundir.config_beside(path)
        kind = noise or (config.noise if config else "uniform")
        if kind not in NOISE_KINDS:
            raise ConfigError(f"--noise must be one of {', '.join(NOISE_KINDS)}. Received: {kind!r}")
        model = load_generator_model(path)
        return cls(model, kind, image_shape_for(model, config.dataset if config else None, image_shape), config)

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


@dataclasses.dataclass(frozen=True)
class SampleRequest:
    """What the generate command draws (its flags)."""

    generator: str
    num: int = 24
    num_given: bool = False
    seed: int = 0
    out: str = "samples.png"
    npy: str = ""
    noise: str = ""
    cols: int = 0
    image_shape: str = ""
    label: int | None = None


def sample_to_files(request: SampleRequest, log=print) -> np.ndarray:
    """Draws the samples `request` asks for and writes its grid and .npy; returns the samples."""
    if not request.generator:
        raise ConfigError("--generator=PATH.keras is required.")
    if request.num <= 0:
        raise ConfigError(f"--num must be a positive integer. Received: num={request.num}")
    g = Generator.load(request.generator, noise=request.noise, image_shape=request.image_shape)
    classes, labels, cols, num = g.num_classes, None, request.cols, request.num
    if classes is None:
        if request.label is not None:
            raise ConfigError("the generator is not a conditional generator: it takes no labels (--label).")
    elif request.label is not None:
        if not 0 <= request.label < classes:
            raise ConfigError(f"--label must be in 0..{classes - 1}. Received: label={request.label}")
        labels = np.full(num, request.label)
    else:  # the class grid: row r is class r (10 per class unless --num says otherwise)
        num = num if request.num_given else 10 * classes
        cols = cols or max(1, num // classes)
        labels = np.arange(num) // cols % classes
    samples = g.decode(g.noise_for(num, request.seed), labels)
    if request.npy:
        with atomic_path(request.npy, suffix=".npy") as tmp:
            np.save(tmp, samples)
        log(f"wrote {request.npy}: {samples.shape} float32 in [-1, 1]")
    if request.out:
        cols = cols or (6 if num == 24 else math.ceil(math.sqrt(num)))
        plots.sample_grid(samples, g.image_shape, request.out, rows=math.ceil(num / cols), cols=cols)
        log(f"wrote {request.out}: {num} samples"
            + ("" if labels is None else f" of classes {sorted(set(labels.tolist()))}"))
    return samples
