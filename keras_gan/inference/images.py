"""Image-to-image inference with a saved generator: what `python -m keras_gan.translate` (CycleGAN's
generator_a2b.keras / generator_b2a.keras) and `python -m keras_gan.upscale` (SRGAN's and SRResNet's
generator.keras) do.

Input images come as an `.npy` array: uint8 pixels 0..255, or floats in [-1, 1] (what the package's
generators output), shaped (N, H, W, C), or (N, H, W) for one channel. With `prepare`, the images
are the ground truth and the inputs are made from them (`--edges`: their edge maps, as CycleGAN's
domain A; `--downsample`: their box-downsampled copies, as SRGAN's inputs), and the grid shows the
truth as its last column. The grid has one row per image: the input, (for upscaling, bicubic
upsampling,) the generator's output (, the truth).
"""

import dataclasses

import numpy as np

from keras_gan.data import transforms
from keras_gan.data.pipeline import to_unit_range
from keras_gan.data.readers import read_images
from keras_gan.errors import ConfigError
from keras_gan.io import figures
from keras_gan.io.atomic import atomic_path
from keras_gan.io.keras_files import load_image_model
from keras_gan.models.sampling import apply


@dataclasses.dataclass(frozen=True)
class ImageRequest:
    """What the translate and upscale commands do (their flags)."""

    generator: str
    images: str
    out: str = "grid.png"
    npy: str = ""
    prepare: bool = False  # --edges (translate) or --downsample (upscale)
    num: int = 16          # rows of the grid at most


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
        inputs = (transforms.downsample(truth, scale) if command == "upscale"
                  else to_unit_range(transforms.edges(_to_pixels(truth))))
    else:
        inputs = read_images(request.images, in_shape, "the generator's inputs")
    outputs = apply(model, inputs)
    if request.npy:
        with atomic_path(request.npy, suffix=".npy") as tmp:
            np.save(tmp, outputs)
        log(f"wrote {request.npy}: {outputs.shape} float32 in [-1, 1]")
    if request.out:
        n = min(request.num, len(inputs))
        columns = [transforms.upsample_nearest(inputs[:n], scale)]
        if command == "upscale":
            columns.append(transforms.upsample_bicubic(inputs[:n], scale))
        columns.append(outputs[:n])
        if truth is not None:
            columns.append(truth[:n])
        names = ["input"] + (["bicubic"] if command == "upscale" else []) + ["output"] + (["real"] if truth is not None else [])
        figures.sample_grid(np.stack(columns, axis=1).reshape((-1, *out_shape)), out_shape, request.out,
                          rows=n, cols=len(columns), title=", ".join(names))
        log(f"wrote {request.out}: {n} rows of {', '.join(names)}")
    return outputs
