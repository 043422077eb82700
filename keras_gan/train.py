"""Training: `python -m keras_gan.train`.

    python -m keras_gan.train --dataset=fashion_mnist --epochs=50 --output_dir=runs/fashion
    python -m keras_gan.train --output_dir=runs/fashion --resume      # continue after a stop
    tensorboard --logdir runs                                         # watch every run

A run directory holds config.json, losses.csv (every step), epochs.csv (one row per epoch, with
wall time, images per second and resident memory), samples/epoch_NNN.png (a fixed noise batch),
loss_curves.png, generator.keras, discriminator.keras, checkpoint.npz and tensorboard/; with
--eval_every=K also evals.csv and metric_curves.png (--eval_metrics every K epochs) and
generator_best.keras. Everything is rewritten atomically at the end of each epoch, the checkpoint
last: a run stopped at any moment resumes from its last finished epoch and continues exactly as if
it had not stopped. A diverged run (a NaN or infinite loss) stops with exit status 3 and keeps its
last good epoch. The flags are TrainConfig's fields (keras_gan/runs/config.py), where each is
declared; keras_gan/training/README.md lists them.
"""

import sys

from keras_gan.cli import execute, import_tensorflow_quietly

import_tensorflow_quietly()

import dataclasses  # noqa: E402

from absl import flags  # noqa: E402

from keras_gan.errors import KerasGanError  # noqa: E402
from keras_gan.runs import checkpoint, config  # noqa: E402
from keras_gan.runs.config import TrainConfig  # noqa: E402
from keras_gan.training.loop import fit  # noqa: E402

DEFINE = {str: flags.DEFINE_string, int: flags.DEFINE_integer, float: flags.DEFINE_float, bool: flags.DEFINE_boolean}


def define_flags() -> flags.FlagValues:
    fv = flags.FlagValues()
    for name, kind, default, help_text in config.flag_specs():
        DEFINE[kind](name, default, help_text, flag_values=fv)
    flags.DEFINE_boolean("resume", False, "Continue the run in --output_dir from its checkpoint.", flag_values=fv)
    flags.DEFINE_boolean("dry_run", False, "Print the resolved configuration and exit.", flag_values=fv)
    return fv


def config_from_flags(fv: flags.FlagValues) -> TrainConfig:
    """The configuration of the flags; with --resume, the run's config.json with the flags given on
    the command line on top (`train` then refuses the changes a resumed run may not make)."""
    names = [n for n in config.names() if n in fv]  # every setting but the ones a run records itself
    given = {n: fv[n].value for n in names}
    if not fv.resume:
        return TrainConfig(**given)
    run_dir = TrainConfig(output_dir=given["output_dir"], dataset=given["dataset"], model=given["model"]).run_dir
    saved = config.read_config(run_dir)
    return dataclasses.replace(saved, **{n: given[n] for n in names if fv[n].present})


def _body(fv) -> int:
    run_config = config_from_flags(fv)
    if fv.dry_run:
        print(run_config.to_json(with_folder=True))
        return 0
    try:
        fit(run_config, resume=fv.resume)
    except KeyboardInterrupt as e:
        try:
            saved = checkpoint.load_meta(run_config.run_dir)
        except KerasGanError:
            saved = None
        if saved:
            print(f"\ninterrupted: epoch {saved['epoch']} is the last saved in {run_config.run_dir}; continue with\n"
                  f"  python -m keras_gan.train --output_dir={run_config.run_dir} --resume", file=sys.stderr)
        else:
            print("\ninterrupted before the first epoch finished: nothing was saved.", file=sys.stderr)
        return getattr(e, "exit_status", 130)
    return 0


def main(argv=None) -> int:
    return execute(sys.argv if argv is None else argv, define_flags, _body)


if __name__ == "__main__":
    sys.exit(main())
