"""Several devices and machines: the tf.distribute strategy of a run.

    python -m keras_gan.train --strategy=mirrored                       # every local GPU
    python -m keras_gan.train --strategy=mirrored --cpu_replicas=2      # two logical CPU devices (tests)
    TF_CONFIG='{"cluster": {"worker": ["host0:2222", "host1:2222"]}, "task": {"type": "worker", "index": 0}}' \
        python -m keras_gan.train --strategy=multi_worker                # on each machine, its own index

The models, optimizers and the combined model are built inside the strategy's scope, and each
`train_on_batch` gives every replica its shard of the batch (keras_gan/models/replicas.py).

Under JAX, `mirrored` is Keras's DataParallel (keras_gan/backend.py), set for the whole run
(`training`): `train_on_batch` itself splits each batch, and one program computes the whole batch.

Under `multi_worker` every worker runs the same loop on the same data and seeds, so each draws the
same global batch and trains its replicas' shards of it; only the chief (worker 0) writes the run
folder.
"""

import contextlib
import hashlib
import json
import os

import numpy as np

from keras_gan import backend
from keras_gan.errors import ConfigError, WorkerLostError


def configure_cpu_replicas(n: int) -> None:
    """Splits the CPU into `n` logical devices; only possible before TensorFlow starts its runtime."""
    tf = backend.require_tensorflow("--cpu_replicas")
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current and len(current) == n:
        return
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError:
        raise ConfigError(f"--cpu_replicas={n} must split the CPU before TensorFlow starts its runtime: run "
                          "python -m keras_gan.train, or call keras_gan.training.strategies.configure_cpu_replicas(N) "
                          "before anything else in the process.") from None


def make_strategy(strategy: str, cpu_replicas: int = 0):
    """The tf.distribute strategy named; on JAX, Keras's DataParallel for "mirrored" (over every
    accelerator, or `cpu_replicas` CPU devices) and `OneDevice` for "default"; on PyTorch, `OneDevice`."""
    if backend.name() == "jax" and strategy == "mirrored":
        return backend.DataParallel(backend.jax_devices(cpu_replicas))
    if not backend.is_tensorflow():
        if strategy != "default" or cpu_replicas:
            several = "trains on one device: leave --strategy out" if backend.name() != "jax" else \
                "trains on several devices of one machine with --strategy=mirrored (keras.distribution)"
            raise ConfigError(f"--strategy={strategy}{' --cpu_replicas' if cpu_replicas else ''} is TensorFlow's "
                              f"tf.distribute; under KERAS_BACKEND={backend.name()} a run {several}, or train with "
                              "KERAS_BACKEND=tensorflow.")
        return backend.OneDevice()
    tf = backend.tensorflow()
    if strategy == "default":
        return tf.distribute.get_strategy()
    if strategy == "multi_worker":
        cluster()  # a clear error for a missing or malformed TF_CONFIG, before TensorFlow reads it
        return tf.distribute.MultiWorkerMirroredStrategy()
    if cpu_replicas:
        configure_cpu_replicas(cpu_replicas)
        # Logical CPU devices reduce through one device: TensorFlow's collective ops between them were seen
        # to pair the D step's all-reduce with the G step's once a model had trained in the process.
        return tf.distribute.MirroredStrategy([f"/CPU:{i}" for i in range(cpu_replicas)],
                                              cross_device_ops=tf.distribute.ReductionToOneDevice())
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    return tf.distribute.MirroredStrategy(gpus or ["/CPU:0"])


def cluster() -> dict:
    """The TF_CONFIG of this worker, checked: {"cluster": {"worker": [...], ...}, "task": {...}}."""
    text = os.environ.get("TF_CONFIG")
    recipe = ('set it on each worker, e.g. TF_CONFIG=\'{"cluster": {"worker": ["host0:2222", "host1:2222"]}, '
              '"task": {"type": "worker", "index": 0}}\' (index 1 on the second); see keras_gan/training/README.md, "Several machines".')
    if not text:
        raise ConfigError("--strategy=multi_worker reads the cluster from the TF_CONFIG environment variable, "
                          "which is not set: " + recipe)
    try:
        spec = json.loads(text)
        workers = {kind: list(spec["cluster"][kind]) for kind in ("chief", "worker") if kind in spec["cluster"]}
        kind, index = spec["task"]["type"], int(spec["task"]["index"])
        if not workers or kind not in workers or not 0 <= index < len(workers[kind]):
            raise ValueError(f"task {kind}:{index} is not in the cluster")
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"TF_CONFIG is not a cluster description ({e}); " + recipe) from None
    return spec


def training(strategy):
    """What a run trains inside: on JAX, keras.distribution's DataParallel (`train_on_batch` splits each
    batch across the devices while it is set); nothing for tf.distribute, whose scope builds the models
    and whose steps `replicas.train_on_batch` distributes."""
    return strategy.training() if isinstance(strategy, backend.OneDevice) else contextlib.nullcontext()


def is_chief(strategy) -> bool:
    """Whether this process writes the run folder: always, but for a worker other than the chief."""
    return bool(getattr(strategy.extended, "should_checkpoint", True))


def is_multi_worker(strategy) -> bool:
    return backend.is_tensorflow() and isinstance(strategy, backend.tensorflow().distribute.MultiWorkerMirroredStrategy)


def check_agreement(strategy, **values: str) -> None:
    """Raises a ConfigError naming what differs when the workers of a multi-worker strategy do not all
    hold the same `values` (the settings, the data, the epoch and weights resumed from): workers that
    disagree would otherwise train apart, or wait for each other for ever."""
    if not is_multi_worker(strategy):
        return
    names = sorted(values)
    # 24-bit digests, exact in float32, gathered from every replica of every worker
    mine = np.array([int(hashlib.sha256(values[n].encode()).hexdigest()[:6], 16) for n in names], np.float32)
    tf = backend.tensorflow()
    local = strategy.experimental_distribute_values_from_function(lambda _: tf.constant(mine))
    every = strategy.gather(local, axis=0).numpy().reshape(-1, len(names))
    differ = [n for j, n in enumerate(names) if len(set(every[:, j].tolist())) > 1]
    if differ:
        raise ConfigError(f"the workers of --strategy=multi_worker do not agree on {', '.join(differ)}: start every "
                          "worker with the same flags and data, and, to resume, let each read the same run folder "
                          "(a shared filesystem, or a copy of the chief's).")


def lost(error: Exception) -> WorkerLostError:
    """The error of a step whose collective operations failed because another worker stopped."""
    first = str(error).strip().splitlines()
    return WorkerLostError(f"another worker of the cluster stopped or cannot be reached "
                           f"({first[-1][:160] if first else type(error).__name__}). Restart every worker with "
                           "--resume to continue from the last checkpoint the chief saved.")


def collective_errors() -> tuple:
    """The errors of a step whose collective operations failed (none off TensorFlow's backend)."""
    if not backend.is_tensorflow():
        return ()
    tf = backend.tensorflow()
    return tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.CancelledError
