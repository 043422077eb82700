"""Runs a module as `python -m` does (or code as `python -c` does), in a process where TensorFlow looks
as it does where it is not installed: `import tensorflow` raises ModuleNotFoundError and
`importlib.util.find_spec("tensorflow")` is None (Python's own rule for a None in sys.modules), and so
for the packages that need it (tensorflow_datasets, tf_keras):

    KERAS_BACKEND=jax python tests/backends/without_tensorflow.py keras_gan.train --model=vanilla ...
    KERAS_BACKEND=torch python tests/backends/without_tensorflow.py -c "CODE" ARGS...
"""

import runpy
import sys

NOT_INSTALLED = ("tensorflow", "tensorflow_datasets", "tf_keras")

if __name__ == "__main__":
    for name in NOT_INSTALLED:
        sys.modules[name] = None
    if sys.argv[1] == "-c":
        code, sys.argv = sys.argv[2], ["-c", *sys.argv[3:]]
        exec(compile(code, "<string>", "exec"), {"__name__": "__main__"})
    else:
        module, sys.argv = sys.argv[1], [sys.argv[1], *sys.argv[2:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
