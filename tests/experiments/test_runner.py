"""`python -m keras_gan.experiment`: named configurations, reuse, resume, scores and figures."""

import json

import pytest
from keras_gan import evaluate, experiment
from keras_gan.data import pipeline
from keras_gan.errors import ConfigError
from keras_gan.evaluation import scoring
from keras_gan.experiments import configs as experiment_configs
from keras_gan.experiments import report, runner, sessions
from keras_gan.metrics import registry
from keras_gan.training import loop
from PIL import Image


@pytest.fixture
def configs(tmp_path, idx_dir, use_classifier):
    folder = tmp_path / "configs"
    folder.mkdir()
    common = {"dataset": "mnist", "num_samples": 40,
              "args": {"data_dir": idx_dir, "batch_size": 32, "steps_per_epoch": 2, "sample_every": 1}}
    (folder / "deck.json").write_text(json.dumps({**common, "model": "vanilla", "epochs": 2, "seeds": [0, 1],
                                                  "full_epochs": 3, "figures": ["interpolation"]}))
    (folder / "labels.json").write_text(json.dumps({**common, "model": "cgan", "epochs": 1,
                                                    "figures": ["interpolation"]}))
    return folder


def test_runs_every_experiment_then_reuses_them(configs, tmp_path, monkeypatch):
    results, lines = tmp_path / "results", []
    summary = runner.train_and_score(experiment_configs.load_experiments(str(configs)), str(results), log=lines.append)
    assert set(summary) == {"deck", "labels"} and len(summary["deck"]) == 2
    assert any(line.startswith("[1/3] deck seed 0: 0/2 epochs done") for line in lines)
    for run in ("deck/seed_0", "deck/seed_1", "labels/seed_0"):
        d = results / run
        scores = json.loads((d / "metrics.json").read_text())
        assert scores["fid"] >= 0 and scores["generated_samples"] == 40
        assert (d / "interpolation.png").stat().st_size > 1000
        frames = Image.open(d / "samples.gif").n_frames
        assert frames == len(list((d / "samples").glob("epoch_*.png")))
    assert "label_accuracy" in json.loads((results / "labels/seed_0/metrics.json").read_text())
    # A second run reuses everything: no training, no scoring.
    real_score = scoring.score
    monkeypatch.setattr(loop, "fit", lambda *a, **k: pytest.fail("trained again"))
    monkeypatch.setattr(scoring, "score", lambda *a, **k: pytest.fail("scored again"))
    lines.clear()
    again = runner.train_and_score(experiment_configs.load_experiments(str(configs)), str(results), log=lines.append)
    assert again == summary and sum("reused" in line for line in lines) == 3
    # Each call is a line of sessions.csv: the first trained all three runs, the second none.
    first, second = sessions.read(str(results))
    assert (first["trained"], second["trained"]) == (3, 0) and first["finished"] and second["finished"]
    assert first["classifier_cached"] and first["minutes"] > second["minutes"] >= 0
    # Scores of an earlier version, without a metric registered since, are scored again (and only those).
    monkeypatch.setattr(scoring, "score", real_score)
    path = results / "deck" / "seed_1" / "metrics.json"
    old = json.loads(path.read_text())
    path.write_text(json.dumps({k: v for k, v in old.items() if k not in ("cid", "creativity")}))
    lines.clear()
    runner.train_and_score(experiment_configs.load_experiments(str(configs)), str(results), log=lines.append)
    assert sum("has no cid: scoring the run again" in line for line in lines) == 1
    assert json.loads(path.read_text()) == old
    # So are scores of an earlier version of a metric (one whose numbers changed meaning since).
    assert old["metric_versions"]["cid"] == registry.get("cid").version == 2
    path.write_text(json.dumps({k: v for k, v in old.items() if k != "metric_versions"}))  # from version 1
    lines.clear()
    runner.train_and_score(experiment_configs.load_experiments(str(configs)), str(results), log=lines.append)
    assert sum("has scores of an earlier version of cid: scoring the run again" in line for line in lines) == 1
    assert json.loads(path.read_text()) == old
    # Scores through another feature network than the cached one (a classifier trained on another
    # machine, say) are scored again through the cached one, and only those.
    path.write_text(json.dumps({**old, "feature_network": "another classifier", "fid": 0.0}))
    lines.clear()
    runner.train_and_score(experiment_configs.load_experiments(str(configs)), str(results), log=lines.append)
    again = [line for line in lines if "scoring the run again" in line]
    assert len(again) == 1 and f"{path} came through another classifier, not the cached " in again[0], again
    assert json.loads(path.read_text()) == old


def test_experiment_scores_follow_the_documented_protocol(configs, tmp_path, idx_dir):
    """metrics.json of make experiment, recomputed here step by step: num_samples generated images from
    noise drawn with seed + 1 (a conditional generator asked for each class in turn), as many training
    images drawn with the run's seed, both through the dataset's classifier. The evaluate command
    writes the same numbers."""
    import keras
    import numpy as np
    from keras_gan import metrics
    from keras_gan.data import datasets as data
    from keras_gan.evaluation import features

    results = tmp_path / "results"
    labels = experiment_configs.load_experiments(str(configs), only="labels")
    runner.train_and_score(labels, str(results), log=lambda *_: None)
    run = results / "labels" / "seed_0"
    ours = json.loads((run / "metrics.json").read_text())
    config = json.loads((run / "config.json").read_text())
    arrays = data.load_arrays("mnist", idx_dir)
    pick = np.random.default_rng(config["seed"]).choice(len(arrays.x_train), 40, replace=False)
    real = pipeline.to_unit_range(arrays.x_train[pick])
    z = np.random.default_rng(config["seed"] + 1).standard_normal((40, config["noise_dim"])).astype("float32")
    asked = np.arange(40) % 10
    fake = np.asarray(keras.models.load_model(run / "generator.keras")([z, np.eye(10, dtype="float32")[asked]]))
    net = features.classifier(arrays)
    (real_f, _), (fake_f, fake_p) = net(real), net(fake)
    assert ours["fid"] == pytest.approx(metrics.fid(real_f, fake_f), rel=1e-9)
    assert ours["kid"] == pytest.approx(metrics.kid(real_f, fake_f, seed=config["seed"])[0], rel=1e-9)
    assert ours["likeness"] == pytest.approx(metrics.likeness_score(real, fake.reshape(real.shape), seed=0), rel=1e-9)
    assert ours["label_accuracy"] == pytest.approx(np.mean(fake_p.argmax(axis=1) == asked))
    assert evaluate.main(["evaluate", f"--generator={run / 'generator.keras'}", "--num_samples=40",
                          f"--out={tmp_path / 'cli.json'}"]) == 0
    cli = json.loads((tmp_path / "cli.json").read_text())
    assert cli["dataset"] == "mnist" and cli["evaluated"].startswith("40 samples of ")
    assert {k: v for k, v in cli.items() if k not in ("dataset", "evaluated")} == {
        k: v for k, v in ours.items() if k != "metric_versions"}  # which versions made them: the runner's note


def test_a_changed_configuration_is_refused_not_continued(configs, tmp_path):
    results = tmp_path / "results"
    deck = experiment_configs.load_experiments(str(configs), only="deck")[0]
    import dataclasses

    first = dataclasses.replace(deck, seeds=(0,))
    runner.train_and_score([dataclasses.replace(first, epochs=1)], str(results), log=lambda *_: None)
    changed = dataclasses.replace(first, args={**first.args, "batch_size": 16})
    with pytest.raises(ConfigError, match=r"experiment deck: the run in .*seed_0 was made with other settings "
                                          r"\(batch_size: 32 there, 16 now\)"):
        runner.train_and_score([changed], str(results), log=lambda *_: None)
    runner.train_and_score([first], str(results), log=lambda *_: None)  # more epochs: resumed
    assert runner.finished_epochs(str(results / "deck" / "seed_0")) == 2


def test_an_interrupted_experiment_resumes(configs, tmp_path):
    results = tmp_path / "results"
    deck = experiment_configs.load_experiments(str(configs), only="deck")[0]
    first = deck.train_config(0, str(results))
    import dataclasses

    loop.fit(dataclasses.replace(first, epochs=1), log=lambda *_: None)  # stopped after epoch 1
    lines = []
    runner.train_and_score([dataclasses.replace(deck, seeds=(0,))], str(results), log=lines.append)
    assert lines[0].startswith("[1/1] deck seed 0: 1/2 epochs done")
    assert any("resuming from the checkpoint of epoch 1" in line for line in lines)
    assert runner.finished_epochs(str(results / "deck/seed_0")) == 2


def test_full_budget_and_selection(configs):
    full = experiment_configs.load_experiments(str(configs), only="deck", full=True)
    assert [e.epochs for e in full] == [3]
    assert [e.name for e in experiment_configs.load_experiments(str(configs))] == ["deck", "labels"]
    assert [e.seeds for e in experiment_configs.load_experiments(str(configs), seeds="4, 2,7")] == [(4, 2, 7)] * 2


@pytest.mark.parametrize("text", ["", "a,b", "1,1", "-1", ","])
def test_bad_seeds(configs, text):
    with pytest.raises(ConfigError, match="expected distinct non-negative integers"):
        experiment_configs.parse_seeds(text)


def test_an_interrupted_session_is_logged_unfinished(configs, tmp_path, monkeypatch):
    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "fit", stop)
    with pytest.raises(KeyboardInterrupt):
        runner.train_and_score(experiment_configs.load_experiments(str(configs)), str(tmp_path), log=lambda *_: None)
    (session,) = sessions.read(str(tmp_path))
    assert not session["finished"] and session["trained"] == 0


@pytest.mark.parametrize("spec, message", [
    ({"model": "vanilla", "dataset": "mnist", "epochs": 1, "colour": 1}, "unknown keys"),
    ({"model": "vanilla", "dataset": "mnist"}, "missing keys"),
    ({"model": "vanilla", "dataset": "mnist", "epochs": 1, "figures": ["gif3d"]}, "unknown figures"),
    ({"model": "vanilla", "dataset": "mnist", "epochs": 1, "args": {"colour": 1}}, "bad args"),
    ({"model": "gan9", "dataset": "mnist", "epochs": 1}, "unknown model"),
    ({"model": "dcgan", "dataset": "folder", "epochs": 1}, "names its maker"),
    ({"model": "dcgan", "dataset": "mnist", "folder": "emoji", "epochs": 1}, "names its maker"),
    ({"model": "dcgan", "dataset": "folder", "folder": "clipart", "epochs": 1}, "names its maker"),
])
def test_bad_configurations(tmp_path, spec, message):
    (tmp_path / "x.json").write_text(json.dumps(spec))
    with pytest.raises(ConfigError, match=message):
        experiment_configs.load_experiments(str(tmp_path))


def test_cli_errors(tmp_path, configs, capsys):
    assert experiment.main(["experiment", f"--configs={tmp_path / 'none'}"]) == 2
    assert "no experiment configurations" in capsys.readouterr().err
    assert experiment.main(["experiment", f"--configs={configs}", "--only=nope"]) == 2
    assert "no experiment named ['nope']" in capsys.readouterr().err


def test_report_reads_top_to_bottom(configs, tmp_path):
    results = tmp_path / "results"
    experiments = experiment_configs.load_experiments(str(configs))
    runner.train_and_score(experiments, str(results), log=lambda *_: None)
    path = report.write_report(experiments, str(results), str(tmp_path / "report.md"))
    text = open(path).read()
    assert text.startswith("# Experiment report") and "commit" in text and "cores" in text
    assert "## deck" in text and "## labels" in text and "## Results" in text
    assert "the slide deck reports D 0.558, G 1.577" in text  # vanilla rows compare with the deck
    minutes = sessions.read(str(results))[0]["minutes"]
    assert f"made these results, [sessions.csv](results/sessions.csv): one session: {minutes:.1f} minutes " \
           "from " in text and ", 3 run(s) trained." in text
    runner.train_and_score(experiments, str(results), log=lambda *_: None)  # all reused: a second session
    text = open(report.write_report(experiments, str(results), str(tmp_path / "report.md"))).read()
    assert "2 sessions, " in text and "; (2) " in text and "0 run(s) trained." in text
    deck_row = next(line for line in text.splitlines() if line.startswith("| `deck`"))
    assert "| 2 |" in deck_row and " ± " in deck_row  # two seeds: mean ± sd
    assert "Fewer than three seeds, so no spread or a rough one: `deck` (2), `labels` (1)." in text
    for link in ("results/deck/seed_0/samples.gif", "results/deck/seed_0/interpolation.png",
                 "results/labels/seed_0/loss_curves.png"):
        assert f"]({link})" in text, link
    # The copy test's verdict: none here; a run whose scores say copying is named.
    assert "C_T < -3, on pixels and their one-pixel translations): it flags none of these 2 experiments." in text
    path = results / "labels" / "seed_0" / "metrics.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "copying": 1.0}))
    text = open(report.write_report(experiments, str(results), str(tmp_path / "report.md"))).read()
    assert "one-pixel translations): it flags `labels`." in text
    # Rows scored through different feature networks are marked, and the table says which is which.
    ours = json.loads((results / "labels" / "seed_0" / "metrics.json").read_text())["feature_network"]
    assert "weights " in ours and f"through the feature network: {ours}." in text
    assert "(a)" not in deck_row
    path = results / "deck" / "seed_1" / "metrics.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "feature_network": "another classifier"}))
    text = open(report.write_report(experiments, str(results), str(tmp_path / "report.md"))).read()
    assert f"through 2 different feature networks, marked beside each experiment: (a) {ours}; (b) another " \
           "classifier. Compare scores only between rows of one mark" in text
    rows = {line.split(" | ")[0] for line in text.splitlines() if line.startswith("| `")}
    assert rows == {"| `deck` (a, b)", "| `labels` (a)"}
    assert "test accuracy below" not in text and "A classifier below" not in text
    # a run scored on fewer samples is named with its counts; a weak classifier is warned about
    scores = json.loads(path.read_text())
    n = scores["generated_samples"]
    path.write_text(json.dumps({**scores, "feature_network": "folder classifier (test accuracy 0.4859, weights x)"}))
    first = results / "deck" / "seed_0" / "metrics.json"
    first.write_text(json.dumps({**json.loads(first.read_text()), "generated_samples": n + 1}))
    text = open(report.write_report(experiments, str(results), str(tmp_path / "report.md"))).read()
    counts = next(line for line in text.splitlines() if line.startswith("Scores of "))
    assert f"{n + 1} generated and" in counts and f"{n} generated and" in counts and "(`" in counts
    assert "A classifier below 80% test accuracy (folder classifier (test accuracy 0.4859, weights x))" in text


def test_cli_runs_and_writes_the_report(configs, tmp_path):
    results = tmp_path / "out" / "results"
    assert experiment.main(["experiment", f"--configs={configs}", f"--results={results}", "--only=labels"]) == 0
    text = (tmp_path / "out" / "report.md").read_text()
    assert "## labels" in text and "## deck" not in text  # deck has no results yet
    # --seeds replaces every configuration's seeds; later reports keep every seed run at the same budget.
    assert experiment.main(["experiment", f"--configs={configs}", f"--results={results}", "--only=labels",
                            "--seeds=3"]) == 0
    assert (results / "labels" / "seed_3" / "metrics.json").exists()
    text = (tmp_path / "out" / "report.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `labels`"))
    assert "| 2 |" in row and " ± " in row and "Seeds 0, 3;" in text
    config = json.loads((results / "labels" / "seed_3" / "config.json").read_text())
    (results / "labels" / "seed_3" / "config.json").write_text(json.dumps({**config, "epochs": 9}))
    labels = experiment_configs.load_experiments(str(configs), only="labels")[0]
    assert report.scored_seeds(labels, str(results)) == [0]  # another budget's run is left out
    assert experiment.main(["experiment", f"--configs={configs}", "--seeds=x"]) == 2


@pytest.mark.slow
def test_sigterm_stops_an_experiment_like_ctrl_c_and_records_its_session(tmp_path, idx_dir, classifier_cache):
    import os
    import signal
    import subprocess
    import sys
    import time

    from keras_gan.runs import checkpoint

    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "long.json").write_text(json.dumps({
        "model": "vanilla", "dataset": "mnist", "epochs": 500, "num_samples": 40,
        "args": {"data_dir": idx_dir, "batch_size": 32, "steps_per_epoch": 2, "sample_every": 100}}))
    results = tmp_path / "results"
    proc = subprocess.Popen([sys.executable, "-m", "keras_gan.experiment", f"--configs={configs}",
                             f"--results={results}"], env={**os.environ, "KERAS_GAN_CACHE": str(classifier_cache)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not (checkpoint.load_meta(str(results / "long" / "seed_0")) or {}).get("epoch"):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()[-2000:]
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM and "run the same command again" in err and "Traceback" not in err
    (session,) = sessions.read(str(results))
    assert not session["finished"] and session["trained"] == 0


def test_numbered_configurations_run_in_number_order(tmp_path):
    for name in ("10_late", "2_early", "b_named", "1_first"):
        (tmp_path / f"{name}.json").write_text(json.dumps({"model": "vanilla", "dataset": "mnist", "epochs": 1}))
    names = [e.name for e in experiment_configs.load_experiments(str(tmp_path))]
    assert names == ["1_first", "2_early", "10_late", "b_named"]


def test_an_experiment_starts_from_an_earlier_ones_generator(tmp_path):
    """init_from: SRGAN's G starts from the same seed's run of an earlier configuration; a later or unknown
    one is refused when the configurations load, and a source nothing trains before training starts."""
    folder = tmp_path / "configs"
    folder.mkdir()
    spec = {"dataset": "mnist", "epochs": 1, "seeds": [0, 2], "args": {"filters": 4, "blocks": 1}}
    (folder / "1_pixels.json").write_text(json.dumps({**spec, "model": "srresnet"}))
    (folder / "2_gan.json").write_text(json.dumps({**spec, "model": "srgan", "init_from": "1_pixels"}))
    results = str(tmp_path / "results")
    pixels, gan = experiment_configs.load_experiments(str(folder))
    assert gan.train_config(2, results).init_generator == f"{results}/1_pixels/seed_2/generator.keras"
    assert pixels.train_config(2, results).init_generator == ""
    assert gan.command() == ("python -m keras_gan.train --model=srgan --dataset=mnist --epochs=1 --seed=S --blocks=1 "
                             "--filters=4 --init_generator=RESULTS/1_pixels/seed_S/generator.keras")
    assert "--init_generator" not in pixels.command()
    alone = experiment_configs.load_experiments(str(folder), only="2_gan")
    with pytest.raises(ConfigError, match=r"starts from the generator of 1_pixels \(seed 0\).*--only=1_pixels,2_gan"):
        runner.train_and_score(alone, results)
    (folder / "0_gan.json").write_text(json.dumps({**spec, "model": "srgan", "init_from": "1_pixels"}))
    with pytest.raises(ConfigError, match="init_from names '1_pixels', which is not a configuration that comes before"):
        experiment_configs.load_experiments(str(folder))
