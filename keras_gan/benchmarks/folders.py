"""`make bench`'s folder-dataset rows: is data or compute the limit when the 64x64 DCGAN trains on a
folder of JPEGs, and does resident memory stay flat when the folder streams?

A temporary folder of `n` JPEGs (256x256 crops of scikit-image's photographs at quality 90, or of
random pixels where scikit-image is not installed) is made first. Then, in this process:

* decode: images per second that the tf.data pipeline (pipeline.FilePipeline) serves as 64x64x3
  batches of 128 in [-1, 1], decoding the files in parallel every epoch;
* cache: the same, read back from the cache file of decoded images (`--data_cache`);
* step: images per second of dcgan_paper's training step at 64x64x3, batch 128, at the paper's width
  (128: 1024-512-256-128) and at a quarter of it (32, what `make experiment` trains);
* memory: resident memory after each epoch of dcgan_paper (width 8) trained on the folder with
  `--data_memory_mb=1`, so that it streams; the second half of the epochs must be flat.
"""

import os
import tempfile
import time

import keras
import numpy as np
from PIL import Image

from keras_gan.benchmarks.step import memory_growth
from keras_gan.data import folders, photos
from keras_gan.data.pipeline import FilePipeline
from keras_gan.errors import ConfigError
from keras_gan.models.sampling import make_noise
from keras_gan.runs.config import TrainConfig
from keras_gan.training import loop, tasks

SHAPE, BATCH = (64, 64, 3), 128


def make_folder(root: str, n: int, side: int = 256) -> str:
    """`n` JPEGs of `side` x `side` in `root`: crops of scikit-image's photographs, else random pixels."""
    rng = np.random.default_rng(0)
    where = photos.folder()
    pictures = [photos.read_photo(os.path.join(where, p)) for p in photos.PHOTOS] if where else []
    pictures = [p for p in pictures if min(p.shape[:2]) > side]
    for i in range(n):
        if pictures:
            picture = pictures[i % len(pictures)]
            r, c = rng.integers(0, picture.shape[0] - side), rng.integers(0, picture.shape[1] - side)
            pixels = picture[r:r + side, c:c + side]
        else:
            pixels = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(os.path.join(root, f"{i:05d}.jpg"), quality=90)
    return "scikit-image's photographs" if pictures else "random pixels"


def served_per_second(files: folders.ImageFiles, batches: int, batch_size: int = BATCH) -> float:
    """Images per second that the FilePipeline of `files` serves over `batches` batches (the second
    pass: the first builds the pipeline)."""
    pipeline = FilePipeline(files, flatten=False)
    steps = min(batches, files.num_examples // batch_size)
    if steps < 1:
        raise ConfigError(f"{files.num_examples} images make no batch of {batch_size}: time more images.")
    for epoch in (1, 2):
        started, served = time.perf_counter(), 0
        for batch in pipeline.epoch(batch_size=batch_size, seed=0, epoch=epoch, steps=steps):
            served += len(batch)
    return served / (time.perf_counter() - started)


def step_per_second(root: str, filters: int, steps: int) -> float:
    """Images per second of dcgan_paper's training step at `filters`, built as `train` builds it."""
    config = TrainConfig(model="dcgan_paper", dataset=f"folder:{root}", image_size=SHAPE[0], dcgan_filters=filters,
                         batch_size=BATCH)
    keras.utils.set_random_seed(0)
    gan = tasks.build_gan(config)
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (BATCH, *SHAPE)).astype("float32")

    def noise():
        return make_noise(rng, BATCH, config.noise_dim, config.noise)

    gan.train_step(real, noise(), noise())  # compiles
    started = time.perf_counter()
    for _ in range(steps):
        gan.train_step(real, noise(), noise())
    return steps * BATCH / (time.perf_counter() - started)


def streaming_memory(root: str, epochs: int, steps: int) -> list[float]:
    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig(model="dcgan_paper", dataset=f"folder:{root}", image_size=SHAPE[0], dcgan_filters=8,
                             batch_size=32, epochs=epochs, steps_per_epoch=steps, data_memory_mb=1,
                             tensorboard=False, sample_every=epochs, output_dir=os.path.join(out, "run"))
        history = loop.fit(config, log=lambda *_: None)
    return [e["rss_mb"] for e in history["epochs"]]


def measure(n: int, memory_epochs: int, log=print) -> dict:
    """Every folder row, printed; returns the numbers."""
    if n < 2 * BATCH:
        raise ConfigError(f"--folder_images={n}: the folder rows time batches of {BATCH} and hold a tenth out; "
                          f"give at least {2 * BATCH} (or 0 to skip them).")
    with tempfile.TemporaryDirectory() as root, tempfile.TemporaryDirectory() as elsewhere:
        started = time.perf_counter()
        what = make_folder(root, n)
        log(f"folder datasets: {n} JPEGs of 256x256 ({what}), made in {time.perf_counter() - started:.0f} s; "
            f"64x64x3 batches of {BATCH}")
        listing = folders.list_folder(root)
        files = folders.ImageFiles(listing.train, listing.train_labels, SHAPE)
        decode = served_per_second(files, batches=n // BATCH)
        cache = os.path.join(elsewhere, "images.bin")  # not in the folder, where a subfolder is a class
        arrays = folders.load(root, SHAPE, memory_mb=0, cache=cache, log=lambda *_: None)
        cached = served_per_second(arrays.stream, batches=n // BATCH)
        paper, quarter = step_per_second(root, 128, 2), step_per_second(root, 32, 6)
        log(f"  the pipeline serves {decode:,.0f} img/s decoding the JPEGs ({os.cpu_count()} cores), "
            f"{cached:,.0f} img/s from the cache file")
        log(f"  dcgan_paper's step consumes {paper:,.0f} img/s at the paper's width (128), {quarter:,.0f} img/s "
            f"at 32: {'compute' if decode > max(paper, quarter) else 'data'} is the limit here "
            f"(decoding is {decode / max(paper, quarter):.1f}x the faster step)")
        out = {"decode": decode, "cache": cached, "step_128": paper, "step_32": quarter}
        if memory_epochs:
            rss = streaming_memory(root, memory_epochs, steps=max(1, len(listing.train) // 32))
            growth = memory_growth(rss)
            log(f"  streaming ({len(listing.train)} images, --data_memory_mb=1): resident MiB after each of "
                f"{len(rss)} epochs: " + ", ".join(f"{r:.0f}" for r in rss))
            log(f"  over the second half: {growth:+.1f} MiB per epoch ({'flat' if abs(growth) < 1 else 'GROWING'})")
            out["memory_growth"] = growth
    return out
