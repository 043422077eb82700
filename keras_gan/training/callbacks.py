"""Side outputs of training, as callbacks that the loop (loop.py) calls.

    class Printer(keras_gan.RunCallback):
        def on_epoch_end(self, run, epoch, logs):
            print(epoch, logs["d_loss"], logs["g_loss"])

    keras_gan.fit(config, callbacks=[Printer()])

They follow the keras-io GAN examples' callbacks, but are not `keras.callbacks.Callback`s: a run
trains two or more Keras models, and each hook gets the `Run` (configuration, model, task, run
folder, history) beside the `logs` dict. `on_step_end` gets the step's losses; `on_epoch_end` the epoch's record (mean losses,
seconds, images per second, memory), to which `Evaluation` adds the epoch's `scores`, for the
callbacks after it. Callbacks run in order: the package's own, then the user's, then `Checkpoint`,
last, so that everything of an epoch is on disk before the checkpoint that a resumed run starts
from. Nothing is written for an epoch that diverges: its steps' losses are kept by the callbacks
that need them and written at the epoch's end.
"""

import os

from keras_gan import backend
from keras_gan.evaluation.scoring import Evaluator
from keras_gan.io import figures
from keras_gan.io.atomic import write_text
from keras_gan.io.keras_files import save_network
from keras_gan.metrics import registry
from keras_gan.runs import checkpoint
from keras_gan.runs import folder as run_folder


class RunCallback:
    """Does nothing; override the hooks you need. (`keras_gan.Callback` is its earlier name.)"""

    def on_train_begin(self, run) -> None:
        pass

    def on_step_end(self, run, step: int, logs: dict) -> None:
        pass

    def on_epoch_end(self, run, epoch: int, logs: dict) -> None:
        pass

    def on_train_end(self, run) -> None:
        """Called when training ends, however it ends (finished, diverged, interrupted)."""


class Evaluation(RunCallback):
    """`--eval_every`: scores G with `--eval_metrics`, writes evals.csv and metric_curves.png, and keeps
    the generator of the best score so far (the first metric's headline) as generator_best.keras.
    Each evaluation records its feature network, and only scores through the network of this
    process compete for the best: a run resumed on another machine, whose classifier was trained
    there, does not compare its scores with those of the first machine's."""

    def on_train_begin(self, run):
        config = run.config
        self.evaluator = Evaluator(run.arrays, num_samples=config.eval_samples, seed=config.seed,
                                   metrics=config.eval_metrics, log=run.log)
        self.headline = self.evaluator.metrics[0].headline
        self.network = self.evaluator.network.description
        others = sorted({e["feature_network"] for e in run.history.get("evals", [])
                         if e.get("feature_network", self.network) != self.network})
        if others:
            run.log(f"the scores so far came through {'; '.join(others)}, not {self.network}: the best generator "
                    "is chosen again among the scores from here on")

    def on_epoch_end(self, run, epoch, logs):
        config, history = run.config, run.history
        if epoch % config.eval_every and epoch != config.epochs:
            return
        scores = {k: v for k, v in self.evaluator(run.model.generator, config.noise).items()
                  if isinstance(v, (int, float))}
        logs["scores"] = scores
        evals = history.setdefault("evals", [])
        key, lower = self.headline.key, self.headline.better != "higher"
        best = [e[key] for e in evals if key in e and e.get("feature_network", self.network) == self.network]
        if not best or (scores[key] < min(best) if lower else scores[key] > max(best)):
            save_network(run.model.generator, os.path.join(run.folder, run_folder.GENERATOR_BEST))
            history["best_epoch"] = epoch
        evals.append({"epoch": epoch, **scores, "feature_network": self.network})
        shown = ", ".join(f"{label} {value}" for label, value in registry.show(scores, self.evaluator.metrics))
        run.log(f"  scores at epoch {epoch}: {shown} | best {self.headline.label} at epoch {history['best_epoch']}")
        keys = ["epoch"] + [k for k in scores]
        write_text(os.path.join(run.folder, run_folder.EVALS), run_folder.csv_text(keys, ([e.get(k, "") for k in keys] for e in evals)))
        figures.metric_curves(evals, os.path.join(run.folder, run_folder.METRIC_CURVES),
                            columns=[m.headline for m in self.evaluator.metrics],
                            feature_network=" / ".join(dict.fromkeys(e.get("feature_network", self.network)
                                                                      for e in evals)),
                            title=f"{config.model} on {config.data_name}: {config.eval_samples} samples every "
                                  f"{config.eval_every} epochs")


class LossLog(RunCallback):
    """config.json, losses.csv (every step) and epochs.csv (every epoch): a column per loss of the model."""

    def on_epoch_end(self, run, epoch, logs):
        names, steps = run.model.loss_names, run.steps
        values = [run.history[name] for name in names]
        write_text(os.path.join(run.folder, run_folder.CONFIG), run.config.to_json())
        write_text(os.path.join(run.folder, run_folder.LOSSES), run_folder.csv_text(
            ("step", "epoch", *names), ((i + 1, i // steps + 1, *(v[i] for v in values)) for i in range(len(values[0])))))
        keys = ("epoch", *names, "seconds", "images_per_second", "rss_mb")
        write_text(os.path.join(run.folder, run_folder.EPOCHS), run_folder.csv_text(
            keys, ([e[k] for k in keys] for e in run.history["epochs"])))


class Networks(RunCallback):
    """The model's networks as plain Keras files: generator.keras and discriminator.keras (with the
    loss's output activation); CycleGAN's generator_a2b, generator_b2a, discriminator_a and _b."""

    def on_epoch_end(self, run, epoch, logs):
        for name, network in run.model.exports().items():
            save_network(network, os.path.join(run.folder, name + ".keras"))


class Figures(RunCallback):
    """The sample grid, samples/epoch_NNN.png (G of the fixed noise, or fixed inputs beside their
    outputs), and loss_curves.png: at epoch 1, every `--sample_every` epochs and at the last."""

    def on_epoch_end(self, run, epoch, logs):
        config = run.config
        if not (epoch == 1 or epoch % config.sample_every == 0 or epoch == config.epochs):
            return
        figures.sample_grid(run.fixed_samples(), run.image_shape, run_folder.sample_grid(run.folder, epoch),
                          rows=config.sample_rows, cols=config.sample_cols, title=run.task.title(epoch))
        panels = [(label, {name: run.history[name] for name in names}) for label, names in run.task.panels(run.model)]
        figures.loss_curves(panels, os.path.join(run.folder, run_folder.LOSS_CURVES), steps_per_epoch=run.steps,
                          title=f"{config.model} on {config.data_name}: losses to epoch {epoch}")


def _tag(name: str) -> str:
    return name.removesuffix("_loss")


class TensorBoard(RunCallback):
    """TensorBoard summaries in RUN/tensorboard: every loss at every step (loss/d, loss/g; CycleGAN's and
    SRGAN's terms too), the epoch's means and speed (epoch/...), every score of an evaluation
    (scores/...) and the sample grid, each epoch. `tensorboard --logdir runs` shows every run of a folder.
    They are written through tf.summary, on every backend where TensorFlow is installed; without it,
    not at all, which the run's log says in one line."""

    def __init__(self):
        self.writer, self.pending, self.skipped = None, [], False

    def on_train_begin(self, run):
        if backend.tensorflow() is None:
            self.skipped = True
            run.log("TensorBoard summaries are written through TensorFlow, which is not installed: skipped "
                    "(--notensorboard turns them off without this line); the run folder's CSV files and figures hold the same "
                    "numbers.")

    def on_step_end(self, run, step, logs):
        if not self.skipped:
            self.pending.append((step, {name: logs[name] for name in run.model.loss_names}))

    def on_epoch_end(self, run, epoch, logs):
        if self.skipped:
            return
        tf = backend.tensorflow()
        if self.writer is None:
            self.writer = tf.summary.create_file_writer(os.path.join(run.folder, run_folder.TENSORBOARD))
        config = run.config
        with self.writer.as_default():
            for step, losses in self.pending:
                for name, value in losses.items():
                    tf.summary.scalar(f"loss/{_tag(name)}", value, step=step)
            for key in (*run.model.loss_names, "images_per_second", "rss_mb"):
                tf.summary.scalar(f"epoch/{key}", logs[key], step=epoch)
            for key, value in logs.get("scores", {}).items():
                tf.summary.scalar(f"scores/{key}", value, step=epoch)
            grid = figures.tile(run.fixed_samples(), run.image_shape, config.sample_rows, config.sample_cols)
            tf.summary.image("samples", grid[None], step=epoch)
        self.writer.flush()
        self.pending = []

    def on_train_end(self, run):
        if self.writer is not None:
            self.writer.close()
        self.writer, self.pending = None, []  # the steps of an unfinished epoch are not written


class Checkpoint(RunCallback):
    """checkpoint.npz: every weight and optimizer variable, the history and the data's fingerprint."""

    def on_epoch_end(self, run, epoch, logs):
        checkpoint.save(run.folder, run.model.get_state(), {"epoch": epoch, "history": run.history,
                                                          "data_fingerprint": run.arrays.fingerprint})


def for_run(config, extra=()) -> list[RunCallback]:
    """The callbacks of a run of `config`: the package's side outputs, then `extra`, then the checkpoint."""
    own = ([Evaluation()] if config.eval_every else []) + [LossLog(), Networks(), Figures()]
    return own + ([TensorBoard()] if config.tensorboard else []) + list(extra) + [Checkpoint()]

