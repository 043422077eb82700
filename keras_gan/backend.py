"""The one place that chooses by Keras's backend: what of TensorFlow a run uses, and how.

Keras 3 runs one model definition on TensorFlow, JAX and PyTorch (`KERAS_BACKEND`, or "backend" in
~/.keras/keras.json). The models, losses, penalties and training step of this package are written
with `keras.ops` and `keras.random`; what is TensorFlow's alone is used only where this module says so:

    what                      TensorFlow backend        JAX or PyTorch backend
    in-memory batches         tf.data                   NumPy (the same batches, element for element)
    folder datasets           tf.data decoding          tf.data decoding, as NumPy; TensorFlow required
    several devices           tf.distribute             keras.distribution's DataParallel on JAX
                                                        (--strategy=mirrored); one device on PyTorch
    D's fakes                 one tf.function           one jax.jit (JAX); eager (PyTorch)
    the gradient penalty      tf.GradientTape           jax.vjp; torch.autograd.grad
    TensorBoard               tf.summary                tf.summary where TensorFlow is installed, else
                                                        skipped with one line
    fused Adam, XLA fakes     on a CPU (speed only)     off

TensorFlow itself is imported only where a run needs it (`tensorflow()`), so that JAX and PyTorch
runs work without it installed (README.md, "Backends"). This module imports Keras only when asked
(`name()`): the commands import TensorFlow quietly first (`import_tensorflow_quietly`), and on
TensorFlow's backend importing Keras imports TensorFlow.
"""

import contextlib
import functools
import importlib
import json
import os
import sys
import tempfile

from keras_gan.errors import ConfigError

# Whether the user chose TensorFlow's log level (read before anything imported here can set it: Keras on
# PyTorch sets it to 1).
USER_LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL" in os.environ
INSTALL_TF = "pip install tensorflow (or the package with its default dependencies: pip install -e .)"


@functools.cache
def name() -> str:
    """The backend Keras runs on: "tensorflow", "jax" or "torch"."""
    import keras
    return keras.backend.backend()


def is_tensorflow() -> bool:
    """Whether Keras runs on TensorFlow (its default backend)."""
    return name() == "tensorflow"


def configured() -> str:
    """The backend Keras will run on, read as Keras reads it (KERAS_BACKEND, else keras.json's), without
    importing Keras (importing Keras on TensorFlow imports TensorFlow)."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json")) as f:
            return str(json.load(f).get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow with its C++ start-up lines (oneDNN, CUDA drivers, CPU instructions) kept off
    the terminal. Those lines are written before TensorFlow reads TF_CPP_MIN_LOG_LEVEL, so the
    import runs with the process's stderr pointed at a temporary file; if it fails, that file is
    shown. A user who sets TF_CPP_MIN_LOG_LEVEL themselves gets TensorFlow's own behaviour."""
    if "tensorflow" in sys.modules or USER_LOG_LEVEL:
        importlib.import_module("tensorflow")
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except BaseException as e:
            os.dup2(saved, 2)
            if not isinstance(e, ImportError):
                capture.seek(0)
                sys.stderr.write(capture.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


@functools.cache
def tensorflow():
    """TensorFlow's module, or None where it is not installed; imported (quietly) on the first call."""
    try:
        import_tensorflow_quietly()
    except ImportError:
        return None
    return sys.modules["tensorflow"]


def set_random_seed(seed: int) -> None:
    """`keras.utils.set_random_seed`, which seeds TensorFlow too wherever it is installed: on JAX and
    PyTorch it is imported quietly first, so that its start-up lines stay off the terminal."""
    import keras

    if not is_tensorflow():
        tensorflow()
    keras.utils.set_random_seed(seed)


def require_tensorflow(what: str):
    """TensorFlow's module; a ConfigError saying that `what` needs it where it is not installed."""
    tf = tensorflow()
    if tf is None:
        raise ConfigError(f"{what} needs TensorFlow, which is not installed here (Keras runs on {name()}): "
                          f"{INSTALL_TF}.")
    return tf


def describe() -> str:
    """The backend and its version, e.g. "Keras 3.15.0 on TensorFlow 2.20.0"."""
    import keras

    label = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}.get(name(), name())
    version = getattr(importlib.import_module(name()), "__version__", "?")
    return f"Keras {keras.__version__} on {label} {version}"


def replica_context():
    """The tf.distribute replica context being run in, or None (no TensorFlow backend, or none)."""
    if not is_tensorflow():
        return None
    return tensorflow().distribute.get_replica_context()


def num_replicas(model=None) -> int:
    """How many replicas train `model` in sync (or, without one, the current tf.distribute strategy):
    1 on JAX and PyTorch, where a run is on one device."""
    if not is_tensorflow():
        return 1
    if model is not None:
        return model.distribute_strategy.num_replicas_in_sync
    return tensorflow().distribute.get_strategy().num_replicas_in_sync


def gpus() -> list[str]:
    """The accelerators Keras's backend computes on (empty on a CPU)."""
    if name() == "jax":
        import jax
        return [str(d) for d in jax.devices() if d.platform != "cpu"]
    if name() == "torch":
        import torch
        return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return [d.name for d in tensorflow().config.list_physical_devices("GPU")]


def input_gradient(function, x):
    """The gradient of `sum(function(x))` with respect to the tensor `x`, itself differentiable (the
    gradient penalty's loss is trained through it), computed by the backend's own automatic
    differentiation. `function` may read Keras variables: inside a training step they are the
    step's values."""
    import keras

    if name() == "jax":
        import jax
        scores, pullback = jax.vjp(lambda v: keras.ops.sum(function(v)), x)
        return pullback(keras.ops.ones_like(scores))[0]
    if name() == "torch":
        import torch
        with torch.enable_grad():  # Keras traces a step's shapes (its symbolic build) without gradients
            x = x.detach().requires_grad_(True) if not x.requires_grad else x
            return torch.autograd.grad(keras.ops.sum(function(x)), x, create_graph=True)[0]
    tf = tensorflow()
    with tf.GradientTape() as tape:
        tape.watch(x)
        scores = function(x)
    return tape.gradient(scores, x)


def compiled_call(model, make, *, jit: bool = False, updates_state: bool = True):
    """`make(model_outputs_of, *args)` as one compiled function of `args` (NumPy arrays or tensors):
    `model_outputs_of(inputs, training)` calls `model`. On TensorFlow, a tf.function (with XLA where
    `jit`); on JAX, one jax.jit of `model.stateless_call`, whose updated statistics (BatchNorm's
    moving averages in training mode, the seed of Dropout) are written back after each call; on
    PyTorch, the eager call without gradients. `updates_state=False` (calls in inference mode alone,
    which change no statistics and draw nothing) skips JAX's write-back on every call."""
    if is_tensorflow():
        tf = tensorflow()
        return tf.function(lambda *args: make(lambda x, training: model(x, training=training), *args),
                           reduce_retracing=True, jit_compile=jit)
    if name() == "jax":
        import jax

        def pure(trainable, non_trainable, *args):
            state = {}

            def call(x, training):
                out, state["non_trainable"] = model.stateless_call(trainable, non_trainable, x, training=training)
                return out

            result = make(call, *args)
            return result, state["non_trainable"]

        jitted = jax.jit(pure)

        def run(*args):
            result, non_trainable = jitted([v.value for v in model.trainable_variables],
                                           [v.value for v in model.non_trainable_variables], *args)
            if updates_state:
                for variable, value in zip(model.non_trainable_variables, non_trainable):
                    variable.assign(value)
            return result

        return run

    import torch

    def eager(*args):
        with torch.no_grad():
            return make(lambda x, training: model(x, training=training), *args)

    return eager


class OneDevice:
    """The stand-in for a tf.distribute strategy where training is on one device without one."""

    num_replicas_in_sync = 1

    class extended:  # noqa: N801 - as tf.distribute.Strategy.extended
        should_checkpoint = True

    def scope(self):
        return contextlib.nullcontext()

    def training(self):
        """What the whole run trains inside (the models are built in `scope()`)."""
        return contextlib.nullcontext()


class DataParallel(OneDevice):
    """The stand-in for a tf.distribute strategy under JAX on several devices: Keras's own
    `keras.distribution.DataParallel`. Its variables are replicated on every device, and while it is set
    (`training()`, the whole run), `train_on_batch` splits each batch across the devices. JAX compiles
    the step as one program over the whole batch (its reductions, BatchNorm's batch statistics and the
    losses' means included, are the batch's), so a step on N devices computes what one device does;
    unlike tf.distribute, no replica sees only its own shard."""

    def __init__(self, devices):
        import keras
        self.distribution = keras.distribution.DataParallel(devices=devices)
        self.num_replicas_in_sync = len(devices)

    def scope(self):
        return self.distribution.scope()

    training = scope  # the models are built, and the whole run trains, with the distribution set


def jax_devices(cpu_devices: int = 0) -> list:
    """JAX's devices for data parallel: its accelerators, or with `cpu_devices` that many CPU devices,
    which JAX makes only if asked before it starts (as TensorFlow's logical CPU devices)."""
    import jax

    if cpu_devices:
        try:
            jax.config.update("jax_num_cpu_devices", cpu_devices)
        except RuntimeError:  # JAX has started: what it made must already be what was asked
            pass
        devices = jax.devices("cpu")
        if len(devices) != cpu_devices:
            raise ConfigError(f"--cpu_replicas={cpu_devices} must split the CPU before JAX starts (it has "
                              f"{len(devices)} CPU devices): run python -m keras_gan.train, or set "
                              f"JAX_NUM_CPU_DEVICES={cpu_devices} before the process starts.")
        return devices
    return jax.devices()
