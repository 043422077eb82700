"""The feature networks and `python -m keras_gan.evaluate`, on fabricated MNIST-shaped data."""

import dataclasses
import json
import os

import keras
import numpy as np
import pytest
from keras_gan import evaluate
from keras_gan.data import datasets as data
from keras_gan.data import pipeline
from keras_gan.errors import ModelFileError
from keras_gan.evaluation import features, scoring
from keras_gan.runs.config import TrainConfig
from keras_gan.training import loop

from tests.conftest import write_idx_dataset


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GAN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_classifier_is_trained_once_and_reused(idx_dir, cache, monkeypatch):
    messages = []
    net = features.classifier(data.load_arrays("mnist", idx_dir), log=messages.append)
    assert any("training one" in m for m in messages)
    epochs = [m for m in messages if m.startswith("classifier epoch ")]  # progress, one line per epoch
    assert len(epochs) == features.CLASSIFIER_EPOCHS and epochs[-1].startswith(
        f"classifier epoch {features.CLASSIFIER_EPOCHS}/{features.CLASSIFIER_EPOCHS}: loss ")
    arrays = data.load_arrays("mnist", idx_dir)
    info = json.loads(open(features.classifier_path(arrays) + ".json").read())
    assert info["dataset"] == "mnist" and info["data_fingerprint"] == arrays.fingerprint
    # The recorded accuracy is the classifier's own on the test split, far above chance (0.1) on
    # these images, whose class is the position of a bright square.
    _, p = net(pipeline.to_unit_range(arrays.x_test))
    assert info["test_accuracy"] == pytest.approx(np.mean(p.argmax(axis=1) == arrays.y_test), abs=1e-6)
    assert info["test_accuracy"] > 0.5
    monkeypatch.setattr(features, "train_classifier", lambda *a, **k: pytest.fail("trained again"))
    again = features.classifier(data.load_arrays("mnist", idx_dir))
    x = pipeline.to_unit_range(arrays.x_test[:7])
    f1, p1 = net(x)
    f2, p2 = again(x, batch_size=3)
    assert f1.shape == (7, 128) and p1.shape == (7, 10)
    np.testing.assert_allclose(f1, f2, atol=1e-5)
    np.testing.assert_allclose(p1.sum(axis=1), 1, atol=1e-5)
    assert "test accuracy" in again.description
    assert f"weights {features.weights_digest(again.model)}" in again.description == net.description


def test_the_weights_digest_names_the_weights_themselves():
    def network(seed):
        keras.utils.set_random_seed(seed)
        return features.build_classifier((28, 28, 1))

    a, b, other = network(0), network(0), network(1)
    digest = features.weights_digest(a)
    assert len(digest) == 12 and int(digest, 16) >= 0
    assert features.weights_digest(b) == digest and features.weights_digest(other) != digest
    kernel = b.get_layer(features.FEATURES_LAYER).kernel
    values = kernel.numpy()
    values[3, 5] = np.nextafter(values[3, 5], np.float32(np.inf))  # one weight, one rounding step apart
    kernel.assign(values)
    assert features.weights_digest(b) != digest


def test_a_classifier_is_not_reused_for_other_data(idx_dir, cache, tmp_path, monkeypatch):
    trained = []
    real_train = features.train_classifier
    monkeypatch.setattr(features, "train_classifier",
                        lambda arrays, **k: trained.append(arrays.fingerprint) or real_train(arrays, **{**k, "epochs": 1}))
    features.classifier(data.load_arrays("mnist", idx_dir), log=lambda *_: None)
    other = tmp_path / "other"
    write_idx_dataset(other, seed=5)  # the same dataset name, other images
    features.classifier(data.load_arrays("mnist", str(other)), log=lambda *_: None)
    both = [data.load_arrays("mnist", d) for d in (idx_dir, str(other))]
    fingerprints = [arrays.fingerprint for arrays in both]
    assert trained == fingerprints and fingerprints[0] != fingerprints[1]
    features.classifier(data.load_arrays("mnist", idx_dir))  # each data keeps its own
    assert len(trained) == 2
    # A cache file renamed by hand to another data's name is refused, not used.
    first, second = (features.classifier_path(arrays) for arrays in both)
    for suffix in ("", ".json"):
        os.replace(first + suffix, second + suffix)
    with pytest.raises(ModelFileError, match="was trained on other data"):
        features.classifier(data.load_arrays("mnist", str(other)))


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
    s_good = scoring.score(real, good, LabelNetwork(), real_labels=np.zeros(200, int) + 1)
    s_bad = scoring.score(real, collapsed, LabelNetwork())
    assert s_good["classes_covered"] == 10 and s_bad["classes_covered"] == 1
    assert s_bad["fid"] > 10 * s_good["fid"] and s_bad["recall"] < 0.05 < s_good["recall"]
    assert s_bad["likeness"] < 0.1 < s_good["likeness"]
    assert scoring.score(real, good, LabelNetwork(), metrics=["fid"]).keys() == {"fid"}


def test_evaluate_the_test_split(idx_dir, use_classifier, tmp_path, capsys):
    out, noise_out = tmp_path / "floor.json", tmp_path / "noise.json"
    common = ["--dataset=mnist", f"--data_dir={idx_dir}", "--num_samples=64"]
    assert evaluate.main(["evaluate", "--test_split", *common, f"--out={out}"]) == 0, capsys.readouterr().err
    assert "fid" in capsys.readouterr().out
    np.save(tmp_path / "noise.npy", np.random.default_rng(0).uniform(-1, 1, (64, 28, 28, 1)).astype("float32"))
    assert evaluate.main(["evaluate", f"--images={tmp_path / 'noise.npy'}", *common, f"--out={noise_out}"]) == 0
    floor, noise = json.loads(out.read_text()), json.loads(noise_out.read_text())
    assert floor["real_samples"] == 64 and floor["generated_samples"] == 64
    assert "classifier" in floor["feature_network"]
    # Real test images score as the floor should, and far from uniform noise on every metric.
    assert floor["fid"] < noise["fid"] / 5 and floor["kid"] < noise["kid"] / 5
    assert min(floor["precision"], floor["recall"], floor["coverage"], floor["likeness"]) > 0.8
    assert max(noise["precision"], noise["recall"], noise["likeness"]) < 0.1
    assert floor["classes_covered"] >= 8 > 2 >= noise["classes_covered"]
    # The numbers are the metrics of the documented protocol: the first 64 test images against 64
    # training images drawn with --seed (0), through the cached classifier.
    arrays = data.load_arrays("mnist", idx_dir)
    pick = np.random.default_rng(0).choice(len(arrays.x_train), 64, replace=False)
    net = features.classifier(arrays)
    real_f, _ = net(pipeline.to_unit_range(arrays.x_train[pick]))
    fake_f, fake_p = net(pipeline.to_unit_range(arrays.x_test[:64]))
    from keras_gan import metrics

    assert floor["fid"] == pytest.approx(metrics.fid(real_f, fake_f), rel=1e-9)
    assert (floor["precision"], floor["recall"]) == pytest.approx(metrics.precision_recall(real_f, fake_f))
    assert floor["classes_covered"] == len(set(fake_p.argmax(axis=1)))


def test_evaluate_a_conditional_generator_and_an_array(idx_dir, use_classifier, tmp_path, capsys):
    run = tmp_path / "cgan"
    loop.fit(TrainConfig(model="cgan", dataset="mnist", data_dir=idx_dir, output_dir=str(run), epochs=1,
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


def test_eval_every_records_scores_and_keeps_the_best_generator(idx_dir, use_classifier, tmp_path, monkeypatch):
    config = TrainConfig(dataset="mnist", data_dir=idx_dir, output_dir=str(tmp_path / "run"), epochs=3,
                         batch_size=32, steps_per_epoch=3, eval_every=2, eval_samples=40)
    history = loop.fit(config, log=lambda *_: None)
    evals = history["evals"]
    assert [e["epoch"] for e in evals] == [2, 3]  # every 2 epochs, and the last
    assert all(e["kid_std"] > 0 for e in evals)  # subsets smaller than the set, so they differ
    best = min(evals, key=lambda e: e["fid"])
    assert history["best_epoch"] == best["epoch"]
    run = tmp_path / "run"
    for name in ("evals.csv", "metric_curves.png", "generator_best.keras"):
        assert (run / name).is_file(), name
    assert len((run / "evals.csv").read_text().splitlines()) == 3
    # Scored again by an evaluator built as training builds it, the saved generators give the
    # recorded numbers: generator.keras the last evaluation's, generator_best.keras the best one's.
    arrays = data.load_arrays("mnist", idx_dir)
    evaluator = scoring.Evaluator(arrays, num_samples=40, seed=config.seed)
    last = evaluator(keras.models.load_model(run / "generator.keras"), config.noise)
    kept = evaluator(keras.models.load_model(run / "generator_best.keras"), config.noise)
    for key in ("fid", "kid", "classes_covered"):
        assert last[key] == pytest.approx(evals[-1][key], rel=1e-6) and kept[key] == pytest.approx(best[key], rel=1e-6)
    # Resuming keeps the scores so far and adds the new ones.
    resumed = loop.fit(dataclasses.replace(config, epochs=4), resume=True, log=lambda *_: None)
    assert [e["epoch"] for e in resumed["evals"]] == [2, 3, 4]
    assert resumed["evals"][:2] == evals
    ours = features.classifier(data.load_arrays("mnist", idx_dir)).description
    assert {e["feature_network"] for e in resumed["evals"]} == {ours}

    # Resumed where the cached classifier is another one (another machine's): its scores do not
    # compete with the first network's for the best generator.
    class Other(features.FeatureNetwork):
        def __call__(self, images, **kwargs):
            feats, probs = super().__call__(images, **kwargs)
            return feats * 100, probs  # FID 10,000 times the first network's: worse than any score before

    real = features.classifier
    monkeypatch.setattr(features, "classifier", lambda *a, **k: Other(
        "classifier", real(*a, **k).model, (28, 28, 1), "another classifier"))
    logged = []
    other = loop.fit(dataclasses.replace(config, epochs=5), resume=True, log=logged.append)
    assert other["evals"][:3] == resumed["evals"] and other["evals"][3]["feature_network"] == "another classifier"
    assert other["evals"][3]["fid"] > 100 * max(e["fid"] for e in resumed["evals"])
    assert other["best_epoch"] == 5 != resumed["best_epoch"]  # the only score through this network is its best
    assert sum(f"the scores so far came through {ours}, not another classifier: the best generator is chosen "
               "again" in line for line in logged) == 1


def test_eval_every_must_not_be_negative():
    with pytest.raises(Exception, match="--eval_every must be 0"):
        TrainConfig(eval_every=-1)


def test_a_diverged_generator_is_named_in_one_line(idx_dir, use_classifier, tmp_path, capsys):
    from keras_gan.io.keras_files import save_network
    from keras_gan.models import networks

    g = networks.build_generator()
    g.layers[-1].bias.assign(np.full(784, np.nan, np.float32))
    save_network(g, str(tmp_path / "generator.keras"))
    assert evaluate.main(["evaluate", f"--generator={tmp_path / 'generator.keras'}", "--dataset=mnist",
                          f"--data_dir={idx_dir}", "--num_samples=20"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'generator.keras'} makes NaN or infinite images (20 of 20): its "
                          "weights diverged.") and len(err.strip().splitlines()) == 1


def test_the_classifier_learning_rate_decays_over_every_batch_it_trains_on(tmp_path, cache, monkeypatch):
    # 200 images in batches of 128: a full batch and a partial one per epoch. The cosine schedule
    # must end where training ends, at the last (partial) batch of the last epoch.
    write_idx_dataset(tmp_path / "data", n_train=200, n_test=16)
    schedules, built = [], []
    real_schedule, real_build = keras.optimizers.schedules.CosineDecay, features.build_classifier
    monkeypatch.setattr(keras.optimizers.schedules, "CosineDecay",
                        lambda *a, **k: schedules.append(real_schedule(*a, **k)) or schedules[-1])
    monkeypatch.setattr(features, "build_classifier", lambda *a, **k: built.append(real_build(*a, **k)) or built[-1])
    features.train_classifier(data.load_arrays("mnist", str(tmp_path / "data")), epochs=3, log=lambda *_: None)
    assert schedules[0].decay_steps == int(built[0].optimizer.iterations.numpy()) == 3 * 2
