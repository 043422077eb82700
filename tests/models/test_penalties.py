"""The gradient penalty against hand computations, and weight clipping on real critic weights."""

import keras
import numpy as np
import pytest
from keras import ops
from keras_gan.models import losses, networks, penalties
from keras_gan.models.gan import GAN, PenalizedCritic


def square_critic(x, training=None):
    """D(x) = sum(x^2) over a sample: its gradient at x is 2x, so the norm depends on alpha."""
    return ops.sum(ops.reshape(x ** 2, (ops.shape(x)[0], -1)), axis=1, keepdims=True)


def batches(shape=(5, 3, 4, 2), seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape).astype("float32"), rng.normal(size=shape).astype("float32")


def test_gradient_penalty_by_hand_with_one_coefficient_per_sample():
    real, fake = batches()
    alpha = np.array([0.0, 0.25, 0.5, 0.75, 1.0], np.float32)
    x_hat = alpha[:, None, None, None] * real + (1 - alpha[:, None, None, None]) * fake
    norms = np.sqrt(((2 * x_hat.astype(np.float64)) ** 2).reshape(5, -1).sum(axis=1))  # over H, W and C
    expected = 10 * np.mean((norms - 1) ** 2)
    got = penalties.gradient_penalty(square_critic, real, fake, alpha=alpha)
    assert float(got) == pytest.approx(expected, rel=1e-5)
    assert float(penalties.gradient_penalty(square_critic, real, fake, alpha=alpha, weight=3.0)) == pytest.approx(
        0.3 * expected, rel=1e-5)


def test_gradient_penalty_of_a_linear_critic_is_its_weight_norm():
    w = np.random.default_rng(1).normal(size=(12, 1)).astype("float32")
    critic = lambda x, training=None: ops.matmul(x, w)  # noqa: E731
    real, fake = batches((6, 12))
    expected = 10 * (np.linalg.norm(w) - 1) ** 2
    assert float(penalties.gradient_penalty(critic, real, fake, seed=keras.random.SeedGenerator(3))) == \
        pytest.approx(expected, rel=1e-5)


def test_drawn_coefficients_are_per_sample_and_in_the_unit_interval(monkeypatch):
    drawn = []
    uniform = keras.random.uniform

    def recording_uniform(shape, *args, **kwargs):
        drawn.append(keras.ops.convert_to_numpy(uniform(shape, *args, **kwargs)))
        return drawn[-1]

    monkeypatch.setattr(keras.random, "uniform", recording_uniform)
    real, fake = batches((64, 7))
    got = penalties.gradient_penalty(square_critic, real, fake, seed=keras.random.SeedGenerator(0))
    (alpha,) = drawn
    assert alpha.shape == (64,) and alpha.min() >= 0 and alpha.max() <= 1 and alpha.std() > 0.1
    # ...and each row's x_hat is made with its own coefficient: the penalty of those x_hat, by hand
    x_hat = alpha[:, None] * real + (1 - alpha[:, None]) * fake
    norms = np.linalg.norm(2 * x_hat.astype(np.float64), axis=1)
    assert float(got) == pytest.approx(10 * np.mean((norms - 1) ** 2), rel=1e-5)


def test_penalized_critic_adds_the_penalty_to_its_loss():
    keras.utils.set_random_seed(0)
    network = networks.build_discriminator(units=(16, 8), dropout=0.0, output_activation=None, image_shape=(3, 3, 1))
    alpha = np.linspace(0, 1, 4).astype("float32")
    real, fake = batches((4, 9), seed=2)
    expected = (float(losses.wasserstein(network(real), network(fake)).d_loss)
                + float(penalties.gradient_penalty(network, real, fake, alpha=alpha)))
    critic = PenalizedCritic(network, lambda c, r, f, y=None, seed=None: penalties.gradient_penalty(c, r, f, alpha=alpha))
    critic.compile(optimizer=keras.optimizers.SGD(0.1), loss=losses.DiscriminatorLoss("wasserstein"))
    reported = critic.train_on_batch(np.concatenate([real, fake]), np.zeros((8, 1), np.float32))
    assert reported == pytest.approx(expected, rel=1e-5)  # the loss before the update


def test_gradient_penalty_pushes_the_critic_towards_unit_gradients():
    # Only the penalty (both halves identical, so the Wasserstein term is 0 and has no gradient).
    keras.utils.set_random_seed(0)
    network = networks.build_discriminator(units=(32,), dropout=0.0, output_activation=None, image_shape=(4, 4, 1))
    critic = PenalizedCritic(network, penalties.gradient_penalty)
    critic.compile(optimizer=keras.optimizers.Adam(1e-2), loss=losses.DiscriminatorLoss("wasserstein"))
    x = np.random.default_rng(0).normal(size=(32, 16)).astype("float32")
    batch = np.concatenate([x, x])
    first = critic.train_on_batch(batch, np.zeros((64, 1), np.float32))
    for _ in range(100):
        last = critic.train_on_batch(batch, np.zeros((64, 1), np.float32))
    assert first > 1.0 and last < 0.01 * first


def test_weight_clipping_bounds_the_critic_after_every_update_and_leaves_g_alone():
    keras.utils.set_random_seed(0)
    gan = GAN(networks.build_generator(), networks.build_discriminator(dropout=0.0, output_activation=None),
              loss="wasserstein", penalty="weight_clipping", clip_value=0.01,
              d_optimizer=keras.optimizers.RMSprop(1e-2), g_optimizer=keras.optimizers.RMSprop(5e-5))
    rng = np.random.default_rng(0)
    for i in range(3):
        before = [np.array(w) for w in gan.network.weights]
        gan.discriminator_step(rng.uniform(-1, 1, (16, 784)).astype("float32"),
                               rng.uniform(-1, 1, (16, 10)).astype("float32"))
        after = [np.asarray(w) for w in gan.network.weights]
        assert all(np.abs(w).max() <= 0.01 + 1e-9 for w in after), f"D step {i}"
        assert any(not np.array_equal(a, b) for a, b in zip(after, before))
        # With this learning rate many weights are pushed to the bound: the clip really acted.
        assert np.mean(np.abs(after[0]) == np.float32(0.01)) > 0.2
        gan.generator_step(rng.uniform(-1, 1, (16, 10)).astype("float32"))
    assert max(np.abs(np.asarray(w)).max() for w in gan.generator.weights) > 0.01


def test_clip_weights_constraint_round_trips():
    c = penalties.ClipWeights(0.05)
    again = keras.constraints.deserialize(keras.constraints.serialize(c))
    np.testing.assert_allclose(np.asarray(again(np.array([-1.0, 0.01, 1.0]))), [-0.05, 0.01, 0.05])


def test_unknown_penalty():
    with pytest.raises(ValueError, match="unknown penalty 'spectral'"):
        penalties.get("spectral")
