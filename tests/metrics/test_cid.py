"""The CID index (seeds/000): each term on known cases, against brute force (SciPy), and through the
evaluate command and make experiment's scoring."""

import json

import numpy as np
import pytest
from keras_gan import evaluate
from keras_gan.data import datasets as data
from keras_gan.data import pipeline
from keras_gan.evaluation import saved
from keras_gan import metrics
from keras_gan.errors import MetricInputError
from keras_gan.metrics import cid, copying, registry
from keras_gan.runs import folder as rundir
from keras_gan.runs.config import TrainConfig
from keras_gan.training import loop
from scipy.spatial.distance import cdist
from scipy.stats import ks_2samp, mannwhitneyu

from keras_gan.data import readers

from tests.conftest import fake_images, write_idx, write_idx_dataset


def split(n, seed):
    """Images in [-1, 1] of the fabricated dataset (a bright square placed by the label), flat."""
    x, _ = fake_images(n, seed)
    return x.reshape(n, -1).astype(np.float64) / 127.5 - 1.0


@pytest.fixture(scope="module")
def sets():
    return {"train": split(1500, 0), "test": split(400, 1), "real": split(300, 2)}


def terms(sets, fake, **kw):
    return cid.cid_index(sets["real"], fake, sets["train"], sets["test"], **kw)


def test_nearest_neighbours_in_blocks_are_the_brute_force_ones(sets):
    q = sets["test"][:97]
    distances, index = cid.nearest(q, sets["train"], block=10)
    full = cdist(q, sets["train"])
    np.testing.assert_allclose(distances, full.min(axis=1), rtol=1e-9)
    np.testing.assert_allclose(full[np.arange(len(q)), index], full.min(axis=1), rtol=1e-9)


def test_the_terms_against_brute_force(sets):
    fake = np.concatenate([sets["train"][:90], split(210, 7)])
    got = terms(sets, fake, max_samples=10_000)
    tau = np.quantile(cdist(sets["test"], sets["train"]).min(axis=1), 0.01)
    iu = np.triu_indices(300, 1)
    within_real, within_fake = cdist(sets["real"], sets["real"]), cdist(fake, fake)
    inheritance = 1 - ks_2samp(cdist(sets["real"], fake).ravel(), within_real[iu]).statistic
    nn = lambda d: np.where(np.eye(len(d), dtype=bool), np.inf, d).min(axis=1)  # noqa: E731
    twins = mannwhitneyu(nn(within_fake), nn(within_real)).statistic / 300 ** 2
    diversity = min(1, 2 * twins) * (1 - ks_2samp(within_fake[iu], within_real[iu]).statistic)
    copy = copying.copy_test(sets["test"], fake, sets["train"])  # tests/metrics/test_copying.py checks it
    assert got["cid_threshold"] == pytest.approx(tau, rel=1e-9)
    assert got["memorised"] == pytest.approx(np.mean(cdist(fake, sets["train"]).min(axis=1) < tau))
    assert got["creativity"] == copy["creativity"] and got["copy_z"] == copy["copy_z"]
    assert got["inheritance"] == pytest.approx(inheritance, abs=1e-9)
    assert got["diversity"] == pytest.approx(diversity, abs=1e-9)
    assert got["cid"] == pytest.approx(got["creativity"] * inheritance * diversity, abs=1e-9)


def test_the_real_test_split_scores_near_one(sets):
    got = terms(sets, sets["test"])
    assert got["creativity"] > 0.95 and got["copying"] == 0.0
    assert got["inheritance"] > 0.9 and got["diversity"] > 0.9 and got["cid"] > 0.8


def test_training_images_fed_back_are_all_duplicates(sets):
    got = terms(sets, sets["train"][:300])
    assert got["creativity"] == 0.0 and got["memorised"] == 1.0 and got["cid"] == 0.0 and got["copying"] == 1.0
    assert got["inheritance"] > 0.9 and got["diversity"] > 0.9  # what the Likeness Score sees: nothing wrong


def test_one_image_repeated_has_no_diversity(sets):
    got = terms(sets, np.repeat(sets["test"][:1], 200, axis=0))
    assert got["diversity"] < 0.01 and got["cid"] < 0.01


def test_uniform_noise_inherits_nothing(sets):
    noise = np.random.default_rng(0).uniform(-1, 1, (200, 784))
    got = terms(sets, noise)
    assert got["inheritance"] < 0.01 and got["creativity"] == 1.0 and got["copying"] == 0.0


def test_thirty_percent_copies_leave_seventy_percent_creativity(sets):
    fake = np.concatenate([sets["train"][:120], sets["test"][:280]])
    got = terms(sets, fake)
    assert got["creativity"] == pytest.approx(0.7, abs=0.1) and got["memorised"] == pytest.approx(0.3, abs=0.02)
    assert got["copying"] == 1.0


def test_non_finite_inputs_are_refused(sets):
    fake = sets["test"].copy()
    fake[3, 0] = np.nan
    with pytest.raises(ValueError, match="1 of 400 generated samples"):
        terms(sets, fake)


def test_cid_through_the_evaluate_command_and_in_training(idx_dir, use_classifier, tmp_path):
    out = tmp_path / "real.json"
    assert evaluate.main(["evaluate", "--test_split", "--dataset=mnist", f"--data_dir={idx_dir}", "--num_samples=60",
                          "--metrics=cid,cid_features", f"--out={out}"]) == 0
    real = json.loads(out.read_text())
    assert real["creativity"] > 0.8 and real["copying"] == 0.0 and real["cid"] > 0.7
    assert real["creativity_features"] > 0.9
    # Training images as "generated" ones: all duplicates, with the figure of the closest ones.
    arrays = data.load_arrays("mnist", idx_dir)
    np.save(tmp_path / "copies.npy", pipeline.to_unit_range(arrays.x_train[:60]))
    out = tmp_path / "copies" / "scores.json"
    assert evaluate.main(["evaluate", f"--images={tmp_path / 'copies.npy'}", "--dataset=mnist",
                          f"--data_dir={idx_dir}", "--num_samples=60", "--metrics=cid", f"--out={out}"]) == 0
    copies = json.loads(out.read_text())
    assert copies["creativity"] == 0.0 and copies["memorised"] == 1.0 and copies["cid_threshold"] > 0
    assert copies["copying"] == 1.0
    assert (tmp_path / "copies" / rundir.NEAREST).stat().st_size > 1000
    # --eval_metrics=cid during training: its terms in evals.csv, the threshold computed once.
    config = TrainConfig(dataset="mnist", data_dir=idx_dir, output_dir=str(tmp_path / "run"), epochs=2, batch_size=32,
                         steps_per_epoch=2, eval_every=1, eval_samples=40, eval_metrics="cid,fid")
    history = loop.fit(config, log=lambda *_: None)
    assert all({"cid", "creativity", "inheritance", "diversity", "memorised"} <= set(e) for e in history["evals"])
    assert history["evals"][0]["cid_threshold"] == history["evals"][1]["cid_threshold"]


def test_a_generators_scores_and_the_figure(idx_dir, use_classifier, tmp_path):
    config = TrainConfig(dataset="mnist", data_dir=idx_dir, output_dir=str(tmp_path / "run"), epochs=1, batch_size=32,
                         steps_per_epoch=2)
    loop.fit(config, log=lambda *_: None)
    scores = saved.score_generator(str(tmp_path / "run" / rundir.GENERATOR), "mnist", data_dir=idx_dir,
                                     num_samples=50, seed=0, log=lambda *_: None,
                                     figure=str(tmp_path / "run" / rundir.NEAREST))
    assert {c.key for c in registry.METRICS["cid"].columns} <= set(scores)  # a default metric
    assert "cid_features" not in scores and (tmp_path / "run" / rundir.NEAREST).is_file()
    assert scores["cid"] == pytest.approx(scores["creativity"] * scores["inheritance"] * scores["diversity"])


@pytest.mark.parametrize("case", ["one image", "no image", "a NaN image", "one sample", "copies in the test split"])
def test_unusable_inputs_are_one_line_naming_the_set_and_status_2(idx_dir, use_classifier, tmp_path, capsys, case):
    arrays = data.load_arrays("mnist", idx_dir)
    x = pipeline.to_unit_range(arrays.x_test[:30]).astype(np.float32)
    args, data_dir = [f"--images={tmp_path / 'x.npy'}", "--num_samples=30"], idx_dir
    if case == "one image":
        x, expected = x[:1], "1 generated images: the metrics compare distributions and need at least 2 samples"
    elif case == "no image":
        x, expected = x[:0], "x.npy holds no images (shape (0, 28, 28, 1)); the metrics need at least 2."
    elif case == "a NaN image":
        x[7, 3, 3, 0] = np.nan
        expected = "x.npy: 1 of 30 images hold NaN or infinite values; images must be finite"
    elif case == "one sample":
        args, expected = ["--test_split", "--num_samples=1"], "--num_samples must be at least 10"
    else:  # a test split that is the training split's first images: nothing new to measure against
        data_dir = str(tmp_path / "copies")
        write_idx_dataset(data_dir, n_train=512, n_test=64)
        for key, values in (("x_test", arrays.x_train[:64]), ("y_test", arrays.y_train[:64])):
            write_idx(tmp_path / "copies" / readers.IDX_FILES[key], values)
        expected = "64 of the 64 held-out (test split) samples are exact copies of training samples"
    np.save(tmp_path / "x.npy", x)
    assert evaluate.main(["evaluate", *args, "--dataset=mnist", f"--data_dir={data_dir}", "--metrics=cid,fid"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and expected in err, err


@pytest.mark.parametrize("which", ["real", "generated"])
def test_one_sample_in_either_set_is_refused_by_every_metric(sets, which):
    one = {"real": sets["real"][:1], "generated": sets["test"][:1]}
    real, fake = one["real"] if which == "real" else sets["real"], one["generated"] if which == "generated" else sets["test"]
    for metric in (lambda: metrics.fid(real, fake), lambda: metrics.kid(real, fake),
                   lambda: metrics.precision_recall(real, fake), lambda: metrics.likeness_score(real, fake),
                   lambda: terms(sets, fake) if which == "generated" else cid.cid_terms(real, fake, [1.0], 1.0, {})):
        with pytest.raises(MetricInputError, match=f"^1 {which} .*need at least 2 samples in each set"):
            metric()


def test_copies_moved_by_a_pixel_are_flagged_in_the_feature_space_too(idx_dir, use_classifier, tmp_path):
    arrays = data.load_arrays("mnist", idx_dir)
    moved = np.roll(pipeline.to_unit_range(arrays.x_train[:60]), 1, axis=2)
    moved[:, :, 0] = -1.0
    np.save(tmp_path / "moved.npy", moved)
    out = tmp_path / "moved.json"
    assert evaluate.main(["evaluate", f"--images={tmp_path / 'moved.npy'}", "--dataset=mnist", f"--data_dir={idx_dir}",
                          "--num_samples=60", "--metrics=cid,cid_features", f"--out={out}"]) == 0
    got = json.loads(out.read_text())
    assert got["copying_features"] == 1.0 and got["creativity_features"] <= 0.1
    assert got["copying"] == 1.0 and got["creativity"] <= 0.1
    assert got["memorised"] < 0.5  # the exact-distance threshold misses most of them


def test_the_figure_of_a_memorising_generator_shows_its_copies(sets, tmp_path):
    """A generator that returns 40 training images among 160 new ones: the figure's eight pairs are eight
    of those copies, each above its original, at distance 0."""
    from keras_gan.evaluation import scoring

    rng = np.random.default_rng(5)
    train = sets["train"].reshape(-1, 28, 28, 1)
    copied = rng.choice(len(train), 40, replace=False)
    fake = np.concatenate([split(160, 9).reshape(-1, 28, 28, 1), train[copied]])[rng.permutation(200)]
    splits = registry.Reference(train, sets["test"].reshape(-1, 28, 28, 1))
    registry.compute([registry.get("cid")], registry.Inputs(sets["real"].reshape(-1, 28, 28, 1), fake,
                                                            reference=splits))
    shown, originals, distances, _ = scoring.closest_pairs(splits, 8, len(fake))
    assert set(originals) <= set(copied) and np.all(distances == 0)
    np.testing.assert_array_equal(fake[shown], train[originals])
    assert scoring.closest_to_training(splits, fake, str(tmp_path / "nearest.png"))
    assert (tmp_path / "nearest.png").stat().st_size > 1000
