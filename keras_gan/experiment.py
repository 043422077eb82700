"""Named experiments: `python -m keras_gan.experiment` (what `make experiment` runs).

    python -m keras_gan.experiment                         # every configuration, the reduced budget
    python -m keras_gan.experiment --only=wgan_gp          # one of them
    python -m keras_gan.experiment --full                  # the papers' (the seeds') lengths
    python -m keras_gan.experiment --seeds=0,1,2           # three seeds of each: mean and standard deviation

Each experiment is a JSON file in experiments/configs/ (keras_gan/experiments/configs.py describes
its keys). Every (experiment, seed) trains into RESULTS/NAME/seed_S/, so a finished run is reused,
an interrupted one resumes from its checkpoint, and re-running the command after a stop carries on
where it stopped. Each run is scored and drawn, and experiments/report.md is written
(keras_gan/experiments/runner.py and report.py).
"""

import sys

from keras_gan.cli import execute, import_tensorflow_quietly

import_tensorflow_quietly()

from absl import flags  # noqa: E402

from keras_gan.experiments.runner import Request, reproduce  # noqa: E402


def define_flags() -> flags.FlagValues:
    fv = flags.FlagValues()
    flags.DEFINE_string("configs", Request.configs, "Folder of experiment configurations (*.json).", flag_values=fv)
    flags.DEFINE_string("results", Request.results, "Where the runs go, one folder per experiment.", flag_values=fv)
    flags.DEFINE_string("only", "", "Comma-separated experiment names to run (default: all).", flag_values=fv)
    flags.DEFINE_string("seeds", "", "Comma-separated seeds to run for every experiment instead of its "
                        "configured ones, e.g. 0,1,2 for a mean and standard deviation.", flag_values=fv)
    flags.DEFINE_boolean("full", False, "The papers' (the seeds') lengths instead of the reduced budget.",
                         flag_values=fv)
    flags.DEFINE_string("report", "", "The Markdown report to write (default: RESULTS/../report.md, or "
                        "report_full.md with --full).", flag_values=fv)
    return fv


def _body(fv) -> int:
    return reproduce(Request(fv.configs, fv.results, fv.only, fv.seeds, fv.full, fv.report))


def main(argv=None) -> int:
    return execute(sys.argv if argv is None else argv, define_flags, _body)


if __name__ == "__main__":
    sys.exit(main())
