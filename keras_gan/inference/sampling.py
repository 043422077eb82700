"""Sampling a saved generator into files: what `python -m keras_gan.generate` does.

    sample_to_files(SampleRequest("runs/vanilla_fashion_mnist/generator.keras", num=24, seed=1,
                                  out="grid.png", npy="samples.npy"))
"""

import dataclasses
import math
import os

import numpy as np

from keras_gan.errors import ConfigError
from keras_gan.io import figures
from keras_gan.io.atomic import atomic_path
from keras_gan.models import sampling
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
    interpolate: int = 0        # steps of each interpolation path (0: samples, not paths)
    path: str = "spherical"     # spherical or linear, between noise vectors


def interpolation_paths(g, rows: int, steps: int, seed, *, path: str = "spherical", label: int | None = None):
    """The noise (rows * steps, dim) and labels of `rows` interpolation paths of `steps` images: for an
    unconditional generator (or a conditional one held at `label`), between two noise vectors drawn
    with `seed`; for a conditional generator without `label`, at one noise vector, from class r to class
    r + 1 through blends of their one-hot rows."""
    classes = g.num_classes
    if classes is None or label is not None:
        ends = g.noise_for(2 * rows, seed).reshape(rows, 2, -1)
        noise = sampling.path_between(ends[:, 0], ends[:, 1], steps, path).reshape(rows * steps, -1)
        return noise, None if classes is None else np.full(rows * steps, label)
    noise = np.repeat(g.noise_for(rows, seed), steps, axis=0)
    first = sampling.one_hot(np.arange(rows) % classes, classes)
    second = sampling.one_hot((np.arange(rows) + 1) % classes, classes)
    weights = sampling.path_between(first, second, steps, "linear").reshape(rows * steps, classes)
    return noise, weights


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
    if request.interpolate:
        return _interpolation_to_files(request, g, log)
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


def _interpolation_to_files(request: SampleRequest, g, log) -> np.ndarray:
    """--interpolate: the paths as a grid (a row each, `out`), an animated GIF beside it, and the .npy."""
    if request.interpolate < 2:
        raise ConfigError(f"--interpolate must be at least 2 steps. Received: interpolate={request.interpolate}")
    rows = request.num if request.num_given else 6
    noise, labels = interpolation_paths(g, rows, request.interpolate, request.seed, path=request.path,
                                        label=request.label)
    images = g.decode(noise, labels)
    if request.npy:
        with atomic_path(request.npy, suffix=".npy") as tmp:
            np.save(tmp, images)
        log(f"wrote {request.npy}: {images.shape} float32 in [-1, 1], {rows} paths of {request.interpolate}")
    between = "between classes r and r + 1" if labels is not None and labels.ndim == 2 else \
        f"{request.path}ly between two noise vectors"
    if request.out:
        paths = images.reshape(rows, request.interpolate, -1)
        figures.interpolation(paths, g.image_shape, request.out, title=f"{rows} paths, {between}")
        gif = os.path.splitext(request.out)[0] + ".gif"
        figures.walk(paths, g.image_shape, gif)
        log(f"wrote {request.out} and {gif}: {rows} paths of {request.interpolate} images, {between}")
    return images
