"""`make bench`: images per second of the training step, against the slide deck's loop and the floor.

    python -m keras_gan.bench [--steps=40] [--rounds=3] [--memory_epochs=24] [--folder_images=3000]

What is measured and how is told in keras_gan/benchmarks/step.py, for the folder datasets in
keras_gan/benchmarks/folders.py and for Keras's backends in keras_gan/benchmarks/backends.py, the
library behind this command.
"""

import sys

from keras_gan.cli import execute, import_tensorflow_quietly

import_tensorflow_quietly()

from absl import flags  # noqa: E402

from keras_gan.benchmarks import backends, folders  # noqa: E402
from keras_gan.benchmarks.step import measure  # noqa: E402


def define_flags() -> flags.FlagValues:
    fv = flags.FlagValues()
    flags.DEFINE_integer("steps", 40, "Timed steps per loop per round.", flag_values=fv)
    flags.DEFINE_integer("rounds", 3, "Rounds; loops are interleaved and the median round is kept.", flag_values=fv)
    flags.DEFINE_integer("batch_size", 128, "Real images per step.", flag_values=fv)
    flags.DEFINE_integer("memory_epochs", 24, "Short training epochs for the memory check (0: skip); "
                         "the second half must be flat.",
                         flag_values=fv)
    flags.DEFINE_integer("memory_steps", 40, "Steps per memory-check epoch.", flag_values=fv)
    flags.DEFINE_string("data_dir", None, "MNIST-shaped data for the memory check (default: Fashion-MNIST).",
                        flag_values=fv)
    flags.DEFINE_boolean("compile_torch", True, "Race torch.compile's variants of the PyTorch deck too (each "
                         "compiles for a minute or so first).", flag_values=fv)
    flags.DEFINE_integer("folder_images", 3000, "JPEGs of the folder-dataset rows (0: skip them): the pipeline's "
                         "decoding against the 64x64 DCGAN's step.", flag_values=fv)
    flags.DEFINE_integer("folder_epochs", 12, "Epochs of the streaming memory check (0: skip).", flag_values=fv)
    flags.DEFINE_boolean("step", True, "The step's rows (--nostep: the other tables alone).", flag_values=fv)
    flags.DEFINE_boolean("backends", True, "The deck's step on each installed Keras backend (TensorFlow, JAX, "
                         "PyTorch), one process each.", flag_values=fv)
    return fv


def _body(fv) -> int:
    if fv.step:
        measure(fv.steps, fv.rounds, fv.batch_size, fv.memory_epochs, fv.memory_steps, fv.data_dir, fv.compile_torch)
    if fv.backends:
        backends.measure(fv.steps, fv.rounds, fv.batch_size)
    if fv.folder_images:
        folders.measure(fv.folder_images, fv.folder_epochs)
    return 0


def main(argv=None) -> int:
    return execute(sys.argv if argv is None else argv, define_flags, _body)


if __name__ == "__main__":
    sys.exit(main())
