"""The compute floor of the deck's training step: the matrix products one step must do, timed.

One D step (G's forward for the fakes, D forward and backward on 2n images) plus one G step (G
and D forward, gradients back through D's inputs into G), run one after another in one compiled
function at the step's own shapes. Their floating-point operations over that time give this
machine's matrix-multiply rate at those shapes; the floor in images per second is n over it.
`make bench` (step.py) sets the step's speed against it.
"""

import statistics
import time

import numpy as np
import tensorflow as tf

G_UNITS, D_UNITS = (256, 512, 1024), (1024, 512, 256)


def dense_dims(first: int, units, last: int) -> list[tuple[int, int]]:
    sizes = [first, *units, last]
    return list(zip(sizes[:-1], sizes[1:]))


def step_matmuls(batch: int, noise_dim: int = 10, image_dim: int = 784):
    """(m, k, n) of every matrix product in one D step plus one G step, with what each is for."""
    g, d = dense_dims(noise_dim, G_UNITS, image_dim), dense_dims(image_dim, D_UNITS, 1)
    out = []
    # D step: fakes from G (forward only), then D forward and backward on real + fake (2n rows).
    out += [("D step: G forward", (batch, i, o)) for i, o in g]
    out += [("D step: D forward", (2 * batch, i, o)) for i, o in d]
    out += [("D step: D weight grads", (i, 2 * batch, o)) for i, o in d]
    out += [("D step: D input grads", (2 * batch, o, i)) for i, o in d[1:]]
    # G step: G and D forward, gradients back through D's inputs (D's weights are frozen) into G.
    out += [("G step: G forward", (batch, i, o)) for i, o in g]
    out += [("G step: D forward", (batch, i, o)) for i, o in d]
    out += [("G step: D input grads", (batch, o, i)) for i, o in d]
    out += [("G step: G weight grads", (i, batch, o)) for i, o in g]
    out += [("G step: G input grads", (batch, o, i)) for i, o in g[1:]]
    return out


def step_flops(batch: int, **kw) -> int:
    return sum(2 * m * k * n for _, (m, k, n) in step_matmuls(batch, **kw))


def seconds_per_step(fn, steps: int) -> float:
    fn()
    started = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - started) / steps


def operands(batch: int, *, transposed: bool = False, dtype: str = "float32"):
    """Random (a, b, transpose_a, transpose_b) for each product of `step_matmuls`. With `transposed`,
    a weight gradient's first operand is x and an input gradient's second is W, each read transposed
    (x^T dy, dy W^T), as TensorFlow's MatMul gradient reads them."""
    rng = np.random.default_rng(0)
    out = []
    for what, (m, k, n) in step_matmuls(batch):
        ta, tb = transposed and "weight grads" in what, transposed and "input grads" in what
        out.append((tf.constant(rng.standard_normal((k, m) if ta else (m, k)), dtype),
                    tf.constant(rng.standard_normal((n, k) if tb else (k, n)), dtype), ta, tb))
    return out


def floor_seconds(batch: int, steps: int, rounds: int, *, overlap: bool = False, transposed: bool = False,
                  dtype: str = "float32") -> float:
    """Seconds for one step's matrix products at their shapes, in one compiled function.

    By default each product waits for the one before (a control dependency): the time of the
    products one at a time, each on all cores, i.e. FLOPs over this machine's matmul rate. With
    `overlap=True` TensorFlow may run independent products side by side, which is faster on some
    machines. With `transposed=True` each gradient product reads one operand transposed, as
    TensorFlow's MatMul gradient does (x^T dy for a weight gradient, dy W^T for an input gradient).
    `make bench` prints all three and sets its target against the first. `dtype` is the products' type: bfloat16
    or float16 for a mixed-precision step's floor.
    """
    pairs = operands(batch, transposed=transposed, dtype=dtype)

    @tf.function
    def all_products():
        total = tf.constant(0.0)
        for a, b, ta, tb in pairs:
            with tf.control_dependencies([] if overlap else [total]):
                product = tf.matmul(a, b, transpose_a=ta, transpose_b=tb)
                total = total + tf.cast(tf.reduce_sum(product[:1, :1]), tf.float32)
        return total

    return statistics.median(seconds_per_step(lambda: all_products().numpy(), steps) for _ in range(rounds))


def square_rate(size: int = 2048) -> float:
    a = tf.random.normal((size, size))
    f = tf.function(lambda: tf.reduce_sum(tf.matmul(a, a)[:1, :1]))
    return 2 * size ** 3 / seconds_per_step(lambda: f().numpy(), 10)
