"""keras_gan.dropout.Dropout: Keras's Dropout with 16-bit masks, two units per 32-bit Philox draw."""

import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan import networks, saving
from keras_gan.dropout import LEVELS, Dropout, drop_threshold


def _sigmas(observed: float, p: float, n: int) -> float:
    """How many binomial standard deviations `observed` (a fraction of n draws) is from p."""
    return abs(observed - p) / np.sqrt(p * (1 - p) / n)


def test_the_threshold_is_the_nearest_multiple_of_two_to_the_minus_16():
    assert drop_threshold(0.3) == 19661 and drop_threshold(0.5) == 32768 and drop_threshold(0.25) == 16384
    assert abs(drop_threshold(0.3) / LEVELS - 0.3) <= 0.5 / LEVELS
    assert drop_threshold(0.9999999) == LEVELS - 1  # never a threshold that drops everything


@pytest.mark.parametrize("rate, shape", [(0.3, (2048, 512)), (0.5, (1024, 1023)), (0.3, (64, 16, 33))])
def test_units_are_dropped_at_the_rate_and_the_kept_ones_scaled_to_keep_the_mean(rate, shape):
    x = tf.ones(shape)
    y = np.asarray(Dropout(rate, seed=1)(x, training=True))
    assert y.shape == shape
    p = drop_threshold(rate) / LEVELS
    dropped = float(np.mean(y == 0))
    assert _sigmas(dropped, p, y.size) < 5
    kept = y[y != 0]
    np.testing.assert_array_equal(kept, np.float32(LEVELS / (LEVELS - drop_threshold(rate))))
    assert abs(float(np.mean(y, dtype=np.float64)) - 1) < 5 * np.sqrt(p / (1 - p) / y.size)


def test_the_two_units_of_one_draw_and_neighbouring_rows_are_independent():
    y = np.asarray(Dropout(0.3, seed=2)(tf.ones((4096, 256)), training=True)) == 0
    p, n = drop_threshold(0.3) / LEVELS, y.size // 2
    # units 2j and 2j+1 take the low and high halves of one 32-bit draw
    both = float(np.mean(y[:, 0::2] & y[:, 1::2]))
    assert _sigmas(both, p * p, n) < 5
    rows = float(np.mean(y[0::2] & y[1::2]))
    assert _sigmas(rows, p * p, n) < 5
    # each unit on its own, across the batch, is dropped at the rate
    per_unit = y.mean(axis=0)
    assert _sigmas(float(per_unit.min()), p, 4096) < 5 and _sigmas(float(per_unit.max()), p, 4096) < 5


def test_inference_is_the_identity_and_edge_rates_behave_as_keras():
    x = tf.random.normal((8, 6))
    np.testing.assert_array_equal(np.asarray(Dropout(0.3)(x)), np.asarray(x))
    np.testing.assert_array_equal(np.asarray(Dropout(0.3)(x, training=False)), np.asarray(x))
    np.testing.assert_array_equal(np.asarray(Dropout(0.0)(x, training=True)), np.asarray(x))
    np.testing.assert_array_equal(np.asarray(Dropout(1.0)(x, training=True)), np.zeros((8, 6), np.float32))


def test_the_gradient_uses_the_forward_mask():
    x = tf.Variable(tf.random.uniform((64, 100), 0.5, 1.5))
    w = tf.random.normal((64, 100))
    layer = Dropout(0.3, seed=3)
    with tf.GradientTape() as tape:
        y = layer(x, training=True)
        loss = tf.reduce_sum(w * y)
    grad = tape.gradient(loss, x)
    mask = np.asarray(y) / np.asarray(x)  # 0 or the scale, per unit
    scale = LEVELS / (LEVELS - drop_threshold(0.3))
    assert np.all((mask == 0) | np.isclose(mask, scale, rtol=1e-6)) and 0 < np.mean(mask == 0) < 1
    np.testing.assert_allclose(np.asarray(grad), np.asarray(w) * mask, rtol=1e-6)


def test_masks_follow_the_seed_generator_so_a_restored_state_repeats_them():
    x = tf.ones((32, 64))
    a, b = Dropout(0.3, seed=7), Dropout(0.3, seed=7)
    first = np.asarray(a(x, training=True))
    np.testing.assert_array_equal(first, np.asarray(b(x, training=True)))  # same seed, same masks
    state = a.seed_generator.state.numpy()
    second = np.asarray(a(x, training=True))
    assert not np.array_equal(first, second)  # each call draws new masks
    a.seed_generator.state.assign(state)
    np.testing.assert_array_equal(np.asarray(a(x, training=True)), second)


def test_it_works_in_a_compiled_function_with_an_unknown_batch_and_in_bfloat16():
    layer = Dropout(0.3, seed=4, dtype="mixed_bfloat16")
    f = tf.function(lambda v: layer(v, training=True), input_signature=[tf.TensorSpec((None, 1000), tf.bfloat16)])
    y = np.asarray(tf.cast(f(tf.ones((500, 1000), tf.bfloat16)), tf.float32))
    assert y.shape == (500, 1000)
    assert _sigmas(float(np.mean(y == 0)), drop_threshold(0.3) / LEVELS, y.size) < 5


def test_saved_networks_name_keras_own_dropout(tmp_path):
    d = networks.build_discriminator()
    g = networks.build_generator(dropout=0.5, num_classes=10)
    assert sum(isinstance(layer, Dropout) for layer in d.layers) == 3
    for model, name in ((d, "d.keras"), (g, "g.keras")):
        count = sum(isinstance(layer, Dropout) for layer in model.layers)
        saving.save_network(model, str(tmp_path / name))
        with zipfile.ZipFile(tmp_path / name) as archive:
            config = json.loads(archive.read("config.json"))
        text = json.dumps(config)
        assert "keras_gan" not in text and text.count('"class_name": "Dropout"') == count
        loaded = keras.models.load_model(tmp_path / name)
        assert all(type(layer) is not Dropout for layer in loaded.layers)
        x = [np.ones((2, *i.shape[1:]), "float32") for i in model.inputs]
        np.testing.assert_allclose(np.asarray(loaded(x if len(x) > 1 else x[0])),
                                   np.asarray(model(x if len(x) > 1 else x[0])), rtol=1e-6)
