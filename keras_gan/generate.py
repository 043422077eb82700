"""Sampling from a saved generator: `python -m keras_gan.generate`.

    python -m keras_gan.generate --generator=runs/vanilla_fashion_mnist/generator.keras \\
        --num=24 --seed=1 --out=grid.png --npy=samples.npy

    python -m keras_gan.generate --generator=runs/cgan_fashion_mnist/generator.keras --label=3
    python -m keras_gan.generate --generator=runs/cgan_fashion_mnist/generator.keras   # class grid
    python -m keras_gan.generate --generator=runs/vanilla_fashion_mnist/generator.keras --interpolate=10

The noise distribution and image shape come from the run's config.json beside the generator when
it is there; otherwise the noise is the slide deck's U(-1, 1) and the shape is inferred from the
output size (784 -> 28x28x1, 3072 -> 32x32x3). `--noise` and `--image_shape` override both.
A conditional generator (inputs: noise and a one-hot label) draws every sample of class `--label`,
or, without it, a class grid: one row per class, `--cols` samples each (seeds/002's figure).
`--interpolate=N` draws paths of N images instead: between two seeded noise vectors
(`--path=spherical` or `linear`), or for a conditional generator from each class to the next at one
noise vector; the grid goes to `--out` and an animated GIF beside it.
The library behind it is keras_gan/inference/sampling.py.
"""

import sys

from keras_gan.cli import execute, import_tensorflow_quietly

import_tensorflow_quietly()

from absl import flags  # noqa: E402

from keras_gan.inference.sampling import SampleRequest, sample_to_files  # noqa: E402


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
    flags.DEFINE_integer("interpolate", 0, "Draw interpolation paths of this many steps instead of samples: "
                         "--num paths (default 6) between two seeded noise vectors, or for a conditional "
                         "generator from class r to r + 1; a grid (--out) and an animated GIF beside it.",
                         flag_values=fv)
    flags.DEFINE_enum("path", "spherical", ["spherical", "linear"], "--interpolate between noise vectors: "
                      "along the great circle (spherical, for Gaussian noise) or the straight line.",
                      flag_values=fv)
    return fv


def _body(fv) -> int:
    sample_to_files(SampleRequest(fv.generator, fv.num, fv["num"].present, fv.seed, fv.out, fv.npy, fv.noise, fv.cols,
                                  fv.image_shape, fv.label, fv.interpolate, fv.path))
    return 0


def main(argv=None) -> int:
    return execute(sys.argv if argv is None else argv, define_flags, _body)


if __name__ == "__main__":
    sys.exit(main())
