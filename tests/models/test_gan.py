"""The training step on real weights: which model each step changes, and the losses it computes."""

import keras
import numpy as np
import pytest
from keras_gan.errors import FrozenModelError
from keras_gan.models import networks, replicas
from keras_gan.models.gan import GAN


def params(model):
    """Every kernel, bias and BatchNorm weight of `model`, whatever its trainable flag says."""
    return [w for layer in model.layers for w in layer.weights]


def snapshot(model):
    return [keras.ops.convert_to_numpy(w) for w in params(model)]


def changed(before, model):
    return [not np.array_equal(b, keras.ops.convert_to_numpy(w)) for b, w in zip(before, params(model))]


def noise(n, dim=10, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, dim)).astype("float32")


@pytest.fixture
def deck_gan():
    keras.utils.set_random_seed(0)
    return GAN(networks.build_generator(), networks.build_discriminator())


def real_batch(n=32, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 784)).astype("float32")


def test_combined_model_parameter_counts(deck_gan):
    gan = deck_gan.combined
    assert gan.count_params() == 2_923_537
    assert sum(int(np.prod(w.shape)) for w in gan.trainable_weights) == 1_463_312
    assert sum(int(np.prod(w.shape)) for w in gan.non_trainable_weights
               if "seed_generator" not in w.path) == 1_460_225


def test_each_optimizer_holds_state_for_its_own_model_only(deck_gan):
    d_opt, g_opt = deck_gan.discriminator.optimizer, deck_gan.combined.optimizer
    assert d_opt is not g_opt
    d_ids = {id(w) for w in params(deck_gan.discriminator)}
    g_ids = {id(w) for w in params(deck_gan.generator)}
    assert {id(v) for v in d_opt._trainable_variables} == d_ids
    assert {id(v) for v in g_opt._trainable_variables} == g_ids


def test_steps_change_only_their_own_model_over_many_steps(deck_gan):
    for i in range(12):
        g0, d0 = snapshot(deck_gan.generator), snapshot(deck_gan.discriminator)
        deck_gan.discriminator_step(real_batch(seed=i), noise(32, seed=2 * i))
        assert all(changed(d0, deck_gan.discriminator)), f"D step {i} left some D weight unchanged"
        assert not any(changed(g0, deck_gan.generator)), f"D step {i} changed G"
        g0, d0 = snapshot(deck_gan.generator), snapshot(deck_gan.discriminator)
        deck_gan.generator_step(noise(32, seed=2 * i + 1))
        assert all(changed(g0, deck_gan.generator)), f"G step {i} left some G weight unchanged"
        assert not any(changed(d0, deck_gan.discriminator)), f"G step {i} changed D"


def deck_networks():
    """The slide deck's Sequential G and D as the deck writes them (Dense and LeakyReLU, sigmoid out)."""
    keras.utils.set_random_seed(0)
    generator = keras.Sequential([keras.Input((10,)), keras.layers.Dense(256), keras.layers.LeakyReLU(0.2),
                                  keras.layers.Dense(784, activation="tanh")])
    discriminator = keras.Sequential([keras.Input((784,)), keras.layers.Dense(256), keras.layers.LeakyReLU(0.2),
                                      keras.layers.Dense(1, activation="sigmoid")])
    return generator, discriminator


def test_the_keras_2_order_is_caught_and_the_package_order_trains_d():
    """The classic recipe's trap on Keras 3 (tests/backends runs this on JAX and PyTorch too). Keras 2's
    order, D frozen once before compiling the combined model, would leave D untrained: its step is
    refused with the fix in the message. Setting the flag before every call, as GAN does, trains D
    alone on D's step and G alone on the combined model's."""
    generator, discriminator = deck_networks()
    discriminator.compile(optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), loss="binary_crossentropy")
    discriminator.trainable = False
    combined = keras.Sequential([generator, discriminator])
    combined.compile(optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), loss="binary_crossentropy")
    x, y = np.concatenate([real_batch(16), generator.predict(noise(16), verbose=0)]), np.full((32, 1), 0.9, "float32")
    before = snapshot(discriminator)
    with pytest.raises(FrozenModelError, match="discriminator.trainable = True before D's train_on_batch"):
        replicas.train_on_batch(discriminator, x, y)
    assert not any(changed(before, discriminator))

    for _ in range(3):  # the package's order
        g0, d0 = snapshot(generator), snapshot(discriminator)
        discriminator.trainable = True
        replicas.train_on_batch(discriminator, x, y)
        assert all(changed(d0, discriminator)) and not any(changed(g0, generator))
        g0, d0 = snapshot(generator), snapshot(discriminator)
        discriminator.trainable = False
        replicas.train_on_batch(combined, noise(16, seed=3), np.ones((16, 1), "float32"))
        assert all(changed(g0, generator)) and not any(changed(d0, discriminator))


def test_invariant_survives_a_new_batch_size(deck_gan):
    # A new input shape can retrace the train functions; the trainable flag is set before each call.
    deck_gan.train_step(real_batch(32), noise(32), noise(32))
    g0, d0 = snapshot(deck_gan.generator), snapshot(deck_gan.discriminator)
    deck_gan.generator_step(noise(7))
    assert all(changed(g0, deck_gan.generator)) and not any(changed(d0, deck_gan.discriminator))
    g0, d0 = snapshot(deck_gan.generator), snapshot(deck_gan.discriminator)
    deck_gan.discriminator_step(real_batch(7), noise(7))
    assert all(changed(d0, deck_gan.discriminator)) and not any(changed(g0, deck_gan.generator))


def test_restored_state_continues_identically(deck_gan):
    for i in range(3):
        deck_gan.train_step(real_batch(seed=i), noise(32, seed=10 + i), noise(32, seed=20 + i))
    state = deck_gan.get_state()
    keras.utils.set_random_seed(123)  # a different initialisation, overwritten by the restore
    restored = GAN(networks.build_generator(), networks.build_discriminator())
    restored.set_state(state)
    for i in range(3):
        args = (real_batch(seed=50 + i), noise(32, seed=60 + i), noise(32, seed=70 + i))
        g0, d0 = snapshot(restored.generator), snapshot(restored.discriminator)
        expected = deck_gan.train_step(*args)
        got = restored.discriminator_step(*args[:2])
        assert not any(changed(g0, restored.generator)) and all(changed(d0, restored.discriminator))
        g0, d0 = snapshot(restored.generator), snapshot(restored.discriminator)
        got = (got, restored.generator_step(args[2]))
        assert all(changed(g0, restored.generator)) and not any(changed(d0, restored.discriminator))
        assert got == expected  # exactly: a restored GAN is the same GAN
    for a, b in zip(snapshot(deck_gan.generator), snapshot(restored.generator)):
        np.testing.assert_array_equal(a, b)


def test_set_state_rejects_another_architecture(deck_gan):
    state = deck_gan.get_state()
    other = GAN(networks.build_generator(noise_dim=12), networks.build_discriminator())
    with pytest.raises(ValueError, match="shape"):
        other.set_state(state)


# --- the losses, against closed forms ----------------------------------------------------------------

def _tiny_gan(smoothing=0.9, loss="non_saturating", bias=None):
    keras.utils.set_random_seed(3)
    g = networks.build_generator(4, (2, 2, 1), units=(8,))
    d = networks.build_discriminator((2, 2, 1), units=(8,), dropout=0.0)
    if bias is not None:  # saturate D: every logit near `bias`
        d.layers[-1].bias.assign([bias])
    return GAN(g, d, label_smoothing=smoothing, loss=loss)


def logits(model, x):
    """D's logits as float64, from tensors that went through the model (inference mode: no dropout here)."""
    return keras.ops.convert_to_numpy(model(x, training=False)).astype(np.float64)


def bce(target, x):
    """Binary cross-entropy of sigmoid(x) against `target` from the logits x, float64, never clipped."""
    return float(np.mean(target * np.logaddexp(0, -x) + (1 - target) * np.logaddexp(0, x)))


@pytest.mark.parametrize("smoothing", [0.9, 1.0])
@pytest.mark.parametrize("bias", [None, -30.0, 30.0])
def test_discriminator_loss_is_bce_of_the_logits_with_one_sided_smoothing(smoothing, bias):
    gan = _tiny_gan(smoothing, bias=bias)
    real = np.random.default_rng(0).uniform(-1, 1, (16, 4)).astype("float32")
    z = noise(16, dim=4)
    fake = gan.generator(z, training=False)  # a tensor out of G, as the step makes it
    # Real images are labelled `smoothing` (0.9: one-sided label smoothing), fakes 0.
    expected = (bce(smoothing, logits(gan.network, real)) + bce(0.0, logits(gan.network, fake))) / 2
    assert gan.discriminator_step(real, z) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("loss", ["non_saturating", "minimax"])
@pytest.mark.parametrize("bias", [None, -30.0, 30.0])
def test_generator_loss_of_the_logits(loss, bias):
    gan = _tiny_gan(loss=loss, bias=bias)
    z = noise(16, dim=4, seed=5)
    x = logits(gan.network, gan.generator(z, training=True))
    # non-saturating: E -log D(G(z)); minimax (saturating): E log(1 - D(G(z))).
    expected = np.mean(np.logaddexp(0, -x)) if loss == "non_saturating" else -np.mean(np.logaddexp(0, x))
    assert gan.generator_step(z) == pytest.approx(float(expected), rel=1e-6)


@pytest.mark.parametrize("bias", [-30.0, 30.0])
def test_steps_through_a_saturated_discriminator_move_the_weights(bias):
    # With D's output bias at -30 (every image rejected) or +30 (every image accepted), sigmoid is 0
    # or 1 in float32: a loss on clipped probabilities has no gradient. On the logits it has one:
    # D's step always learns, and so does G's wherever its loss's gradient is not vanishing by
    # design (non-saturating when D rejects the fakes, the saturating minimax when D accepts them).
    loss = "non_saturating" if bias < 0 else "minimax"
    gan = GAN(networks.build_generator(), networks.build_discriminator(), loss=loss)
    gan.network.layers[-1].bias.assign([bias])
    g0, d0 = snapshot(gan.generator), snapshot(gan.network)
    d_loss = gan.discriminator_step(real_batch(), noise(32))
    assert all(changed(d0, gan.network)) and not any(changed(g0, gan.generator))
    assert d_loss > 10  # about 0.5 * 0.9 * 30 or 0.5 * 30: the loss saw how wrong D is
    g0, d0 = snapshot(gan.generator), snapshot(gan.network)
    g_loss = gan.generator_step(noise(32, seed=1))
    assert all(changed(g0, gan.generator)) and not any(changed(d0, gan.network))
    assert abs(g_loss) > 25


def test_batchnorm_in_the_frozen_discriminator_runs_in_inference_mode():
    keras.utils.set_random_seed(0)
    g = networks.build_generator(4, (2, 2, 1), units=(8,))
    d = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.BatchNormalization(),
                          keras.layers.LeakyReLU(0.2), keras.layers.Dense(1)])
    gan = GAN(g, d)
    bn = d.layers[1]
    moving = [keras.ops.convert_to_numpy(bn.moving_mean), keras.ops.convert_to_numpy(bn.moving_variance)]
    gan.generator_step(noise(16, dim=4))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(bn.moving_mean), moving[0])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(bn.moving_variance), moving[1])
    # ... and its output in the G step used the moving statistics: the loss equals inference mode's.
    z = noise(16, dim=4, seed=9)
    expected = float(np.mean(np.logaddexp(0, -logits(d, g(z)))))
    assert gan.generator_step(z) == pytest.approx(expected, rel=1e-6)
    gan.discriminator_step(np.zeros((16, 4), np.float32), noise(16, dim=4))
    assert not np.array_equal(keras.ops.convert_to_numpy(bn.moving_mean), moving[0])  # D's own step updates them


def test_fakes_in_training_mode_update_g_batchnorm_statistics_as_an_eager_call_does():
    """D's fakes are made by one compiled call of G (a tf.function; on JAX a jax.jit of G's stateless
    call, whose new statistics are written back): in training mode G's BatchNorm statistics move exactly
    as an eager training call of the same G moves them, step after step, and Dropout draws new masks each
    step; in inference mode nothing of G changes."""
    keras.utils.set_random_seed(0)
    d = networks.build_discriminator((4,), units=(8,))
    g = networks.build_generator(4, (4,), units=(8, 8), batch_norm=True)
    twin = keras.models.clone_model(g)
    twin.set_weights(g.get_weights())
    gan = GAN(g, d, fakes_in_training_mode=True)
    (bn, twin_bn), = [(a, b) for a, b in zip(g.layers, twin.layers) if isinstance(a, keras.layers.BatchNormalization)]
    real = np.zeros((16, 4), np.float32)
    for step in range(3):
        z = noise(16, dim=4, seed=step)
        fakes = keras.ops.convert_to_numpy(gan._generate(real, z))[16:]
        expected = keras.ops.convert_to_numpy(twin(z, training=True))
        np.testing.assert_allclose(fakes, expected, atol=1e-6)
        for mine, theirs in ((bn.moving_mean, twin_bn.moving_mean), (bn.moving_variance, twin_bn.moving_variance)):
            np.testing.assert_allclose(keras.ops.convert_to_numpy(mine), keras.ops.convert_to_numpy(theirs),
                                       rtol=1e-5, atol=1e-6)
    assert np.abs(keras.ops.convert_to_numpy(bn.moving_mean)).max() > 1e-3  # they moved from zero

    dropped = GAN(networks.build_generator(4, (4,), units=(8,), dropout=0.5), d, fakes_in_training_mode=True)
    z = noise(16, dim=4)
    first, second = (keras.ops.convert_to_numpy(dropped._generate(real, z)) for _ in range(2))
    assert not np.array_equal(first, second)  # a new Dropout mask on each step

    inference = GAN(g, d)
    before = snapshot(g)
    a, b = (keras.ops.convert_to_numpy(inference._generate(real, z)) for _ in range(2))
    np.testing.assert_array_equal(a, b)
    assert not any(changed(before, g))
