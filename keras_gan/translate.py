"""Translating images with a saved CycleGAN generator: `python -m keras_gan.translate`.

    python -m keras_gan.translate --generator=runs/cyclegan_fashion_mnist/generator_a2b.keras \\
        --images=edges.npy --out=grid.png --npy=translated.npy
    python -m keras_gan.translate --generator=RUN/generator_a2b.keras --images=shoes.npy --edges

`--images` is an .npy of uint8 pixels or floats in [-1, 1], (N, H, W[, C]). With `--edges` they are
images whose edge maps (CycleGAN's domain A, keras_gan/data/domains.py) are translated, and the grid
shows the images beside the translations. The library behind it is keras_gan/inference/images.py.
"""

import sys

from keras_gan.cli import define_image_flags, execute, image_request, import_tensorflow_quietly

import_tensorflow_quietly()

from keras_gan.inference.images import ImageRequest, image_to_files  # noqa: E402


def define_flags():
    return define_image_flags("translate")


def _body(fv) -> int:
    image_to_files(ImageRequest(**image_request(fv, "translate")), "translate")
    return 0


def main(argv=None) -> int:
    return execute(sys.argv if argv is None else argv, define_flags, _body)


if __name__ == "__main__":
    sys.exit(main())
