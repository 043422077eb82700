"""`train_on_batch` on several replicas: each trains on its own shard of the global batch.

Keras's `train_on_batch` given plain arrays under a tf.distribute strategy runs the whole batch on
every replica, so `train_on_batch` here gives each replica its own contiguous shard of the global
batch (per-replica values made by the strategy) and then runs the model's own train step, as
`train_on_batch` does. D's batch is laid out (`interleaved`) so that every shard holds real images
and then as many fakes, which D's loss reads as its two halves. The losses divide themselves by the
number of replicas (keras_gan/models/losses.py) and BatchNorm is synchronized
(keras_gan/models/networks.py), so a step on R replicas moves the weights as one device does on the
same global batch. On one device this is Keras's `train_on_batch` itself.

Each replica draws its own Dropout masks (`own_dropout_masks`): Keras's seed generators are
mirrored variables, so without it every replica would draw the same mask for its shard, and R
replicas would use R times fewer independent masks than one device does on the same batch.

The replicas' losses are averaged by our own step function (`_step_function`), because Keras's
train function cannot reduce its scalar logs under MultiWorkerMirroredStrategy. Making the
strategies themselves is the training loop's (keras_gan/training/strategies.py).
"""

import keras
import numpy as np

from keras_gan import backend
from keras_gan.errors import ConfigError, FrozenModelError


def interleaved(n: int, replicas: int) -> np.ndarray:
    """The order that lays out `concat([real, fake])` (n of each) as R shards of real_i then fake_i."""
    k = n // replicas
    return np.concatenate([np.r_[i * k:(i + 1) * k, n + i * k:n + (i + 1) * k] for i in range(replicas)])


def train_on_batch(model, x, y, return_dict: bool = False):
    """`model.train_on_batch(x, y)` with each replica of the current strategy on its own contiguous
    shard of the global batch. `x` and `y` may be lists (several inputs, several outputs). Returns the
    loss (the mean over the global batch), or with `return_dict` every loss Keras logs by name
    (`loss`, and `NAME_loss` for each named output of a model of several)."""
    if not model.trainable_weights:
        raise FrozenModelError(
            f"train_on_batch on {model.name!r}, whose weights are all frozen (trainable=False): nothing would train. "
            "Keras 3 reads which weights a model trains when its train step is traced, not at compile(), so the "
            "Keras 2 order (discriminator.trainable = False once, before compiling the combined model) leaves D "
            "untrained on every backend: set discriminator.trainable = True before D's train_on_batch and False "
            "before the combined model's, before every call, as keras_gan/models/gan.py does.")
    replicas = backend.num_replicas(model)
    if replicas == 1:  # one device, on every backend
        logs = model.train_on_batch(x, y, return_dict=return_dict)
        return {k: float(v) for k, v in logs.items()} if return_dict else float(logs)
    tf, strategy = backend.tensorflow(), model.distribute_strategy
    ys = y if isinstance(y, (list, tuple)) else [y]
    n = int(tf.shape(ys[0])[0])
    if n % replicas:
        raise ConfigError(f"a batch of {n} does not split evenly across {replicas} replicas; choose a --batch_size "
                          f"that {replicas} divides.")
    k = n // replicas

    def split(values, i):
        if isinstance(values, (list, tuple)):
            return [split(v, i) for v in values]
        return tf.convert_to_tensor(values)[i * k:(i + 1) * k]

    def shard(context):
        i = context.replica_id_in_sync_group
        return split(x, i), split(y, i)

    local = shard(_Replica(0))
    model._maybe_symbolic_build(data_batch=(local[0], local[1], None))  # what train_on_batch does first
    model.reset_metrics()
    x_shards, y_shards = strategy.experimental_distribute_values_from_function(shard)
    logs = {name: float(value) for name, value in _step_function(model)((x_shards, y_shards)).items()}
    return logs if return_dict else logs["loss"]


def own_dropout_masks(model) -> None:
    """Makes each replica draw its own masks in `model`'s Dropout layers: the replica's index is added
    to the first word of every seed they draw inside a replica context of several replicas. One
    device, or a call outside `strategy.run`, draws Keras's own seeds. Only the seed generators'
    `next` of these layer objects changes (nothing of it is saved); the gradient penalty's
    coefficients, which must agree across replicas, keep their shared seed."""
    pending, seen = [model], set()
    while pending:
        layer = pending.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        pending.extend(getattr(layer, "layers", []))
        generator = getattr(layer, "seed_generator", None)
        if isinstance(layer, keras.layers.Dropout) and generator is not None and \
                not getattr(generator, "per_replica", False):
            generator.next = _per_replica(generator.next)
            generator.per_replica = True


def _per_replica(draw):
    def next_seed(ordered=True):
        seed = draw(ordered)
        tf = backend.tensorflow()
        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            return seed
        replica = tf.cast(context.replica_id_in_sync_group, seed.dtype)
        return seed + tf.stack([replica, tf.zeros_like(replica)])
    return next_seed


def _step_function(model):
    """`model.train_step` on every replica, in one tf.function made once per model: Keras's own train
    function reduces its scalar logs along an axis they lack under MultiWorkerMirroredStrategy, so
    the losses (each replica's mean, Keras Mean metrics) are averaged over the replicas here."""
    step = getattr(model, "_keras_gan_step", None)
    if step is None:
        tf = backend.tensorflow()
        strategy = model.distribute_strategy
        own_dropout_masks(model)

        @tf.function(reduce_retracing=True)
        def step(data):
            logs = strategy.run(model.train_step, args=(data,))
            return {name: strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
                    for name, value in logs.items() if name == "loss" or name.endswith("_loss")}

        model._keras_gan_step = step
    return step


class _Replica:
    """What `shard` reads of a replica context, for the first shard's shapes."""

    def __init__(self, replica: int):
        self.replica_id_in_sync_group = replica
