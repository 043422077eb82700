"""Training under --strategy=multi_worker: two worker processes on loopback ports, each with its own
TF_CONFIG, as two machines would run it (MultiWorkerMirroredStrategy over gRPC).

Every process here is bounded in time and stops by itself; the ports are free ones of 127.0.0.1.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from keras_gan.errors import ConfigError
from keras_gan.io.atomic import TEMPORARY_PREFIX
from keras_gan.runs import checkpoint
from keras_gan.runs import folder as rundir
from keras_gan.runs.config import TrainConfig
from keras_gan.training import loop, strategies

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
TIMEOUT = 240

# A worker: trains `config` with loop.fit and a callback that records, on every worker, the losses
# and a digest of every weight and optimizer variable at the end; `kill_at` = [epoch, step] makes the
# worker kill itself (SIGKILL: no clean-up of any kind) after that step.
WORKER = """
    import hashlib, json, os, signal, sys
    import numpy as np
    from keras_gan.training import callbacks
    from keras_gan.training import loop
    from keras_gan.runs.config import TrainConfig
    from keras_gan.errors import KerasGanError

    spec = json.loads(sys.argv[1])
    kill_at = spec.pop("kill_at", None)

    class Record(callbacks.RunCallback):
        def on_step_end(self, run, step, logs):
            if kill_at and [logs["epoch"], step - (logs["epoch"] - 1) * run.steps] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

        def on_train_end(self, run):
            state = run.model.get_state()
            digest = hashlib.sha256(b"".join(state[k].tobytes() for k in sorted(state))).hexdigest()
            losses = {name: run.history[name] for name in run.model.loss_names}
            print("RESULT", json.dumps({"chief": run.chief, "d": losses.get("d_loss"), "g": losses["g_loss"],
                                        "losses": losses, "digest": digest}), flush=True)

    try:
        loop.fit(TrainConfig(**spec), callbacks=[Record()])
    except KerasGanError as e:
        print(e, file=sys.stderr)
        sys.exit(e.exit_status)
"""


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def tf_config(ports, index: int) -> str:
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]}, "task": {"type": "worker", "index": index}})


def run_workers(commands: list[list[str]]) -> list[subprocess.CompletedProcess]:
    """Runs one process per worker of a fresh loopback cluster; kills them all if one overruns."""
    ports = free_ports(len(commands))
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                              env={**ENV, "TF_CONFIG": tf_config(ports, i)}) for i, cmd in enumerate(commands)]
    done = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=TIMEOUT)
            done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return done


def worker(**spec) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(WORKER), json.dumps(spec)]


def result(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.split("RESULT", 1)[1].splitlines()[0])


def spec(data_dir, output_dir, **changes) -> dict:
    # wgan_gp: a critic with a gradient penalty, 5 critic updates per G update, no Dropout (whose masks
    # each replica draws for itself), so two workers must give exactly one device's losses.
    return {"model": "wgan_gp", "dataset": "mnist", "data_dir": data_dir, "epochs": 2, "batch_size": 16,
            "steps_per_epoch": 2, "strategy": "multi_worker", "tensorboard": False, "output_dir": str(output_dir),
            **changes}


def test_cyclegan_on_two_workers_trains_as_on_one_device(idx_dir, tmp_path):
    """The image-to-image members under multi_worker: CycleGAN's combined model (two inputs, six outputs)
    and its discriminators train on both workers' shards; every loss term is one device's."""
    small = dict(model="cyclegan", filters=4, blocks=1, batch_size=8, epochs=1, sample_rows=2)
    history = loop.fit(TrainConfig(**spec(idx_dir, tmp_path / "one", **small, strategy="default")), log=lambda *_: None)
    chief, other = (result(d) for d in run_workers([worker(**spec(idx_dir, tmp_path / f"w{i}", **small))
                                                    for i in range(2)]))
    assert chief["digest"] == other["digest"] and chief["losses"] == other["losses"]
    assert set(chief["losses"]) == {"d_a_loss", "d_b_loss", "g_loss", "adv_a2b", "adv_b2a", "cycle_a", "cycle_b",
                                    "identity_a", "identity_b"}
    for name, values in chief["losses"].items():
        assert values == pytest.approx(history[name], rel=1e-4, abs=1e-5), name
    assert (tmp_path / "w0" / "generator_a2b.keras").is_file() and not (tmp_path / "w1").exists()


def test_two_workers_train_as_one_device_and_resume_after_both_are_killed(idx_dir, tmp_path):
    """Two workers, each with its own --output_dir as on two machines: the chief's is a complete run
    folder and the other worker's is never even made; both end with identical weights and optimizer
    states, and their losses are one device's on the same global batch.

    Then, on a folder they share, worker 1 is killed (SIGKILL) during epoch 2; the chief finds it gone,
    says so and stops with status 4, keeping epoch 1. Both restarted with the command's --resume finish
    the run exactly as the two workers did uninterrupted: the same losses, step by step, and the same
    weights and optimizer states in the checkpoint."""
    one = loop.fit(TrainConfig(**spec(idx_dir, tmp_path / "one", strategy="default", epochs=3)), log=lambda *_: None)
    chief, other = (result(d) for d in run_workers([worker(**spec(idx_dir, tmp_path / f"w{i}", epochs=3))
                                                    for i in range(2)]))
    assert chief["chief"] and not other["chief"]
    assert chief["digest"] == other["digest"]
    assert chief["d"] == other["d"] and chief["g"] == other["g"]
    assert chief["d"] == pytest.approx(one["d_loss"], rel=1e-4, abs=1e-5)
    assert chief["g"] == pytest.approx(one["g_loss"], rel=1e-4, abs=1e-5)
    assert not (tmp_path / "w1").exists()
    for name in (rundir.CHECKPOINT, rundir.CONFIG, rundir.LOSSES, rundir.GENERATOR, "discriminator.keras"):
        assert (tmp_path / "w0" / name).is_file(), name

    shared = tmp_path / "shared"
    chief, other = run_workers([worker(**spec(idx_dir, shared, epochs=3)),
                                worker(**spec(idx_dir, shared, epochs=3, kill_at=[2, 1]))])
    assert other.returncode == -9
    assert chief.returncode == 4, chief.stderr[-3000:]
    assert "another worker of the cluster stopped" in chief.stderr and "--resume" in chief.stderr
    assert checkpoint.load_meta(str(shared))["epoch"] == 1
    command = [sys.executable, "-m", "keras_gan.train", f"--output_dir={shared}", "--resume"]
    resumed = run_workers([command, command])
    for done in resumed:
        assert done.returncode == 0, done.stderr[-3000:]
        assert "resuming from the checkpoint of epoch 1" in done.stdout
    assert "writing to" in resumed[0].stdout and "the chief writes the run folder" in resumed[1].stdout
    state, meta = checkpoint.load(str(shared))
    reference, reference_meta = checkpoint.load(str(tmp_path / "w0"))
    assert meta["epoch"] == 3 and reference_meta["epoch"] == 3
    assert meta["history"]["d_loss"] == reference_meta["history"]["d_loss"]
    assert meta["history"]["g_loss"] == reference_meta["history"]["g_loss"]
    assert state.keys() == reference.keys()
    for key in reference:
        np.testing.assert_array_equal(state[key], reference[key], err_msg=key)
    assert not [f for f in os.listdir(shared) if f.startswith(TEMPORARY_PREFIX)]


def test_workers_that_disagree_stop_with_a_clear_error(idx_dir, tmp_path):
    """A worker started with another seed would train other weights on other batches: both stop,
    before the first step, naming the difference."""
    done = run_workers([worker(**spec(idx_dir, tmp_path / "a")), worker(**spec(idx_dir, tmp_path / "b", seed=1))])
    for d in done:
        assert d.returncode == 2, d.stderr[-3000:]
        assert "do not agree on settings" in d.stderr
    assert not (tmp_path / "a" / rundir.CHECKPOINT).exists()


def test_a_worker_other_than_the_chief_leaves_the_folder_alone(tmp_path):
    """The folder checks of a non-chief worker: it sweeps none of the chief's temporaries, and a
    folder it cannot resume from says that every worker must see the chief's."""
    config = TrainConfig(output_dir=str(tmp_path / "run"))
    rundir.make(config.run_dir)
    temporary = os.path.join(config.run_dir, TEMPORARY_PREFIX + "checkpoint.npz")
    open(temporary, "w").close()
    loop._check_folder(config, resume=False, chief=False)
    assert os.path.exists(temporary)
    loop._check_folder(config, resume=False, chief=True)
    assert not os.path.exists(temporary)
    with pytest.raises(ConfigError, match="Every worker reads the chief's run folder to resume"):
        loop._check_folder(config, resume=True, chief=False)


@pytest.mark.parametrize("value, message", [
    (None, "TF_CONFIG environment variable, which is not set"),
    ("{not json", "TF_CONFIG is not a cluster description"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 3}}', "is not in the cluster"),
])
def test_a_missing_or_broken_tf_config_is_explained(monkeypatch, value, message):
    if value is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", value)
    with pytest.raises(ConfigError, match=message):
        strategies.make_strategy("multi_worker")
