"""Every loss of the contract against its closed form, computed here in NumPy on hand-made scores."""

import keras
import numpy as np
import pytest
from keras_gan.models import losses

# Logits of D on real and generated images, saturated ones included (sigmoid(40) is 1 in float32).
L_REAL = np.array([[2.2], [0.4], [-0.8], [4.6], [40.0], [-30.0]], np.float32)
L_FAKE = np.array([[-1.4], [0.0], [0.8], [-4.6], [-40.0], [30.0]], np.float32)
S_REAL = np.array([[1.5], [-0.5], [0.25], [3.0]], np.float32)
S_FAKE = np.array([[-2.0], [0.5], [1.0], [0.0]], np.float32)


def neg_log_sigmoid(x):
    """-log sigmoid(x) = log(1 + exp(-x)), in float64 and without overflow."""
    return np.logaddexp(0.0, -np.asarray(x, np.float64))


def neg_log_one_minus_sigmoid(x):
    """-log(1 - sigmoid(x)) = log(1 + exp(x))."""
    return np.logaddexp(0.0, np.asarray(x, np.float64))


def bce(t, logits):
    """Binary cross-entropy of sigmoid(logits) against target t, the mean over the batch, float64."""
    return np.mean(t * neg_log_sigmoid(logits) + (1 - t) * neg_log_one_minus_sigmoid(logits))


@pytest.mark.parametrize("t", [1.0, 0.9])
def test_minimax(t):
    d, g = losses.minimax(L_REAL, L_FAKE, t)
    assert float(d) == pytest.approx(0.5 * (bce(t, L_REAL) + bce(0.0, L_FAKE)), rel=1e-6)
    # Saturating: E log(1 - D(G(z))).
    assert float(g) == pytest.approx(-np.mean(neg_log_one_minus_sigmoid(L_FAKE)), rel=1e-6)


@pytest.mark.parametrize("t", [1.0, 0.9])
def test_non_saturating(t):
    d, g = losses.non_saturating(L_REAL, L_FAKE, t)
    assert float(d) == pytest.approx(0.5 * (bce(t, L_REAL) + bce(0.0, L_FAKE)), rel=1e-6)
    assert float(g) == pytest.approx(np.mean(neg_log_sigmoid(L_FAKE)), rel=1e-6)  # E -log D(G(z))


def test_minimax_and_non_saturating_differ_only_for_the_generator():
    assert float(losses.minimax(L_REAL, L_FAKE).d_loss) == pytest.approx(
        float(losses.non_saturating(L_REAL, L_FAKE).d_loss))
    # In the logit l of D(G(z)) the saturating loss's gradient is -sigmoid(l), the non-saturating
    # one's -(1 - sigmoid(l)): where D confidently rejects a sample (l very negative), only the
    # second is large. Both stay exact where D saturates (l = -30), as no clipped probability would.
    import tensorflow as tf

    for logit in (-4.6, -30.0):
        p = 1 / (1 + np.exp(-logit))
        x = keras.Variable([[logit]])
        for fn, expected in ((losses.minimax, -p), (losses.non_saturating, -(1 - p))):
            with tf.GradientTape() as tape:
                g = fn(None, x).g_loss
            assert float(tape.gradient(g, x)[0, 0]) == pytest.approx(expected, rel=1e-5, abs=1e-30)


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
    real, fake = (L_REAL, L_FAKE) if losses.get(name).export_activation == "sigmoid" else (S_REAL, S_FAKE)
    n = len(real)
    d_keras, g_keras = losses.as_keras_losses(name)
    targets = np.concatenate([np.full((n, 1), 0.9, np.float32), np.zeros((n, 1), np.float32)])
    expected = losses.get(name)(real, fake, 0.9)
    assert float(d_keras(targets, np.concatenate([real, fake]))) == pytest.approx(float(expected.d_loss), rel=1e-6)
    assert float(g_keras(np.ones((n, 1), np.float32), fake)) == pytest.approx(float(expected.g_loss), rel=1e-6)


def _deck_models(bias):
    """The deck's D (a sigmoid output) and the same network without it, sharing one set of weights."""
    from keras_gan.models import networks

    keras.utils.set_random_seed(0)
    logits = networks.build_discriminator((2, 2, 1), units=(8,), dropout=0.0)
    logits.layers[-1].bias.assign([bias])
    return logits, networks.with_output_activation(logits, "sigmoid")


@pytest.mark.parametrize("bias", [0.0, -30.0, 30.0])
def test_deck_loss_is_keras_binary_crossentropy_on_the_concatenated_batch(bias):
    # The slide deck compiles D (sigmoid output) with binary_crossentropy and trains it on
    # concat([real, fake]) with labels [0.9]*n + [0]*n. On D's whole output Keras reads the logits
    # its sigmoid layer carries, so that is the number D's loss must give, saturated D included.
    logits_model, deck = _deck_models(bias)
    x = np.random.default_rng(0).uniform(-1, 1, (8, 4)).astype("float32")
    targets = np.concatenate([np.full((4, 1), 0.9, np.float32), np.zeros((4, 1), np.float32)])
    reference = float(keras.losses.BinaryCrossentropy()(targets, deck(x)))
    d_keras, _ = losses.as_keras_losses("non_saturating")
    ours = float(d_keras(targets, logits_model(x)))
    assert ours == pytest.approx(reference, rel=1e-5)
    logit = np.asarray(logits_model(x), np.float64)
    assert ours == pytest.approx(0.5 * (bce(0.9, logit[:4]) + bce(0.0, logit[4:])), rel=1e-6)


def test_probabilities_sliced_from_a_sigmoid_lose_the_gradient():
    # Why D's loss takes logits: sliced outputs of a sigmoid layer are plain probabilities, which
    # Keras clips to [1e-7, 1 - 1e-7]; on a saturated D the clipped loss has no gradient at all.
    import tensorflow as tf

    logits_model, deck = _deck_models(-30.0)
    x = np.random.default_rng(0).uniform(-1, 1, (8, 4)).astype("float32")
    targets = np.concatenate([np.full((4, 1), 0.9, np.float32), np.zeros((4, 1), np.float32)])
    with tf.GradientTape(persistent=True) as tape:
        p = deck(x)
        clipped = (keras.losses.binary_crossentropy(targets[:4], p[:4]) +
                   keras.losses.binary_crossentropy(targets[4:], p[4:]))
        ours = losses.DiscriminatorLoss("non_saturating")(targets, logits_model(x))
    assert all(float(tf.reduce_max(tf.abs(g))) == 0 for g in tape.gradient(clipped, deck.trainable_weights))
    assert all(float(tf.reduce_max(tf.abs(g))) > 0 for g in tape.gradient(ours, logits_model.trainable_weights))


def test_keras_losses_round_trip_through_their_config():
    d_keras, _ = losses.as_keras_losses("least_squares")
    again = keras.losses.deserialize(keras.losses.serialize(d_keras))
    assert isinstance(again, losses.DiscriminatorLoss) and again.loss_fn is losses.least_squares


def test_unknown_loss():
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        losses.get("hinge")
