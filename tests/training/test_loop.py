"""End to end: the training loop and its command line, on fabricated MNIST-shaped IDX files."""

import csv
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from keras_gan import interrupts, train
from keras_gan.errors import ConfigError, DivergenceError, RunInUseError
from keras_gan.io import atomic as files
from keras_gan.models.gan import GAN
from keras_gan.runs import checkpoint
from keras_gan.runs import config as run_config
from keras_gan.runs import folder as rundir
from keras_gan.runs.config import TrainConfig
from keras_gan.training import loop, tasks
from keras_gan.training.callbacks import RunCallback


def small_config(idx_dir, out, **kw):
    values = dict(dataset="mnist", data_dir=idx_dir, output_dir=str(out), epochs=2, batch_size=32,
                  steps_per_epoch=3, sample_every=1, seed=7)
    return TrainConfig(**{**values, **kw})


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def quiet(*_):
    pass


def test_run_directory_contents(idx_dir, tmp_path):
    config = small_config(idx_dir, tmp_path / "run")
    history = loop.fit(config, log=quiet)
    run = tmp_path / "run"
    for name in ("config.json", "losses.csv", "epochs.csv", "loss_curves.png", "generator.keras",
                 "discriminator.keras", "checkpoint.npz", "samples/epoch_001.png", "samples/epoch_002.png"):
        assert (run / name).is_file(), name
    # config.json holds every setting but the folder itself, which is wherever the file is read.
    assert "output_dir" not in json.loads((run / "config.json").read_text())
    assert run_config.read_config(str(run)) == config
    steps = read_csv(run / "losses.csv")
    assert len(steps) == 6 and [int(r["epoch"]) for r in steps] == [1, 1, 1, 2, 2, 2]
    assert [float(r["d_loss"]) for r in steps] == pytest.approx(history["d_loss"], rel=1e-5)
    epochs = read_csv(run / "epochs.csv")
    assert [int(r["epoch"]) for r in epochs] == [1, 2]
    assert float(epochs[1]["g_loss"]) == pytest.approx(np.mean(history["g_loss"][3:]), rel=1e-5)
    assert float(epochs[1]["rss_mb"]) > 0 and float(epochs[1]["images_per_second"]) > 0
    # The saved generator reproduces the checkpointed one.
    state, meta = checkpoint.load(str(run))
    assert meta["epoch"] == 2
    g = keras.models.load_model(run / "generator.keras")
    gan = tasks.build_gan(config)
    gan.set_state(state)
    z = tasks.fixed_noise(config)
    np.testing.assert_allclose(np.asarray(g(z)), gan.sample(z), rtol=1e-6, atol=1e-6)
    assert g.count_params() == 1_463_312
    # discriminator.keras is the deck's D: probabilities, sigmoid(D's logits), with the same weights.
    d = keras.models.load_model(run / "discriminator.keras")
    assert d.count_params() == 1_460_225 and d.layers[-1].activation is keras.activations.sigmoid
    x = gan.sample(z)
    logit = np.asarray(gan.network(x, training=False), np.float64)
    np.testing.assert_allclose(np.asarray(d(x)), 1 / (1 + np.exp(-logit)), rtol=1e-5)


def test_interrupted_run_resumes_exactly(idx_dir, tmp_path, monkeypatch):
    reference = loop.fit(small_config(idx_dir, tmp_path / "a", epochs=3), log=quiet)

    calls = {"n": 0}
    real_step = GAN.generator_step

    def dies_in_epoch_3(self, *args):
        calls["n"] += 1
        if calls["n"] == 8:  # epoch 3, step 2: the run is killed mid-epoch
            raise KeyboardInterrupt
        return real_step(self, *args)

    monkeypatch.setattr(GAN, "generator_step", dies_in_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        loop.fit(small_config(idx_dir, tmp_path / "b", epochs=3), log=quiet)
    monkeypatch.setattr(GAN, "generator_step", real_step)
    _, meta = checkpoint.load(str(tmp_path / "b"))
    assert meta["epoch"] == 2  # only the unfinished epoch is lost
    resumed = loop.fit(small_config(idx_dir, tmp_path / "b", epochs=3), resume=True, log=quiet)
    assert resumed["d_loss"] == reference["d_loss"] and resumed["g_loss"] == reference["g_loss"]
    assert len(read_csv(tmp_path / "b" / "losses.csv")) == 9


def test_existing_run_is_not_overwritten(idx_dir, tmp_path):
    config = small_config(idx_dir, tmp_path / "run", epochs=1)
    loop.fit(config, log=quiet)
    with pytest.raises(ConfigError, match="already holds a run; pass --resume"):
        loop.fit(config, log=quiet)
    with pytest.raises(ConfigError, match="holds no checkpoint"):
        loop.fit(dataclasses.replace(config, output_dir=str(tmp_path / "new")), resume=True, log=quiet)


def test_batch_larger_than_dataset(idx_dir, tmp_path):
    with pytest.raises(ConfigError, match="larger than the 512 training images"):
        loop.fit(dataclasses.replace(small_config(idx_dir, tmp_path / "r"), batch_size=1000), log=quiet)


# --- command line --------------------------------------------------------------------------------------

@pytest.mark.parametrize("flag, message", [
    ("--epochs=0", "--epochs must be a positive integer. Received: epochs=0"),
    ("--epochs=-3", "--epochs must be a positive integer. Received: epochs=-3"),
    ("--epochs=many", "flag --epochs=many"),
    ("--batch_size=0", "--batch_size must be a positive integer"),
    ("--dataset=svhn", "unknown dataset 'svhn'; choose one of: mnist, fashion_mnist, cifar10"),
    ("--label_smoothing=1.5", "--label_smoothing"),
    ("--noise=gaussian", "--noise must be one of uniform, normal"),
    ("--no_such_flag=1", "no_such_flag"),
    ("--batch_size=100000", "larger than the 512 training images"),
])
def test_bad_flags_get_one_line_and_status_2(flag, message, idx_dir, tmp_path, capsys):
    code = train.main(["train", f"--data_dir={idx_dir}", f"--output_dir={tmp_path / 'r'}", flag])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1


def test_unwritable_output_dir(idx_dir, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    code = train.main(["train", f"--data_dir={idx_dir}", f"--output_dir={tmp_path / 'file' / 'run'}"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: cannot write to --output_dir=")


def test_dry_run_prints_the_resolved_config(tmp_path, capsys):
    assert train.main(["train", "--dataset=fashion_mnist", "--epochs=3", "--dry_run"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["dataset"] == "fashion_mnist" and config["epochs"] == 3 and config["noise_dim"] == 10


def test_resume_may_extend_epochs_but_not_change_the_model(idx_dir, tmp_path, capsys):
    out = tmp_path / "run"
    loop.fit(small_config(idx_dir, out, epochs=1), log=quiet)
    assert train.main(["train", f"--output_dir={out}", "--resume", "--noise_dim=20"]) == 2
    assert "cannot change --noise_dim" in capsys.readouterr().err
    assert train.main(["train", f"--output_dir={out}", "--resume", "--epochs=2"]) == 0
    assert checkpoint.load(str(out))[1]["epoch"] == 2


def _cli_run(idx_dir, out, seed, **env):
    cmd = [sys.executable, "-m", "keras_gan.train", "--dataset=mnist", f"--data_dir={idx_dir}",
           f"--output_dir={out}", "--epochs=1", "--steps_per_epoch=4", "--batch_size=32", f"--seed={seed}"]
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**environment, **env})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("mnist: 512 training images from --data_dir") and "epoch 1/1: d_loss" in result.stdout
    return [(r["d_loss"], r["g_loss"]) for r in read_csv(out / "losses.csv")], result.stderr


@pytest.mark.slow
def test_same_seed_same_losses_across_processes_and_a_quiet_start(idx_dir, tmp_path):
    first, err = _cli_run(idx_dir, tmp_path / "a", seed=3)
    assert err == ""  # none of TensorFlow's start-up lines (oneDNN, CUDA drivers, CPU instructions)
    # A user who sets TF_CPP_MIN_LOG_LEVEL gets TensorFlow's own behaviour: what a bare import prints.
    bare = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}).stderr
    same, err = _cli_run(idx_dir, tmp_path / "b", seed=3, TF_CPP_MIN_LOG_LEVEL="0")
    assert first == same
    tags = {line.split("]")[0].split()[-1] for line in bare.splitlines() if "]" in line}
    assert all(tag in err for tag in tags)  # e.g. port.cc:153 (oneDNN), where TensorFlow prints them
    # and this process, trained alike, makes the same losses, which another seed changes
    config = TrainConfig(dataset="mnist", data_dir=idx_dir, output_dir=str(tmp_path / "c"), epochs=1,
                         steps_per_epoch=4, batch_size=32, seed=3)
    history = loop.fit(config, log=lambda *_: None)
    assert [(f"{d:.6g}", f"{g:.6g}") for d, g in zip(history["d_loss"], history["g_loss"])] == first
    other = loop.fit(dataclasses.replace(config, seed=4, output_dir=str(tmp_path / "d")), log=lambda *_: None)
    assert other["d_loss"] != history["d_loss"]


def _start_long_run(idx_dir, out):
    cmd = [sys.executable, "-m", "keras_gan.train", "--dataset=mnist", f"--data_dir={idx_dir}",
           f"--output_dir={out}", "--epochs=500", "--steps_per_epoch=2", "--batch_size=32", "--sample_every=100"]
    # The test sends SIGINT as a terminal's Ctrl-C does. A suite started as a background job (`make test &`) passes
    # SIGINT on ignored, and Python installs no KeyboardInterrupt handler in a child that starts so; a Python handler
    # in this process is reset to the default one in the child.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finally:
        signal.signal(signal.SIGINT, previous)


def _wait_for_epoch(out, epoch, proc, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        loaded = checkpoint.load(str(out)) if (out / checkpoint.CHECKPOINT).exists() else None
        if loaded and loaded[1]["epoch"] >= epoch:
            return
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        time.sleep(0.2)
    raise AssertionError("the run did not reach its epoch in time")


@pytest.mark.slow
def test_ctrl_c_stops_a_process_with_the_command_that_resumes(idx_dir, tmp_path):
    # (Processes killed outright, at random moments, are tests/commands/test_faults.py's campaign.)
    out = tmp_path / "run"
    proc = _start_long_run(idx_dir, out)
    _wait_for_epoch(out, 3, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "--resume" in err and "Traceback" not in err
    _, meta = checkpoint.load(str(out))  # whatever the moment of the kill, the checkpoint is whole
    done = meta["epoch"]
    assert len(meta["history"]["d_loss"]) == 2 * done
    assert train.main(["train", f"--output_dir={out}", "--resume", f"--epochs={done + 1}"]) == 0
    _, meta = checkpoint.load(str(out))
    assert meta["epoch"] == done + 1 and len(meta["history"]["d_loss"]) == 2 * (done + 1)
    assert not [f for f in os.listdir(out) if f.startswith(files.TEMPORARY_PREFIX)]


class _Swallowed:
    """Delivers a signal from its __del__, where Python would print and swallow an exception."""

    def __del__(self):
        interrupts.raise_interrupted(signal.SIGTERM, sys._getframe())


def test_a_signal_lost_where_python_swallows_it_still_stops_the_run(idx_dir, tmp_path):
    """A SIGTERM that lands in a __del__ (TensorFlow's and JAX's weakref callbacks run all the time),
    where Python would print and swallow the exception, is not raised there, but after the next
    step: the run stops, keeping epoch 1."""
    class LoseASignal(RunCallback):
        def on_step_end(self, run, step, logs):
            if step == 4:  # the first of epoch 2
                _Swallowed()  # dropped at once: its __del__ runs here

    config = small_config(idx_dir, tmp_path / "run", epochs=3)
    with pytest.raises(interrupts.Interrupted) as stopped:
        loop.fit(config, log=lambda *_: None, callbacks=[LoseASignal()])
    assert stopped.value.exit_status == 128 + signal.SIGTERM
    assert checkpoint.load_meta(config.run_dir)["epoch"] == 1
    interrupts.check()  # raised once: nothing is left pending


def test_help(capsys):
    assert train.main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--epochs" in out and "--resume" in out and "Training:" in out


def test_help_into_a_closed_pipe_stops_quietly():
    # `python -m keras_gan.train --help | head -3`: the reader is gone before the help is written
    read, write = os.pipe()
    os.close(read)
    try:
        environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # the command's own quiet start
        done = subprocess.run([sys.executable, "-m", "keras_gan.train", "--help"], stdout=write,
                              stderr=subprocess.PIPE, text=True, timeout=120, env=environment)
    finally:
        os.close(write)
    assert done.returncode == 128 + signal.SIGPIPE and done.stderr == "", done.stderr[-2000:]


def test_cifar10_shaped_run(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (80, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 80)
    np.savez(tmp_path / "cifar10.npz", x_train=x, y_train=y, x_test=x[:8], y_test=y[:8])
    config = TrainConfig(dataset="cifar10", data_dir=str(tmp_path / "cifar10.npz"), epochs=1, batch_size=16,
                         steps_per_epoch=2, output_dir=str(tmp_path / "run"))
    loop.fit(config, log=quiet)
    g = keras.models.load_model(tmp_path / "run" / "generator.keras")
    assert g.output_shape == (None, 3072)
    assert (tmp_path / "run" / "samples" / "epoch_001.png").stat().st_size > 1000


def test_resume_sweeps_temporaries_of_a_killed_save(idx_dir, tmp_path):
    out = tmp_path / "run"
    loop.fit(small_config(idx_dir, out, epochs=1), log=quiet)
    for folder in (out, out / "samples"):
        (folder / f"{files.TEMPORARY_PREFIX}x.png").write_bytes(b"half a file")
    loop.fit(small_config(idx_dir, out, epochs=2), resume=True, log=quiet)
    leftovers = [p for p in out.rglob(files.TEMPORARY_PREFIX + "*")]
    assert leftovers == []


def test_ctrl_c_before_the_first_checkpoint(idx_dir, tmp_path, monkeypatch, capsys):
    def interrupted(self, *args):
        raise KeyboardInterrupt

    monkeypatch.setattr(GAN, "generator_step", interrupted)
    code = train.main(["train", f"--data_dir={idx_dir}", f"--output_dir={tmp_path / 'r'}", "--batch_size=32"])
    assert code == 130 and "nothing was saved" in capsys.readouterr().err


# --- divergence ------------------------------------------------------------------------------------

def folder_bytes(folder):
    """Every file of a run folder (its lock aside) and its bytes."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != rundir.LOCK}


def poison_d_at_call(monkeypatch, n):
    """The n-th D step first sets one of D's kernels to NaN, as an exploding update would."""
    calls = {"n": 0}
    real_step = GAN.discriminator_step

    def step(self, *args):
        calls["n"] += 1
        if calls["n"] == n:
            kernel = self.network.layers[0].kernel
            kernel.assign(np.full(kernel.shape, np.nan, np.float32))
        return real_step(self, *args)

    monkeypatch.setattr(GAN, "discriminator_step", step)


def test_a_diverged_run_stops_at_once_and_keeps_the_last_good_state(idx_dir, use_classifier, tmp_path,
                                                                      monkeypatch, capsys):
    reference = loop.fit(small_config(idx_dir, tmp_path / "ref", epochs=3), log=quiet)
    out = tmp_path / "run"
    config = small_config(idx_dir, out, epochs=1, eval_every=1, eval_samples=40)
    loop.fit(config, log=quiet)
    saved = folder_bytes(out)
    poison_d_at_call(monkeypatch, 2)  # epoch 2, step 2
    code = train.main(["train", f"--output_dir={out}", "--resume", "--epochs=3"])
    err = capsys.readouterr().err
    assert code == 3 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert err.startswith("error: training diverged at epoch 2, step 2: d_loss is nan.")
    assert f"{out} keeps epoch 1, from which --resume continues" in err
    assert folder_bytes(out) == saved  # nothing of the diverged epoch was written, evaluation included
    monkeypatch.undo()
    resumed = loop.fit(dataclasses.replace(config, epochs=3), resume=True, log=quiet)
    assert resumed["d_loss"][3:] == reference["d_loss"][3:] and resumed["g_loss"][3:] == reference["g_loss"][3:]


def test_weights_broken_by_the_last_update_of_an_epoch_are_never_saved(idx_dir, tmp_path, monkeypatch):
    # The last G update of epoch 1 leaves a NaN weight behind a finite loss: the check after the
    # epoch finds it before anything is written.
    calls = {"n": 0}
    real_step = GAN.generator_step

    def step(self, *args):
        loss = real_step(self, *args)
        calls["n"] += 1
        if calls["n"] == 3:
            bias = self.generator.layers[-1].bias
            bias.assign(np.full(bias.shape, np.inf, np.float32))
        return loss

    monkeypatch.setattr(GAN, "generator_step", step)
    with pytest.raises(DivergenceError, match=r"epoch 1, after its last step: generator, g_optimizer hold NaN|"
                                              r"epoch 1, after its last step: generator hold NaN"):
        loop.fit(small_config(idx_dir, tmp_path / "run", epochs=2), log=quiet)
    assert not (tmp_path / "run" / "checkpoint.npz").exists() and not (tmp_path / "run" / "generator.keras").exists()


# --- the run folder: movable, one writer, the saved settings ------------------------------------------

@pytest.mark.parametrize("how", ["copy", "move"])
def test_a_copied_or_moved_run_resumes_where_it_lies(idx_dir, tmp_path, how):
    import shutil

    original = tmp_path / "original"
    loop.fit(small_config(idx_dir, original, epochs=1), log=quiet)
    before = folder_bytes(original)
    there = tmp_path / "elsewhere" / "run"
    (shutil.copytree if how == "copy" else shutil.move)(original, there)
    assert train.main(["train", f"--output_dir={there}", "--resume", "--epochs=2"]) == 0
    assert checkpoint.load_meta(str(there))["epoch"] == 2
    assert (there / "samples" / "epoch_002.png").is_file()
    if how == "copy":
        assert folder_bytes(original) == before  # the original is not touched


def test_the_library_refuses_to_resume_under_changed_settings(idx_dir, tmp_path):
    config = small_config(idx_dir, tmp_path / "run", epochs=1)
    loop.fit(config, log=quiet)
    with pytest.raises(ConfigError, match=r"cannot change --batch_size \(saved 32, asked 16\), --learning_rate"):
        loop.fit(dataclasses.replace(config, epochs=2, batch_size=16, learning_rate=1e-3), resume=True, log=quiet)
    loop.fit(dataclasses.replace(config, epochs=2, sample_every=2), resume=True, log=quiet)  # may change


def test_a_run_folder_has_one_writer(idx_dir, tmp_path):
    out = tmp_path / "run"
    loop.fit(small_config(idx_dir, out, epochs=1), log=quiet)
    with rundir.lock(str(out), "testing"):
        with pytest.raises(RunInUseError, match=rf"{out} is in use by process {os.getpid()} \(testing\)"):
            loop.fit(small_config(idx_dir, out, epochs=2), resume=True, log=quiet)
    loop.fit(small_config(idx_dir, out, epochs=2), resume=True, log=quiet)  # released


def test_saves_sync_the_folder_after_the_rename(tmp_path, monkeypatch):
    import stat

    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(stat.S_ISDIR(os.fstat(fd).st_mode)) or real_fsync(fd))
    files.write_text(str(tmp_path / "a.txt"), "x")
    assert synced == [False, True]  # the file's data, then the folder holding its new name


@pytest.mark.slow
def test_a_second_process_and_sigterm(idx_dir, tmp_path, capsys):
    out = tmp_path / "run"
    proc = _start_long_run(idx_dir, out)
    try:
        _wait_for_epoch(out, 2, proc)
        assert train.main(["train", f"--output_dir={out}", "--resume", "--epochs=600"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {out} is in use by process {proc.pid} (training)")
        assert len(err.strip().splitlines()) == 1
        proc.send_signal(signal.SIGTERM)  # as Ctrl-C: the message with the resume command
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM and "--resume" in err and "Traceback" not in err
    done = checkpoint.load_meta(str(out))["epoch"]
    assert train.main(["train", f"--output_dir={out}", "--resume", f"--epochs={done + 1}"]) == 0
