"""A trained generator for serving: `python -m keras_gan.export`.

    python -m keras_gan.export --generator=runs/dcgan_fashion_mnist/generator.keras --out=exported/dcgan
    python -m keras_gan.export --generator=runs/cgan_fashion_mnist/generator.keras --out=exported/cgan --batch=10

Writes OUT/saved_model (a TensorFlow SavedModel: any batch of noise vectors, and one-hot rows for a
conditional generator) and OUT/generator.tflite (a fixed batch, `--batch`), after checking that
each reproduces the `.keras` generator's images on seeded noise (OUT/export.json has the
differences). The library behind it is keras_gan/inference/export.py.
"""

import sys

from keras_gan.cli import execute, import_tensorflow_quietly

import_tensorflow_quietly()

from absl import flags  # noqa: E402

from keras_gan.errors import ConfigError  # noqa: E402
from keras_gan.inference.export import ExportRequest, export_generator  # noqa: E402


def define_flags() -> flags.FlagValues:
    fv = flags.FlagValues()
    flags.DEFINE_string("generator", None, "Path to a generator.keras file.", flag_values=fv)
    flags.DEFINE_string("out", None, "Folder to write (a new one, or one an earlier export wrote).", flag_values=fv)
    flags.DEFINE_integer("batch", 1, "TFLite's fixed batch.", flag_values=fv)
    flags.DEFINE_integer("seed", 0, "Seed of the noise the exports are checked on.", flag_values=fv)
    return fv


def _body(fv) -> int:
    if not fv.generator or not fv.out:
        raise ConfigError("--generator=PATH.keras and --out=FOLDER are required.")
    export_generator(ExportRequest(fv.generator, fv.out, fv.batch, fv.seed))
    return 0


def main(argv=None) -> int:
    return execute(sys.argv if argv is None else argv, define_flags, _body)


if __name__ == "__main__":
    sys.exit(main())
