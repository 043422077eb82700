"""Dropout whose masks cost half the random bits: one 32-bit Philox draw makes the masks of two units.

Keras's Dropout draws one float32 uniform per unit (one 32-bit Philox output) and compares it with
the rate. On a 2-core CPU those random numbers, the comparison and the select are about 7% of
the deck's training step (Dropout(0.3) after each of D's hidden layers, in D's step and in the
combined step). This layer splits each 32-bit draw into two 16-bit integers and drops a unit where
its integer is below round(rate * 65536): the same Philox stream, half as many draws, one multiply
by a 0-or-1/(1-rate) mask forward and backward.

The only difference from Keras's Dropout is the resolution of the rate: it is a multiple of
2^-16, so Dropout(0.3) drops each unit with probability 19661/65536 = 0.300003 (Keras's float32
comparison gives 0.30000001), and kept units are scaled by 1/(1 - 0.300003), which keeps each
unit's expected value. Units are still dropped independently, inference is still the identity,
and the masks still come from the layer's SeedGenerator, so they are checkpointed and resumed as
Keras's are. tests/test_dropout.py checks
each of these, and the independence of the two units that share a draw.

Saved `.keras` files name Keras's own Dropout (keras_gan/networks.py rewrites the class when it
makes the float32 copy that is saved), so a saved network loads with Keras alone; inference is
the same either way. Other backends, and a `noise_shape`, use Keras's implementation.
"""

import keras
import tensorflow as tf

LEVELS = 1 << 16


@keras.saving.register_keras_serializable(package="keras_gan")
class Dropout(keras.layers.Dropout):
    """`keras.layers.Dropout` with 16-bit masks: see the module's docstring."""

    def call(self, inputs, training=False):
        last = inputs.shape[-1]
        if (not training or not 0 < self.rate < 1 or self.noise_shape is not None or last is None
                or keras.backend.backend() != "tensorflow"):
            return super().call(inputs, training=training)
        # the layer's next seed, made int32 as Keras's TensorFlow backend makes it for its own Dropout
        seed = tf.cast(tf.math.floormod(self.seed_generator.next(), tf.int32.max - 1), tf.int32)
        shape = tf.shape(inputs)
        pairs = tf.random.stateless_uniform(tf.concat([shape[:-1], [(last + 1) // 2]], 0), seed,
                                            minval=None, maxval=None, dtype=tf.uint32)
        halves = tf.reshape(tf.bitcast(pairs, tf.uint16), tf.concat([shape[:-1], [2 * ((last + 1) // 2)]], 0))
        if last % 2:
            halves = halves[..., :last]
        threshold = drop_threshold(self.rate)
        keep = tf.cast(halves >= tf.constant(threshold, tf.uint16), inputs.dtype)
        return inputs * (keep * tf.cast(LEVELS / (LEVELS - threshold), inputs.dtype))


def drop_threshold(rate: float) -> int:
    """The 16-bit integers below which a unit is dropped: a unit is dropped with probability
    drop_threshold(rate) / 65536, the multiple of 2^-16 nearest to `rate`."""
    return min(round(rate * LEVELS), LEVELS - 1)
