from keras_gan import benchmark


def test_bench_runs(capsys):
    result = benchmark.benchmark(steps=1, rounds=1, batch=16, device="/CPU:0")
    assert set(result["images_per_second"]) == {"literal", "literal, quiet", "plain", "keras_gan"}
    assert all(v > 0 for v in result["images_per_second"].values())
    assert result["floor_images_per_second"] > 0
    assert result["overlapped_floor_seconds"] > 0 and result["transposed_floor_seconds"] > 0
    out = capsys.readouterr().out
    assert "keras_gan" in out and "floor, overlapped" in out and "floor, transposed" in out


def test_memory_per_epoch(idx_dir):
    rss = benchmark.memory_per_epoch(epochs=2, steps=2, data_dir=idx_dir)
    assert len(rss) == 2 and all(r > 50 for r in rss)


def test_precision_table_runs(capsys):


    result = benchmark.precisions(steps=1, rounds=1, batch=16, device="/CPU:0")
    assert set(result["images_per_second"]) == {"float32", "mixed_bfloat16"}  # float16: GPUs only
    assert all(v > 0 for v in result["floor_images_per_second"].values())
    out = capsys.readouterr().out
    assert "mixed_bfloat16" in out and ("1.4x" in out or "no bfloat16 instructions" in out)


def test_startup_is_timed_to_the_first_step(idx_dir):


    seconds = benchmark.startup_seconds(idx_dir)
    assert 0.5 < seconds < 120  # a real process that reached its first step (nan if it never did)
