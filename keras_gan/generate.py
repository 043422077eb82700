"""Sampling from a saved generator: `python -m keras_gan.generate`.

    python -m keras_gan.generate --generator=runs/vanilla_fashion_mnist/generator.keras \\
        --num=24 --seed=1 --out=grid.png --npy=samples.npy

    python -m keras_gan.generate --generator=runs/cgan_fashion_mnist/generator.keras --label=3
    python -m keras_gan.generate --generator=runs/cgan_fashion_mnist/generator.keras   # class grid

The noise distribution and image shape come from the run's config.json beside the generator when
it is there; otherwise the noise is the slide deck's U(-1, 1) and the shape is inferred from the
output size (784 -> 28x28x1, 3072 -> 32x32x3). `--noise` and `--image_shape` override both.
A conditional generator (inputs: noise and a one-hot label) draws every sample of class `--label`,
or, without it, a class grid: one row per class, `--cols` samples each (seeds/002's figure).
"""

import math
import os
import sys

import numpy as np
from absl import flags

from keras_gan import rundir
from keras_gan.checkpoint import atomic_path
from keras_gan.cli import run_cli
from keras_gan.errors import ConfigError, ModelFileError, reason

KNOWN_SHAPES = {784: (28, 28, 1), 3072: (32, 32, 3)}


def save_network(model, path: str) -> None:
    """Saves `model` as a plain `.keras` file, atomically: without its compile state (optimizer and
    loss, which may be this package's classes), so that Keras alone loads it."""
    if getattr(model, "compiled", False):
        from keras_gan.networks import uncompiled_copy

        model = uncompiled_copy(model)
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)


def load_network(path: str, what_to_do: str):
    """The model of a `.keras` file, or a ModelFileError that names the file, says what is wrong with it
    and ends with `what_to_do`. A `.keras` file is a zip archive: its members' checksums are checked
    first, so a damaged or truncated file is called that (Keras would say "file not found")."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
        if broken:
            raise ValueError(f"its member {broken} is corrupt")
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as e:
        raise ModelFileError(f"{path} is not a complete .keras archive ({reason(e)}): the file is damaged or "
                             f"truncated; {what_to_do}.") from None
    import keras

    import keras_gan.optimizers  # noqa: F401  (registers FusedAdam, which files of earlier versions name)

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as e:  # Keras raises many types for archives it cannot rebuild
        raise ModelFileError(f"cannot load {path} as a Keras model ({reason(e)}); {what_to_do}.") from None


def load_generator(path: str):
    """Loads a `.keras` generator, checking that it maps noise vectors to images."""
    if not os.path.isfile(path):
        raise ModelFileError(f"generator file {path} not found. Train one with python -m keras_gan.train; "
                             "it writes RUN_DIR/generator.keras.")
    if not path.endswith(".keras"):
        raise ModelFileError(f"{path} is not a .keras file; pass the generator.keras of a training run.")
    model = load_network(path, "pass a generator.keras that keras_gan.train wrote (or a copy of it)")
    inputs, outputs = model.inputs, model.outputs
    if len(inputs) not in (1, 2) or any(len(i.shape) != 2 for i in inputs) or len(outputs) != 1:
        raise ModelFileError(f"{path} is not a generator: it should take one noise vector per sample "
                             f"(input shape (batch, noise_dim)), and a one-hot label if conditional; "
                             f"it takes {[tuple(i.shape) for i in inputs]}.")
    out_size = math.prod(outputs[0].shape[1:])
    if out_size == 1:
        raise ModelFileError(f"{path} outputs one number per sample: it is a discriminator, not a generator. "
                             "Pass generator.keras.")
    return model


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
        from keras_gan.data import get_spec

        shape = get_spec(dataset).image_shape
        if math.prod(shape) == size:
            return shape
    if size in KNOWN_SHAPES:
        return KNOWN_SHAPES[size]
    side = math.isqrt(size)
    if side * side == size:
        return (side, side, 1)
    raise ConfigError(f"cannot tell the image shape of {size} values; pass --image_shape=H,W,C.")


def num_classes(model) -> int | None:
    """The number of classes of a conditional generator; None for an unconditional one."""
    return int(model.inputs[1].shape[-1]) if len(model.inputs) == 2 else None


def decode(model, noise: np.ndarray, labels=None) -> np.ndarray:
    """The generator's images in [-1, 1] for given noise vectors (and, for a conditional generator,
    one integer class per vector), in batches, as it makes them (flat for the dense generators)."""
    num, classes = len(noise), num_classes(model)
    if classes is None and labels is not None:
        raise ConfigError("the generator is not a conditional generator: it takes no labels (--label).")
    if classes is not None:
        if labels is None:
            raise ConfigError(f"this generator is conditional: give it labels (0..{classes - 1}).")
        labels = np.asarray(labels)
        if labels.shape != (num,) or labels.min() < 0 or labels.max() >= classes:
            raise ConfigError(f"labels must be {num} integers in 0..{classes - 1}.")
        one_hot = np.eye(classes, dtype=np.float32)[labels]
    out = []
    for i in range(0, num, 1024):
        x = noise[i:i + 1024] if classes is None else [noise[i:i + 1024], one_hot[i:i + 1024]]
        out.append(np.asarray(model(x, training=False)))
    return np.concatenate(out)


def generate(model, num: int, seed: int, noise_kind: str = "uniform", labels=None) -> np.ndarray:
    """`num` samples from noise drawn with `seed` (see `decode`; a conditional generator needs `num`
    integer `labels`)."""
    from keras_gan.train import make_noise

    return decode(model, make_noise(np.random.default_rng(seed), num, int(model.inputs[0].shape[-1]), noise_kind),
                  labels)


def define_flags() -> flags.FlagValues:
    fv = flags.FlagValues()
    flags.DEFINE_string("generator", None, "Path to a generator.keras file.", flag_values=fv)
    flags.DEFINE_integer("num", 24, "How many samples.", flag_values=fv)
    flags.DEFINE_integer("seed", 0, "Seed of the noise.", flag_values=fv)
    flags.DEFINE_string("out", "samples.png", "Grid image to write ('' for none).", flag_values=fv)
    flags.DEFINE_string("npy", "", "Also write the samples as an .npy array in [-1, 1], (N, H, W, C).",
                        flag_values=fv)
    flags.DEFINE_string("noise", "", "uniform or normal (default: the run's, else uniform).", flag_values=fv)
    flags.DEFINE_integer("cols", 0, "Grid columns (default: 6 for 24 samples, else about sqrt(num)).",
                         flag_values=fv)
    flags.DEFINE_string("image_shape", "", "H,W,C when it cannot be inferred.", flag_values=fv)
    flags.DEFINE_integer("label", None, "Conditional generators: the class of every sample "
                         "(default: a class grid, one row per class).", flag_values=fv)
    return fv


def _body(fv) -> int:
    if not fv.generator:
        raise ConfigError("--generator=PATH.keras is required.")
    if fv.num <= 0:
        raise ConfigError(f"--num must be a positive integer. Received: num={fv.num}")
    config = rundir.config_beside(fv.generator)
    noise_kind = fv.noise or (config.noise if config else "uniform")
    if noise_kind not in ("uniform", "normal"):
        raise ConfigError(f"--noise must be uniform or normal. Received: {noise_kind!r}")
    model = load_generator(fv.generator)
    shape = image_shape_for(model, config.dataset if config else None, fv.image_shape)
    classes, labels, cols, num = num_classes(model), None, fv.cols, fv.num
    if classes is None:
        labels = None if fv.label is None else np.full(fv.num, fv.label)  # decode refuses them
    else:
        if fv.label is not None and not 0 <= fv.label < classes:
            raise ConfigError(f"--label must be in 0..{classes - 1}. Received: label={fv.label}")
        if fv.label is not None:
            labels = np.full(fv.num, fv.label)
        else:  # the class grid: row r is class r (10 per class unless --num says otherwise)
            num = fv.num if fv["num"].present else 10 * classes
            cols = cols or max(1, num // classes)
            labels = np.arange(num) // cols % classes
    samples = generate(model, num, fv.seed, noise_kind, labels).reshape((-1, *shape))
    if fv.npy:
        with atomic_path(fv.npy, suffix=".npy") as tmp:
            np.save(tmp, samples)
        print(f"wrote {fv.npy}: {samples.shape} float32 in [-1, 1]")
    if fv.out:
        from keras_gan import plots

        cols = cols or (6 if num == 24 else math.ceil(math.sqrt(num)))
        plots.sample_grid(samples, shape, fv.out, rows=math.ceil(num / cols), cols=cols)
        print(f"wrote {fv.out}: {num} samples" + ("" if labels is None else f" of classes {sorted(set(labels.tolist()))}"))
    return 0


def main(argv=None) -> int:
    return run_cli(sys.argv if argv is None else argv, define_flags, _body)


if __name__ == "__main__":
    sys.exit(main())
