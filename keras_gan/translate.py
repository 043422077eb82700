"""Translating images with a saved CycleGAN generator: `python -m keras_gan.translate`.

    python -m keras_gan.translate --generator=runs/cyclegan_fashion_mnist/generator_a2b.keras \\
        --images=edges.npy --out=grid.png --npy=translated.npy
    python -m keras_gan.translate --generator=RUN/generator_a2b.keras --images=shoes.npy --edges

`--images` is an .npy of uint8 pixels or floats in [-1, 1], (N, H, W[, C]). With `--edges` they are
images whose edge maps (CycleGAN's domain A, keras_gan/domains.py) are translated, and the grid
shows the images beside the translations. The library behind it is keras_gan/imaging.py.
"""

import sys

from keras_gan.cli import import_tensorflow_quietly, run_cli

import_tensorflow_quietly()

from keras_gan import imaging  # noqa: E402


def define_flags():
    return imaging.define_flags("translate")


def main(argv=None) -> int:
    return run_cli(sys.argv if argv is None else argv, define_flags, lambda fv: imaging.run_command(fv, "translate"))


if __name__ == "__main__":
    sys.exit(main())
