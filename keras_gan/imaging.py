"""Image-to-image inference with a saved generator: what `python -m keras_gan.translate` (CycleGAN's
generator_a2b.keras / generator_b2a.keras) and `python -m keras_gan.upscale` (SRGAN's and SRResNet's
generator.keras) run.

Input images come as an `.npy` array: uint8 pixels 0..255, or floats in [-1, 1] (what the package's
generators output), shaped (N, H, W, C), or (N, H, W) for one channel. With `prepare`, the images
are the ground truth and the inputs are made from them (`--edges`: their edge maps, as CycleGAN's
domain A; `--downsample`: their box-downsampled copies, as SRGAN's inputs), and the grid shows the
truth as its last column. The grid has one row per image: the input, (for upscaling, bicubic
upsampling,) the generator's output (, the truth).
"""

import dataclasses
import os

import numpy as np
from absl import flags

from keras_gan import data, domains, plots
from keras_gan.errors import ConfigError, ModelFileError
from keras_gan.files import atomic_path
from keras_gan.readers import read_images
from keras_gan.saving import load_network

# What differs between the two commands' flags: the generator they take, the grid, the --prepare flag.
COMMANDS = {
    "translate": ("A CycleGAN generator: RUN/generator_a2b.keras or generator_b2a.keras.", "translated.png",
                  "edges", "The images are real ones: translate their edge maps, and show them as the truth."),
    "upscale": ("An SRGAN or SRResNet generator: RUN/generator.keras.", "upscaled.png",
                "downsample", "The images are full-size: downsample them first, and show them as the truth."),
}


def load_image_model(path: str, command: str):
    """A `.keras` network that maps images (N, H, W, C) to images, or a ModelFileError saying what it is."""
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


@dataclasses.dataclass(frozen=True)
class ImageRequest:
    """What the translate and upscale commands do (their flags)."""

    generator: str
    images: str
    out: str = "grid.png"
    npy: str = ""
    prepare: bool = False  # --edges (translate) or --downsample (upscale)
    num: int = 16          # rows of the grid at most


def define_flags(command: str) -> flags.FlagValues:
    """The flags of `python -m keras_gan.COMMAND` (translate or upscale)."""
    generator, out, prepare, prepare_help = COMMANDS[command]
    fv = flags.FlagValues()
    flags.DEFINE_string("generator", None, generator, flag_values=fv)
    flags.DEFINE_string("images", None, "An .npy of images: uint8 0..255 or floats in [-1, 1], (N, H, W[, C]).",
                        flag_values=fv)
    flags.DEFINE_string("out", out, "Grid of inputs beside outputs to write ('' for none).", flag_values=fv)
    flags.DEFINE_string("npy", "", "Also write the outputs as an .npy array in [-1, 1], (N, H, W, C).", flag_values=fv)
    flags.DEFINE_boolean(prepare, False, prepare_help, flag_values=fv)
    flags.DEFINE_integer("num", 16, "Rows of the grid at most.", flag_values=fv)
    return fv


def run_command(fv: flags.FlagValues, command: str) -> int:
    """Runs `command` on its parsed flags."""
    prepare = fv[COMMANDS[command][2]].value
    image_to_files(ImageRequest(fv.generator, fv.images, fv.out, fv.npy, prepare, fv.num), command)
    return 0


def apply(model, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """A generator's outputs (inference mode) for `images`, float32, `batch_size` at a time."""
    return np.concatenate([np.asarray(model(images[i:i + batch_size], training=False), np.float32)
                           for i in range(0, len(images), batch_size)])


def _to_pixels(images: np.ndarray) -> np.ndarray:
    return np.rint((np.clip(images, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def image_to_files(request: ImageRequest, command: str, log=print) -> np.ndarray:
    """Runs `command`'s generator (translate or upscale) on the request's images, writes its grid and
    .npy; returns the outputs, float32 in [-1, 1]."""
    if not request.generator or not request.images:
        raise ConfigError("--generator=PATH.keras and --images=PATH.npy are required.")
    if request.num <= 0:
        raise ConfigError(f"--num must be a positive integer. Received: num={request.num}")
    model = load_image_model(request.generator, command)
    in_shape, out_shape = tuple(model.inputs[0].shape[1:]), tuple(model.outputs[0].shape[1:])
    scale = out_shape[0] // in_shape[0]
    truth = None
    if request.prepare:
        truth = read_images(request.images, out_shape if command == "upscale" else in_shape, "images")
        inputs = (domains.downsample(truth, scale) if command == "upscale"
                  else data.to_unit_range(domains.edges(_to_pixels(truth))))
    else:
        inputs = read_images(request.images, in_shape, "the generator's inputs")
    outputs = apply(model, inputs)
    if request.npy:
        with atomic_path(request.npy, suffix=".npy") as tmp:
            np.save(tmp, outputs)
        log(f"wrote {request.npy}: {outputs.shape} float32 in [-1, 1]")
    if request.out:
        n = min(request.num, len(inputs))
        columns = [domains.upsample_nearest(inputs[:n], scale)]
        if command == "upscale":
            columns.append(domains.upsample_bicubic(inputs[:n], scale))
        columns.append(outputs[:n])
        if truth is not None:
            columns.append(truth[:n])
        names = ["input"] + (["bicubic"] if command == "upscale" else []) + ["output"] + (["real"] if truth is not None else [])
        plots.sample_grid(np.stack(columns, axis=1).reshape((-1, *out_shape)), out_shape, request.out,
                          rows=n, cols=len(columns), title=", ".join(names))
        log(f"wrote {request.out}: {n} rows of {', '.join(names)}")
    return outputs
