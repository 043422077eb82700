"""make bench's measurements (keras_gan/benchmarks/step.py, torch_deck.py), each run small."""

import numpy as np
import pytest

from keras_gan.benchmarks import step as benchmark
from keras_gan.benchmarks import torch_deck
from keras_gan.models import networks


def test_bench_runs(capsys):
    result = benchmark.benchmark(steps=1, rounds=1, batch=16, device="/CPU:0")
    assert set(result["images_per_second"]) == {"literal", "literal, quiet", "speed-ups off", "fused Adam",
                                                "XLA fakes", "keras_gan"}
    assert all(v > 0 for v in result["images_per_second"].values())
    assert result["floor_images_per_second"] > 0
    assert result["overlapped_floor_seconds"] > 0 and result["transposed_floor_seconds"] > 0
    assert set(result["speedups"]) == {"fused Adam", "XLA fakes"}
    out = capsys.readouterr().out
    assert "keras_gan" in out and "floor, overlapped" in out and "floor, transposed" in out
    assert "fused Adam  " in out and "XLA fakes   " in out and "beside the other" in out


def test_each_replacement_is_set_against_its_absence():
    ips = {"speed-ups off": 100.0, "fused Adam": 120.0, "XLA fakes": 110.0, "keras_gan": 132.0}
    assert benchmark.speedups(ips, log=lambda *_: None) == {"fused Adam": (1.2, 1.2), "XLA fakes": (1.1, 1.1)}


def test_the_pytorch_deck_is_the_decks():
    generator, discriminator = torch_deck.build()
    assert sum(p.numel() for p in generator.parameters()) == networks.build_generator().count_params() == 1_463_312
    assert sum(p.numel() for p in discriminator.parameters()) == 1_460_225
    assert [m.p for m in discriminator if type(m).__name__ == "Dropout"] == [0.3] * 3
    assert float(discriminator[0].weight.std()) == pytest.approx(0.02, rel=0.01)


def test_the_race_against_pytorch_runs(capsys):
    images = np.random.default_rng(0).integers(0, 256, (64, 28, 28, 1), dtype=np.uint8)
    step = torch_deck.step_function(images, 16, compiled=False, bfloat16=False)
    # at the start D outputs about 0: both losses near log 2 (D's with the 0.9 label: 0.5 ln 2 + 0.5 ln 2)
    d_loss, g_loss = step()
    assert d_loss == pytest.approx(np.log(2), abs=0.1) and g_loss == pytest.approx(np.log(2), abs=0.1)
    assert all(np.isfinite(step()).tolist() for _ in range(5))
    result = benchmark.against_pytorch(steps=1, rounds=1, batch=16, compile_torch=False)
    names = set(result["images_per_second"])
    assert {"keras_gan, float32", "PyTorch eager, float32"} <= names and result["best_ratio"] > 0
    assert not any("compiled" in name for name in names)
    assert "best against best" in capsys.readouterr().out


def test_memory_per_epoch(idx_dir):
    rss = benchmark.memory_per_epoch(epochs=2, steps=2, data_dir=idx_dir)
    assert len(rss) == 2 and all(r > 50 for r in rss)


def test_precision_table_runs(capsys):
    result = benchmark.precisions(steps=1, rounds=1, batch=16, device="/CPU:0")
    assert set(result["images_per_second"]) == {"float32", "mixed_bfloat16"}  # float16: GPUs only
    floors = {p: 16 / v for p, v in result["floor_images_per_second"].items()}
    assert all(v > 0 for v in floors.values())
    shared = sum(result["shared_seconds"].values())
    assert result["shared_seconds"]["calls"] > 0 and result["shared_seconds"]["adam"] > 0
    assert result["bfloat16_ratio_of_floors_and_shared"] == pytest.approx(
        (floors["float32"] + shared) / (floors["mixed_bfloat16"] + shared))
    out = capsys.readouterr().out
    assert "mixed_bfloat16" in out and ("1.4x" in out or "no bfloat16 instructions" in out)
    assert "shared by every precision" in out


def test_the_timed_adam_call_makes_adams_updates():
    # What the bench times as Adam's share is real work. With the same gradient g at every step,
    # Adam's k-th step moves a weight by lr * |g| / (|g| + eps / sqrt(1 - beta_2^k)); the bench's g are
    # normal with sd 1e-3, so the median |g| is 0.6745e-3 and the median step follows from it.
    models = [networks.build_generator(units=(8, 8, 8)), networks.build_discriminator(units=(8, 8, 8))]

    def weights():
        return [v.numpy() for m in models for v in m.trainable_variables]

    before = weights()
    update = benchmark.adam_updates(models)
    g = 0.6745e-3
    expected = 0.0
    for k in (1, 2):
        assert int(update()) == k
        moved = np.concatenate([np.abs(a - b).ravel() for a, b in zip(weights(), before)])
        expected += 2e-4 * g / (g + 1e-7 / np.sqrt(1 - 0.999 ** k))
        assert np.all(moved > 0) and np.all(moved <= k * 2e-4 * (1 + 1e-5))
        assert np.median(moved) == pytest.approx(expected, rel=2e-4)


def test_startup_is_timed_to_the_first_step(idx_dir):
    seconds = benchmark.startup_seconds(idx_dir)
    assert 0.5 < seconds < 120  # a real process that reached its first step (nan if it never did)


def test_memory_growth_is_the_slope_of_the_second_half():
    warm_up = [800.0, 900.0, 950.0, 970.0]
    assert benchmark.memory_growth(warm_up + [980.0 + 2 * i for i in range(4)]) == pytest.approx(2.0)
    # a plateau with a dip in it is flat, where the first half's last epoch against the last says +2.6 MiB an epoch
    assert abs(benchmark.memory_growth(warm_up + [980.0, 985.0, 974.0, 981.0, 983.0])) < 1
    assert benchmark.memory_growth([900.0]) == 0.0
