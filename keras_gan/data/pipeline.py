"""The input pipeline: uint8 images in memory (`Pipeline`), or image files streamed from disk
(`FilePipeline`), served per epoch as batches in [-1, 1]: `tf.data` batches where Keras runs on
TensorFlow, NumPy arrays on its other backends (keras_gan/backend.py), the same values either way."""

import numpy as np

from keras_gan import backend
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


def epoch_order(n: int, seed, epoch: int) -> np.ndarray:
    """The order in which epoch `epoch` visits `n` examples: a permutation drawn from (seed, epoch)."""
    return np.random.default_rng([*np.ravel(seed), epoch]).permutation(n)


class Batches:
    """What both pipelines share: each epoch visits the examples in a permutation drawn from
    (seed, epoch), in batches of float32 images in [-1, 1] (and their labels), the last partial batch
    dropped, as in the slide deck's loop. The permutation lives in a variable and each (batch size,
    steps) gets one `tf.data` pipeline, built once and re-iterated, so no new pipeline functions are
    traced epoch after epoch. Deriving the order from the epoch number makes epoch k the same whether a
    run got there without stopping or was resumed from a checkpoint. A subclass makes the pipeline
    (`_dataset`), with `_batch` turning a batch of uint8 images and their positions into what it serves.
    Off TensorFlow's backend, `Pipeline` serves NumPy batches without TensorFlow (`_numpy_batch`), and
    `FilePipeline` serves its tf.data batches as NumPy arrays."""

    def __init__(self, num_examples: int, labels, flatten: bool):
        self.num_examples, self.flatten = num_examples, flatten
        self.label_array = None if labels is None else np.asarray(labels, np.int64)
        self._datasets = {}
        self._order = self.labels = None

    def order(self, seed, epoch: int) -> np.ndarray:
        return epoch_order(self.num_examples, seed, epoch)

    def _tf_state(self):
        """TensorFlow's module, with the tf.data pipelines' constants and order variable made once."""
        tf = backend.require_tensorflow(f"{type(self).__name__}'s tf.data pipeline")
        if self._order is None:
            self.labels = None if self.label_array is None else tf.constant(self.label_array)
            self._unit = tf.constant(UNIT_RANGE)
            self._order = tf.Variable(tf.range(self.num_examples, dtype=tf.int64), trainable=False)
        return tf

    def _batch(self, images, idx):
        """uint8 images scaled by `UNIT_RANGE` (to `to_unit_range`'s values exactly), flat if asked, with
        the labels at positions `idx` if there are labels."""
        tf = backend.tensorflow()
        x = tf.gather(self._unit, tf.cast(images, tf.int32))
        if self.flatten and x.shape.rank > 2:  # decoded images; those in memory are kept flat already
            x = tf.reshape(x, (-1, int(np.prod(x.shape[1:]))))
        return x if self.labels is None else (x, tf.gather(self.labels, idx))

    def _dataset(self, batch_size: int, steps: int):
        raise NotImplementedError

    serves_numpy = False  # whether `_numpy_batch` serves batches without TensorFlow

    def _numpy_batch(self, idx: np.ndarray):
        """The batch of positions `idx` as NumPy arrays, without TensorFlow (where `serves_numpy`)."""
        raise NotImplementedError

    def epoch(self, *, batch_size: int, seed, epoch: int, steps: int | None = None):
        """The batches of one epoch; iterate them fully before asking for the next epoch."""
        available = self.num_examples // batch_size
        steps = available if steps is None else min(steps, available)
        order = self.order(seed, epoch)
        if not backend.is_tensorflow() and self.serves_numpy:
            return (self._numpy_batch(order[i * batch_size:(i + 1) * batch_size]) for i in range(steps))
        self._tf_state()
        self._order.assign(order)
        if (batch_size, steps) not in self._datasets:
            self._datasets[batch_size, steps] = self._dataset(batch_size, steps)
        dataset = self._datasets[batch_size, steps]
        return dataset if backend.is_tensorflow() else dataset.as_numpy_iterator()


class Pipeline(Batches):
    """Images (and labels) kept in memory as uint8, served per epoch as float32 batches in [-1, 1]
    (`Batches`): each batch gathered from a variable and scaled in one map, prefetched. The images stay
    uint8 (a quarter of float32's memory, and no copy of them when the pipeline starts)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray | None = None, *, flatten: bool = True):
        x = _pixels(images)
        super().__init__(len(x), labels, flatten)
        self.pixels = x.reshape(len(x), -1) if flatten else x
        self.images = None

    serves_numpy = True

    def _numpy_batch(self, idx):
        x = UNIT_RANGE[self.pixels[idx]]
        return x if self.label_array is None else (x, self.label_array[idx])

    def _dataset(self, batch_size: int, steps: int):
        tf = backend.tensorflow()
        if self.images is None:
            self.images = tf.Variable(self.pixels, trainable=False)
        images, order = self.images, self._order

        def gather(step):
            idx = order[step * batch_size:(step + 1) * batch_size]
            return self._batch(tf.gather(images, idx), idx)

        return (tf.data.Dataset.range(steps)
                .map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
                .prefetch(tf.data.AUTOTUNE))


class FilePipeline(Batches):
    """A folder's training images streamed from disk (keras_gan/data/folders.py), served as `Pipeline`
    serves images in memory (`Batches`). Each image is decoded from its file in parallel in the tf.data
    pipeline, or, where the folder has a cache file, read back from it; a few batches are prefetched, so
    resident memory does not grow with the folder."""

    def __init__(self, files, *, labels: bool = False, flatten: bool = True):
        super().__init__(files.num_examples, files.labels if labels else None, flatten)
        self.files = files

    def _dataset(self, batch_size: int, steps: int):
        from keras_gan.data.folders import decode  # TensorFlow's image decoding

        tf = backend.tensorflow()
        files, order = self.files, self._order
        shape = files.image_shape
        if files.cache:
            def read(step):  # one batch of records of the cache file
                idx = order[step * batch_size:(step + 1) * batch_size]
                images = tf.numpy_function(files.read_cached, [idx], tf.uint8, stateful=False)
                return tf.ensure_shape(images, (batch_size, *shape)), idx

            batches = tf.data.Dataset.range(steps).map(read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        else:
            paths = tf.constant(np.array(files.paths, dtype=object))

            def read_one(i):
                index = order[i]
                return decode(tf.gather(paths, index), shape), index

            batches = (tf.data.Dataset.range(steps * batch_size)
                       .map(read_one, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
                       .batch(batch_size, drop_remainder=True))
        return batches.map(self._batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(2)
