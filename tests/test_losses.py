"""Every loss of the contract against its closed form, computed here in NumPy on hand-made scores."""

import keras
import numpy as np
import pytest

from keras_gan import losses

EPS = 1e-7  # Keras clips probabilities to [EPS, 1 - EPS] before taking logs

P_REAL = np.array([[0.9], [0.6], [0.3], [0.99]], np.float32)
P_FAKE = np.array([[0.2], [0.5], [0.7], [0.01]], np.float32)
S_REAL = np.array([[1.5], [-0.5], [0.25], [3.0]], np.float32)
S_FAKE = np.array([[-2.0], [0.5], [1.0], [0.0]], np.float32)


def log(p):
    return np.log(np.clip(p.astype(np.float64), EPS, 1 - EPS))


def bce(t, p):
    return np.mean(-(t * log(p) + (1 - t) * np.log(1 - np.clip(p.astype(np.float64), EPS, 1 - EPS))))


@pytest.mark.parametrize("t", [1.0, 0.9])
def test_minimax(t):
    d, g = losses.minimax(P_REAL, P_FAKE, t)
    expected_d = 0.5 * (np.mean(-t * log(P_REAL) - (1 - t) * np.log(1 - P_REAL)) - np.mean(np.log(1 - P_FAKE)))
    assert float(d) == pytest.approx(expected_d, rel=1e-5)
    assert float(g) == pytest.approx(np.mean(np.log(1 - P_FAKE)), rel=1e-5)  # saturating: log(1 - D(G(z)))


@pytest.mark.parametrize("t", [1.0, 0.9])
def test_non_saturating(t):
    d, g = losses.non_saturating(P_REAL, P_FAKE, t)
    assert float(d) == pytest.approx(0.5 * (bce(t, P_REAL) + bce(0, P_FAKE)), rel=1e-5)
    assert float(g) == pytest.approx(-np.mean(log(P_FAKE)), rel=1e-5)


def test_minimax_and_non_saturating_differ_only_for_the_generator():
    assert float(losses.minimax(P_REAL, P_FAKE).d_loss) == pytest.approx(
        float(losses.non_saturating(P_REAL, P_FAKE).d_loss))
    # The saturating loss's gradient in D(G(z)) is -1/(1 - p), the non-saturating one's -1/p:
    # where D confidently rejects a sample (p small), only the second one is large.
    p = keras.Variable([[0.01]])
    import tensorflow as tf

    for fn, expected in ((losses.minimax, -1 / 0.99), (losses.non_saturating, -1 / 0.01)):
        with tf.GradientTape() as tape:
            g = fn(None, p).g_loss
        assert float(tape.gradient(g, p)[0, 0]) == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("b", [1.0, 0.9])
def test_least_squares(b):
    d, g = losses.least_squares(S_REAL, S_FAKE, b)
    assert float(d) == pytest.approx(0.5 * np.mean((S_REAL - b) ** 2) + 0.5 * np.mean(S_FAKE ** 2), rel=1e-6)
    assert float(g) == pytest.approx(0.5 * np.mean((S_FAKE - 1) ** 2), rel=1e-6)


def test_wasserstein():
    d, g = losses.wasserstein(S_REAL, S_FAKE, 0.9)  # the real target is ignored
    assert float(d) == pytest.approx(np.mean(S_FAKE) - np.mean(S_REAL), rel=1e-6)
    assert float(g) == pytest.approx(-np.mean(S_FAKE), rel=1e-6)


@pytest.mark.parametrize("name", list(losses.LOSSES))
def test_generator_step_passes_no_real_scores(name):
    d, g = losses.get(name)(None, S_FAKE)
    assert d is None
    assert float(g) == pytest.approx(float(losses.get(name)(S_REAL, S_FAKE).g_loss))


@pytest.mark.parametrize("name", list(losses.LOSSES))
def test_keras_losses_read_the_real_and_generated_halves(name):
    real, fake = (P_REAL, P_FAKE) if losses.OUTPUT_ACTIVATION[name] == "sigmoid" else (S_REAL, S_FAKE)
    d_keras, g_keras = losses.as_keras_losses(name)
    targets = np.concatenate([np.full((4, 1), 0.9, np.float32), np.zeros((4, 1), np.float32)])
    expected = losses.get(name)(real, fake, 0.9)
    assert float(d_keras(targets, np.concatenate([real, fake]))) == pytest.approx(float(expected.d_loss), rel=1e-6)
    assert float(g_keras(np.ones((4, 1), np.float32), fake)) == pytest.approx(float(expected.g_loss), rel=1e-6)


def test_deck_loss_is_keras_binary_crossentropy_on_the_concatenated_batch():
    # The slide deck compiles D with binary_crossentropy and trains it on concat([real, fake]) with
    # labels [0.9]*n + [0]*n; the contract's non-saturating D loss must be that number.
    targets = np.concatenate([np.full((4, 1), 0.9, np.float32), np.zeros((4, 1), np.float32)])
    scores = np.concatenate([P_REAL, P_FAKE])
    deck = float(keras.losses.BinaryCrossentropy()(targets, scores))
    d_keras, _ = losses.as_keras_losses("non_saturating")
    assert float(d_keras(targets, scores)) == pytest.approx(deck, rel=1e-6)


def test_keras_losses_round_trip_through_their_config():
    d_keras, _ = losses.as_keras_losses("least_squares")
    again = keras.losses.deserialize(keras.losses.serialize(d_keras))
    assert isinstance(again, losses.DiscriminatorLoss) and again.loss_fn is losses.least_squares


def test_unknown_loss():
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        losses.get("hinge")
