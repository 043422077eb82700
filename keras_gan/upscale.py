"""Super-resolution with a saved SRGAN or SRResNet generator: `python -m keras_gan.upscale`.

    python -m keras_gan.upscale --generator=runs/srgan_fashion_mnist/generator.keras \\
        --images=small.npy --out=grid.png --npy=upscaled.npy
    python -m keras_gan.upscale --generator=RUN/generator.keras --images=images.npy --downsample

`--images` is an .npy of uint8 pixels or floats in [-1, 1], (N, H, W[, C]), at the generator's input
size. With `--downsample` they are full-size images, box-downsampled first (as in training), and
the grid shows them as the truth. The grid's rows: the input (nearest neighbour), bicubic
upsampling, the generator's output (and the truth). The library behind it is
keras_gan/inference/images.py.
"""

import sys

from keras_gan.cli import define_image_flags, execute, image_request, import_tensorflow_quietly

import_tensorflow_quietly()

from keras_gan.inference.images import ImageRequest, image_to_files  # noqa: E402


def define_flags():
    return define_image_flags("upscale")


def _body(fv) -> int:
    image_to_files(ImageRequest(**image_request(fv, "upscale")), "upscale")
    return 0


def main(argv=None) -> int:
    return execute(sys.argv if argv is None else argv, define_flags, _body)


if __name__ == "__main__":
    sys.exit(main())
