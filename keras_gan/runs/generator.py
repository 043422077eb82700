"""The generator a run saved, with what sampling it needs from the run's config.json.

    from keras_gan.runs.generator import load_generator
    g = load_generator("runs/vanilla_mnist/generator.keras")   # noise kind and shape from config.json
    images = g.sample(24, seed=1)                              # (24, 28, 28, 1) in [-1, 1]
"""

import math

from keras_gan.errors import ConfigError
from keras_gan.io.keras_files import load_generator_model
from keras_gan.models.sampling import NOISE_KINDS, Generator
from keras_gan.runs.config import config_beside

KNOWN_SHAPES = {784: (28, 28, 1), 3072: (32, 32, 3)}


def image_shape_for(model, known=None, override: str = "") -> tuple[int, int, int]:
    """The image shape of a generator's output: `override` ("H,W,C"), else `known` (the run's
    dataset's) where its size fits, else inferred from the output size."""
    size = math.prod(model.outputs[0].shape[1:])
    if override:
        try:
            shape = tuple(int(v) for v in override.split(","))
        except ValueError:
            raise ConfigError(f"--image_shape must be H,W,C. Received: {override!r}") from None
        if math.prod(shape) != size:
            raise ConfigError(f"--image_shape={override} has {math.prod(shape)} values; the generator makes {size}.")
        return shape
    if known and math.prod(known) == size:
        return tuple(known)
    if size in KNOWN_SHAPES:
        return KNOWN_SHAPES[size]
    side = math.isqrt(size)
    if side * side == size:
        return (side, side, 1)
    raise ConfigError(f"cannot tell the image shape of {size} values; pass --image_shape=H,W,C.")


def load_generator(path: str, *, noise: str = "", image_shape: str = "") -> Generator:
    """The generator of a `.keras` file. Its noise distribution and image shape come from the run's
    config.json beside it when it is there (else U(-1, 1) and the shape its output size implies);
    `noise` and `image_shape` ("H,W,C") override them."""
    config = config_beside(path)
    kind = noise or (config.noise if config else "uniform")
    if kind not in NOISE_KINDS:
        raise ConfigError(f"--noise must be one of {', '.join(NOISE_KINDS)}. Received: {kind!r}")
    model = load_generator_model(path)
    return Generator(model, kind, image_shape_for(model, config.spec.image_shape if config else None, image_shape))
