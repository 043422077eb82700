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

from absl import flags  # noqa: E402

from keras_gan.imaging import ImageRequest, image_to_files  # noqa: E402


def define_flags() -> flags.FlagValues:
    fv = flags.FlagValues()
    flags.DEFINE_string("generator", None, "A CycleGAN generator: RUN/generator_a2b.keras or generator_b2a.keras.",
                        flag_values=fv)
    flags.DEFINE_string("images", None, "An .npy of images: uint8 0..255 or floats in [-1, 1], (N, H, W[, C]).",
                        flag_values=fv)
    flags.DEFINE_string("out", "translated.png", "Grid of inputs beside outputs to write ('' for none).", flag_values=fv)
    flags.DEFINE_string("npy", "", "Also write the outputs as an .npy array in [-1, 1], (N, H, W, C).", flag_values=fv)
    flags.DEFINE_boolean("edges", False, "The images are real ones: translate their edge maps, and show them as "
                         "the truth.", flag_values=fv)
    flags.DEFINE_integer("num", 16, "Rows of the grid at most.", flag_values=fv)
    return fv


def _body(fv) -> int:
    image_to_files(ImageRequest(fv.generator, fv.images, fv.out, fv.npy, fv.edges, fv.num), "translate")
    return 0


def main(argv=None) -> int:
    return run_cli(sys.argv if argv is None else argv, define_flags, _body)


if __name__ == "__main__":
    sys.exit(main())
