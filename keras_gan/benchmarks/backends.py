"""The slide deck's training step on each of Keras's backends, side by side: `make bench`'s backend table,
and the GPU check's runs (experiments/gpu_check.sh).

    python -m keras_gan.bench --nostep --folder_images=0       # the backend table alone

Keras picks its backend once per process, so each backend's step runs in a process of its own
(`python -m keras_gan.benchmarks.backends --child`), one after another on the same machine: the GAN
that `python -m keras_gan.train` builds there (its speed-only switches included: on TensorFlow on a
CPU, the fused Adam and XLA fakes of keras_gan/training/speed.py, shown apart with them off),
fed by the same pipeline (tf.data on TensorFlow, NumPy batches elsewhere), on Fashion-MNIST-shaped
images. Each process reports its first step (the backend's compilation) and the median of `rounds`
rounds of `steps` steps; the table gives each against TensorFlow's in this run.
"""

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

BACKENDS = ("tensorflow", "jax", "torch")
LABELS = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}


def installed() -> list[str]:
    """The backends whose library this Python can import."""
    return [b for b in BACKENDS if importlib.util.find_spec(b) is not None]


def gan_step(gan, pipeline, batch: int, rng, noise_dim: int, noise: str):
    """One training step of `gan` as the loop runs it (n_critic 1): the pipeline's next batch (a new
    epoch of it when one runs out) and two batches of noise. The step `make bench` times."""
    state = {"it": iter(()), "epoch": 0}
    from keras_gan.models.sampling import make_noise

    def step():
        try:
            real = next(state["it"])
        except StopIteration:
            state["epoch"] += 1
            state["it"] = iter(pipeline.epoch(batch_size=batch, seed=0, epoch=state["epoch"]))
            real = next(state["it"])
        gan.train_step(real, make_noise(rng, batch, noise_dim, noise), make_noise(rng, batch, noise_dim, noise))

    return step


def child(steps: int, rounds: int, batch: int, speedups: bool, model: str, precision: str) -> dict:
    """Times the step in this process, on the backend Keras runs on here."""
    from keras_gan import backend

    if backend.configured() == "tensorflow":
        backend.import_tensorflow_quietly()
    import numpy as np

    from keras_gan.runs.config import TrainConfig

    from keras_gan.data.pipeline import Pipeline
    from keras_gan.training import tasks

    config = TrainConfig(model=model, speedups=speedups, precision=precision, batch_size=batch)
    backend.set_random_seed(0)
    gan = tasks.build_gan(config)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (batch * 50, 28, 28, 1), dtype=np.uint8)
    pipeline = Pipeline(images, flatten=not config.preset.convolutional)
    step = gan_step(gan, pipeline, batch, rng, config.noise_dim, config.noise)

    started = time.perf_counter()
    step()
    first = time.perf_counter() - started
    for _ in range(3):
        step()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(steps):
            step()
        times.append(time.perf_counter() - started)
    return {"backend": backend.name(), "version": backend.describe(), "devices": backend.gpus() or ["cpu"],
            "first_step_s": first, "images_per_second": steps * batch / statistics.median(times)}


def run_child(backend: str, steps: int, rounds: int, batch: int, *, speedups: bool = True, model: str = "vanilla",
              precision: str = "float32", env=None, timeout: int = 900) -> dict:
    """`child` in a new process on `backend`; {"error": ...} where it failed."""
    command = [sys.executable, "-m", "keras_gan.benchmarks.backends", "--child", f"--steps={steps}",
               f"--rounds={rounds}", f"--batch={batch}", f"--model={model}", f"--precision={precision}"]
    if not speedups:
        command.append("--nospeedups")
    environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment)
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {timeout} s"}
    if done.returncode != 0 or "RESULT" not in done.stdout:
        lines = done.stderr.strip().splitlines()
        return {"error": lines[-1][:160] if lines else f"exit status {done.returncode}"}
    return json.loads(done.stdout.split("RESULT", 1)[1])


def measure(steps: int = 40, rounds: int = 3, batch: int = 128, log=print) -> list[dict]:
    """The backend table: the deck's step on every installed backend, one process each."""
    rows = []
    for name in installed():
        rows.append({"label": LABELS[name], **run_child(name, steps, rounds, batch)})
        if name == "tensorflow":
            rows.append({"label": "TensorFlow, speed-ups off", **run_child(name, steps, rounds, batch, speedups=False)})
    base = next((r["images_per_second"] for r in rows if r["label"] == "TensorFlow" and "error" not in r), None)
    log(f"\nThe deck's step on each Keras backend (batch {batch}, one process each, median of {rounds} rounds "
        f"of {steps} steps; x TensorFlow: against TensorFlow's step with its speed-ups, in this run):")
    log(f"  {'backend':<28} {'version':<34} {'first step':>10} {'img/s':>9} {'x TensorFlow':>13}")
    for r in rows:
        if "error" in r:
            log(f"  {r['label']:<28} failed: {r['error']}")
            continue
        ratio = f"{r['images_per_second'] / base:.2f}" if base else "-"
        log(f"  {r['label']:<28} {r['version']:<34} {r['first_step_s']:>9.1f}s {r['images_per_second']:>9.0f} "
            f"{ratio:>13}")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--model", default="vanilla")
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--nospeedups", action="store_true")
    args = parser.parse_args(argv)
    if args.child:
        result = child(args.steps, args.rounds, args.batch, not args.nospeedups, args.model, args.precision)
        print("RESULT", json.dumps(result))
    else:
        measure(args.steps, args.rounds, args.batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
