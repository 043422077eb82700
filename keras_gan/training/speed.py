"""Speed-only code: what makes a training step faster without changing what it computes.

The deck is written in Keras's own layers and optimizers, and a saved file never depends on what is
here. Two replacements remain, each switched on only where it was measured faster (TensorFlow on a
CPU; on a GPU neither was measured, so both stay off there) and both off with one setting,
`TrainConfig(speedups=False)` (`--nospeedups`). `make bench` times each on against off in one run.

* `FusedAdam`: Keras 3's Adam updates each variable with a handful of separate element-wise
  operations, each a pass over memory; for the slide deck's 1.46M-parameter networks that was about
  3.5 ms of every 4 ms update on a 2-core CPU. TensorFlow's `ResourceApplyAdam` kernel does the
  same update in one pass. The arithmetic is Keras's own (Kingma & Ba 2015, epsilon added outside
  the square root of the uncorrected second moment, the bias correction folded into the step size;
  weight decay, when asked for, is applied by Keras before this update):

      lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
      m <- m + (1 - beta_1) (g - m);  v <- v + (1 - beta_2) (g^2 - v)
      w <- w - lr_t * m / (sqrt(v) + epsilon)

  Its variables are Adam's, so a checkpoint moves between the two; tests/training/test_speed.py
  checks it against `keras.optimizers.Adam` step by step.
* XLA for the generator's forward pass that makes D's fakes (`jit_fakes`), a switch of
  TensorFlow's own: on a 2-core CPU it ran the deck's dense generator 5-15% faster than the graph
  executor in float32. Convolutional generators keep the graph executor, and so do fakes that draw
  random numbers (Dropout in training mode: XLA's random numbers made cGAN's fakes 15 times
  slower) and mixed-precision generators (in bfloat16 XLA made the deck's fakes 1.7 times slower).
"""

import keras

from keras_gan import backend


def on_a_cpu() -> bool:
    """Whether the step runs on TensorFlow on a CPU: where each replacement here was measured faster."""
    return backend.is_tensorflow() and not backend.gpus()


@keras.saving.register_keras_serializable(package="keras_gan")
class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` whose update is TensorFlow's fused kernel: see the module's docstring."""

    def update_step(self, gradient, variable, learning_rate):
        if not backend.is_tensorflow() or self.amsgrad:
            return super().update_step(gradient, variable, learning_rate)
        tf = backend.tensorflow()
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        t = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.cast(self.beta_1, dtype)
        beta_2 = tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[index].handle, v=self._velocities[index].handle,
            beta1_power=tf.pow(beta_1, t), beta2_power=tf.pow(beta_2, t),
            lr=tf.cast(learning_rate, dtype), beta1=beta_1, beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype), grad=tf.cast(gradient, dtype))


def adam(speedups: bool, learning_rate=2e-4, **kwargs) -> keras.optimizers.Adam:
    """Keras's Adam, or `FusedAdam` where `speedups` and the machine allow it."""
    kind = FusedAdam if speedups and on_a_cpu() else keras.optimizers.Adam
    return kind(learning_rate, **kwargs)


def jit_fakes(speedups: bool, generator: keras.Model, training_mode: bool) -> bool:
    """Whether XLA compiles G's forward pass for D's fakes: with `speedups`, on a CPU, for a dense
    generator computing in float32 that draws no random numbers there (`training_mode`: the fakes
    are made with Dropout on)."""
    draws = training_mode and any("seed_generator" in v.path for v in generator.variables)
    float32 = all(layer.compute_dtype == "float32" for layer in generator.layers)
    return speedups and on_a_cpu() and len(generator.outputs[0].shape) == 2 and float32 and not draws
