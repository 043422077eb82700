"""The speed-only code (keras_gan/training/speed.py): fused Adam against Keras's Adam, step by step;
where each replacement is switched on; and the one setting that switches both off."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.models import networks
from keras_gan.runs.config import TrainConfig
from keras_gan.training import loop, speed, tasks
from keras_gan.training.speed import FusedAdam

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


def test_xla_compiles_the_fakes_only_of_dense_float32_generators_that_draw_nothing():
    # XLA was measured faster only there: slower for convolutions, for Dropout masks and in bfloat16
    def jit(name, speedups=True):
        config = TrainConfig(model=name, dcgan_filters=8, speedups=speedups)
        generator, _ = config.preset.build_networks(noise_dim=config.noise_dim, image_shape=(28, 28, 1))
        return speed.jit_fakes(config.speedups, generator, config.preset.fakes_in_training_mode)

    family = ["vanilla", "vanilla_bn", "cgan", "dcgan", "wgan_gp"]
    assert {name: jit(name) for name in family} == {name: name not in ("cgan", "dcgan") for name in family}
    assert not any(jit(name, speedups=False) for name in family)
    with networks.dtype_policy("mixed_bfloat16"):
        assert not speed.jit_fakes(True, networks.build_generator(), False)
    assert speed.jit_fakes(True, networks.build_generator(dropout=0.5), False)  # inference-mode fakes draw nothing
    assert not speed.jit_fakes(True, networks.build_generator(dropout=0.5), True)


def test_fused_adam_only_where_it_was_measured(monkeypatch):
    assert type(speed.adam(True)) is FusedAdam and type(speed.adam(False)) is keras.optimizers.Adam
    monkeypatch.setattr(speed, "on_a_cpu", lambda: False)  # a GPU machine: neither was measured there
    assert type(speed.adam(True)) is keras.optimizers.Adam
    assert not speed.jit_fakes(True, networks.build_generator(), False)


@pytest.mark.parametrize("model", ["vanilla", "wgan"])
def test_one_setting_switches_every_replacement_off(model):
    on, off = (tasks.build_gan(TrainConfig(model=model, speedups=s)) for s in (True, False))
    adam = model != "wgan"  # wgan trains with RMSProp, which has no replacement
    assert isinstance(on.discriminator.optimizer, FusedAdam) == adam and isinstance(on.combined.optimizer, FusedAdam) == adam
    assert not isinstance(off.discriminator.optimizer, FusedAdam) and not isinstance(off.combined.optimizer, FusedAdam)
    assert on._generate.__dict__.get("_jit_compile") is True and off._generate.__dict__.get("_jit_compile") is False


def test_training_with_and_without_them_computes_the_same_numbers(tmp_path, idx_dir):
    # Keras's own layers either way; the replacements change kernels, not arithmetic: the same losses
    # within float32 rounding over a few steps, from the same seed and data.
    histories = []
    for speedups in (True, False):
        config = TrainConfig(dataset="mnist", data_dir=idx_dir, epochs=1, steps_per_epoch=4, tensorboard=False,
                             output_dir=str(tmp_path / f"run_{speedups}"), speedups=speedups)
        histories.append(loop.fit(config, log=lambda *_: None))
    for key in ("d_loss", "g_loss"):
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=1e-4)


def test_a_checkpoint_resumes_with_them_switched_either_way(tmp_path, idx_dir):
    # No saved file depends on them: fused Adam's slots are Adam's, so a run trained with the
    # replacements goes on without them, and the other way round.
    for first in (True, False):
        config = TrainConfig(dataset="mnist", data_dir=idx_dir, epochs=1, steps_per_epoch=2, tensorboard=False,
                             output_dir=str(tmp_path / f"from_{first}"), speedups=first)
        loop.fit(config, log=lambda *_: None)
        resumed = loop.fit(dataclasses.replace(config, epochs=2, speedups=not first), resume=True,
                           log=lambda *_: None)
        assert [e["epoch"] for e in resumed["epochs"]] == [1, 2] and np.isfinite(resumed["g_loss"]).all()
