"""Extending the package from outside it: a metric, a penalty with its own setting, a callback; and
the TensorBoard summaries of a real run, read back."""

import functools
import json

import keras
import keras_gan
import numpy as np
import pytest
import tensorflow as tf
from keras import ops
from keras_gan import evaluate, train
from keras_gan.data import datasets as data
from keras_gan.data import pipeline
from keras_gan.errors import ConfigError
from keras_gan.evaluation import scoring
from keras_gan.io import figures as plots
from keras_gan.metrics import registry
from keras_gan.models import losses, penalties, presets, sampling
from keras_gan.registry import positive
from keras_gan.runs import folder as rundir
from keras_gan.runs.config import TrainConfig
from keras_gan.training import callbacks, loop, tasks
from tensorboard.backend.event_processing import event_accumulator

# --- a toy metric: the gap between the mean pixel of real and generated images ------------------


def mean_gap(i: registry.Inputs) -> dict:
    return {"mean_gap": float(abs(np.mean(i.real_images) - np.mean(i.fake_images)))}


@pytest.fixture
def toy_metric():
    keras_gan.register_metric(keras_gan.Metric("mean_gap", "the gap between mean pixels", frozenset({registry.IMAGES}),
                                               mean_gap, (registry.Column("mean_gap", "mean gap", "{:.4f}"),)))
    yield
    registry.METRICS.pop("mean_gap")


def test_a_metric_registered_outside_the_package_reaches_every_command(toy_metric, idx_dir, use_classifier,
                                                                       tmp_path):
    out = tmp_path / "floor.json"
    assert evaluate.main(["evaluate", "--test_split", "--dataset=mnist", f"--data_dir={idx_dir}", "--num_samples=40",
                          "--metrics=mean_gap,fid", f"--out={out}"]) == 0
    scores = json.loads(out.read_text())
    arrays = data.load_arrays("mnist", idx_dir)
    real, _ = scoring.real_subset(arrays, 40, 0)
    test = pipeline.to_unit_range(arrays.x_test[:40])
    assert scores["mean_gap"] == pytest.approx(abs(real.mean() - test.mean()), rel=1e-6)
    assert "fid" in scores and "kid" not in scores
    # In training: evals.csv has its column, the log its label, TensorBoard its scalar.
    logged = []
    config = TrainConfig(dataset="mnist", data_dir=idx_dir, output_dir=str(tmp_path / "run"), epochs=2, batch_size=32,
                         steps_per_epoch=2, eval_every=1, eval_samples=40, eval_metrics="mean_gap")
    history = loop.fit(config, log=logged.append)
    assert [sorted(e) for e in history["evals"]] == [["epoch", "feature_network", "mean_gap"]] * 2
    assert (tmp_path / "run" / rundir.EVALS).read_text().splitlines()[0] == "epoch,mean_gap"
    assert any("scores at epoch 2: mean gap " in line and "best mean gap at epoch" in line for line in logged)
    assert [c.label for c in registry.columns() if c.report][-1] == "mean gap"  # a column of the report's table


# --- a toy penalty: Karras et al.'s drift term, weight * E[D(x)^2] on real images ----------------


def drift(critic, real, fake, labels=None, *, seed=None, weight=0.5):
    return weight * ops.mean(ops.square(critic(real if labels is None else [real, labels], training=True)))


@pytest.fixture
def toy_penalty():
    penalties.register(penalties.Penalty(
        "drift", settings=(positive("drift_weight", 0.5, "drift: the weight of E[D(x)^2]."),),
        loss_term=lambda s: functools.partial(drift, weight=s["drift_weight"])))
    keras_gan.register_preset(keras_gan.Preset("wgan_drift", "WGAN with a drift penalty", loss="wasserstein",
                                               penalty="drift", discriminator=dict(dropout=0.0),
                                               defaults={**presets.DECK, "label_smoothing": 1.0, "batch_size": 32}))
    yield
    presets.PRESETS.pop("wgan_drift")
    penalties.PENALTIES.pop("drift")


def test_a_penalty_registered_outside_the_package_owns_its_setting(toy_penalty, idx_dir, tmp_path, capsys):
    assert TrainConfig(model="wgan_drift").drift_weight == 0.5
    config = TrainConfig(model="wgan_drift", drift_weight=0.25, dataset="mnist", data_dir=idx_dir, epochs=1,
                         steps_per_epoch=2, output_dir=str(tmp_path / "run"))
    assert config.drift_weight == 0.25 and TrainConfig.from_json(config.to_json()) == TrainConfig(
        **{**config.values(), "output_dir": ""})
    with pytest.raises(ConfigError, match="--drift_weight must be positive"):
        TrainConfig(model="wgan_drift", drift_weight=-1.0)
    # A flag of the train command, generated from the declaration.
    assert train.main(["train", "--model=wgan_drift", "--drift_weight=0.125", "--dry_run"]) == 0
    assert json.loads(capsys.readouterr().out)["drift_weight"] == 0.125
    # The critic's loss is the Wasserstein loss plus the term, at the configured weight.
    gan = tasks.build_gan(config)
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (32, 784)).astype("float32")
    noise = rng.uniform(-1, 1, (32, 10)).astype("float32")
    fake = np.asarray(gan.generator(noise, training=False))
    d_real, d_fake = np.asarray(gan.network(real)), np.asarray(gan.network(fake))
    expected = d_fake.mean() - d_real.mean() + 0.25 * np.mean(d_real ** 2)
    assert gan.discriminator_step(real, noise) == pytest.approx(float(expected), rel=1e-4)
    # It trains end to end, and a resumed run may not change the setting.
    loop.fit(config, log=lambda *_: None)
    assert json.loads((tmp_path / "run" / rundir.CONFIG).read_text())["drift_weight"] == 0.25
    assert train.main(["train", f"--output_dir={tmp_path / 'run'}", "--resume", "--epochs=2",
                       "--drift_weight=1.0"]) == 2
    assert "--drift_weight (saved 0.25, asked 1.0)" in capsys.readouterr().err


def test_no_loss_or_penalty_is_special_cased_by_name():
    assert not losses.get("wasserstein").real_label and losses.get("non_saturating").real_label
    assert penalties.get("gradient_penalty").loss_term and penalties.get("weight_clipping").constrain
    with pytest.raises(ConfigError, match="unknown penalty 'spectral'"):
        presets.register(presets.Preset("broken", "", penalty="spectral"))
    assert "broken" not in presets.PRESETS


# --- callbacks and TensorBoard -------------------------------------------------------------------


class Recorder(keras_gan.Callback):
    def __init__(self):
        self.steps, self.epochs = [], []

    def on_step_end(self, run, step, logs):
        self.steps.append((step, logs["d_loss"], logs["g_loss"]))

    def on_epoch_end(self, run, epoch, logs):
        self.epochs.append((epoch, dict(logs)))


def _tensors(folder) -> dict:
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={event_accumulator.TENSORS: 0})
    acc.Reload()
    return {tag: acc.Tensors(tag) for tag in acc.Tags()["tensors"]}


def test_tensorboard_and_a_users_callback_see_every_step_of_a_real_run(idx_dir, use_classifier, tmp_path):
    config = TrainConfig(dataset="mnist", data_dir=idx_dir, output_dir=str(tmp_path / "run"), epochs=2, batch_size=32,
                         steps_per_epoch=3, eval_every=2, eval_samples=40)
    recorder = Recorder()
    history = keras_gan.fit(config, log=lambda *_: None, callbacks=[recorder])
    assert [s[0] for s in recorder.steps] == [1, 2, 3, 4, 5, 6]
    assert [s[1] for s in recorder.steps] == history["d_loss"] and [s[2] for s in recorder.steps] == history["g_loss"]
    assert [e for e, _ in recorder.epochs] == [1, 2] and "fid" in recorder.epochs[1][1]["scores"]
    events = _tensors(tmp_path / "run" / rundir.TENSORBOARD)
    for tag, values in (("loss/d", history["d_loss"]), ("loss/g", history["g_loss"])):
        assert [e.step for e in events[tag]] == [1, 2, 3, 4, 5, 6]
        np.testing.assert_allclose([_value(e) for e in events[tag]], values, rtol=1e-6)
    assert [e.step for e in events["epoch/d_loss"]] == [1, 2]
    assert [e.step for e in events["scores/fid"]] == [2]
    assert _value(events["scores/fid"][0]) == pytest.approx(history["evals"][0]["fid"], rel=1e-6)
    # The sample grid: one PNG per epoch, rows x cols images of 28 x 28.
    assert [e.step for e in events["samples"]] == [1, 2]
    png = tf.make_ndarray(events["samples"][-1].tensor_proto)[2]  # width, height, then the encoded image
    image = tf.io.decode_png(png).numpy()
    assert image.shape == (config.sample_rows * 28, config.sample_cols * 28, 1)
    run = tasks.build_gan(config)  # the grid shows the last epoch's generator on the fixed noise
    run.generator.set_weights(keras.models.load_model(tmp_path / "run" / rundir.GENERATOR).get_weights())
    expected = plots.tile(run.sample(tasks.fixed_noise(config)), (28, 28, 1), config.sample_rows, config.sample_cols)
    assert np.abs(image / 255.0 - expected).max() <= 1 / 255 + 1e-6


def _value(event) -> float:
    return float(tf.make_ndarray(event.tensor_proto))


def test_tensorboard_can_be_turned_off(idx_dir, tmp_path):
    config = TrainConfig(dataset="mnist", data_dir=idx_dir, output_dir=str(tmp_path / "run"), epochs=1, batch_size=32,
                         steps_per_epoch=2, tensorboard=False)
    loop.fit(config, log=lambda *_: None)
    assert not (tmp_path / "run" / rundir.TENSORBOARD).exists()
    assert callbacks.Checkpoint in [type(c) for c in callbacks.for_run(config)][-1:]


def test_metric_names_and_keys_are_checked(toy_metric):
    with pytest.raises(ConfigError, match="--eval_metrics: unknown bogus; choose from fid, "):
        TrainConfig(eval_metrics="fid,bogus")
    assert TrainConfig(eval_metrics="mean_gap").eval_metrics == "mean_gap"
    sloppy = registry.Metric("sloppy", "", frozenset({registry.IMAGES}), lambda i: {"sloppy": 1.0, "extra": 2.0},
                             (registry.Column("sloppy", "sloppy"),))
    images = np.zeros((4, 28, 28, 1), np.float32)
    with pytest.raises(ValueError, match=r"metric 'sloppy' returned keys it does not declare: \['extra'\]"):
        registry.compute([sloppy], registry.Inputs(images, images))
    assert registry.compute([registry.METRICS["mean_gap"]], registry.Inputs(images, images + 0.5)) == {"mean_gap": 0.5}


def test_the_python_api_of_the_readme(idx_dir, use_classifier, tmp_path):
    config = keras_gan.TrainConfig(model="cgan", dataset="mnist", data_dir=idx_dir, epochs=1, batch_size=32,
                                   steps_per_epoch=2, output_dir=str(tmp_path / "cgan"))
    history = keras_gan.fit(config, log=lambda *_: None)
    assert len(history["d_loss"]) == 2
    g = keras_gan.load_generator(str(tmp_path / "cgan" / rundir.GENERATOR))
    assert (g.noise, g.image_shape, g.num_classes) == ("normal", (28, 28, 1), 10)
    images = g.sample(12, seed=0)
    assert images.shape == (12, 28, 28, 1) and images.dtype == np.float32
    # sample() draws each class in turn from the run's noise distribution, with the seed given.
    noise = sampling.make_noise(np.random.default_rng(0), 12, 100, "normal")
    np.testing.assert_array_equal(images, g.decode(noise, np.arange(12) % 10))
    assert g.decode(g.noise_for(3, seed=1), labels=[3] * 3).shape == (3, 28, 28, 1)
    scores = keras_gan.score_generator(str(tmp_path / "cgan" / rundir.GENERATOR), "mnist", data_dir=idx_dir,
                                       num_samples=30, seed=0, metrics=["fid"], log=lambda *_: None)
    assert set(scores) == {"real_samples", "generated_samples", "feature_network", "fid"}
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        keras_gan.nothing  # noqa: B018


class StopAtStep(keras_gan.Callback):
    def __init__(self):
        self.ended = 0

    def on_step_end(self, run, step, logs):
        if step == 2:
            raise KeyboardInterrupt

    def on_train_end(self, run):
        self.ended += 1


def test_on_train_end_runs_however_training_ends(idx_dir, tmp_path):
    config = TrainConfig(dataset="mnist", data_dir=idx_dir, output_dir=str(tmp_path / "run"), epochs=2, batch_size=32,
                         steps_per_epoch=2)
    stop = StopAtStep()
    with pytest.raises(KeyboardInterrupt):
        keras_gan.fit(config, log=lambda *_: None, callbacks=[stop])
    assert stop.ended == 1  # and TensorBoard's writer, closed the same way, wrote nothing of the epoch
    assert not (tmp_path / "run" / rundir.TENSORBOARD).exists()
