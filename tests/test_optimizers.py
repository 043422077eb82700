import keras
import numpy as np
import tensorflow as tf

from keras_gan.optimizers import FusedAdam

SHAPES = [(20, 30), (30,), (30, 1), (1,)]


def _run(optimizer, grads):
    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.standard_normal(s).astype("float32")) for s in SHAPES]
    optimizer.build(variables)
    step = tf.function(lambda g: optimizer.apply(g, variables))
    for g in grads:
        step(g)
    return [v.numpy() for v in variables], [v.numpy() for v in optimizer.variables]


def test_fused_adam_matches_keras_adam():
    rng = np.random.default_rng(1)
    grads = [[tf.constant(rng.standard_normal(s).astype("float32")) for s in SHAPES] for _ in range(6)]
    ours, our_state = _run(FusedAdam(2e-4, beta_1=0.5), grads)
    theirs, their_state = _run(keras.optimizers.Adam(2e-4, beta_1=0.5), grads)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-6)
    for a, b in zip(our_state, their_state):  # iterations, learning rate, moments
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_fused_adam_first_step_closed_form():
    # After one step Adam moves every weight by lr * g / (|g| + eps'), i.e. about lr * sign(g).
    v = keras.Variable(np.zeros(4, np.float32))
    opt = FusedAdam(0.1, beta_1=0.5, epsilon=1e-7)
    opt.build([v])
    g = np.array([2.0, -3.0, 0.5, -1e-3], np.float32)
    opt.apply([tf.constant(g)], [v])
    # m = 0.5 g, v = 0.001 g^2, lr_t = 0.1 sqrt(0.001) / 0.5  =>  step = lr_t * m / (sqrt(v) + eps)
    m, s = 0.5 * g, np.sqrt(0.001 * g.astype(np.float64) ** 2)
    expected = -0.1 * np.sqrt(1 - 0.999) / (1 - 0.5) * m / (s + 1e-7)
    np.testing.assert_allclose(v.numpy(), expected, rtol=1e-5)


def test_fused_adam_serialises():
    opt = FusedAdam(3e-4, beta_1=0.4)
    clone = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert isinstance(clone, FusedAdam) and abs(float(clone.learning_rate) - 3e-4) < 1e-9
    assert clone.beta_1 == 0.4


def test_amsgrad_falls_back_to_keras():
    rng = np.random.default_rng(2)
    grads = [[tf.constant(rng.standard_normal(s).astype("float32")) for s in SHAPES] for _ in range(4)]
    ours, _ = _run(FusedAdam(1e-3, amsgrad=True), grads)
    theirs, _ = _run(keras.optimizers.Adam(1e-3, amsgrad=True), grads)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_fused_adam_with_weight_decay_matches_keras_adam():
    # Keras applies decoupled weight decay (w -= lr * wd * w) before the update; the fused kernel
    # must keep that step. A large decay, so that it visibly moves the weights.
    rng = np.random.default_rng(3)
    grads = [[tf.constant(rng.standard_normal(s).astype("float32")) for s in SHAPES] for _ in range(5)]
    ours, _ = _run(FusedAdam(1e-2, beta_1=0.5, weight_decay=0.5), grads)
    theirs, _ = _run(keras.optimizers.Adam(1e-2, beta_1=0.5, weight_decay=0.5), grads)
    plain, _ = _run(FusedAdam(1e-2, beta_1=0.5), grads)
    for a, b, c in zip(ours, theirs, plain):
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-6)
        assert np.abs(a - c).max() > 1e-3  # the decay acted
