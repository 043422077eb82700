"""The image-to-image members' scores on the test split (keras_gan/metrics/paired.py,
keras_gan/evaluation/image_scores.py): each paired metric against a closed form, the baselines' image
operations, and `make experiment` scoring, drawing and reporting CycleGAN, SRResNet and SRGAN runs."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras_gan.data import datasets as data
from keras_gan.data import pipeline, transforms
from keras_gan.errors import MetricInputError
from keras_gan.evaluation import image_scores
from keras_gan.experiments import configs, report, runner
from keras_gan.metrics.paired import gradient_energy, paired_scores
from keras_gan.runs import folder as rundir


def constant(value, n=3, size=16):
    return np.full((n, size, size, 1), value, np.float32)


# --- the paired metrics ------------------------------------------------------------------------------------

def test_paired_scores_of_constant_images_match_their_closed_forms():
    # Truth 0 and output 0.5 in [-1, 1] are 0.5 and 0.75 on pixels in [0, 1] (exact in float32).
    s = paired_scores(constant(0.5), constant(0.0))
    assert s["l1"] == pytest.approx(0.25, abs=1e-7)
    assert s["psnr"] == pytest.approx(10 * np.log10(1 / 0.25 ** 2), abs=1e-4)  # MSE 1/16: 12.04 dB
    # Constant images have no variance, so SSIM is its luminance term alone: (2ab + C1) / (a^2 + b^2 + C1).
    # (TensorFlow computes the variances as E[x^2] - E[x]^2 in float32: near C2 = 9e-4, that is 4e-4 off.)
    c1 = 0.01 ** 2
    assert s["ssim"] == pytest.approx((2 * 0.75 * 0.5 + c1) / (0.75 ** 2 + 0.5 ** 2 + c1), abs=1e-3)
    same = paired_scores(constant(0.3), constant(0.3))
    assert same["l1"] == 0 and same["ssim"] == pytest.approx(1.0) and np.isinf(same["psnr"])


def test_psnr_and_ssim_are_tensorflows_per_image_means():
    rng = np.random.default_rng(0)
    truth = rng.uniform(-1, 1, (5, 28, 28, 1)).astype(np.float32)
    out = np.clip(truth + rng.normal(0, 0.2, truth.shape), -1, 1).astype(np.float32)
    s = paired_scores(out, truth)
    o, t = (out + 1) / 2, (truth + 1) / 2
    mse = ((o - t) ** 2).mean(axis=(1, 2, 3))
    assert s["psnr"] == pytest.approx(np.mean(10 * np.log10(1 / mse)), rel=1e-4)
    assert s["ssim"] == pytest.approx(float(tf.reduce_mean(tf.image.ssim(o, t, max_val=1.0))), rel=1e-5)
    assert s["l1"] == pytest.approx(np.abs(o - t).mean(), rel=1e-6)


def test_sharpness_is_the_rms_gradient_against_the_truths():
    step = constant(-1.0, n=1, size=8)
    step[:, :, 4:] = 1.0  # a vertical edge: a difference of 1 (in [0, 1]) once in each of 7 rows of 7
    assert gradient_energy(step)[0] == pytest.approx(1 / 7)
    diagonal = np.where(np.add.outer(np.arange(8), np.arange(8)) >= 8, 1.0, -1.0)[None, :, :, None]
    # the pixels (i, j) with i + j = 7 step up by 1 in x and in y: 2; 6 of them among the 7 x 7 measured
    assert gradient_energy(diagonal)[0] == pytest.approx(2 * 6 / 49)
    assert paired_scores(diagonal, step)["sharpness"] == pytest.approx(np.sqrt((12 / 49) / (1 / 7)))
    assert paired_scores(step, step)["sharpness"] == pytest.approx(1.0)
    # A blurred edge has the same total rise, spread over more pixels: its squares sum to less.
    assert paired_scores(transforms.blur(step), step)["sharpness"] < 0.7
    flat = paired_scores(constant(0.0, n=1, size=8), step)
    assert flat["sharpness"] == 0.0


def test_paired_scores_refuse_mismatched_or_broken_images():
    with pytest.raises(ValueError, match="one shape"):
        paired_scores(constant(0.0, size=16), constant(0.0, size=8))
    broken = constant(0.0)
    broken[1, 2, 3] = np.nan
    with pytest.raises(MetricInputError, match="1 of 3 generated images"):
        paired_scores(broken, constant(0.0))


# --- the baselines' image operations -----------------------------------------------------------------------

def test_blur_is_a_normalised_gaussian():
    impulse = np.zeros((1, 15, 15, 1), np.float32)
    impulse[0, 7, 7] = 1.0
    out = transforms.blur(impulse, sigma=1.0)[0, :, :, 0]
    g = np.exp(-0.5 * np.arange(-3, 4) ** 2)
    g /= g.sum()
    assert np.allclose(out[4:11, 4:11], np.outer(g, g), atol=1e-7)
    assert out.sum() == pytest.approx(1.0) and out[0, 0] == 0
    image = np.random.default_rng(1).uniform(-1, 1, (2, 9, 9, 3)).astype(np.float32)
    assert np.allclose(transforms.blur(np.full_like(image, 0.4)), 0.4)  # edges repeated: a flat image stays flat
    assert transforms.blur(image).shape == image.shape


def test_bicubic_upsampling_keeps_flat_images_and_the_range():
    assert np.allclose(transforms.upsample_bicubic(constant(0.25, size=7), 4), 0.25)
    noisy = np.random.default_rng(2).choice([-1.0, 1.0], (2, 7, 7, 1)).astype(np.float32)
    out = transforms.upsample_bicubic(noisy, 4)  # bicubic overshoots at steps; the result is clipped
    assert out.shape == (2, 28, 28, 1) and out.min() >= -1 and out.max() <= 1


# --- make experiment -----------------------------------------------------------------------------------------

@pytest.fixture
def image_configs(tmp_path, idx_dir, use_classifier):
    folder = tmp_path / "configs"
    folder.mkdir()
    common = {"dataset": "mnist", "epochs": 1, "num_samples": 24,
              "args": {"data_dir": idx_dir, "batch_size": 8, "steps_per_epoch": 2, "filters": 4, "blocks": 1,
                       "sample_rows": 3}}
    for name, model in (("a_cyclegan", "cyclegan"), ("b_srresnet", "srresnet"), ("c_srgan", "srgan")):
        (folder / f"{name}.json").write_text(json.dumps({**common, "model": model}))
    return folder


def test_experiment_scores_draws_and_reports_the_image_members(image_configs, tmp_path, idx_dir, monkeypatch):
    results, lines = tmp_path / "results", []
    experiments = configs.load_experiments(str(image_configs))
    summary = runner.train_and_score(experiments, str(results), log=lines.append)
    arrays = data.load_arrays("mnist", idx_dir)
    x_test = pipeline.to_unit_range(arrays.x_test[:24])

    cyc = summary["a_cyclegan"][0]
    assert cyc["task"] == "cyclegan" and cyc["test_pairs"] == 24 and set(cyc["methods"]) == {
        "identity", "blurred_edges", "mean_image", "cyclegan"}
    edges = pipeline.to_unit_range(transforms.edges(arrays.x_test[:24]))
    # The identity baseline is the edge map itself; G's scores are those of the saved generator's outputs.
    assert cyc["methods"]["identity"]["l1"] == pytest.approx(np.abs(edges - x_test).mean() / 2, rel=1e-5)
    g = keras.models.load_model(results / "a_cyclegan/seed_0/generator_a2b.keras", compile=False)
    assert cyc["methods"]["cyclegan"]["l1"] == pytest.approx(
        np.abs(np.clip(np.asarray(g(edges)), -1, 1) - x_test).mean() / 2, rel=1e-4)
    assert 0 <= cyc["cycle_l1_a"] <= 1 and 0 <= cyc["cycle_l1_b"] <= 1 and "ssim" in cyc["images_to_edges"]

    for name, model in (("b_srresnet", "srresnet"), ("c_srgan", "srgan")):
        sr = summary[name][0]
        assert sr["task"] == model and sr["test_images"] == 24 and set(sr["methods"]) == {"bicubic", model}
        bicubic = transforms.upsample_bicubic(transforms.downsample(x_test, 4), 4)
        assert sr["methods"]["bicubic"]["psnr"] == pytest.approx(paired_scores(bicubic, x_test)["psnr"], rel=1e-5)
        for m in sr["methods"].values():
            assert set(m) >= {"l1", "psnr", "ssim", "sharpness", "fid", "kid"} and m["fid"] >= 0
    for d in ("a_cyclegan", "b_srresnet", "c_srgan"):
        assert (results / d / "seed_0" / rundir.COMPARISON).stat().st_size > 1000
    assert any("cyclegan: L1 " in line for line in lines)

    # Every super-resolution run on the same test images, in one figure; then the report's tables.
    figure = results / "super_resolution_mnist.png"
    assert runner.compare_super_resolution(experiments, str(results)) == [str(figure)]
    assert figure.stat().st_size > 1000
    text = open(report.write_report(experiments, str(results), str(tmp_path / "report.md"))).read()
    assert "## Edges → images of mnist: `a_cyclegan`" in text and "| the edge map itself | 1 |" in text
    assert "## ×4 super-resolution of mnist" in text and "| bicubic | 1 |" in text and "| `c_srgan` | 1 |" in text
    assert "](results/super_resolution_mnist.png)" in text and "](results/a_cyclegan/seed_0/comparison.png)" in text
    gan, res = summary["c_srgan"][0]["methods"]["srgan"], summary["b_srresnet"][0]["methods"]["srresnet"]
    verdict = "reproduced" if gan["psnr"] < res["psnr"] and gan["sharpness"] > res["sharpness"] else "not reproduced"
    bicubic = summary["c_srgan"][0]["methods"]["bicubic"]["psnr"]
    if res["psnr"] <= bicubic:  # two steps of training: SRResNet has not learnt to upscale yet
        verdict = f"undecided: SRResNet's PSNR is not above bicubic upsampling's ({bicubic:.2f} dB)"
    assert f"SRGAN's PSNR is {'lower' if gan['psnr'] < res['psnr'] else 'not lower'} than SRResNet's " \
           f"({gan['psnr']:.2f} against {res['psnr']:.2f} dB)" in text
    assert f"at this budget the slide deck's claim is {verdict}" in text
    assert "Final epoch (1) mean losses: G " in text  # SRResNet has a G loss only
    assert "| `a_cyclegan` |" not in text.split("## Results")[1].split("## Edges")[0]  # not in the GAN table
    assert "images per run, through the dataset's feature network. " in text  # no GAN of noise was scored

    # A second session reuses the scores; a generator trained again makes them stale.
    with monkeypatch.context() as m:
        m.setattr(image_scores, "score_run", lambda *a, **k: pytest.fail("scored again"))
        assert runner.train_and_score(experiments, str(results), log=lambda *_: None) == summary
    stale = results / "b_srresnet/seed_0"
    os.utime(stale / "generator.keras")
    lines.clear()
    e = experiments[1]
    assert runner.evaluate_run(e, str(stale), runner.Data(), log=lines.append) == summary["b_srresnet"][0]

    # The side-by-side figure is drawn again when one of its generators is newer than it, else kept.
    drawn = []
    monkeypatch.setattr(image_scores, "compare_super_resolution", lambda group, path, *_: drawn.append(path) or True)
    written = figure.stat().st_mtime
    os.utime(stale / "generator.keras", (written + 5, written + 5))
    assert runner.compare_super_resolution(experiments, str(results)) == [str(figure)] and drawn == [str(figure)]
    os.utime(figure, (written + 10, written + 10))
    assert runner.compare_super_resolution(experiments, str(results)) == [str(figure)] and len(drawn) == 1


def test_scores_of_an_earlier_version_are_made_again(image_configs, tmp_path):
    results = tmp_path / "results"
    e = configs.load_experiments(str(image_configs), only="b_srresnet")[0]
    runner.train_and_score([e], str(results), log=lambda *_: None)
    path = results / "b_srresnet/seed_0/metrics.json"
    path.write_text(json.dumps({"fid": 1.0}))  # a noise generator's scores: no test-split methods
    lines = []
    scores = runner.evaluate_run(e, str(path.parent), runner.Data(), log=lines.append)
    assert lines == [f"  {path} has no test-split scores: scoring the run again"]
    assert set(scores["methods"]) == {"bicubic", "srresnet"} and json.loads(path.read_text()) == scores


@pytest.mark.parametrize("srresnet_psnr, verdict", [
    (20.0, "reproduced"), (18.5, "not reproduced"),
    (15.0, "undecided: SRResNet's PSNR is not above bicubic upsampling's (16.00 dB)")])
def test_the_reports_verdict_on_srgans_claim(tmp_path, srresnet_psnr, verdict):
    def scores(model, psnr, sharpness, fid, network="net"):
        methods = {"bicubic": dict(l1=0.1, psnr=16.0, ssim=0.4, sharpness=0.3, fid=300.0, kid=50.0),
                   model: dict(l1=0.05, psnr=psnr, ssim=0.6, sharpness=sharpness, fid=fid, kid=10.0)}
        return [{"task": model, "test_images": 10, "scale": 4, "feature_network": network, "methods": methods}]

    def experiment(name, model):
        return configs.Experiment(name=name, description="", model=model, dataset="d", epochs=1, seeds=(0,), args={})

    runs = {("sr", "d"): [(experiment("res", "srresnet"), scores("srresnet", srresnet_psnr, 0.7, 60.0)),
                          (experiment("gan", "srgan"), scores("srgan", 19.0, 0.9, 20.0))],
            ("sr", "other"): [(experiment("alone", "srgan"), scores("srgan", 30.0, 1.2, 5.0)),
                              (experiment("elsewhere", "srgan"), scores("srgan", 29.0, 1.0, 9.0, "net 2"))]}
    text = "\n".join(report.image_tables(runs, str(tmp_path), lambda p: p))
    # one table per dataset; a dataset without both models gets no verdict
    first, second = text.split("## ×4 super-resolution of other")
    assert "## ×4 super-resolution of d" in first and "| `alone` | 1 | 0.050 | 30.00 |" in second
    assert "claim" not in second
    assert "as many training images (through net). " in first  # one table, one network
    assert "(through 2 different feature networks (net; net 2), so these FIDs and KIDs are not comparable" in second
    assert "| bicubic | 1 | 0.100 | 16.00 | 0.400 | 0.30 | 300.0 | 50.00 |" in text
    assert "| `gan` | 1 | 0.050 | 19.00 | 0.600 | 0.90 | 20.0 | 10.00 |" in text
    assert f"at this budget the slide deck's claim is {verdict}" in text
    assert "Its FID is lower (20.0 against 60.0)." in text
