"""keras_gan.floor: the matrix products of one training step, counted by hand, and their timing."""

import tensorflow as tf
from keras_gan.benchmarks import floor


def test_step_flops_by_hand():
    """Multiply-adds per real image for the deck's networks, counted from the layer sizes.

    G: 10*256 + 256*512 + 512*1024 + 1024*784 = 1,460,736; D: 784*1024 + 1024*512 + 512*256 + 256 =
    1,458,432, of which 655,616 are past the first layer (whose input gradient D's step never needs).
    D step (two D rows per real image): G forward + 2 x (D forward + D weight grads + D input grads past
    layer 1) = 1,460,736 + 2 * (1,458,432 + 1,458,432 + 655,616) = 8,605,696.
    G step: G forward + D forward + D input grads + G weight grads + G input grads past layer 1
    = 1,460,736 + 1,458,432 + 1,458,432 + 1,460,736 + (1,460,736 - 2,560) = 7,296,512.
    """
    assert floor.step_flops(128) == 2 * (8_605_696 + 7_296_512) * 128
    assert floor.step_flops(1) * 128 == floor.step_flops(128)


def test_matmul_shapes_chain():
    shapes = dict.fromkeys(name for name, _ in floor.step_matmuls(4))
    assert len(shapes) == 9
    forward = [mkn for name, mkn in floor.step_matmuls(4) if name == "D step: D forward"]
    assert forward == [(8, 784, 1024), (8, 1024, 512), (8, 512, 256), (8, 256, 1)]


def test_the_transposed_operands_make_the_same_products():
    products = floor.step_matmuls(4)
    plain, transposed = floor.operands(4), floor.operands(4, transposed=True)
    assert sum(ta or tb for *_, ta, tb in transposed) == sum("grads" in what for what, _ in products)
    for (_, (m, k, n)), (a, b, ta, tb), (pa, pb, _, _) in zip(products, transposed, plain):
        assert tf.matmul(a, b, transpose_a=ta, transpose_b=tb).shape == (m, n) == tf.matmul(pa, pb).shape


def test_the_floors_time_the_products_in_every_layout():
    plain = floor.floor_seconds(16, steps=1, rounds=1)
    transposed = floor.floor_seconds(16, steps=1, rounds=1, transposed=True)
    overlapped = floor.floor_seconds(16, steps=1, rounds=1, overlap=True)
    assert all(0 < t < 5 for t in (plain, transposed, overlapped))
