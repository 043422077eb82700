"""The CID index (seeds/000): each term on known cases, against brute force (SciPy), and through the
evaluate command and make experiment's scoring."""

import json

import numpy as np
import pytest
from keras_gan import evaluate
from keras_gan.data import datasets as data
from keras_gan.data import pipeline
from keras_gan.evaluation import saved
from keras_gan.metrics import cid, registry
from keras_gan.runs import folder as rundir
from keras_gan.runs.config import TrainConfig
from keras_gan.training import loop
from scipy.spatial.distance import cdist
from scipy.stats import ks_2samp

from tests.conftest import fake_images


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
    fake = np.concatenate([sets["train"][:30], split(70, 7)])
    got = terms(sets, fake, max_samples=10_000)
    tau = np.quantile(cdist(sets["test"], sets["train"]).min(axis=1), 0.01)
    creativity = 1 - np.mean(cdist(fake, sets["train"]).min(axis=1) < tau)
    iu_r, iu_g = np.triu_indices(len(sets["real"]), 1), np.triu_indices(len(fake), 1)
    icd_real, icd_gen = cdist(sets["real"], sets["real"])[iu_r], cdist(fake, fake)[iu_g]
    bcd = cdist(sets["real"], fake).ravel()
    inheritance = 1 - ks_2samp(bcd, icd_real).statistic
    diversity = 1 - ks_2samp(icd_gen, icd_real).statistic
    assert got["cid_threshold"] == pytest.approx(tau, rel=1e-9)
    assert got["creativity"] == pytest.approx(creativity) and got["memorised"] == pytest.approx(1 - creativity)
    assert got["inheritance"] == pytest.approx(inheritance, abs=1e-9)
    assert got["diversity"] == pytest.approx(diversity, abs=1e-9)
    assert got["cid"] == pytest.approx(creativity * inheritance * diversity, abs=1e-9)


def test_the_real_test_split_scores_near_one(sets):
    got = terms(sets, sets["test"])
    assert got["creativity"] == pytest.approx(0.99, abs=0.005)  # 1 - q by construction
    assert got["inheritance"] > 0.9 and got["diversity"] > 0.9 and got["cid"] > 0.8


def test_training_images_fed_back_are_all_duplicates(sets):
    got = terms(sets, sets["train"][:300])
    assert got["creativity"] == 0.0 and got["memorised"] == 1.0 and got["cid"] == 0.0
    assert got["inheritance"] > 0.9 and got["diversity"] > 0.9  # what the Likeness Score sees: nothing wrong


def test_one_image_repeated_has_no_diversity(sets):
    got = terms(sets, np.repeat(sets["test"][:1], 200, axis=0))
    assert got["diversity"] < 0.01 and got["cid"] < 0.01


def test_uniform_noise_inherits_nothing(sets):
    noise = np.random.default_rng(0).uniform(-1, 1, (200, 784))
    got = terms(sets, noise)
    assert got["inheritance"] < 0.01 and got["creativity"] == 1.0


def test_thirty_percent_copies_leave_seventy_percent_creativity(sets):
    fake = np.concatenate([sets["train"][:120], sets["test"][:280]])
    assert terms(sets, fake)["creativity"] == pytest.approx(0.7, abs=0.01)


def test_non_finite_inputs_are_refused(sets):
    fake = sets["test"].copy()
    fake[3, 0] = np.nan
    with pytest.raises(ValueError, match="1 of 400 generated samples"):
        terms(sets, fake)


def test_cid_through_the_evaluate_command_and_in_training(idx_dir, use_classifier, tmp_path):
    out = tmp_path / "floor.json"
    assert evaluate.main(["evaluate", "--test_split", "--dataset=mnist", f"--data_dir={idx_dir}", "--num_samples=60",
                          "--metrics=cid,cid_features", f"--out={out}"]) == 0
    floor = json.loads(out.read_text())
    assert floor["creativity"] == pytest.approx(0.99, abs=0.02) and floor["cid"] > 0.8
    assert floor["creativity_features"] > 0.9
    # Training images as "generated" ones: all duplicates, with the figure of the closest ones.
    arrays = data.load_arrays("mnist", idx_dir)
    np.save(tmp_path / "copies.npy", pipeline.to_unit_range(arrays.x_train[:60]))
    out = tmp_path / "copies" / "scores.json"
    assert evaluate.main(["evaluate", f"--images={tmp_path / 'copies.npy'}", "--dataset=mnist",
                          f"--data_dir={idx_dir}", "--num_samples=60", "--metrics=cid", f"--out={out}"]) == 0
    copies = json.loads(out.read_text())
    assert copies["creativity"] == 0.0 and copies["memorised"] == 1.0 and copies["cid_threshold"] > 0
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
