"""Runs a module as `python -m` does, in a process where `import tensorflow` fails as it does where
TensorFlow is not installed (and so do the packages that need it: tensorflow_datasets, tf_keras):

    KERAS_BACKEND=jax python tests/backends/without_tensorflow.py keras_gan.train --model=vanilla ...
"""

import importlib.abc
import runpy
import sys

REFUSED = ("tensorflow", "tensorflow_datasets", "tf_keras")


class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in REFUSED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


if __name__ == "__main__":
    sys.meta_path.insert(0, NotInstalled())
    module, sys.argv = sys.argv[1], [sys.argv[1], *sys.argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
