from keras_gan import benchmark


def test_step_flops_by_hand():
    """Multiply-adds per real image for the deck's networks, counted from the layer sizes.

    G: 10*256 + 256*512 + 512*1024 + 1024*784 = 1,460,736; D: 784*1024 + 1024*512 + 512*256 + 256 =
    1,458,432, of which 655,616 are past the first layer (whose input gradient D's step never needs).
    D step (two D rows per real image): G forward + 2 x (D forward + D weight grads + D input grads past
    layer 1) = 1,460,736 + 2 * (1,458,432 + 1,458,432 + 655,616) = 8,605,696.
    G step: G forward + D forward + D input grads + G weight grads + G input grads past layer 1
    = 1,460,736 + 1,458,432 + 1,458,432 + 1,460,736 + (1,460,736 - 2,560) = 7,296,512.
    """
    assert benchmark.step_flops(128) == 2 * (8_605_696 + 7_296_512) * 128
    assert benchmark.step_flops(1) * 128 == benchmark.step_flops(128)


def test_matmul_shapes_chain():
    shapes = dict.fromkeys(name for name, _ in benchmark.step_matmuls(4))
    assert len(shapes) == 9
    forward = [mkn for name, mkn in benchmark.step_matmuls(4) if name == "D step: D forward"]
    assert forward == [(8, 784, 1024), (8, 1024, 512), (8, 512, 256), (8, 256, 1)]


def test_bench_runs(capsys):
    result = benchmark.benchmark(steps=1, rounds=1, batch=16, device="/CPU:0")
    assert set(result["images_per_second"]) == {"literal", "literal, quiet", "plain", "keras_gan"}
    assert all(v > 0 for v in result["images_per_second"].values())
    assert result["floor_images_per_second"] > 0
    assert "keras_gan" in capsys.readouterr().out


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
