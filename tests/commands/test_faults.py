"""The fault campaign: every kind of damaged file a command reads gives one line and status 2; a
training run that crashes before any rename of its saves, or whose process is killed at random
moments, always resumes, loses at most the unfinished epoch, never leaves a file that fails to load,
and ends with the same weights and losses as a run that never stopped."""

import csv
import dataclasses
import json
import os
import random
import shutil
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from keras_gan import evaluate, experiment, generate, train
from keras_gan.evaluation import features
from keras_gan.io import atomic as files
from keras_gan.runs import checkpoint
from keras_gan.runs import config as run_config
from keras_gan.runs import folder as rundir
from keras_gan.runs.config import TrainConfig
from keras_gan.training import loop
from PIL import Image

from tests.conftest import write_idx_dataset


def quiet(*_):
    pass


@pytest.fixture(scope="module")
def trained(idx_dir, tmp_path_factory):
    """A finished run folder (vanilla, 2 epochs), copied by each test that damages something."""
    out = tmp_path_factory.mktemp("faults") / "run"
    loop.fit(TrainConfig(dataset="mnist", data_dir=idx_dir, output_dir=str(out), epochs=2, batch_size=32,
                            steps_per_epoch=2, sample_every=1, seed=3), log=quiet)
    return out


@pytest.fixture(scope="module")
def results(idx_dir, classifier_cache, tmp_path_factory):
    """make experiment's results for one small configuration."""
    top = tmp_path_factory.mktemp("experiment")
    (top / "configs").mkdir()
    (top / "configs" / "deck.json").write_text(json.dumps({
        "model": "vanilla", "dataset": "mnist", "epochs": 1, "num_samples": 40,
        "args": {"data_dir": idx_dir, "batch_size": 32, "steps_per_epoch": 2}}))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KERAS_GAN_CACHE", str(classifier_cache))
        assert experiment.main(["experiment", f"--configs={top / 'configs'}", f"--results={top / 'results'}"]) == 0
    return top


def truncate(path):
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


def garbage(path):
    path.write_bytes(b"\x00\x13 not what it should be " * 7)


def empty(path):
    path.write_bytes(b"")


DAMAGE = {"truncated": truncate, "garbage": garbage, "empty": empty}


def dataset_npz(tmp, damage):
    path = tmp / "data.npz"
    x, y = np.zeros((40, 28, 28), np.uint8), np.zeros(40, np.uint8)
    np.savez(path, x_train=x, y_train=y, x_test=x, y_test=y)
    damage(path)
    return train, ["--dataset=mnist", f"--data_dir={path}", f"--output_dir={tmp / 'r'}"], path


def dataset_idx(tmp, damage, gz=False):
    folder = tmp / "idx"
    write_idx_dataset(folder, n_train=64, n_test=8, gz=gz)
    path = folder / ("train-images-idx3-ubyte" + (".gz" if gz else ""))
    damage(path)
    return train, ["--dataset=mnist", f"--data_dir={folder}", f"--output_dir={tmp / 'r'}"], path


def dataset_cifar(tmp, damage):
    folder = tmp / "cifar"
    folder.mkdir()
    import pickle

    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": np.zeros((8, 3072), np.uint8), b"labels": [1] * 8}, f)
    damage(folder / "data_batch_3")
    return train, ["--dataset=cifar10", f"--data_dir={folder}", f"--output_dir={tmp / 'r'}"], folder / "data_batch_3"


def run_copy(trained, tmp):
    run = tmp / "run"
    shutil.copytree(trained, run)
    return run


def run_file(trained, tmp, damage, name, command):
    run = run_copy(trained, tmp)
    damage(run / name)
    argv = {"train": (train, [f"--output_dir={run}", "--resume", "--epochs=3"]),
            "generate": (generate, [f"--generator={run / 'generator.keras'}", f"--out={tmp / 'g.png'}"]),
            "evaluate": (evaluate, [f"--generator={run / 'generator.keras'}", "--num_samples=20"])}[command]
    return (*argv, run / name)


def config_value(trained, tmp, text):
    run = run_copy(trained, tmp)
    (run / "config.json").write_text(text)
    return train, [f"--output_dir={run}", "--resume", "--epochs=3"], run / "config.json"


def checkpoint_of_another_model(trained, tmp, change):
    run = run_copy(trained, tmp)
    state, meta = checkpoint.load(str(run))
    change(state)
    checkpoint.save(str(run), state, meta)
    return train, [f"--output_dir={run}", "--resume", "--epochs=3"], run / "checkpoint.npz"


def classifier_file(tmp, idx_dir, classifier_cache, monkeypatch, damage, suffix):
    cache = tmp / "cache"
    shutil.copytree(classifier_cache, cache)
    monkeypatch.setenv("KERAS_GAN_CACHE", str(cache))
    from keras_gan.data import datasets as data

    path = features.classifier_path(data.load_arrays("mnist", idx_dir)) + suffix
    damage(type(tmp)(path))
    return evaluate, ["--test_split", "--dataset=mnist", f"--data_dir={idx_dir}", "--num_samples=20"], path


def images(tmp, idx_dir, write):
    path = tmp / "images.npy"
    write(path)
    return evaluate, [f"--images={path}", "--dataset=mnist", f"--data_dir={idx_dir}", "--num_samples=20"], path


def nan_images(path):
    x = np.zeros((20, 28, 28, 1), np.float32)
    x[4, 3, 3] = np.nan
    np.save(path, x)


def experiment_config(tmp, text):
    folder = tmp / "configs"
    folder.mkdir()
    (folder / "x.json").write_text(text)
    return experiment, [f"--configs={folder}", f"--results={tmp / 'results'}"], folder / "x.json"


def results_file(results, tmp, name, damage):
    top = tmp / "top"
    shutil.copytree(results, top)
    damage(top / "results" / name)
    return experiment, [f"--configs={top / 'configs'}", f"--results={top / 'results'}"], top / "results" / name


def bad_csv_row(path):
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1] + [lines[-1].replace(lines[-1].split(",")[1], "oops", 1)]) + "\n")


CASES = {
    **{f"dataset npz {d}": lambda t, d=d, **k: dataset_npz(t, DAMAGE[d]) for d in DAMAGE},
    **{f"dataset idx {d}": lambda t, d=d, **k: dataset_idx(t, DAMAGE[d]) for d in DAMAGE},
    "dataset idx.gz truncated": lambda t, **k: dataset_idx(t, truncate, gz=True),
    "dataset cifar batch garbage": lambda t, **k: dataset_cifar(t, garbage),
    **{f"checkpoint {d}": lambda t, trained, d=d, **k: run_file(trained, t, DAMAGE[d], "checkpoint.npz", "train")
       for d in DAMAGE},
    "checkpoint of another architecture": lambda t, trained, **k: checkpoint_of_another_model(
        trained, t, lambda s: s.update({"generator/0": np.zeros((12, 256), np.float32)})),
    "checkpoint missing variables": lambda t, trained, **k: checkpoint_of_another_model(
        trained, t, lambda s: s.pop("d_optimizer/3")),
    **{f"config.json {d} ({c})": lambda t, trained, d=d, c=c, **k: run_file(trained, t, DAMAGE[d], "config.json", c)
       for d in ("truncated", "garbage") for c in ("train", "generate", "evaluate")},
    "config.json wrong type": lambda t, trained, **k: config_value(
        trained, t, (trained / "config.json").read_text().replace('"learning_rate": 0.0002', '"learning_rate": "fast"')),
    "config.json not an object": lambda t, trained, **k: config_value(trained, t, "[1, 2]"),
    **{f"generator.keras {d} ({c})": lambda t, trained, d=d, c=c, **k: run_file(
        trained, t, DAMAGE[d], "generator.keras", c)
       for d in DAMAGE for c in ("generate", "evaluate")},
    **{f"classifier{s or '.keras'} {d}": lambda t, idx_dir, classifier_cache, monkeypatch, d=d, s=s, **k:
       classifier_file(t, idx_dir, classifier_cache, monkeypatch, DAMAGE[d], s)
       for d in ("truncated", "garbage") for s in ("", ".json")},
    "images.npy truncated": lambda t, idx_dir, **k: images(
        t, idx_dir, lambda p: (np.save(p, np.zeros((20, 784), np.float32)), truncate(p))),
    "images.npy garbage": lambda t, idx_dir, **k: images(t, idx_dir, garbage),
    "images.npy NaN": lambda t, idx_dir, **k: images(t, idx_dir, nan_images),
    "images.npy objects": lambda t, idx_dir, **k: images(
        t, idx_dir, lambda p: np.save(p, np.array([{"a": 1}] * 20), allow_pickle=True)),
    "images.npy text": lambda t, idx_dir, **k: images(t, idx_dir, lambda p: np.save(p, np.array(["x"] * 20))),
    "experiment config truncated": lambda t, **k: experiment_config(t, '{"model": "vanilla", "data'),
    "experiment config wrong type": lambda t, **k: experiment_config(
        t, '{"model": "vanilla", "dataset": "mnist", "epochs": "ten"}'),
    "experiment config seeds": lambda t, **k: experiment_config(
        t, '{"model": "vanilla", "dataset": "mnist", "epochs": 1, "seeds": 3}'),
    "experiment config args": lambda t, **k: experiment_config(
        t, '{"model": "vanilla", "dataset": "mnist", "epochs": 1, "args": {"learning_rate": "fast"}}'),
    "experiment epochs.csv": lambda t, results, **k: results_file(results, t, "deck/seed_0/epochs.csv", bad_csv_row),
    "experiment sessions.csv": lambda t, results, **k: results_file(results, t, "sessions.csv", bad_csv_row),
    "experiment run config.json": lambda t, results, **k: results_file(results, t, "deck/seed_0/config.json", truncate),
    "experiment run checkpoint": lambda t, results, **k: results_file(results, t, "deck/seed_0/checkpoint.npz", truncate),
    "experiment sample grid": lambda t, results, **k: results_file(results, t, "deck/seed_0/samples/epoch_001.png",
                                                                   truncate),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_damaged_file_gives_one_line_and_status_2(case, trained, results, idx_dir, classifier_cache,
                                                       tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_GAN_CACHE", str(classifier_cache))
    command, args, path = CASES[case](tmp_path, trained=trained, results=results, idx_dir=idx_dir,
                                      classifier_cache=classifier_cache, monkeypatch=monkeypatch)
    capsys.readouterr()
    code = command.main([command.__name__, *args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert str(path) in err, err  # names the file
    assert "Traceback" not in err


def test_a_damaged_cache_of_scores_is_computed_again(results, tmp_path, classifier_cache, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_GAN_CACHE", str(classifier_cache))
    top = tmp_path / "top"
    shutil.copytree(results, top)
    scores = top / "results" / "deck" / "seed_0" / "metrics.json"
    good = json.loads(scores.read_text())
    truncate(scores)
    assert experiment.main(["experiment", f"--configs={top / 'configs'}", f"--results={top / 'results'}"]) == 0
    assert f"{scores} is damaged: scoring the run again" in capsys.readouterr().out
    assert json.loads(scores.read_text()) == good


# --- crashes and kills while training ---------------------------------------------------------------

def assert_every_file_loads(run):
    """Each file a run folder holds reads back whole; returns the checkpoint's epoch (0 if none)."""
    found = checkpoint.load(str(run))
    if (run / rundir.CONFIG).exists():
        run_config.read_config(str(run))
    for path in run.rglob("*"):
        if path.name.startswith(files.TEMPORARY_PREFIX) or not path.is_file():
            continue  # a killed save's temporary: swept when the run resumes
        if path.suffix == ".keras":
            keras.models.load_model(path)
        elif path.suffix == ".png":
            with Image.open(path) as image:
                image.load()
        elif path.suffix == ".csv":
            with open(path, newline="") as f:
                rows = list(csv.reader(f))
            assert rows and all(len(r) == len(rows[0]) for r in rows), path
    if found is None:
        return 0
    state, meta = found
    assert len(meta["history"]["d_loss"]) == len(meta["history"]["g_loss"]) == 2 * meta["epoch"]
    return meta["epoch"]


class Killed(BaseException):
    """Stands for the process dying: nothing catches it on the way out."""


def small(idx_dir, out, epochs):
    return TrainConfig(dataset="mnist", data_dir=idx_dir, output_dir=str(out), epochs=epochs, batch_size=32,
                       steps_per_epoch=2, sample_every=1, seed=11)


def test_a_crash_before_any_rename_of_an_epoch_loses_only_that_epoch(idx_dir, tmp_path, monkeypatch):
    # One run folder crashes in epoch 2 before the 1st rename of its saves, is resumed and crashes
    # before the 2nd, and so on up to the checkpoint's; each time it keeps epoch 1, whole. Resumed
    # once more, it ends as a run that never stopped.
    reference = loop.fit(small(idx_dir, tmp_path / "reference", 2), log=quiet)
    run = tmp_path / "run"
    loop.fit(small(idx_dir, run, 1), log=quiet)
    renames = []
    real_replace = os.replace

    def crash_at(k):
        def replace(src, dst):
            renames.append(os.path.basename(dst))
            if len(renames) == k:
                raise Killed(dst)
            return real_replace(src, dst)
        return replace

    k = 1
    while True:
        renames.clear()
        monkeypatch.setattr(os, "replace", crash_at(k))
        try:
            loop.fit(small(idx_dir, run, 2), resume=True, log=quiet)
        except Killed:
            assert assert_every_file_loads(run) == 1, f"crash before renaming {renames[-1]}"
            k += 1
            continue
        finally:
            monkeypatch.setattr(os, "replace", real_replace)
        break
    assert k > 7 and renames[-1] == checkpoint.CHECKPOINT  # every save of an epoch had its crash
    history = checkpoint.load(str(run))[1]["history"]
    assert history["d_loss"] == reference["d_loss"] and history["g_loss"] == reference["g_loss"]
    a, b = checkpoint.load(str(run))[0], checkpoint.load(str(tmp_path / "reference"))[0]
    assert all(np.array_equal(a[key], b[key]) for key in a)


@pytest.mark.slow
def test_a_process_killed_at_random_moments_always_resumes(idx_dir, classifier_cache, tmp_path, monkeypatch):
    out, epochs = tmp_path / "run", 60
    env = dict(os.environ, KERAS_GAN_CACHE=str(classifier_cache))
    command = [sys.executable, "-m", "keras_gan.train", "--dataset=mnist", f"--data_dir={idx_dir}",
               f"--output_dir={out}", f"--epochs={epochs}", "--steps_per_epoch=2", "--batch_size=32",
               "--sample_every=1", "--eval_every=1", "--eval_samples=40", "--seed=11"]
    moments, saved = random.Random(20261124), 0
    for kill in range(3):
        proc = subprocess.Popen(command + (["--resume"] if saved else []), env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            if kill:  # let it save a new epoch, then kill it somewhere in the epochs that follow
                deadline = time.monotonic() + 120
                while (checkpoint.load_meta(str(out)) or {"epoch": 0})["epoch"] <= saved:
                    assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()[-2000:]
                    time.sleep(0.05)
                time.sleep(moments.uniform(0.0, 2.5))
            else:  # the first one at any moment from its start, the first epoch included
                time.sleep(moments.uniform(3.0, 8.0))
            assert proc.poll() is None, proc.stderr.read()[-2000:]
        finally:
            proc.kill()
            proc.wait()
        epoch = assert_every_file_loads(out)
        assert epoch >= saved  # a finished epoch is never lost
        saved = epoch
    assert saved < epochs
    # Finished in this process, the run is the one that never stopped: same losses, same weights.
    final = TrainConfig(dataset="mnist", data_dir=idx_dir, output_dir=str(out), epochs=saved + 1,
                                           batch_size=32, steps_per_epoch=2, sample_every=1, eval_every=1,
                                           eval_samples=40, seed=11)
    monkeypatch.setenv("KERAS_GAN_CACHE", str(classifier_cache))
    history = loop.fit(final, resume=True, log=quiet)
    reference = loop.fit(dataclasses.replace(final, output_dir=str(tmp_path / "ref"), eval_every=0), log=quiet)
    assert history["d_loss"] == reference["d_loss"] and history["g_loss"] == reference["g_loss"]
    assert not list(out.rglob(files.TEMPORARY_PREFIX + "*"))
    a, b = checkpoint.load(str(out))[0], checkpoint.load(str(tmp_path / "ref"))[0]
    assert all(np.array_equal(a[k], b[k]) for k in a)
