"""`.keras` files: saving a network so that Keras alone loads it, and loading one with a clear error.

Every `.keras` file the package writes (generator.keras, discriminator.keras, generator_best.keras,
the cached classifiers) is saved without its compile state, whose loss may be this package's own
class, in float32, and atomically (atomic.py). A `.keras` file is a zip archive: its
members' checksums are checked before Keras reads it, so a damaged or truncated file is called that.
"""

import math
import os
import zipfile

import keras

from keras_gan.errors import ConfigError, ModelFileError, reason
from keras_gan.io.atomic import atomic_path
from keras_gan.models import networks


def save_network(model, path: str) -> None:
    """Saves `model` as a plain `.keras` file, atomically, without its compile state, in float32."""
    if not networks.is_plain(model):
        model = networks.uncompiled_copy(model)
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)


def load_network(path: str, what_to_do: str):
    """The model of a `.keras` file, or a ModelFileError that names the file, says what is wrong with it
    and ends with `what_to_do`."""
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
        if broken:
            raise ValueError(f"its member {broken} is corrupt")
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as e:
        raise ModelFileError(f"{path} is not a complete .keras archive ({reason(e)}): the file is damaged or "
                             f"truncated; {what_to_do}.") from None
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as e:  # Keras raises many types for archives it cannot rebuild
        raise ModelFileError(f"cannot load {path} as a Keras model ({reason(e)}); {what_to_do}.") from None


def load_generator_model(path: str):
    """Loads a `.keras` generator, checking that it maps noise vectors (and a one-hot label) to images."""
    if not os.path.isfile(path):
        raise ModelFileError(f"generator file {path} not found. Train one with python -m keras_gan.train; "
                             "it writes RUN_DIR/generator.keras.")
    if not path.endswith(".keras"):
        raise ModelFileError(f"{path} is not a .keras file; pass the generator.keras of a training run.")
    model = load_network(path, "pass a generator.keras that keras_gan.train wrote (or a copy of it)")
    inputs, outputs = model.inputs, model.outputs
    if len(inputs) == 1 and len(inputs[0].shape) == 4 and len(outputs) == 1 and len(outputs[0].shape) == 4 \
            and outputs[0].shape[1] >= inputs[0].shape[1]:
        raise ModelFileError(f"{path} maps images to images (a CycleGAN or SRGAN generator), not noise to images: "
                             "run it with python -m keras_gan.translate or python -m keras_gan.upscale.")
    if len(inputs) not in (1, 2) or any(len(i.shape) != 2 for i in inputs) or len(outputs) != 1:
        raise ModelFileError(f"{path} is not a generator: it should take one noise vector per sample "
                             f"(input shape (batch, noise_dim)), and a one-hot label if conditional; "
                             f"it takes {[tuple(i.shape) for i in inputs]}.")
    if math.prod(outputs[0].shape[1:]) == 1:
        raise ModelFileError(f"{path} outputs one number per sample: it is a discriminator, not a generator. "
                             "Pass generator.keras.")
    return model


def load_weights_from(model, path: str, flag: str) -> None:
    """Sets `model`'s weights to those of the network in the `.keras` file `path`, which must have the
    same architecture; `flag` names the setting in errors."""
    if not os.path.isfile(path):
        raise ConfigError(f"{flag}={path}: file not found; pass the generator.keras of a finished run, or its folder.")
    source = load_network(path, f"pass the generator.keras of a finished run to {flag}")
    have, want = [tuple(w.shape) for w in source.weights], [tuple(w.shape) for w in model.weights]
    if have != want:
        raise ConfigError(f"{flag}={path}: its network ({len(have)} weights, {source.count_params():,} parameters) "
                          f"does not match this run's {model.name} ({len(want)} weights, {model.count_params():,} "
                          "parameters); train it with the same --filters, --blocks, --scale and dataset.")
    model.set_weights(source.get_weights())


def load_image_model(path: str, command: str):
    """A `.keras` network that maps images (N, H, W, C) to images (a CycleGAN, SRGAN or SRResNet
    generator), or a ModelFileError saying what it is; `command` (translate or upscale) runs it."""
    if not os.path.isfile(path):
        raise ModelFileError(f"generator file {path} not found; pass a .keras generator that keras_gan.train wrote.")
    model = load_network(path, "pass a generator .keras file that keras_gan.train wrote (or a copy of it)")
    inputs, outputs = model.inputs, model.outputs
    if len(inputs) != 1 or len(inputs[0].shape) != 4:
        raise ModelFileError(f"{path} takes {[tuple(i.shape) for i in inputs]}, not images: a generator of noise is "
                             "sampled with python -m keras_gan.generate.")
    size, out = inputs[0].shape[1], outputs[0].shape if len(outputs) == 1 else ()
    if len(out) != 4 or out[-1] != inputs[0].shape[-1] or out[1] < size or out[1] % size:
        raise ModelFileError(f"{path} outputs {[tuple(o.shape) for o in outputs]}, not images as large as its input or "
                             "larger: it is a discriminator; "
                             f"python -m keras_gan.{command} needs a generator.")
    return model
