"""The package's metadata lives in setup.cfg. One switch lives here: with KERAS_GAN_WITHOUT_TENSORFLOW=1,

    KERAS_GAN_WITHOUT_TENSORFLOW=1 pip install -e '.[jax]'

installs the package for Keras's JAX backend without TensorFlow and what needs it (TensorFlow Datasets,
TensorBoard): README.md, "Backends", says what such an install leaves out."""

import os

from setuptools import setup
from setuptools.config.setupcfg import read_configuration

TENSORFLOW_ONLY = ("tensorflow", "tensorflow-datasets", "tensorboard", "importlib_resources")


def requirements(without_tensorflow: bool) -> list[str]:
    """setup.cfg's install_requires, without TensorFlow's own where asked."""
    here = os.path.dirname(os.path.abspath(__file__))
    wanted = read_configuration(os.path.join(here, "setup.cfg"))["options"]["install_requires"]
    if not without_tensorflow:
        return wanted
    return [r for r in wanted if not r.replace(">", "=").replace("<", "=").split("=")[0].strip() in TENSORFLOW_ONLY]


if __name__ == "__main__":
    setup(install_requires=requirements(os.environ.get("KERAS_GAN_WITHOUT_TENSORFLOW", "") not in ("", "0")))
