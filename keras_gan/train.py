"""Training: the loop as a library function, and the `python -m keras_gan.train` command.

    python -m keras_gan.train --dataset=fashion_mnist --epochs=50 --output_dir=runs/fashion
    python -m keras_gan.train --output_dir=runs/fashion --resume      # continue after a stop

A run directory holds config.json, losses.csv (every step), epochs.csv (one row per epoch, with
wall time, images per second and resident memory), samples/epoch_NNN.png (a fixed noise batch),
loss_curves.png, generator.keras, discriminator.keras and checkpoint.npz; with --eval_every=K also
evals.csv and metric_curves.png (FID, KID and classes covered every K epochs, keras_gan/evaluate.py)
and generator_best.keras, the generator of the best FID so far. Everything is rewritten
atomically at the end of each epoch, the checkpoint last: a run stopped at any moment resumes from
its last finished epoch and continues exactly as if it had not stopped.

One process writes a run folder at a time (keras_gan/rundir.py locks it), and nothing in it names
the folder, so it can be moved or copied and resumed where it lies. Every step's losses are checked:
a NaN or infinite loss (or weight) stops the run at once with a DivergenceError, before anything of
that epoch is written, so the last good checkpoint and generator stay as they were.
"""

import dataclasses
import math
import os
import resource
import sys
import time

import numpy as np
from absl import flags

from keras_gan import checkpoint, rundir
from keras_gan.config import RESUMABLE, TrainConfig
from keras_gan.cli import run_cli
from keras_gan.errors import ConfigError, DivergenceError, KerasGanError, RunFileError


def make_noise(rng: np.random.Generator, n: int, dim: int, kind: str) -> np.ndarray:
    """The deck's `np.random.uniform(-1, 1, ...)` (or N(0, 1) for kind='normal'), as float32."""
    if kind == "uniform":
        return rng.uniform(-1.0, 1.0, size=(n, dim)).astype(np.float32)
    return rng.standard_normal(size=(n, dim)).astype(np.float32)


def fixed_noise(config: TrainConfig) -> np.ndarray:
    """The noise batch shown in every sample grid of a run (the same batch across epochs)."""
    rng = np.random.default_rng([config.seed, 0xF1ED])
    return make_noise(rng, config.sample_rows * config.sample_cols, config.noise_dim, config.noise)


def fixed_labels(config: TrainConfig, num_classes: int) -> np.ndarray:
    """Labels of a conditional model's sample grid: row r shows class r (seeds/002's class grid)."""
    return np.repeat(np.arange(config.sample_rows) % num_classes, config.sample_cols)


def make_optimizer(config: TrainConfig, preset):
    import keras

    from keras_gan.optimizers import FusedAdam

    if preset.optimizer == "rmsprop":
        # rho 0.99: the decay of the WGAN authors' RMSProp (PyTorch's default alpha).
        return keras.optimizers.RMSprop(config.learning_rate, rho=0.99)
    return FusedAdam(config.learning_rate, beta_1=config.beta_1, beta_2=config.beta_2,
                     weight_decay=config.weight_decay or None)


def build_gan(config: TrainConfig, image_shape, num_classes: int = 10):
    from keras_gan import presets
    from keras_gan.gan import GAN

    preset = presets.get(config.model)
    generator, discriminator = presets.build_networks(
        preset, noise_dim=config.noise_dim, image_shape=image_shape, num_classes=num_classes,
        dcgan_filters=config.dcgan_filters, cgan_layout=config.cgan_layout)
    return GAN(generator, discriminator, loss=preset.loss, penalty=preset.penalty,
               label_smoothing=config.label_smoothing, clip_value=config.clip_value,
               gp_weight=config.gp_weight, d_optimizer=make_optimizer(config, preset),
               g_optimizer=make_optimizer(config, preset), fakes_in_training_mode=preset.fakes_in_training_mode)


def make_run_dir(run_dir: str) -> None:
    try:
        os.makedirs(os.path.join(run_dir, "samples"), exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot write to --output_dir={run_dir}: {e.strerror or e}") from e


def prepare_run_dir(config: TrainConfig, resume: bool) -> str:
    """Checks the run folder, which this process holds (`rundir.lock`): refuses to overwrite an
    existing run, and on resume to change what a resumed run may not; sweeps the temporaries of a
    save that a killed process left."""
    run_dir = config.run_dir
    has_run = os.path.exists(os.path.join(run_dir, checkpoint.CHECKPOINT))
    if resume and not has_run:
        raise ConfigError(f"--resume: {run_dir} holds no checkpoint to resume from.")
    if not resume and has_run:
        raise ConfigError(f"{run_dir} already holds a run; pass --resume to continue it, "
                          "or choose another --output_dir.")
    if resume:
        changes = config.changes_from(rundir.read_config(run_dir))
        if changes:
            raise ConfigError(
                f"--resume continues the run in {run_dir} with its saved settings; it cannot change "
                + ", ".join(f"--{k} (saved {a!r}, asked {b!r})" for k, (a, b) in sorted(changes.items()))
                + ". Only " + ", ".join(f"--{k}" for k in sorted(RESUMABLE)) + " may change; "
                "train other settings into a new --output_dir.")
    try:
        for folder in (run_dir, os.path.join(run_dir, "samples")):
            checkpoint.remove_temporaries(folder)
        checkpoint.write_text(os.path.join(run_dir, ".writable"), "")
        os.remove(os.path.join(run_dir, ".writable"))
    except OSError as e:
        raise ConfigError(f"cannot write to --output_dir={run_dir}: {e.strerror or e}") from e
    return run_dir


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


def _csv(header: str, rows) -> str:
    return header + "\n" + "".join(",".join(str(v) for v in row) + "\n" for row in rows)


def _evaluate(run_dir, config, gan, history, epoch, evaluator, log):
    """Scores G (--eval_every), records them in the history, and keeps the best-FID generator."""
    from keras_gan import plots
    from keras_gan.generate import save_network

    scores = {"epoch": epoch, **evaluator(gan.generator, config.noise)}
    evals = history.setdefault("evals", [])
    best = min((e["fid"] for e in evals), default=float("inf"))
    evals.append(scores)
    if scores["fid"] < best:
        save_network(gan.generator, os.path.join(run_dir, "generator_best.keras"))
        history["best_epoch"] = epoch
    log(f"  scores at epoch {epoch}: FID {scores['fid']:.3f}, KID {scores['kid']:.4f} ± {scores['kid_std']:.4f}, "
        f"{scores['classes_covered']} classes covered | best FID at epoch {history['best_epoch']}")
    keys = ("epoch", "fid", "kid", "kid_std", "classes_covered", "mode_kl")
    checkpoint.write_text(os.path.join(run_dir, "evals.csv"), _csv(
        ",".join(keys), ([f"{e[k]:.6g}" if isinstance(e[k], float) else e[k] for k in keys] for e in evals)))
    plots.metric_curves(evals, os.path.join(run_dir, "metric_curves.png"), feature_network=evaluator.network.description,
                        title=f"{config.model} on {config.dataset}: {config.eval_samples} samples every "
                              f"{config.eval_every} epochs")


def _write_outputs(run_dir, config, gan, history, epoch, steps, image_shape, noise, labels, sample_now):
    from keras_gan import plots, presets
    from keras_gan.generate import save_network

    d, g = history["d_loss"], history["g_loss"]
    checkpoint.write_text(os.path.join(run_dir, rundir.CONFIG), config.to_json())
    checkpoint.write_text(os.path.join(run_dir, "losses.csv"), _csv(
        "step,epoch,d_loss,g_loss",
        ((i + 1, i // steps + 1, f"{d[i]:.6g}", f"{g[i]:.6g}") for i in range(len(d)))))
    keys = ("epoch", "d_loss", "g_loss", "seconds", "images_per_second", "rss_mb")
    checkpoint.write_text(os.path.join(run_dir, "epochs.csv"), _csv(
        ",".join(keys), ([f"{e[k]:.6g}" if isinstance(e[k], float) else e[k] for k in keys]
                         for e in history["epochs"])))
    save_network(gan.generator, os.path.join(run_dir, "generator.keras"))
    save_network(gan.discriminator_for_export(), os.path.join(run_dir, "discriminator.keras"))
    if sample_now:
        title = f"{config.model} GAN on {config.dataset}, epoch {epoch}"
        plots.sample_grid(gan.sample(noise, labels), image_shape,
                          os.path.join(run_dir, "samples", f"epoch_{epoch:03d}.png"),
                          rows=config.sample_rows, cols=config.sample_cols, title=title)
        plots.loss_curves(d, g, os.path.join(run_dir, "loss_curves.png"), steps_per_epoch=steps,
                          title=f"{config.model} GAN on {config.dataset}: losses to epoch {epoch}",
                          ylabel=f"{presets.get(config.model).loss.replace('_', ' ')} loss")


def train(config: TrainConfig, *, resume: bool = False, log=print) -> dict:
    """Trains `config` into its run directory and returns the history (losses per step and epoch).

    The folder is held for the whole run. With `resume`, the run continues from the folder's
    checkpoint, after checking that `config` changes nothing a resumed run may not change (the
    command line reads those settings from config.json; a library caller must pass them)."""
    make_run_dir(config.run_dir)
    with rundir.lock(config.run_dir):
        return _train(config, resume, log)


def _diverged(run_dir: str, epoch: int, where: str) -> DivergenceError:
    kept = (f"{run_dir} keeps epoch {epoch - 1}, from which --resume continues" if epoch > 1
            else "nothing was saved")
    return DivergenceError(f"training diverged at epoch {epoch}, {where}. Nothing of epoch {epoch} was written: "
                           f"{kept}. A lower --learning_rate, or another --seed, in a new run may avoid it.")


def _train(config: TrainConfig, resume: bool, log) -> dict:
    from keras_gan import data, presets

    preset = presets.get(config.model)
    run_dir = prepare_run_dir(config, resume)
    spec = data.get_spec(config.dataset)
    arrays = data.load_arrays(config.dataset, config.data_dir)
    num_train = len(arrays.x_train)
    if config.batch_size > num_train:
        raise ConfigError(f"--batch_size={config.batch_size} is larger than the {num_train} training "
                          f"images of {config.dataset} ({arrays.source}).")
    # One step = n_critic D updates, each on its own real batch, then one G update.
    steps = num_train // config.batch_size // config.n_critic
    if steps == 0:
        raise ConfigError(f"--n_critic={config.n_critic} batches of {config.batch_size} do not fit in the "
                          f"{num_train} training images of {config.dataset}.")
    if config.steps_per_epoch:
        steps = min(steps, config.steps_per_epoch)
    per_step = f"{config.n_critic} D updates and 1 G update" if config.n_critic > 1 else "batch"
    log(f"{config.dataset}: {num_train} training images from {arrays.source}; {config.model} "
        f"({preset.summary}); {steps} steps ({per_step} of {config.batch_size}) per epoch; writing to {run_dir}")

    import keras

    keras.utils.set_random_seed(config.seed)
    num_classes = len(spec.class_names)
    gan = build_gan(config, spec.image_shape, num_classes)
    history = {"d_loss": [], "g_loss": [], "epochs": []}
    start = 1
    if resume:
        state, meta = checkpoint.load(run_dir)
        trained_on = meta.get("data_fingerprint")
        if trained_on and trained_on != arrays.fingerprint:
            raise ConfigError(f"--resume: {run_dir} was trained on other data (fingerprint {trained_on}) than "
                              f"{config.dataset} from {arrays.source} (fingerprint {arrays.fingerprint}); point "
                              "--data_dir at the data it was trained on.")
        try:
            gan.set_state(state)
        except ValueError as e:
            raise RunFileError(f"{os.path.join(run_dir, checkpoint.CHECKPOINT)} does not fit the model that "
                               f"{rundir.CONFIG} describes ({e}); was one of them copied from another run?") from None
        history, start = meta["history"], meta["epoch"] + 1
        log(f"resuming from the checkpoint of epoch {meta['epoch']}")

    evaluator = None
    if config.eval_every:
        from keras_gan.evaluate import TrainingEvaluator

        evaluator = TrainingEvaluator(config.dataset, config.data_dir, arrays, num_samples=config.eval_samples,
                                      seed=config.seed, log=log)
    pipeline = data.Pipeline(arrays.x_train, arrays.y_train if preset.conditional else None,
                             flatten=not preset.convolutional)
    noise = fixed_noise(config)
    noise_labels = fixed_labels(config, num_classes) if preset.conditional else None
    interactive = sys.stdout.isatty()

    def draw(rng):
        return make_noise(rng, config.batch_size, config.noise_dim, config.noise)

    def draw_labels(rng):
        return rng.integers(0, num_classes, config.batch_size) if preset.conditional else None

    for epoch in range(start, config.epochs + 1):
        rng = np.random.default_rng([config.seed, epoch])
        batches = iter(pipeline.epoch(batch_size=config.batch_size, seed=config.seed, epoch=epoch,
                                      steps=steps * config.n_critic))
        bar = keras.utils.Progbar(steps, verbose=1 if interactive else 0, unit_name="step",
                                  stateful_metrics=["d_loss", "g_loss"])
        started = time.perf_counter()
        d_epoch, g_epoch = [], []
        d_total = g_total = 0.0
        for step in range(1, steps + 1):
            d_losses = []
            for _ in range(config.n_critic):
                real, labels = next(batches) if preset.conditional else (next(batches), None)
                d_losses.append(gan.discriminator_step(real, draw(rng), labels, draw_labels(rng)))
            d_loss = float(np.mean(d_losses))
            g_loss = gan.generator_step(draw(rng), draw_labels(rng))
            for name, value in (("d_loss", d_loss), ("g_loss", g_loss)):
                if not math.isfinite(value):
                    raise _diverged(run_dir, epoch, f"step {step}: {name} is {value}")
            d_epoch.append(d_loss)
            g_epoch.append(g_loss)
            d_total, g_total = d_total + d_loss, g_total + g_loss
            if interactive:  # running means over the epoch so far, as the summary line reports them
                bar.update(step, [("d_loss", d_total / step), ("g_loss", g_total / step)])
        broken = gan.nonfinite_parts()  # the last update of the epoch came after its loss was checked
        if broken:
            raise _diverged(run_dir, epoch, f"after its last step: {', '.join(broken)} hold NaN or infinite values")
        seconds = time.perf_counter() - started
        history["d_loss"] += d_epoch
        history["g_loss"] += g_epoch
        images = steps * config.n_critic * config.batch_size
        record = {"epoch": epoch, "d_loss": float(np.mean(d_epoch)), "g_loss": float(np.mean(g_epoch)),
                  "seconds": seconds, "images_per_second": images / seconds, "rss_mb": rss_mb()}
        history["epochs"].append(record)
        log(f"epoch {epoch}/{config.epochs}: d_loss {record['d_loss']:.4f}, g_loss {record['g_loss']:.4f} "
            f"(means over {steps} steps) | {seconds:.1f} s, {record['images_per_second']:.0f} img/s | "
            f"rss {record['rss_mb']:.0f} MiB")
        sample_now = epoch == 1 or epoch % config.sample_every == 0 or epoch == config.epochs
        if evaluator and (epoch % config.eval_every == 0 or epoch == config.epochs):
            _evaluate(run_dir, config, gan, history, epoch, evaluator, log)
        _write_outputs(run_dir, config, gan, history, epoch, steps, spec.image_shape, noise, noise_labels,
                       sample_now)
        checkpoint.save(run_dir, gan.get_state(), {"epoch": epoch, "history": history,
                                                   "data_fingerprint": arrays.fingerprint})
    log(f"done: {run_dir} (peak rss {peak_rss_mb():.0f} MiB)")
    return history


# --- command line --------------------------------------------------------------------------------

def define_flags() -> flags.FlagValues:
    from keras_gan.presets import PRESETS

    fv = flags.FlagValues()
    d = TrainConfig.__dataclass_fields__
    preset = " (default: the model's preset)"

    def define(kind, name, help_text):
        default = d[name].default
        getattr(flags, "DEFINE_" + kind)(name, default, help_text + (preset if default is None else ""),
                                          flag_values=fv)

    define("string", "dataset", "mnist, fashion_mnist or cifar10.")
    define("string", "data_dir", "Folder with IDX files or an .npz (tried first).")
    define("string", "model", "Which GAN: " + ", ".join(PRESETS) + " (keras_gan/presets.py).")
    define("integer", "epochs", "Epochs to train (in all, counting resumed ones)")
    define("integer", "batch_size", "Real images per D update")
    define("integer", "noise_dim", "Dimension of the generator's noise input")
    define("string", "noise", "uniform (in [-1, 1], as the deck) or normal")
    define("float", "learning_rate", "Learning rate of both optimizers")
    define("float", "beta_1", "Adam beta_1 (both models)")
    define("float", "beta_2", "Adam beta_2 (both models)")
    define("float", "weight_decay", "Adam weight decay (decoupled, Keras's)")
    define("float", "label_smoothing", "Target for real images in D's step; 1 for none")
    define("integer", "n_critic", "D (critic) updates per G update")
    define("float", "clip_value", "wgan: critic weights are clipped to [-clip_value, clip_value].")
    define("float", "gp_weight", "wgan_gp: the gradient penalty's lambda.")
    define("integer", "dcgan_filters", "dcgan: filters of the generator's first convolution.")
    define("string", "cgan_layout", "cgan: concat (z and y concatenated first) or paper (z->200, y->1000).")
    define("integer", "seed", "Seed of weights, noise, dropout and shuffling.")
    define("string", "output_dir", "Run directory (default runs/MODEL_DATASET).")
    define("integer", "steps_per_epoch", "Cut epochs short, for quick looks.")
    define("integer", "sample_every", "Sample grid every K epochs (and epoch 1, last)")
    define("integer", "sample_rows", "Rows of the sample grid")
    define("integer", "sample_cols", "Columns of the sample grid")
    define("integer", "eval_every", "Score G (FID, KID, classes covered) every K epochs and keep the "
           "best-FID generator as generator_best.keras; 0 for never.")
    define("integer", "eval_samples", "Generated and real samples per evaluation during training.")
    flags.DEFINE_boolean("resume", False, "Continue the run in --output_dir from its checkpoint.",
                         flag_values=fv)
    flags.DEFINE_boolean("dry_run", False, "Print the resolved configuration and exit.", flag_values=fv)
    return fv


def config_from_flags(fv: flags.FlagValues) -> TrainConfig:
    """The configuration of the flags; with --resume, the run's config.json with the flags given on
    the command line on top (`train` then refuses the changes a resumed run may not make)."""
    names = [f.name for f in dataclasses.fields(TrainConfig)]
    given = {n: fv[n].value for n in names if n in fv}
    if not fv.resume:
        return TrainConfig(**given)
    run_dir = TrainConfig(output_dir=given["output_dir"], dataset=given["dataset"], model=given["model"]).run_dir
    saved = rundir.read_config(run_dir)
    return dataclasses.replace(saved, **{n: given[n] for n in names if n in fv and fv[n].present})


def _train_body(fv) -> int:
    config = config_from_flags(fv)
    if fv.dry_run:
        print(config.to_json(with_folder=True))
        return 0
    try:
        train(config, resume=fv.resume)
    except KeyboardInterrupt as e:
        try:
            saved = checkpoint.load_meta(config.run_dir)
        except KerasGanError:
            saved = None
        if saved:
            print(f"\ninterrupted: epoch {saved['epoch']} is the last saved in {config.run_dir}; continue with\n"
                  f"  python -m keras_gan.train --output_dir={config.run_dir} --resume", file=sys.stderr)
        else:
            print("\ninterrupted before the first epoch finished: nothing was saved.", file=sys.stderr)
        return getattr(e, "exit_status", 130)
    return 0


def main(argv=None) -> int:
    return run_cli(sys.argv if argv is None else argv, define_flags, _train_body)


if __name__ == "__main__":
    sys.exit(main())
