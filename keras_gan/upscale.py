"""Super-resolution with a saved SRGAN or SRResNet generator: `python -m keras_gan.upscale`.

    python -m keras_gan.upscale --generator=runs/srgan_fashion_mnist/generator.keras \\
        --images=small.npy --out=grid.png --npy=upscaled.npy
    python -m keras_gan.upscale --generator=RUN/generator.keras --images=images.npy --downsample

`--images` is an .npy of uint8 pixels or floats in [-1, 1], (N, H, W[, C]), at the generator's input
size. With `--downsample` they are full-size images, box-downsampled first (as in training), and
the grid shows them as the truth. The grid's rows: the input (nearest neighbour), bicubic
upsampling, the generator's output (and the truth). The library behind it is keras_gan/imaging.py.
"""

import sys

from keras_gan.cli import import_tensorflow_quietly, run_cli

import_tensorflow_quietly()

from absl import flags  # noqa: E402

from keras_gan.imaging import ImageRequest, image_to_files  # noqa: E402


def define_flags() -> flags.FlagValues:
    fv = flags.FlagValues()
    flags.DEFINE_string("generator", None, "An SRGAN or SRResNet generator: RUN/generator.keras.", flag_values=fv)
    flags.DEFINE_string("images", None, "An .npy of images: uint8 0..255 or floats in [-1, 1], (N, H, W[, C]).",
                        flag_values=fv)
    flags.DEFINE_string("out", "upscaled.png", "Grid of inputs, bicubic and outputs to write ('' for none).",
                        flag_values=fv)
    flags.DEFINE_string("npy", "", "Also write the outputs as an .npy array in [-1, 1], (N, H, W, C).", flag_values=fv)
    flags.DEFINE_boolean("downsample", False, "The images are full-size: downsample them first, and show them as "
                         "the truth.", flag_values=fv)
    flags.DEFINE_integer("num", 16, "Rows of the grid at most.", flag_values=fv)
    return fv


def _body(fv) -> int:
    image_to_files(ImageRequest(fv.generator, fv.images, fv.out, fv.npy, fv.downsample, fv.num), "upscale")
    return 0


def main(argv=None) -> int:
    return run_cli(sys.argv if argv is None else argv, define_flags, _body)


if __name__ == "__main__":
    sys.exit(main())
