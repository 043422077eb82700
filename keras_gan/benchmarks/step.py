"""The measurements of `make bench` (python -m keras_gan.bench): images per second of the training
step against the slide deck's loop and the compute floor, each speed-only replacement on and off,
each precision, and the start-up time.

    python -m keras_gan.bench [--steps=40] [--rounds=3] [--memory_epochs=24]

Six loops over the same data, timed in this process, interleaved in rounds (median reported):

* literal: the deck's loop as written: its float64 images (`x / 127.5 - 1`), `generator.predict(noise)`
  every batch with predict's default progress bar (written to /dev/null here), NumPy
  concatenation, Keras's Adam;
* literal, quiet: the same with `predict(noise, verbose=0)`, the deck's loop at its cheapest;
* speed-ups off: this package's step (one compiled generator call, `train_on_batch` for D and the
  combined model, fed by its tf.data pipeline) in Keras's own layers and Adam alone
  (`--nospeedups`);
* fused Adam, XLA fakes: the same with one speed-only replacement of keras_gan/training/speed.py on;
* keras_gan: the step `python -m keras_gan.train` runs here, with both.

The compute floor (floor.py) is the time of the matrix products one step must do, one after
another at the step's own shapes. Beside it, for reference: the same products allowed to overlap,
and with the transposed operands TensorFlow's own MatMul gradient reads.

The race against PyTorch times the keras_gan step in float32 and mixed_bfloat16 beside the deck
written in PyTorch (torch_deck.py), eager and compiled, in float32 and bfloat16 autocast.

The precision table times the keras_gan step in float32 and mixed_bfloat16 (and mixed_float16 on a
GPU), each beside its own floor: the same products in that precision's compute type. Below it, what
every precision pays alike: the step's calls themselves (timed with 8-unit networks) and Adam's
updates of float32 variables, and the precisions' ratio if a step were its floor plus those alone.
The start-up time runs `python -m keras_gan.train` for one step in a new process. Then short epochs
of the real training loop report resident memory after each epoch; the second half must be flat.
"""

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from keras_gan.benchmarks import torch_deck
from keras_gan.benchmarks.backends import gan_step
from keras_gan.benchmarks.floor import floor_seconds, seconds_per_step, square_rate, step_flops
from keras_gan.data.datasets import load_arrays
from keras_gan.data.pipeline import Pipeline
from keras_gan.errors import DataError
from keras_gan.models import networks
from keras_gan.models.gan import GAN
from keras_gan.runs.config import TrainConfig
from keras_gan.training import loop
from keras_gan.training.speed import FusedAdam, jit_fakes, on_a_cpu

def literal_loop(uint8_images: np.ndarray, batch: int, *, quiet: bool = False):
    """The deck's loop (seeds/003): its data scaling, `generator.predict` per batch, Keras's Adam.

    As written, predict draws its progress bar at every call; it goes to /dev/null here. With
    `quiet=True` predict gets verbose=0."""
    keras.utils.set_random_seed(0)
    generator, discriminator = networks.build_generator(), networks.build_discriminator(output_activation="sigmoid")
    # Keras 3 builds an optimizer for one set of variables: the deck's shared Adam becomes two.
    discriminator.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    discriminator.trainable = False
    z = keras.Input(shape=(10,))
    gan = keras.Model(z, discriminator(generator(z)))
    gan.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    images = uint8_images.reshape(len(uint8_images), -1) / 127.5 - 1  # float64, as the deck scales it
    batches = [images[i * batch:(i + 1) * batch] for i in range(len(images) // batch)]
    position = {"i": 0}
    sink = open(os.devnull, "w")

    def predict(noise):
        if quiet:
            return generator.predict(noise, verbose=0)
        with contextlib.redirect_stdout(sink):
            return generator.predict(noise)

    def step():
        real = batches[position["i"] % len(batches)]
        position["i"] += 1
        noise = np.random.uniform(-1, 1, size=[batch, 10])
        fake = predict(noise)
        x = np.concatenate([real, fake])
        y = np.zeros(2 * batch)
        y[:batch] = 0.9
        discriminator.trainable = True
        discriminator.train_on_batch(x, y)
        noise = np.random.uniform(-1, 1, size=[batch, 10])
        discriminator.trainable = False
        gan.train_on_batch(noise, np.ones(batch))

    return step


def package_loop(uint8_images: np.ndarray, batch: int, *, fused_adam: bool = True, xla_fakes: bool = True,
                 precision: str = "float32", units=None):
    """The training loop's step, fed by the tf.data pipeline, in `precision`, with fused Adam and XLA
    for the fakes where asked and where keras_gan/training/speed.py switches them on; `units`: the
    hidden widths of both networks (the deck's by default)."""
    keras.utils.set_random_seed(0)
    adam = FusedAdam if fused_adam else keras.optimizers.Adam
    widths = {} if units is None else {"units": units}
    with networks.dtype_policy(precision):
        generator, discriminator = networks.build_generator(**widths), networks.build_discriminator(**widths)
    scale = keras.optimizers.LossScaleOptimizer if precision == "mixed_float16" else (lambda o: o)
    gan = GAN(generator, discriminator, d_optimizer=scale(adam(2e-4, beta_1=0.5)),
              g_optimizer=scale(adam(2e-4, beta_1=0.5)), jit_fakes=jit_fakes(xla_fakes, generator, False))
    return gan_step(gan, Pipeline(uint8_images), batch, np.random.default_rng(0), 10, "uniform")


def memory_per_epoch(epochs: int, steps: int, data_dir: str | None) -> list[float]:
    dataset = "fashion_mnist" if data_dir is None else "mnist"
    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig(dataset=dataset, data_dir=data_dir, epochs=epochs, steps_per_epoch=steps,
                             output_dir=os.path.join(out, "run"), sample_every=1)
        history = loop.fit(config, log=lambda *_: None)
    return [e["rss_mb"] for e in history["epochs"]]


def memory_growth(rss: list[float]) -> float:
    """MiB per epoch over the second half of `rss` (a least-squares line: one epoch's dip or jump moves
    it little). Memory grows over the first epochs as TensorFlow and the allocator warm up (the
    deck's step reached its plateau after about 15 of these epochs), so the first half is left out."""
    tail = rss[len(rss) // 2:]
    return float(np.polyfit(np.arange(len(tail)), tail, 1)[0]) if len(tail) > 1 else 0.0


def _images() -> tuple[np.ndarray, str]:
    try:
        arrays = load_arrays("fashion_mnist", download=False)
        return arrays.x_train, f"Fashion-MNIST ({arrays.source})"
    except DataError:
        rng = np.random.default_rng(0)
        return rng.integers(0, 256, (60000, 28, 28, 1), dtype=np.uint8), "random images (Fashion-MNIST not installed)"


def benchmark(steps: int, rounds: int, batch: int, device: str, log=print) -> dict:
    images, what = _images()
    log(f"device {device}, batch {batch}, {what}; {steps} steps x {rounds} rounds per loop (median)")
    with tf.device(device):
        loops = {"literal": literal_loop(images, batch), "literal, quiet": literal_loop(images, batch, quiet=True),
                 "speed-ups off": package_loop(images, batch, fused_adam=False, xla_fakes=False),
                 "fused Adam": package_loop(images, batch, fused_adam=True, xla_fakes=False),
                 "XLA fakes": package_loop(images, batch, fused_adam=False, xla_fakes=True),
                 "keras_gan": package_loop(images, batch)}
        times = {name: [] for name in loops}
        for _ in range(rounds):
            for name, fn in loops.items():
                times[name].append(seconds_per_step(fn, steps))
        floor = floor_seconds(batch, steps, rounds)
        others = {"floor, overlapped": (floor_seconds(batch, steps, rounds, overlap=True),
                                        "independent products allowed to run side by side"),
                  "floor, transposed": (floor_seconds(batch, steps, rounds, transposed=True),
                                        "gradient products with one operand transposed, "
                                        "as TensorFlow's MatMul gradient reads them")}
    per_step = {name: statistics.median(t) for name, t in times.items()}
    flops = step_flops(batch)
    result = {"device": device, "batch": batch, "flops_per_image": flops / batch,
              "floor_seconds": floor, "matmul_gflops_at_step_shapes": flops / floor / 1e9,
              "images_per_second": {n: batch / t for n, t in per_step.items()},
              "floor_images_per_second": batch / floor, "overlapped_floor_seconds": others["floor, overlapped"][0],
              "transposed_floor_seconds": others["floor, transposed"][0]}
    ips = result["images_per_second"]
    log(f"  work per image: {flops / batch / 1e6:.1f} MFLOP in matrix products "
        f"(D step + G step); matmul rate at these shapes: {result['matmul_gflops_at_step_shapes']:.0f} GFLOP/s")
    log(f"  {'loop':<18}{'img/s':>9}{'ms/step':>9}{'x literal':>11}{'of floor':>10}")
    for name in loops:
        log(f"  {name:<18}{ips[name]:>9.0f}{per_step[name] * 1e3:>9.1f}{ips[name] / ips['literal']:>10.2f}x"
            f"{ips[name] / result['floor_images_per_second']:>10.0%}")
    log(f"  {'floor':<18}{result['floor_images_per_second']:>9.0f}{floor * 1e3:>9.1f}"
        f"{result['floor_images_per_second'] / ips['literal']:>10.2f}x{1:>10.0%}")
    for name, (seconds, note) in others.items():
        log(f"  {name:<18}{batch / seconds:>9.0f}{seconds * 1e3:>9.1f}{batch / seconds / ips['literal']:>10.2f}x"
            f"{floor / seconds:>10.0%}   ({note})")
    result["speedups"] = speedups(ips, log)
    share = ips["keras_gan"] / result["floor_images_per_second"]
    log(f"  keras_gan against the literal loop: {ips['keras_gan'] / ips['literal']:.2f}x "
        f"({ips['keras_gan'] / ips['literal, quiet']:.2f}x its quiet form); target >= 70% of the float32 floor: "
        f"{share:.0%} ({'met' if share >= 0.70 else 'not met'})")
    return result


def speedups(ips: dict, log=print) -> dict:
    """Each speed-only replacement on against off, alone and beside the other: {name: (alone, beside)}."""
    effects = {"fused Adam": (ips["fused Adam"] / ips["speed-ups off"], ips["keras_gan"] / ips["XLA fakes"]),
               "XLA fakes": (ips["XLA fakes"] / ips["speed-ups off"], ips["keras_gan"] / ips["fused Adam"])}
    switched = "" if on_a_cpu() else " (both are off on a GPU machine: the ratios show noise)"
    log(f"  speed-only replacements (keras_gan/training/speed.py), images per second on over off{switched}:")
    for name, (alone, beside) in effects.items():
        log(f"    {name:<12}{alone:.3f}x alone, {beside:.3f}x beside the other")
    return effects


def has_bfloat16_instructions() -> bool:
    """Whether this CPU multiplies bfloat16 matrices natively (AVX512-BF16 or AMX)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def adam_updates(models):
    """A compiled call that updates each model's trainable variables with fused Adam (an optimizer
    each) and fixed random gradients; it returns the number of updates made."""
    updates = []
    for model in models:
        adam = FusedAdam(2e-4, beta_1=0.5)
        adam.build(model.trainable_variables)
        updates.append((adam, [tf.random.normal(v.shape, stddev=1e-3) for v in model.trainable_variables],
                        model.trainable_variables))

    @tf.function
    def update():
        for adam, gradients, variables in updates:
            adam.apply(gradients, variables)
        return updates[-1][0].iterations

    return update


def shared_seconds(uint8_images: np.ndarray, batch: int, steps: int, rounds: int) -> tuple[float, float]:
    """What a step costs the same in every precision, in seconds: (1) the keras_gan step with 8-unit
    networks: its three compiled calls, the data and Keras's `train_on_batch`, with next to no
    arithmetic; (2) fused Adam's updates of the deck's networks, whose variables are float32 in
    every precision."""
    small = package_loop(uint8_images, batch, units=(8, 8, 8))
    update = adam_updates([networks.build_generator(), networks.build_discriminator()])
    calls = statistics.median(seconds_per_step(small, steps) for _ in range(rounds))
    adam = statistics.median(seconds_per_step(lambda: update().numpy(), steps) for _ in range(rounds))
    return calls, adam


def precisions(steps: int, rounds: int, batch: int, device: str, log=print) -> dict:
    """The training step in each precision beside its own compute floor (the step's products in that
    type), interleaved in rounds in this process. float16 has no fast path on a CPU: GPUs only."""
    images, _ = _images()
    gpu = "GPU" in device
    names = ["float32", "mixed_bfloat16"] + (["mixed_float16"] if gpu else [])
    compute = {"float32": "float32", "mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}
    with tf.device(device):
        loops = {p: package_loop(images, batch, precision=p) for p in names}
        times = {p: [] for p in names}
        for _ in range(rounds):
            for p, fn in loops.items():
                times[p].append(seconds_per_step(fn, steps))
        floors = {p: floor_seconds(batch, steps, rounds, dtype=compute[p]) for p in names}
        calls, adam = shared_seconds(images, batch, steps, rounds)
    ips = {p: batch / statistics.median(t) for p, t in times.items()}
    log(f"  precision, {device}: {'precision':<16}{'img/s':>9}{'x float32':>11}{'floor img/s':>13}{'of floor':>10}")
    for p in names:
        log(f"  {'':<{len('precision, ' + device + ': ')}}{p:<16}{ips[p]:>9.0f}{ips[p] / ips['float32']:>10.2f}x"
            f"{batch / floors[p]:>13.0f}{ips[p] * floors[p] / batch:>10.0%}")
    shared = calls + adam
    bound = (floors["float32"] + shared) / (floors["mixed_bfloat16"] + shared)
    log(f"  shared by every precision: {calls * 1e3:.1f} ms a step in the step's calls themselves (measured with "
        f"8-unit networks) and {adam * 1e3:.1f} ms in Adam's float32 updates;\n"
        f"  a step of its floor and these alone in each precision: mixed_bfloat16 {bound:.2f}x float32")
    if gpu or has_bfloat16_instructions():
        gain = ips["mixed_bfloat16"] / ips["float32"]
        log(f"  target: mixed_bfloat16 >= 1.4x the float32 step: {gain:.2f}x ({'met' if gain >= 1.4 else 'not met'})")
    else:
        log("  mixed_bfloat16 target skipped: this CPU has no bfloat16 instructions")
    return {"images_per_second": ips, "floor_images_per_second": {p: batch / f for p, f in floors.items()},
            "shared_seconds": {"calls": calls, "adam": adam}, "bfloat16_ratio_of_floors_and_shared": bound}


def against_pytorch(steps: int, rounds: int, batch: int, *, compile_torch: bool = True, log=print) -> dict:
    """The keras_gan step in float32 and mixed_bfloat16 against the deck written in PyTorch
    (torch_deck.py: eager and compiled, float32 and bfloat16 autocast), step against step,
    interleaved in rounds in this process, on the CPU."""
    if not torch_deck.available():
        log("  PyTorch is not installed: pip install -e '.[bench]' (or '.[test]') to race it")
        return {}
    images, _ = _images()
    bfloat16 = has_bfloat16_instructions()
    with tf.device("/CPU:0"):
        loops = {"keras_gan, float32": package_loop(images, batch)}
        if bfloat16:
            loops["keras_gan, mixed_bfloat16"] = package_loop(images, batch, precision="mixed_bfloat16")
    for name, (compiled, half) in torch_deck.VARIANTS.items():
        if (compile_torch or not compiled) and (bfloat16 or not half):
            loops[name] = torch_deck.step_function(images, batch, compiled=compiled, bfloat16=half)
    times = {name: [] for name in loops}
    with tf.device("/CPU:0"):
        for _ in range(rounds):
            for name, fn in loops.items():
                times[name].append(seconds_per_step(fn, steps))
    ips = {name: batch / statistics.median(t) for name, t in times.items()}
    ours = max((n for n in ips if n.startswith("keras_gan")), key=ips.get)
    theirs = max((n for n in ips if n.startswith("PyTorch")), key=ips.get)
    log(f"  against the deck in PyTorch (CPU, {torch_deck.torch_version()}), step against step:")
    for name in loops:
        log(f"    {name:<28}{ips[name]:>7.0f} img/s{ips[name] / ips[theirs]:>7.2f}x PyTorch's best")
    ratio = ips[ours] / ips[theirs]
    log(f"  best against best: {ours} {ratio:.2f}x {theirs}; target >= 1.5x: {'met' if ratio >= 1.5 else 'not met'}")
    return {"images_per_second": ips, "best_ratio": ratio}


def startup_seconds(data_dir: str | None = None) -> float:
    """Seconds from starting `python -m keras_gan.train` to the end of its first training step: the
    time until it prints the summary of a one-step epoch (before the epoch's files are written)."""
    dataset = "fashion_mnist" if data_dir is None else "mnist"
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "keras_gan.train", f"--dataset={dataset}", "--epochs=1", "--steps_per_epoch=1",
                   f"--output_dir={os.path.join(out, 'run')}", "--notensorboard"]
        command += [f"--data_dir={data_dir}"] if data_dir else []
        started = time.perf_counter()
        seconds = float("nan")
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"}) as process:  # each line as printed
            for line in process.stdout:
                if line.startswith("epoch 1/1"):
                    seconds = time.perf_counter() - started
    return seconds


def measure(steps: int, rounds: int, batch_size: int, memory_epochs: int, memory_steps: int, data_dir=None,
            compile_torch: bool = True, log=print) -> None:
    """Every measurement of `make bench`, printed: each device's loops against the floor, the race
    against PyTorch, the start-up time, then memory."""
    devices = ["/CPU:0"] + [f"/GPU:{i}" for i in range(len(tf.config.list_physical_devices("GPU")))]
    log(f"TensorFlow {tf.__version__}; {os.cpu_count()} CPU cores; GPUs: {len(devices) - 1}")
    log(f"peak matmul rate (2048x2048 float32, for reference): {square_rate() / 1e9:.0f} GFLOP/s")
    for device in devices:
        benchmark(steps, rounds, batch_size, device, log=log)
        precisions(steps, rounds, batch_size, device, log=log)
    against_pytorch(steps, rounds, batch_size, compile_torch=compile_torch, log=log)
    runs = [startup_seconds(data_dir) for _ in range(3)]
    started = statistics.median(runs)
    log(f"start-up: {started:.1f} s (median of {', '.join(f'{r:.1f}' for r in runs)}) from starting python -m "
        f"keras_gan.train to the end of its first step; target <= 5 s: {'met' if started <= 5 else 'not met'}")
    if memory_epochs:
        rss = memory_per_epoch(memory_epochs, memory_steps, data_dir)
        growth = memory_growth(rss)
        log(f"memory: resident MiB after each of {len(rss)} training epochs of {memory_steps} steps: "
            + ", ".join(f"{r:.0f}" for r in rss))
        log(f"  over the second half: {growth:+.1f} MiB per epoch ({'flat' if abs(growth) < 1 else 'GROWING'}); "
            f"peak resident memory of this process {loop.peak_rss_mb():.0f} MiB")
