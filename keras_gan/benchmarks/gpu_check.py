"""The GPU check: the deck and dcgan trained on Keras's JAX backend on a GPU and on the CPU of the same
machine, in float32 and mixed_bfloat16, images per second side by side. experiments/gpu_check.sh
prepares what it needs here and runs it there (a machine with JAX and CUDA, no TensorFlow, no network).

    KERAS_BACKEND=jax python -m keras_gan.benchmarks.gpu_check --data_dir=DIR [--steps=300] [--out=FILE]

Each row is `python -m keras_gan.train` itself, in a process of its own: two epochs of half its
steps (`--steps` on the GPU, `--cpu_steps` on the CPU); the second epoch's images per second (the
first includes JAX's compilation) are the row's speed, and the loss means of both epochs are kept,
so a row that trains to NaN shows. The CPU rows run with JAX_PLATFORMS=cpu. The data are MNIST-shaped IDX files (`--dataset=mnist --data_dir=DIR`).
"""

import argparse
import csv
import gzip
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

RUNS = [(model, precision) for model in ("vanilla", "dcgan") for precision in ("float32", "mixed_bfloat16")]


IDX = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
       "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def write_subset(source: str, dest: str, n_train: int = 20_000, n_test: int = 2_000) -> None:
    """The first `n_train` training and `n_test` test images (and labels) of the gzipped IDX files in
    `source` (Fashion-MNIST's), written as the same files in `dest`: the check's data, small enough to
    travel with it."""
    os.makedirs(dest, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        for name in IDX[split]:
            with gzip.open(os.path.join(source, name)) as f:
                magic, count = struct.unpack(">II", f.read(8))
                dims = struct.unpack(">" + "I" * ((magic & 0xFF) - 1), f.read(4 * ((magic & 0xFF) - 1)))
                keep = min(n, count)
                body = f.read(keep * math.prod(dims))
            with gzip.open(os.path.join(dest, name), "wb", compresslevel=9) as f:
                f.write(struct.pack(">II", magic, keep) + struct.pack(">" + "I" * len(dims), *dims) + body)


def train_row(model: str, precision: str, device: str, data_dir: str, steps: int, folder: str,
              timeout: int = 900) -> dict:
    """One run of `python -m keras_gan.train` on `device` ("gpu" or "cpu"); its epochs' records."""
    out = os.path.join(folder, f"{model}_{precision}_{device}")
    command = [sys.executable, "-m", "keras_gan.train", f"--model={model}", f"--precision={precision}",
               "--dataset=mnist", f"--data_dir={data_dir}", "--epochs=2", f"--steps_per_epoch={max(steps // 2, 1)}",
               "--notensorboard", "--sample_every=2", f"--output_dir={out}"]
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    if device == "cpu":
        env["JAX_PLATFORMS"] = "cpu"
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {timeout} s"}
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return {"error": lines[-1][:200] if lines else f"exit status {done.returncode}"}
    with open(os.path.join(out, "epochs.csv")) as f:
        epochs = list(csv.DictReader(f))
    last = epochs[-1]
    return {"images_per_second": float(last["images_per_second"]), "first_epoch_s": float(epochs[0]["seconds"]),
            "losses": {k: [float(e[k]) for e in epochs] for k in ("d_loss", "g_loss")}}


def check(data_dir: str, steps: int = 300, devices=("gpu", "cpu"), runs=RUNS, log=print,
          cpu_steps: int = 60) -> list[dict]:
    """Every run of `runs` on every device of `devices`; prints the table and returns its rows."""
    import jax

    gpus = [str(d) for d in jax.devices() if d.platform == "gpu"]
    if "gpu" in devices and not gpus:
        log("no GPU is visible to JAX here (jax.devices(): "
            f"{', '.join(str(d) for d in jax.devices())}): the GPU rows are left out")
        devices = [d for d in devices if d != "gpu"]
    log(f"JAX {jax.__version__}; GPU: {', '.join(gpus) or 'none'}; {steps} steps per GPU run, {cpu_steps} per CPU "
        "run (the second epoch's speed); every row is python -m keras_gan.train on Keras's JAX backend")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for model, precision in runs:
            row = {"model": model, "precision": precision}
            for device in devices:
                row[device] = train_row(model, precision, device, data_dir, steps if device == "gpu" else cpu_steps,
                                        folder)
                log(f"  {model} {precision} {device}: " + (row[device].get("error") or
                                                            f"{row[device]['images_per_second']:.0f} img/s"))
            rows.append(row)
    log(f"\n  {'model':<8} {'precision':<15} " + " ".join(f"{d + ' img/s':>11}" for d in devices)
        + ("  GPU / CPU" if len(devices) == 2 else ""))
    for row in rows:
        speeds = [row[d].get("images_per_second") for d in devices]
        cells = " ".join(f"{s:>11.0f}" if s else f"{'failed':>11}" for s in speeds)
        ratio = f"  {speeds[0] / speeds[1]:9.1f}" if len(speeds) == 2 and all(speeds) else ""
        log(f"  {row['model']:<8} {row['precision']:<15} {cells}{ratio}")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", required=True, help="MNIST-shaped IDX files (train-images-idx3-ubyte.gz ...)")
    parser.add_argument("--write_subset_of", default="", help="Instead: write a subset of these IDX files (a "
                        "folder) into --data_dir, and stop.")
    parser.add_argument("--steps", type=int, default=300, help="Steps of each GPU run (two epochs of half as many).")
    parser.add_argument("--cpu_steps", type=int, default=60, help="Steps of each CPU run.")
    parser.add_argument("--devices", default="gpu,cpu")
    parser.add_argument("--models", default="vanilla,dcgan")
    parser.add_argument("--out", default="", help="Also write the rows as JSON here.")
    args = parser.parse_args(argv)
    if args.write_subset_of:
        write_subset(args.write_subset_of, args.data_dir)
        return 0
    runs = [(m, p) for m, p in RUNS if m in args.models.split(",")]
    rows = check(args.data_dir, args.steps, tuple(args.devices.split(",")), runs, cpu_steps=args.cpu_steps)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=1)
    return 0 if all("error" not in r[d] for r in rows for d in r if d not in ("model", "precision")) else 1


if __name__ == "__main__":
    sys.exit(main())
