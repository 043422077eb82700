"""Dense whose input gradient runs as fast as its forward product on a oneDNN CPU.

Backpropagation through y = x W needs the input gradient dx = dy W^T. TensorFlow's MatMul
gradient asks for it as MatMul(dy, W, transpose_b=True), and on a CPU (oneDNN, TensorFlow's
default there) a float32 product with its second operand transposed ran 1.2-1.9x slower than the
untransposed product at the deck's shapes (128 x 1024 x 784, 128 x 512 x 1024, ...). The same
product asked for as a batched matmul of one batch with `adjoint_b` runs at the untransposed
speed. This layer's product has that gradient: dx as the one-batch adjoint product, and the weight
gradient x^T dy as TensorFlow computes it (a transposed first operand costs nothing measurable).
In the deck's float32 step this saved about 7% (36.5 against 33.9 ms, interleaved in one
process). In bfloat16 the transposed products were never slower and the one-batch product was
up to 3% slower, so 16-bit computations keep TensorFlow's own gradient.

The values are Keras's Dense's: the same products in a different kernel, equal within float32
rounding (tests/test_dense.py checks the forward pass, both gradients and the second-order
gradients a gradient penalty takes, against Keras's Dense). The forward product is still a MatMul,
so TensorFlow still fuses it with the bias and the activation. A product whose input gradient is
not used (a network's first layer) is pruned from the compiled step as before.

Saved `.keras` files name Keras's own Dense (keras_gan/networks.py rewrites the class in the copy
that is saved), so a saved network loads with Keras alone. Other backends, computations in other
types than float32, inputs of rank other than 2 and quantized layers use Keras's implementation.
"""

import keras
import tensorflow as tf


@tf.custom_gradient
def matmul(x, kernel):
    """x @ kernel whose input gradient is a one-batch adjoint product: see the module's docstring."""

    def gradient(dy):
        return tf.linalg.matmul(dy[None], kernel[None], adjoint_b=True)[0], tf.matmul(x, dy, transpose_a=True)

    return tf.matmul(x, kernel), gradient


@keras.saving.register_keras_serializable(package="keras_gan")
class Dense(keras.layers.Dense):
    """`keras.layers.Dense` with a faster input gradient: see the module's docstring."""

    def call(self, inputs, training=None):
        if keras.backend.backend() != "tensorflow" or len(inputs.shape) != 2 or self.compute_dtype != "float32":
            return super().call(inputs, training=training)
        x = matmul(inputs, tf.convert_to_tensor(self.kernel))
        if self.bias is not None:
            x = keras.ops.add(x, self.bias)
        if self.activation is not None:
            x = self.activation(x)
        return x
