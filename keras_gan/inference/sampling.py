"""Sampling a saved generator into files: what `python -m keras_gan.generate` does.

    sample_to_files(SampleRequest("runs/vanilla_fashion_mnist/generator.keras", num=24, seed=1,
                                  out="grid.png", npy="samples.npy"))
"""

import dataclasses
import math

import numpy as np

from keras_gan.errors import ConfigError
from keras_gan.io import figures
from keras_gan.io.atomic import atomic_path
from keras_gan.runs.generator import load_generator

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
    g = load_generator(request.generator, noise=request.noise, image_shape=request.image_shape)
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
        figures.sample_grid(samples, g.image_shape, request.out, rows=math.ceil(num / cols), cols=cols)
        log(f"wrote {request.out}: {num} samples"
            + ("" if labels is None else f" of classes {sorted(set(labels.tolist()))}"))
    return samples
