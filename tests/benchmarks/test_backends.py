"""make bench's backend table (keras_gan/benchmarks/backends.py) and the GPU check's parts that run
here (keras_gan/benchmarks/gpu_check.py): its data, its table. The check's runs are the train command
on JAX without TensorFlow, which tests/backends runs."""

import gzip

import numpy as np
import pytest
from keras_gan.benchmarks import backends, gpu_check
from keras_gan.data.datasets import load_arrays

from tests.conftest import write_idx_dataset


def test_a_backend_step_is_timed_in_its_own_process():
    row = backends.run_child("jax", steps=2, rounds=1, batch=16)
    assert row["backend"] == "jax" and row["version"].startswith("Keras 3") and "JAX" in row["version"]
    assert row["images_per_second"] > 0 and row["first_step_s"] > 0 and row["devices"] == ["cpu"]


def test_the_table_sets_each_backend_against_tensorflow(monkeypatch):
    speeds = {("tensorflow", True): 200.0, ("tensorflow", False): 100.0, ("jax", True): 300.0}

    def fake(name, steps, rounds, batch, *, speedups=True, **kw):
        if name == "torch":
            return {"error": "ImportError: no torch"}
        return {"backend": name, "version": f"Keras on {name}", "first_step_s": 1.0,
                "images_per_second": speeds[name, speedups]}

    monkeypatch.setattr(backends, "installed", lambda: ["tensorflow", "jax", "torch"])
    monkeypatch.setattr(backends, "run_child", fake)
    lines = []
    rows = backends.measure(steps=2, rounds=1, batch=8, log=lines.append)
    assert [r["label"] for r in rows] == ["TensorFlow", "TensorFlow, speed-ups off", "JAX", "PyTorch"]
    table = "\n".join(lines)
    assert "200          1.00" in table and "100          0.50" in table and "300          1.50" in table
    assert "PyTorch                      failed: ImportError: no torch" in table


def test_the_check_carries_a_subset_of_the_data_read_back_exactly(tmp_path):
    write_idx_dataset(tmp_path / "full", n_train=300, n_test=40, gz=True)
    gpu_check.write_subset(str(tmp_path / "full"), str(tmp_path / "sub"), n_train=120, n_test=16)
    full, sub = load_arrays("mnist", str(tmp_path / "full")), load_arrays("mnist", str(tmp_path / "sub"))
    assert sub.x_train.shape == (120, 28, 28, 1) and sub.x_test.shape == (16, 28, 28, 1)
    np.testing.assert_array_equal(sub.x_train, full.x_train[:120])
    np.testing.assert_array_equal(sub.y_test, full.y_test[:16])
    with gzip.open(tmp_path / "sub" / "train-images-idx3-ubyte.gz") as f:
        assert f.read(16) == bytes.fromhex("00000803") + (120).to_bytes(4, "big") + bytes.fromhex("0000001c0000001c")


def test_the_check_table_puts_the_gpu_beside_the_cpu(monkeypatch):
    jax = pytest.importorskip("jax")
    monkeypatch.setattr(jax, "devices", lambda: [type("D", (), {"platform": "gpu", "__str__": lambda s: "cuda:0"})()])
    seen = []

    def fake(model, precision, device, data_dir, steps, folder, timeout=900):
        seen.append((model, precision, device, steps))
        return {"images_per_second": {"gpu": 5000.0, "cpu": 500.0}[device], "first_epoch_s": 1.0, "losses": {}}

    monkeypatch.setattr(gpu_check, "train_row", fake)
    lines = []
    rows = gpu_check.check("data", steps=300, log=lines.append, cpu_steps=60)
    assert len(rows) == 4 and ("dcgan", "mixed_bfloat16", "cpu", 60) in seen and ("vanilla", "float32", "gpu", 300) in seen
    assert any(line.split()[-1] == "10.0" for line in lines if line.strip().startswith("dcgan"))
