"""Several devices and machines: the tf.distribute strategy of a run, and `train_on_batch` on it.

    python -m keras_gan.train --strategy=mirrored                       # every local GPU
    python -m keras_gan.train --strategy=mirrored --cpu_replicas=2      # two logical CPU devices (tests)

The models, optimizers and the combined model are built inside the strategy's scope. Keras's
`train_on_batch` with plain arrays runs the whole batch on every replica, so `train_on_batch` here
gives each replica its own shard of the global batch (per-replica values made by the strategy) and
then runs the model's own train function, as `train_on_batch` does. D's batch is laid out so that
every shard holds real images and then as many fakes, which D's loss reads as its two halves. The
losses divide themselves by the number of replicas (keras_gan/losses.py) and BatchNorm is
synchronized (keras_gan/networks.py), so a step on R replicas moves the weights as one device does
on the same global batch.
"""

import numpy as np
import tensorflow as tf

from keras_gan.errors import ConfigError

STRATEGIES = ("default", "mirrored", "multi_worker")


def configure_cpu_replicas(n: int) -> None:
    """Splits the CPU into `n` logical devices; only possible before TensorFlow starts its runtime."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current and len(current) == n:
        return
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError:
        raise ConfigError(f"--cpu_replicas={n} must split the CPU before TensorFlow starts its runtime: run "
                          "python -m keras_gan.train, or call keras_gan.distribute.configure_cpu_replicas(N) "
                          "before anything else in the process.") from None


def make_strategy(strategy: str, cpu_replicas: int = 0) -> tf.distribute.Strategy:
    if strategy == "default":
        return tf.distribute.get_strategy()
    if strategy == "multi_worker":
        # Several processes would each write the run folder: only the chief may, which is not written yet.
        raise ConfigError("--strategy=multi_worker is not available yet (one process per machine needs a chief "
                          "that alone writes the run folder); use --strategy=mirrored on one machine.")
    if cpu_replicas:
        configure_cpu_replicas(cpu_replicas)
        # Logical CPU devices reduce through one device: TensorFlow's collective ops between them were seen
        # to pair the D step's all-reduce with the G step's once a model had trained in the process.
        return tf.distribute.MirroredStrategy([f"/CPU:{i}" for i in range(cpu_replicas)],
                                              cross_device_ops=tf.distribute.ReductionToOneDevice())
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    return tf.distribute.MirroredStrategy(gpus or ["/CPU:0"])


def interleaved(n: int, replicas: int) -> np.ndarray:
    """The order that lays out `concat([real, fake])` (n of each) as R shards of real_i then fake_i."""
    k = n // replicas
    return np.concatenate([np.r_[i * k:(i + 1) * k, n + i * k:n + (i + 1) * k] for i in range(replicas)])


def train_on_batch(model, x, y) -> float:
    """`model.train_on_batch(x, y)` with each replica of the current strategy on its own contiguous
    shard of the global batch; returns the loss (the mean over the global batch)."""
    strategy = model.distribute_strategy
    replicas = strategy.num_replicas_in_sync
    if replicas == 1:
        return float(model.train_on_batch(x, y))
    n = int(tf.shape(y)[0])
    if n % replicas:
        raise ConfigError(f"a batch of {n} does not split evenly across {replicas} replicas; choose a --batch_size "
                          f"that {replicas} divides.")
    k = n // replicas
    xs = x if isinstance(x, (list, tuple)) else [x]

    def shard(context):
        i = context.replica_id_in_sync_group
        parts = [tf.convert_to_tensor(v)[i * k:(i + 1) * k] for v in xs]
        return (parts if isinstance(x, (list, tuple)) else parts[0]), tf.convert_to_tensor(y)[i * k:(i + 1) * k]

    local = shard(_Replica(0))
    model._maybe_symbolic_build(data_batch=(local[0], local[1], None))  # what train_on_batch does first
    model.make_train_function()
    model.reset_metrics()
    x_shards, y_shards = strategy.experimental_distribute_values_from_function(shard)
    logs = model.train_function(iter([(x_shards, y_shards, None)]))
    return float(logs["loss"])


class _Replica:
    """What `shard` reads of a replica context, for the first shard's shapes."""

    def __init__(self, replica: int):
        self.replica_id_in_sync_group = replica
