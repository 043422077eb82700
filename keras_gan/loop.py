"""The training loop: `fit(config)` trains a preset of the family into its run folder.

    from keras_gan import TrainConfig, fit
    history = fit(TrainConfig(model="dcgan", dataset="fashion_mnist", epochs=5, output_dir="runs/dcgan"))

One step is `n_critic` D updates, each on its own real batch of the tf.data pipeline, then one G
update: the two `train_on_batch` calls of keras_gan/gan.py. Every step's losses are checked: a
NaN or infinite loss (or, after the epoch, weight) stops the run at once with a DivergenceError,
before anything of that epoch is written, so the last good checkpoint and generator stay as they
were. At the end of each epoch the callbacks (keras_gan/callbacks.py) write the run folder
(keras_gan/rundir.py lists its files), the checkpoint last: a run stopped at any moment resumes
from its last finished epoch and continues exactly as if it had not stopped.
"""

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import resource
import sys
import time

import keras
import numpy as np

from keras_gan import callbacks as side_outputs
from keras_gan import checkpoint, data, distribute, losses, networks, penalties, presets, rundir
from keras_gan.config import TrainConfig, resumable
from keras_gan.errors import ConfigError, DivergenceError, RunFileError
from keras_gan.gan import GAN
from keras_gan.optimizers import FusedAdam
from keras_gan.sampling import fixed_labels, fixed_noise, make_noise


def make_optimizer(config: TrainConfig, preset):
    if preset.optimizer == "rmsprop":
        # rho 0.99: the decay of the WGAN authors' RMSProp (PyTorch's default alpha).
        optimizer = keras.optimizers.RMSprop(config.learning_rate, rho=0.99)
    else:
        optimizer = FusedAdam(config.learning_rate, beta_1=config.beta_1, beta_2=config.beta_2,
                              weight_decay=config.weight_decay or None)
    if config.precision == "mixed_float16":  # float16 gradients underflow without a (dynamic) loss scale
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def build_gan(config: TrainConfig, image_shape, num_classes: int = 10) -> GAN:
    """The GAN of `config`'s preset, with the run's hyper-parameters and its loss's and penalty's settings."""
    preset = presets.get(config.model)
    with networks.dtype_policy(config.precision):
        generator, discriminator = presets.build_networks(
            preset, noise_dim=config.noise_dim, image_shape=image_shape, num_classes=num_classes,
            dcgan_filters=config.dcgan_filters, cgan_layout=config.cgan_layout)
    gan = GAN(generator, discriminator, loss=preset.loss, penalty=preset.penalty,
              label_smoothing=config.label_smoothing, d_optimizer=make_optimizer(config, preset),
              g_optimizer=make_optimizer(config, preset), fakes_in_training_mode=preset.fakes_in_training_mode,
              **{k: v for k, v in config.settings.items() if k in _own_settings(preset)})
    return gan


def _own_settings(preset) -> set:
    return {s.name for s in (*losses.get(preset.loss).settings, *penalties.get(preset.penalty).settings)}


@dataclasses.dataclass
class Run:
    """What the callbacks see of a run being trained."""

    config: TrainConfig
    preset: presets.Preset
    gan: GAN
    arrays: data.Arrays
    image_shape: tuple
    steps: int                     # steps per epoch
    history: dict                  # d_loss, g_loss (every step), epochs, evals, best_epoch
    log: object = print
    noise: np.ndarray | None = None   # the fixed noise of the sample grids
    labels: np.ndarray | None = None  # and their classes, for a conditional GAN
    chief: bool = True                # whether this process writes the run folder (one worker of several does)

    @property
    def folder(self) -> str:
        return self.config.run_dir

    def fixed_samples(self) -> np.ndarray:
        """G's images of the fixed noise batch, now."""
        return self.gan.sample(self.noise, self.labels)


def rss_mb() -> float:
    """Current resident memory of this process in MiB (Linux), else the peak so far."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return peak_rss_mb()


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def fit(config: TrainConfig, *, resume: bool = False, log=print, callbacks=()) -> dict:
    """Trains `config` into its run folder and returns the history (losses per step and epoch).

    The folder is held for the whole run. With `resume`, the run continues from the folder's
    checkpoint, after checking that `config` changes nothing a resumed run may not change (the
    command line reads those settings from config.json; a library caller must pass them).
    `callbacks` (keras_gan.callbacks.Callback) run after the package's own, before the checkpoint.

    Under --strategy=multi_worker every worker calls `fit`; only the chief holds and writes the folder
    (the others run the user's `callbacks` alone, with `run.chief` False)."""
    strategy = distribute.make_strategy(config.strategy, config.cpu_replicas)  # before TensorFlow's runtime starts
    chief = distribute.is_chief(strategy)
    if chief:
        rundir.make(config.run_dir)
    with rundir.lock(config.run_dir) if chief else contextlib.nullcontext():
        return _fit(config, strategy, chief, resume, log, callbacks)


def _check_folder(config: TrainConfig, resume: bool, chief: bool = True) -> None:
    """Refuses to overwrite an existing run, and on resume to change what a resumed run may not."""
    folder = config.run_dir
    has_run = os.path.exists(os.path.join(folder, rundir.CHECKPOINT))
    if resume and not has_run:
        shared = "" if chief else " Every worker reads the chief's run folder to resume: share it, or copy it here."
        raise ConfigError(f"--resume: {folder} holds no checkpoint to resume from.{shared}")
    if not resume and has_run:
        raise ConfigError(f"{folder} already holds a run; pass --resume to continue it, "
                          "or choose another --output_dir.")
    if resume:
        changes = config.changes_from(rundir.read_config(folder))
        if changes:
            raise ConfigError(
                f"--resume continues the run in {folder} with its saved settings; it cannot change "
                + ", ".join(f"--{k} (saved {a!r}, asked {b!r})" for k, (a, b) in sorted(changes.items()))
                + ". Only " + ", ".join(f"--{k}" for k in sorted(resumable())) + " may change; "
                "train other settings into a new --output_dir.")
    if chief:  # another worker's temporaries would be the chief's files being written
        rundir.sweep(folder)


def _diverged(folder: str, epoch: int, where: str) -> DivergenceError:
    kept = (f"{folder} keeps epoch {epoch - 1}, from which --resume continues" if epoch > 1
            else "nothing was saved")
    return DivergenceError(f"training diverged at epoch {epoch}, {where}. Nothing of epoch {epoch} was written: "
                           f"{kept}. A lower --learning_rate, or another --seed, in a new run may avoid it.")


def _steps_per_epoch(config: TrainConfig, arrays) -> int:
    num_train = len(arrays.x_train)
    if config.batch_size > num_train:
        raise ConfigError(f"--batch_size={config.batch_size} is larger than the {num_train} training "
                          f"images of {config.dataset} ({arrays.source}).")
    steps = num_train // config.batch_size // config.n_critic
    if steps == 0:
        raise ConfigError(f"--n_critic={config.n_critic} batches of {config.batch_size} do not fit in the "
                          f"{num_train} training images of {config.dataset}.")
    return min(steps, config.steps_per_epoch) if config.steps_per_epoch else steps


def _restore(run: Run, folder: str) -> int:
    """Loads the folder's checkpoint into `run`; returns the first epoch to train."""
    state, meta = checkpoint.load(folder)
    trained_on = meta.get("data_fingerprint")
    if trained_on and trained_on != run.arrays.fingerprint:
        raise ConfigError(f"--resume: {folder} was trained on other data (fingerprint {trained_on}) than "
                          f"{run.config.dataset} from {run.arrays.source} (fingerprint {run.arrays.fingerprint}); "
                          "point --data_dir at the data it was trained on.")
    try:
        run.gan.set_state(state)
    except ValueError as e:
        raise RunFileError(f"{os.path.join(folder, rundir.CHECKPOINT)} does not fit the model that "
                           f"{rundir.CONFIG} describes ({e}); was one of them copied from another run?") from None
    run.history = meta["history"]
    run.log(f"resuming from the checkpoint of epoch {meta['epoch']}")
    return meta["epoch"] + 1


def _fit(config: TrainConfig, strategy, chief: bool, resume: bool, log, extra) -> dict:
    preset = presets.get(config.model)
    if config.batch_size % strategy.num_replicas_in_sync:
        raise ConfigError(f"--batch_size={config.batch_size} does not split evenly across the "
                          f"{strategy.num_replicas_in_sync} replicas of --strategy={config.strategy}.")
    _check_folder(config, resume, chief)
    folder = config.run_dir
    spec = data.get_spec(config.dataset)
    arrays = data.load_arrays(config.dataset, config.data_dir)
    steps = _steps_per_epoch(config, arrays)
    per_step = f"{config.n_critic} D updates and 1 G update" if config.n_critic > 1 else "batch"
    replicas = "" if strategy.num_replicas_in_sync == 1 else f" on {strategy.num_replicas_in_sync} replicas"
    log(f"{config.dataset}: {len(arrays.x_train)} training images from {arrays.source}; {config.model} "
        f"({preset.summary}); {steps} steps ({per_step} of {config.batch_size}{replicas}) per epoch; "
        + (f"writing to {folder}" if chief else "the chief writes the run folder"))

    keras.utils.set_random_seed(config.seed)
    num_classes = len(spec.class_names)
    with strategy.scope():
        gan = build_gan(config, spec.image_shape, num_classes)
    run = Run(config, preset, gan, arrays, spec.image_shape, steps,
              {"d_loss": [], "g_loss": [], "epochs": []}, log, fixed_noise(config),
              fixed_labels(config, num_classes) if preset.conditional else None, chief)
    start = _restore(run, folder) if resume else 1
    if distribute.is_multi_worker(strategy):
        shared = {k: v for k, v in config.values().items() if k not in resumable()}  # not where the data is
        distribute.check_agreement(strategy, settings=json.dumps(shared, sort_keys=True), data=arrays.fingerprint,
                                   epoch=str(start), weights=_state_digest(gan.get_state()))
    callbacks = side_outputs.for_run(config, extra) if chief else list(extra)
    for callback in callbacks:
        callback.on_train_begin(run)
    pipeline = data.Pipeline(arrays.x_train, arrays.y_train if preset.conditional else None,
                             flatten=not preset.convolutional)
    try:
        for epoch in range(start, config.epochs + 1):
            try:
                record = _epoch(run, pipeline, epoch, callbacks)
            except distribute.COLLECTIVE_ERRORS as e:
                if not distribute.is_multi_worker(strategy):
                    raise
                raise distribute.lost(e) from None
            log(f"epoch {epoch}/{config.epochs}: d_loss {record['d_loss']:.4f}, g_loss {record['g_loss']:.4f} "
                f"(means over {steps} steps) | {record['seconds']:.1f} s, {record['images_per_second']:.0f} img/s | "
                f"rss {record['rss_mb']:.0f} MiB")
            logs = dict(record)
            for callback in callbacks:
                callback.on_epoch_end(run, epoch, logs)
    finally:  # however training ends: finished, diverged or interrupted
        for callback in callbacks:
            callback.on_train_end(run)
    log(f"done: {folder if chief else 'the chief wrote the run folder'} (peak rss {peak_rss_mb():.0f} MiB)")
    return run.history


def _state_digest(state: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for key in sorted(state):
        h.update(key.encode())
        h.update(np.ascontiguousarray(state[key]).tobytes())
    return h.hexdigest()


def _epoch(run: Run, pipeline, epoch: int, callbacks) -> dict:
    """Trains one epoch; records its losses in the history and returns its record."""
    config, gan, steps = run.config, run.gan, run.steps
    conditional = run.preset.conditional
    num_classes = gan.num_classes
    rng = np.random.default_rng([config.seed, epoch])
    batches = iter(pipeline.epoch(batch_size=config.batch_size, seed=config.seed, epoch=epoch,
                                  steps=steps * config.n_critic))
    interactive = sys.stdout.isatty()
    bar = keras.utils.Progbar(steps, verbose=1 if interactive else 0, unit_name="step",
                              stateful_metrics=["d_loss", "g_loss"])

    def draw():
        return make_noise(rng, config.batch_size, config.noise_dim, config.noise)

    def draw_labels():
        return rng.integers(0, num_classes, config.batch_size) if conditional else None

    started = time.perf_counter()
    d_epoch, g_epoch = [], []
    d_total = g_total = 0.0
    first = len(run.history["d_loss"])
    for step in range(1, steps + 1):
        d_losses = []
        for _ in range(config.n_critic):
            real, labels = next(batches) if conditional else (next(batches), None)
            d_losses.append(gan.discriminator_step(real, draw(), labels, draw_labels()))
        d_loss = float(np.mean(d_losses))
        g_loss = gan.generator_step(draw(), draw_labels())
        for name, value in (("d_loss", d_loss), ("g_loss", g_loss)):
            if not math.isfinite(value):
                raise _diverged(run.folder, epoch, f"step {step}: {name} is {value}")
        d_epoch.append(d_loss)
        g_epoch.append(g_loss)
        d_total, g_total = d_total + d_loss, g_total + g_loss
        for callback in callbacks:
            callback.on_step_end(run, first + step, {"epoch": epoch, "d_loss": d_loss, "g_loss": g_loss})
        if interactive:  # running means over the epoch so far, as the summary line reports them
            bar.update(step, [("d_loss", d_total / step), ("g_loss", g_total / step)])
    broken = gan.nonfinite_parts()  # the last update of the epoch came after its loss was checked
    if broken:
        raise _diverged(run.folder, epoch, f"after its last step: {', '.join(broken)} hold NaN or infinite values")
    seconds = time.perf_counter() - started
    run.history["d_loss"] += d_epoch
    run.history["g_loss"] += g_epoch
    images = steps * config.n_critic * config.batch_size
    record = {"epoch": epoch, "d_loss": float(np.mean(d_epoch)), "g_loss": float(np.mean(g_epoch)),
              "seconds": seconds, "images_per_second": images / seconds, "rss_mb": rss_mb()}
    run.history["epochs"].append(record)
    return record
