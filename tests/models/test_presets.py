"""Every preset of the family: its networks, its parameter count, which weights each step changes,
a training run end to end on fabricated data, and its saved generator."""

import dataclasses
import json
import pathlib
import shutil

import keras
import numpy as np
import pytest
from keras_gan import train
from keras_gan.data import pipeline
from keras_gan.errors import ConfigError
from keras_gan.io import keras_files as saving
from keras_gan.models import presets, sampling
from keras_gan.models.gan import GAN, PenalizedCritic
from keras_gan.runs import checkpoint
from keras_gan.runs.config import TrainConfig
from keras_gan.training import loop, tasks

from tests.conftest import family_data, made_once
from tests.models.test_gan import changed, snapshot


def dense(i, o):
    return i * o + o


def bn(n):
    return 4 * n  # gamma, beta, moving mean, moving variance


def conv(i, o, k=3):
    return k * k * i * o + o


# Parameter counts worked out by hand from each preset's layer sizes (28x28x1 images, 10 classes).
EXPECTED_PARAMS = {
    "vanilla": (dense(10, 256) + dense(256, 512) + dense(512, 1024) + dense(1024, 784),
                dense(784, 1024) + dense(1024, 512) + dense(512, 256) + dense(256, 1)),
    "vanilla_fashion": (dense(128, 256) + dense(256, 512) + dense(512, 1024) + dense(1024, 784),
                        dense(784, 1024) + dense(1024, 512) + dense(512, 256) + dense(256, 1)),
    "vanilla_bn": (dense(100, 128) + dense(128, 256) + bn(256) + dense(256, 512) + bn(512)
                   + dense(512, 1024) + bn(1024) + dense(1024, 784),
                   dense(784, 512) + dense(512, 256) + dense(256, 1)),
    "cgan": (dense(110, 256) + dense(256, 512) + dense(512, 1200) + dense(1200, 784),
             dense(794, 1024) + dense(1024, 512) + dense(512, 256) + dense(256, 1)),
    "dcgan": (dense(100, 7 * 7 * 128) + bn(128) + conv(128, 128) + bn(128) + conv(128, 64) + bn(64) + conv(64, 1),
              conv(1, 16) + conv(16, 32) + bn(32) + conv(32, 64) + bn(64) + conv(64, 128) + bn(128)
              + dense(2 * 2 * 128, 1)),
    # at 32x32x3 (cifar10) and a width of 16: 4x4x64 -> 8x8x32 -> 16x16x16 -> 32x32x3, 4x4 kernels,
    # no biases before BatchNorm; D 16 -> 32 -> 64 down to 4x4
    "dcgan_paper": (100 * 16 * 64 + bn(64) + 16 * 64 * 32 + bn(32) + 16 * 32 * 16 + bn(16) + conv(16, 3, k=4),
                    conv(3, 16, k=4) + 16 * 16 * 32 + bn(32) + 16 * 32 * 64 + bn(64) + dense(4 * 4 * 64, 1)),
}
for _name in ("lsgan", "wgan", "wgan_gp"):  # the deck's networks with another loss
    EXPECTED_PARAMS[_name] = EXPECTED_PARAMS["vanilla"]

FAMILY = [name for name, p in presets.PRESETS.items() if p.task == "noise"]  # GANs of noise (tests/training/test_image_members.py: the rest)


def build(model, **kw):
    keras.utils.set_random_seed(0)
    data = dict(dataset="cifar10", dcgan_filters=16) if presets.get(model).architecture == "paper" else \
        dict(dataset="fashion_mnist")
    config = TrainConfig(model=model, **{**data, **kw})
    return config, tasks.build_gan(config)


def batch(gan, n=16, seed=0):
    """Real images, noise for D and G, and labels (for conditional models), as the loop makes them."""
    rng = np.random.default_rng(seed)
    shape = gan.network.inputs[0].shape[1:]
    real = rng.uniform(-1, 1, (n, *shape)).astype("float32")
    dim = gan.generator.inputs[0].shape[-1]
    z = [rng.uniform(-1, 1, (n, dim)).astype("float32") for _ in range(2)]
    labels = [rng.integers(0, 10, n) if gan.conditional else None for _ in range(3)]
    return real, z, labels


def test_every_preset_is_tested():
    assert set(EXPECTED_PARAMS) == set(FAMILY)


@pytest.mark.parametrize("model", FAMILY)
def test_preset_parameter_counts(model):
    _, gan = build(model)
    g_params, d_params = EXPECTED_PARAMS[model]
    assert gan.generator.count_params() == g_params
    assert gan.network.count_params() == d_params
    assert sum(int(np.prod(w.shape)) for w in gan.combined.trainable_weights) == \
        sum(int(np.prod(w.shape)) for w in gan.generator.trainable_weights)


@pytest.mark.parametrize("model", FAMILY)
def test_each_step_changes_only_its_own_model(model):
    _, gan = build(model)
    for i in range(3):
        real, (z_d, z_g), (y, y_fake, y_g) = batch(gan, seed=i)
        g0, d0 = snapshot(gan.generator), snapshot(gan.network)
        gan.discriminator_step(real, z_d, y, y_fake)
        d_changed = changed(d0, gan.network)
        if presets.get(model).loss == "wasserstein":
            # E[D(fake)] - E[D(real)] does not depend on the critic's output bias: its gradient is 0.
            assert not d_changed.pop(), f"{model}: the critic's output bias moved"
        assert all(d_changed), f"{model}: D step {i} left a D weight unchanged"
        assert not any(changed(g0, gan.generator)), f"{model}: D step {i} changed G"
        g0, d0 = snapshot(gan.generator), snapshot(gan.network)
        gan.generator_step(z_g, y_g)
        assert all(changed(g0, gan.generator)), f"{model}: G step {i} left a G weight unchanged"
        assert not any(changed(d0, gan.network)), f"{model}: G step {i} changed D"


@pytest.mark.parametrize("model", [m for m in FAMILY if presets.get(m).loss != "wasserstein"])
def test_steps_through_a_saturated_discriminator(model):
    # D's output bias at -30: sigmoid(score) is 0 in float32 for every image. The cross-entropy
    # and least-squares losses, computed on the raw scores, still move every D weight in D's step
    # and every G weight in G's step.
    _, gan = build(model)
    gan.network.layers[-1].bias.assign([-30.0])
    real, (z_d, z_g), (y, y_fake, y_g) = batch(gan)
    g0, d0 = snapshot(gan.generator), snapshot(gan.network)
    gan.discriminator_step(real, z_d, y, y_fake)
    assert all(changed(d0, gan.network)) and not any(changed(g0, gan.generator)), model
    g0, d0 = snapshot(gan.generator), snapshot(gan.network)
    gan.generator_step(z_g, y_g)
    assert all(changed(g0, gan.generator)) and not any(changed(d0, gan.network)), model


def test_presets_plug_in_their_loss_and_penalty():
    assert isinstance(build("wgan_gp")[1].discriminator, PenalizedCritic)
    _, wgan = build("wgan")
    assert wgan.network.outputs[0].shape[-1] == 1 and wgan.network.layers[-1].activation.__name__ == "linear"
    assert isinstance(wgan.discriminator.optimizer, keras.optimizers.RMSprop)
    assert all(v.constraint is not None for v in wgan.network.trainable_weights)
    _, lsgan = build("lsgan")
    assert lsgan.discriminator.loss.loss == "least_squares"
    # D trains on raw scores (logits for cross-entropy); the exported D applies the loss's
    # activation: the deck's sigmoid for cross-entropy, none for least squares and Wasserstein.
    for model, activation in (("lsgan", "linear"), ("wgan_gp", "linear"), ("vanilla", "sigmoid"),
                              ("dcgan", "sigmoid"), ("cgan", "sigmoid"), ("vanilla_bn", "sigmoid")):
        gan = build(model)[1]
        exported = gan.discriminator_for_export()
        assert gan.network.layers[-1].activation.__name__ == "linear", model
        assert exported.layers[-1].activation.__name__ == activation, model
        assert exported.count_params() == gan.network.count_params() and not exported.compiled, model
    _, cgan = build("cgan")
    assert cgan.conditional and cgan.num_classes == 10


def _stochastic_generators():
    """The presets whose G has BatchNorm or Dropout: the only ones for which G's mode matters."""
    found = []
    for name in FAMILY:
        _, gan = build(name)
        if any(isinstance(layer, (keras.layers.BatchNormalization, keras.layers.Dropout))
               for layer in gan.generator.layers):
            found.append(name)
    return found


def test_the_presets_whose_generator_mode_matters():
    assert _stochastic_generators() == ["vanilla_bn", "cgan", "dcgan", "dcgan_paper"]


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("model", ["vanilla_bn", "cgan", "dcgan", "dcgan_paper"])
def test_d_trains_on_fakes_from_g_in_the_presets_mode(model, training, monkeypatch):
    # Training mode: BatchNorm on the batch's statistics (and its moving statistics updated, as in the
    # seeds' PyTorch loops), Dropout drawing new masks, so two calls differ and neither equals
    # inference mode. Inference mode: the deck's generator.predict, deterministic.
    monkeypatch.setitem(presets.PRESETS, model, dataclasses.replace(presets.get(model), fakes_in_training_mode=training))
    _, gan = build(model)
    assert gan.fakes_in_training_mode is training
    real, (z, _), (y, y_fake, _) = batch(gan, n=32)
    norms = [layer for layer in gan.generator.layers if isinstance(layer, keras.layers.BatchNormalization)]
    before = [np.array(layer.moving_mean) for layer in norms]
    made = [gan._generate(real, z, y, y_fake) if gan.conditional else gan._generate(real, z) for _ in range(2)]
    fakes = [np.asarray(m[0] if gan.conditional else m)[32:] for m in made]
    inference = gan.sample(z, y_fake).reshape(fakes[0].shape)
    moved = [not np.array_equal(b, np.asarray(layer.moving_mean)) for b, layer in zip(before, norms)]
    if training:
        assert not np.allclose(fakes[0], inference, atol=1e-4)
        if norms:
            assert all(moved)
        else:  # dropout only: a new mask at each call
            assert not np.allclose(fakes[0], fakes[1], atol=1e-4)
    else:
        np.testing.assert_allclose(fakes[0], inference, atol=1e-5)
        np.testing.assert_array_equal(fakes[0], fakes[1])
        assert not any(moved)


def test_frozen_batchnorm_discriminator_runs_in_inference_mode_in_the_g_step():
    # DCGAN's D has BatchNorm. In the G step (D frozen) it must use its moving statistics and
    # leave them alone; G's own BatchNorm trains. Dropout is off so the loss is deterministic.
    from keras_gan.models import losses, networks

    keras.utils.set_random_seed(0)
    d = networks.build_dcgan_discriminator(dropout=0.0)
    g = networks.build_dcgan_generator(16, filters=16)
    gan = GAN(g, d)
    rng = np.random.default_rng(0)
    for _ in range(2):  # move D's statistics away from their initial values first
        gan.discriminator_step(rng.uniform(-1, 1, (8, 28, 28, 1)).astype("float32"),
                               rng.normal(size=(8, 16)).astype("float32"))
    z = rng.normal(size=(8, 16)).astype("float32")
    expected = float(losses.non_saturating(None, d(g(z, training=True), training=False)).g_loss)
    moving = [w for layer in d.layers if isinstance(layer, keras.layers.BatchNormalization)
              for w in (layer.moving_mean, layer.moving_variance)]
    assert len(moving) == 6
    before = [np.array(w) for w in moving]
    assert gan.generator_step(z) == pytest.approx(expected, rel=1e-5)
    for b, w in zip(before, moving):
        np.testing.assert_array_equal(b, np.asarray(w))


def test_conditional_generator_follows_its_label():
    _, gan = build("cgan")
    z = np.random.default_rng(0).normal(size=(4, 100)).astype("float32")
    a, b = gan.sample(z, np.array([0, 0, 0, 0])), gan.sample(z, np.array([3, 3, 3, 3]))
    assert not np.allclose(a, b)
    real, (z_d, _), (y, y_fake, _) = batch(gan)
    x, labels = gan._generate(real, z_d, y, y_fake)
    np.testing.assert_array_equal(np.argmax(np.asarray(labels), axis=1), np.concatenate([y, y_fake]))
    np.testing.assert_array_equal(np.asarray(x)[:16], real)
    # The fakes are G's for the labels asked for: with Dropout's masks off, exactly gan.sample's.
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(presets.PRESETS, "cgan", dataclasses.replace(presets.get("cgan"), fakes_in_training_mode=False))
        _, gan = build("cgan")
    x, _ = gan._generate(real, z_d, y, y_fake)
    np.testing.assert_allclose(np.asarray(x)[16:], gan.sample(z_d, y_fake), atol=1e-5)
    with pytest.raises(ValueError, match="conditional"):
        gan.generator_step(z_d)


def test_cgan_paper_layout():
    _, gan = build("cgan", cgan_layout="paper")
    sizes = {layer.name: layer.units for layer in gan.generator.layers if hasattr(layer, "units")}
    assert sizes["noise_branch"] == 200 and sizes["label_branch"] == 1000
    assert gan.generator.count_params() == dense(100, 200) + dense(10, 1000) + dense(1200, 784)


# --- end to end, one preset at a time ------------------------------------------------------------

def small(model, idx_dir, out, **kw):
    values = dict(model=model, **family_data(model, idx_dir), output_dir=str(out), epochs=1,
                  batch_size=16, steps_per_epoch=2, seed=3)
    if model == "dcgan":
        values["dcgan_filters"] = 16
    return TrainConfig(**{**values, **kw})


def one_epoch(model, idx_dir, tmp_path_factory):
    """(config, history) of one epoch of `model`'s small configuration, trained once per run of the
    suite for the tests that read it (the resume test continues a copy)."""
    def make(folder):
        history = loop.fit(small(model, idx_dir, folder / "run"), log=lambda *_: None)
        (folder / "history.json").write_text(json.dumps(history))

    folder = made_once(tmp_path_factory, f"one_epoch_{model}", make)
    return small(model, idx_dir, folder / "run"), json.loads((folder / "history.json").read_text())


@pytest.mark.parametrize("model", FAMILY)
def test_one_epoch_end_to_end_and_the_saved_generator_round_trips(model, idx_dir, tmp_path_factory):
    config, history = one_epoch(model, idx_dir, tmp_path_factory)
    assert len(history["d_loss"]) == 2 and np.all(np.isfinite(history["d_loss"] + history["g_loss"]))
    folder = pathlib.Path(config.run_dir)
    state, _ = checkpoint.load(str(folder))
    gan = tasks.build_gan(config)
    gan.set_state(state)
    # The optimizers counted n_critic D updates per G update.
    d_iterations = int(gan.discriminator.optimizer.iterations.numpy())
    g_iterations = int(gan.combined.optimizer.iterations.numpy())
    assert (d_iterations, g_iterations) == (2 * config.n_critic, 2)
    loaded = saving.load_generator_model(str(folder / "generator.keras"))
    n = 5
    labels = np.arange(n) if gan.conditional else None
    shape = config.spec.image_shape
    np.testing.assert_array_equal(sampling.Generator(loaded, config.noise, shape).sample(n, 0, labels),
                                  sampling.Generator(gan.generator, config.noise, shape).sample(n, 0, labels))
    assert (folder / "samples" / "epoch_001.png").stat().st_size > 1000


def test_each_critic_update_gets_its_own_real_batch(idx_dir, tmp_path, monkeypatch):
    # WGAN's 5 critic updates per G update each take the next batch of the epoch's permutation: 15
    # distinct batches over 3 steps, together the first 15 x 16 images in the epoch's order.
    from keras_gan.data import datasets as data

    seen = []
    real = GAN.discriminator_step
    monkeypatch.setattr(GAN, "discriminator_step", lambda self, x, *a: seen.append(np.asarray(x)) or real(self, x, *a))
    config = small("wgan", idx_dir, tmp_path / "w", steps_per_epoch=3)
    loop.fit(config, log=lambda *_: None)
    assert len(seen) == 15
    arrays = data.load_arrays("mnist", idx_dir)
    order = pipeline.Pipeline(arrays.x_train).order(config.seed, 1)
    expected = pipeline.to_unit_range(arrays.x_train[order[:15 * 16]]).reshape(15, 16, -1)
    np.testing.assert_array_equal(np.stack(seen), expected)
    assert len({batch.tobytes() for batch in seen}) == 15


def test_wgan_takes_five_critic_updates_per_generator_update(idx_dir, tmp_path, monkeypatch):
    calls = []
    for name in ("discriminator_step", "generator_step"):
        real = getattr(GAN, name)
        monkeypatch.setattr(GAN, name, lambda self, *a, _real=real, _name=name: calls.append(_name) or _real(self, *a))
    loop.fit(small("wgan", idx_dir, tmp_path / "w", steps_per_epoch=3), log=lambda *_: None)
    assert calls == (["discriminator_step"] * 5 + ["generator_step"]) * 3


@pytest.mark.parametrize("model", ["wgan_gp", "cgan", "vanilla_bn", "dcgan"])
def test_resumed_runs_continue_exactly(model, idx_dir, tmp_path, tmp_path_factory):
    # Exactly: the same losses to the last bit, BatchNorm's moving statistics and Dropout's seeds included.
    reference = loop.fit(small(model, idx_dir, tmp_path / "a", epochs=2), log=lambda *_: None)
    shutil.copytree(one_epoch(model, idx_dir, tmp_path_factory)[0].run_dir, tmp_path / "b")  # a run stopped after epoch 1
    resumed = loop.fit(small(model, idx_dir, tmp_path / "b", epochs=2), resume=True, log=lambda *_: None)
    assert resumed["d_loss"] == reference["d_loss"] and resumed["g_loss"] == reference["g_loss"]
    a, b = checkpoint.load(str(tmp_path / "a"))[0], checkpoint.load(str(tmp_path / "b"))[0]
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_preset_defaults_and_overrides():
    assert TrainConfig(model="wgan").learning_rate == 5e-5 and TrainConfig(model="wgan").n_critic == 5
    gp = TrainConfig(model="wgan_gp")
    assert (gp.learning_rate, gp.beta_1, gp.beta_2, gp.n_critic, gp.gp_weight) == (1e-4, 0.5, 0.9, 5, 10.0)
    assert TrainConfig(model="vanilla_bn").weight_decay == 8e-9
    assert TrainConfig(model="lsgan").label_smoothing == 1.0
    assert TrainConfig(model="vanilla").label_smoothing == 0.9
    assert TrainConfig(model="cgan", learning_rate=1e-3).learning_rate == 1e-3
    fashion = TrainConfig(model="vanilla_fashion")
    assert (fashion.noise_dim, fashion.noise, fashion.sample_rows * fashion.sample_cols) == (128, "normal", 64)
    # A config.json round-trips with every value resolved.
    assert TrainConfig.from_json(gp.to_json()) == gp
    assert dataclasses.replace(gp, epochs=3).n_critic == 5


@pytest.mark.parametrize("kw, message", [
    (dict(model="wgan", label_smoothing=0.9), "does not apply to --model=wgan"),
    (dict(model="wgan_gp", n_critic=0), "--n_critic must be a positive integer"),
    (dict(model="cgan", cgan_layout="branches"), "--cgan_layout must be one of"),
    (dict(model="wgan", clip_value=-1.0), "--clip_value must be positive"),
    (dict(model="gan2"), "unknown model 'gan2'"),
])
def test_bad_preset_settings(kw, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**kw)


def test_cli_rejects_label_smoothing_for_wasserstein(capsys):
    assert train.main(["train", "--model=wgan_gp", "--label_smoothing=0.9", "--dry_run"]) == 2
    assert "does not apply" in capsys.readouterr().err


def test_dcgan_for_cifar10_shaped_images():
    keras.utils.set_random_seed(0)
    config = TrainConfig(model="dcgan", dataset="cifar10", dcgan_filters=32)
    gan = tasks.build_gan(config)
    assert gan.generator.outputs[0].shape[1:] == (32, 32, 3)
    assert gan.generator.count_params() == (dense(100, 8 * 8 * 32) + bn(32) + conv(32, 32) + bn(32)
                                            + conv(32, 16) + bn(16) + conv(16, 3))
    assert gan.network.count_params() == (conv(3, 16) + conv(16, 32) + bn(32) + conv(32, 64) + bn(64)
                                          + conv(64, 128) + bn(128) + dense(2 * 2 * 128, 1))
    rng = np.random.default_rng(0)
    g0, d0 = snapshot(gan.generator), snapshot(gan.network)
    gan.discriminator_step(rng.uniform(-1, 1, (8, 32, 32, 3)).astype("float32"),
                           rng.normal(size=(8, 100)).astype("float32"))
    assert all(changed(d0, gan.network)) and not any(changed(g0, gan.generator))
    samples = gan.sample(rng.normal(size=(4, 100)).astype("float32"))
    assert samples.shape == (4, 32, 32, 3) and np.abs(samples).max() <= 1


def test_dcgan_needs_sides_divisible_by_four():
    from keras_gan.models import networks

    with pytest.raises(ValueError, match="divisible by 4"):
        networks.build_dcgan_generator(100, (30, 30, 1))
