"""The input pipeline: uint8 images in memory, served per epoch as `tf.data` batches in [-1, 1]."""

import numpy as np
import tensorflow as tf

from keras_gan.errors import DataError

# The deck's `x / 127.5 - 1` in float32 for every pixel value: indexing it scales uint8 pixels exactly.
UNIT_RANGE = np.arange(256, dtype=np.float32) / 127.5 - 1.0


def _pixels(images) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise DataError(f"images must be uint8 pixels 0..255 to scale to [-1, 1]; got {images.dtype}.")
    return images


def to_unit_range(images: np.ndarray) -> np.ndarray:
    """uint8 pixels 0..255 to float32 in [-1, 1], as the slide deck's `x / 127.5 - 1`."""
    return UNIT_RANGE[_pixels(images)]


class Pipeline:
    """Images (and labels) kept in memory as uint8, served per epoch as float32 batches in [-1, 1].

    Each epoch visits the images in a permutation drawn from (seed, epoch), in batches, through one
    `tf.data` pipeline (gather, scale, prefetch) that is built once and re-iterated: the permutation
    lives in a variable, so no new pipeline functions are traced epoch after epoch. Deriving the order
    from the epoch number makes epoch k the same whether a run got there without stopping or was
    resumed from a checkpoint. The last partial batch is dropped, as in the slide deck's loop. The
    images stay uint8 in a variable (a quarter of float32's memory, and no copy of them when the
    pipeline starts) and each batch is scaled by `UNIT_RANGE`, to `to_unit_range`'s values exactly.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray | None = None, *, flatten: bool = True):
        x = _pixels(images)
        self.num_examples = len(x)
        self.images = tf.Variable(x.reshape(len(x), -1) if flatten else x, trainable=False)
        self.labels = None if labels is None else tf.constant(np.asarray(labels, np.int64))
        self._order = tf.Variable(tf.range(self.num_examples, dtype=tf.int64), trainable=False)
        self._datasets = {}

    def order(self, seed, epoch: int) -> np.ndarray:
        return np.random.default_rng([*np.ravel(seed), epoch]).permutation(self.num_examples)

    def _dataset(self, batch_size: int, steps: int):
        images, labels, order = self.images, self.labels, self._order

        unit = tf.constant(UNIT_RANGE)

        def gather(step):
            idx = order[step * batch_size:(step + 1) * batch_size]
            x = tf.gather(unit, tf.cast(tf.gather(images, idx), tf.int32))
            return x if labels is None else (x, tf.gather(labels, idx))

        return (tf.data.Dataset.range(steps)
                .map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
                .prefetch(tf.data.AUTOTUNE))

    def epoch(self, *, batch_size: int, seed, epoch: int, steps: int | None = None):
        """The batches of one epoch; iterate them fully before asking for the next epoch."""
        available = self.num_examples // batch_size
        steps = available if steps is None else min(steps, available)
        self._order.assign(self.order(seed, epoch))
        if (batch_size, steps) not in self._datasets:
            self._datasets[batch_size, steps] = self._dataset(batch_size, steps)
        return self._datasets[batch_size, steps]
