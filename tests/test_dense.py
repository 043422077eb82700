"""keras_gan.dense.Dense: Keras's Dense whose input gradient is a one-batch adjoint product."""

import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan import networks, saving, srgan
from keras_gan.dense import Dense


def _pair(units, input_dim, activation=None, seed=0):
    """Keras's Dense and ours with the same weights."""
    keras.utils.set_random_seed(seed)
    theirs, ours = keras.layers.Dense(units, activation=activation), Dense(units, activation=activation)
    theirs.build((None, input_dim))
    ours.build((None, input_dim))
    ours.set_weights([w + np.random.default_rng(seed).normal(0, 0.1, w.shape).astype("float32")
                      for w in theirs.get_weights()])
    theirs.set_weights(ours.get_weights())
    return theirs, ours


def _gradients(layer, x, w):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(w * layer(x))
    return [np.asarray(g) for g in tape.gradient(loss, [x, *layer.trainable_variables])]


@pytest.mark.parametrize("activation", [None, "tanh", "leaky_relu"])
def test_outputs_and_every_gradient_equal_keras_dense(activation):
    theirs, ours = _pair(96, 130, activation)
    x = np.random.default_rng(1).normal(size=(64, 130)).astype("float32")
    w = tf.constant(np.random.default_rng(2).normal(size=(64, 96)).astype("float32"))
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(x)), rtol=1e-5, atol=1e-5)
    for mine, keras_own in zip(_gradients(ours, x, w), _gradients(theirs, x, w)):  # dx, d kernel, d bias
        assert mine.shape == keras_own.shape
        np.testing.assert_allclose(mine, keras_own, rtol=1e-4, atol=1e-4)


def test_the_input_gradient_against_the_hand_formula_in_a_compiled_step():
    _, ours = _pair(7, 5)
    x = tf.constant(np.random.default_rng(3).normal(size=(4, 5)).astype("float32"))
    dy = tf.constant(np.random.default_rng(4).normal(size=(4, 7)).astype("float32"))

    @tf.function
    def grads(v):
        with tf.GradientTape() as tape:
            tape.watch(v)
            y = ours(v)
        return tape.gradient(y, [v, ours.kernel], output_gradients=dy)

    dx, dk = grads(x)
    kernel = np.asarray(ours.kernel)
    np.testing.assert_allclose(np.asarray(dx), np.asarray(dy) @ kernel.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(dk), np.asarray(x).T @ np.asarray(dy), rtol=1e-5, atol=1e-6)
    # the input gradient is the one-batch adjoint product, not a MatMul with a transposed operand
    ops = grads.get_concrete_function(x).graph.get_operations()
    assert any(op.type == "BatchMatMulV2" and op.get_attr("adj_y") for op in ops)
    assert not any(op.type == "MatMul" and op.get_attr("transpose_b") for op in ops)


def test_second_order_gradients_of_a_gradient_penalty_equal_keras_dense():
    """A WGAN-GP critic differentiates its input gradient with respect to its weights."""
    x = np.random.default_rng(5).normal(size=(16, 12)).astype("float32")
    results = []
    for layer_pair in zip(_pair(20, 12, "tanh", seed=6), _pair(1, 20, seed=7)):
        first, last = layer_pair
        variables = first.trainable_variables + last.trainable_variables
        v = tf.constant(x)
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(v)
                score = last(first(v))
            slopes = inner.gradient(score, v)
            penalty = tf.reduce_mean((tf.norm(slopes, axis=1) - 1) ** 2)
        results.append(outer.gradient(penalty, variables))
    keras_own, mine = results
    assert keras_own[-1] is None and mine[-1] is None  # the last bias does not move the slopes
    for theirs, ours in zip(keras_own[:-1], mine[:-1]):  # both kernels, the first bias
        assert np.abs(np.asarray(theirs)).max() > 0
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-4, atol=1e-5)


def test_mixed_bfloat16_uses_tensorflow_s_gradient_and_updates_float32_weights():
    layer = Dense(32, dtype="mixed_bfloat16")
    x = tf.ones((8, 16), tf.bfloat16)

    @tf.function
    def grads(v):
        with tf.GradientTape() as tape:
            y = layer(v)
            loss = tf.reduce_sum(tf.cast(y, tf.float32))
        return y, tape.gradient(loss, layer.trainable_variables)

    y, (dk, db) = grads(x)
    assert not any(op.type == "BatchMatMulV2" for op in grads.get_concrete_function(x).graph.get_operations())
    assert y.dtype == tf.bfloat16
    assert dk.dtype == tf.float32 and layer.kernel.dtype == "float32"
    np.testing.assert_allclose(np.asarray(dk), np.full((16, 32), 8.0), rtol=1e-2)  # sum over 8 rows of ones
    np.testing.assert_allclose(np.asarray(db), np.full((32,), 8.0))


def test_inputs_of_higher_rank_use_keras_dense():
    theirs, ours = _pair(6, 4)
    x = np.random.default_rng(8).normal(size=(3, 5, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(x)), rtol=1e-6, atol=1e-6)


def test_every_trained_dense_layer_is_ours():
    models = [networks.build_generator(), networks.build_discriminator(),
              networks.build_generator(num_classes=10, branches=(200, 1000)),
              networks.build_discriminator(num_classes=10), networks.build_dcgan_generator(),
              networks.build_dcgan_discriminator(), srgan.discriminator()]
    for model in models:
        dense = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.Dense)]
        assert dense and all(type(layer) is Dense for layer in dense), model.name


def test_saved_networks_name_keras_own_dense(tmp_path):
    d = networks.build_discriminator()
    saving.save_network(d, str(tmp_path / "d.keras"))
    with zipfile.ZipFile(tmp_path / "d.keras") as archive:
        text = archive.read("config.json").decode()
    assert "keras_gan" not in text and json.loads(text) and text.count('"class_name": "Dense"') == 4
    loaded = keras.models.load_model(tmp_path / "d.keras")
    assert [type(layer) for layer in loaded.layers if isinstance(layer, keras.layers.Dense)] == [keras.layers.Dense] * 4
    x = np.random.default_rng(9).normal(size=(3, 784)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(d(x)), rtol=1e-5, atol=1e-6)
