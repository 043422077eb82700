"""The feature networks and `python -m keras_gan.evaluate`, on fabricated MNIST-shaped data."""

import dataclasses
import json

import keras
import numpy as np
import pytest

from keras_gan import data, evaluate, train
from keras_gan.config import TrainConfig
from keras_gan.metrics import features


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GAN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_classifier_is_trained_once_and_reused(idx_dir, cache, monkeypatch):
    messages = []
    net = features.classifier("mnist", idx_dir, log=messages.append)
    assert any("training one" in m for m in messages)
    epochs = [m for m in messages if m.startswith("classifier epoch ")]  # progress, one line per epoch
    assert len(epochs) == features.CLASSIFIER_EPOCHS and epochs[-1].startswith(
        f"classifier epoch {features.CLASSIFIER_EPOCHS}/{features.CLASSIFIER_EPOCHS}: loss ")
    info = json.loads((cache / "classifier_mnist.keras.json").read_text())
    assert info["dataset"] == "mnist" and 0 <= info["test_accuracy"] <= 1
    monkeypatch.setattr(features, "train_classifier", lambda *a, **k: pytest.fail("trained again"))
    again = features.classifier("mnist", idx_dir)
    x = data.to_unit_range(data.load_arrays("mnist", idx_dir).x_test[:7])
    f1, p1 = net(x)
    f2, p2 = again(x, batch_size=3)
    assert f1.shape == (7, 128) and p1.shape == (7, 10)
    np.testing.assert_allclose(f1, f2, atol=1e-5)
    np.testing.assert_allclose(p1.sum(axis=1), 1, atol=1e-5)
    assert "test accuracy" in again.description


def test_inception_features_from_user_weights(tmp_path):
    keras.utils.set_random_seed(0)
    path = tmp_path / "inception.weights.h5"
    keras.applications.InceptionV3(weights=None).save_weights(path)  # random weights stand in for ImageNet's
    net = features.inception(str(path), (28, 28, 1))
    x = np.random.default_rng(0).uniform(-1, 1, (3, 28, 28, 1)).astype("float32")
    f, p = net(x, batch_size=2)
    assert f.shape == (3, 2048) and p.shape == (3, 1000)
    np.testing.assert_allclose(p.sum(axis=1), 1, atol=1e-4)
    with pytest.raises(Exception, match="file not found"):
        features.inception(str(tmp_path / "missing.h5"), (28, 28, 1))


class LabelNetwork:
    """A stand-in feature network: features are the pixels, probabilities one-hot by brightness."""

    name = "classifier"

    def __call__(self, images, progress=False):
        flat = np.asarray(images, np.float64).reshape(len(images), -1)
        classes = np.clip(((flat.mean(axis=1) + 1) * 5).astype(int), 0, 9)
        return flat, np.eye(10)[classes]


def test_score_flags_a_collapsed_generator():
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (200, 4, 4, 1)) * 0.1 + np.linspace(-0.9, 0.9, 200)[:, None, None, None]
    good = real[rng.permutation(200)] + rng.normal(0, 0.01, real.shape)
    collapsed = np.repeat(real[:1], 200, axis=0)
    s_good = evaluate.score(real, good, LabelNetwork(), real_labels=np.zeros(200, int) + 1)
    s_bad = evaluate.score(real, collapsed, LabelNetwork())
    assert s_good["classes_covered"] == 10 and s_bad["classes_covered"] == 1
    assert s_bad["fid"] > 10 * s_good["fid"] and s_bad["recall"] < 0.05 < s_good["recall"]
    assert s_bad["likeness"] < 0.1 < s_good["likeness"]
    assert evaluate.score(real, good, LabelNetwork(), metrics=["fid"]).keys() == {"fid"}


def test_evaluate_the_test_split(idx_dir, use_classifier, tmp_path, capsys):
    out = tmp_path / "floor.json"
    code = evaluate.main(["evaluate", "--test_split", "--dataset=mnist", f"--data_dir={idx_dir}",
                          "--num_samples=64", f"--out={out}"])
    assert code == 0, capsys.readouterr().err
    results = json.loads(out.read_text())
    for key in ("fid", "kid", "kid_std", "is", "precision", "recall", "density", "coverage", "likeness",
                "classes_covered", "mode_kl"):
        assert isinstance(results[key], (int, float)), key
    assert results["real_samples"] == 64 and results["generated_samples"] == 64
    assert "classifier" in results["feature_network"]
    assert "fid" in capsys.readouterr().out


def test_evaluate_a_conditional_generator_and_an_array(idx_dir, use_classifier, tmp_path, capsys):
    run = tmp_path / "cgan"
    train.train(TrainConfig(model="cgan", dataset="mnist", data_dir=idx_dir, output_dir=str(run), epochs=1,
                            batch_size=32, steps_per_epoch=2), log=lambda *_: None)
    assert evaluate.main(["evaluate", f"--generator={run / 'generator.keras'}", "--num_samples=40",
                          "--metrics=fid,modes"]) == 0
    results = json.loads((run / "metrics.json").read_text())
    assert set(results) >= {"fid", "classes_covered", "label_accuracy"} and "kid" not in results
    images = np.random.default_rng(0).uniform(-1, 1, (40, 28, 28, 1)).astype("float32")
    np.save(tmp_path / "x.npy", images)
    assert evaluate.main(["evaluate", f"--images={tmp_path / 'x.npy'}", "--dataset=mnist",
                          f"--data_dir={idx_dir}", "--num_samples=40", "--metrics=fid",
                          f"--out={tmp_path / 'x.json'}"]) == 0
    assert json.loads((tmp_path / "x.json").read_text())["generated_samples"] == 40


@pytest.mark.parametrize("args, message", [
    (["--dataset=mnist"], "exactly one of"),
    (["--test_split", "--images=x.npy", "--dataset=mnist"], "exactly one of"),
    (["--test_split", "--dataset=mnist", "--metrics=fid,foo"], "unknown foo"),
    (["--test_split", "--dataset=mnist", "--num_samples=3"], "at least 10"),
    (["--test_split"], "--dataset is required"),
    (["train-classifier"], "needs --dataset"),
    (["--test_split", "--dataset=mnist", "--inception_weights=/nonexistent.h5"], "file not found"),
])
def test_bad_arguments(args, message, idx_dir, use_classifier, capsys):
    assert evaluate.main(["evaluate", f"--data_dir={idx_dir}", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_images_out_of_range(idx_dir, use_classifier, tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.full((20, 784), 255.0, np.float32))
    assert evaluate.main(["evaluate", f"--images={tmp_path / 'x.npy'}", "--dataset=mnist",
                          f"--data_dir={idx_dir}", "--num_samples=20"]) == 2
    assert "values in [-1, 1]" in capsys.readouterr().err


def test_eval_every_records_scores_and_keeps_the_best_generator(idx_dir, use_classifier, tmp_path):
    config = TrainConfig(dataset="mnist", data_dir=idx_dir, output_dir=str(tmp_path / "run"), epochs=3,
                         batch_size=32, steps_per_epoch=3, eval_every=2, eval_samples=40)
    history = train.train(config, log=lambda *_: None)
    evals = history["evals"]
    assert [e["epoch"] for e in evals] == [2, 3]  # every 2 epochs, and the last
    assert all(e["fid"] >= 0 and 0 <= e["classes_covered"] <= 10 for e in evals)
    assert all(e["kid_std"] > 0 for e in evals)  # subsets smaller than the set, so they differ
    best = min(evals, key=lambda e: e["fid"])["epoch"]
    assert history["best_epoch"] == best
    run = tmp_path / "run"
    for name in ("evals.csv", "metric_curves.png", "generator_best.keras"):
        assert (run / name).is_file(), name
    assert len((run / "evals.csv").read_text().splitlines()) == 3
    if best == 3:
        z = np.random.default_rng(0).uniform(-1, 1, (4, 10)).astype("float32")
        np.testing.assert_array_equal(keras.models.load_model(run / "generator_best.keras")(z),
                                      keras.models.load_model(run / "generator.keras")(z))
    # Resuming keeps the scores so far and adds the new ones.
    resumed = train.train(dataclasses.replace(config, epochs=4), resume=True, log=lambda *_: None)
    assert [e["epoch"] for e in resumed["evals"]] == [2, 3, 4]
    assert resumed["evals"][:2] == evals


def test_eval_every_must_not_be_negative():
    with pytest.raises(Exception, match="--eval_every must be 0"):
        TrainConfig(eval_every=-1)
