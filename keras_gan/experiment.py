"""Named experiments: `python -m keras_gan.experiment` (what `make experiment` runs).

    python -m keras_gan.experiment                         # every configuration, the reduced budget
    python -m keras_gan.experiment --only=wgan_gp          # one of them
    python -m keras_gan.experiment --full                  # the papers' (the seeds') lengths
    python -m keras_gan.experiment --seeds=0,1,2           # three seeds of each: mean and standard deviation

Each experiment is a JSON file in experiments/configs/ (keras_gan/runner.py describes its keys).
Every (experiment, seed) trains into RESULTS/NAME/seed_S/, so a finished run is reused, an
interrupted one resumes from its checkpoint, and re-running the command after a stop carries on
where it stopped. Each run is scored and drawn, and experiments/report.md is written
(keras_gan/report.py).
"""

import sys

from keras_gan.cli import import_tensorflow_quietly, run_cli

import_tensorflow_quietly()

import dataclasses  # noqa: E402
import os  # noqa: E402

from absl import flags  # noqa: E402

from keras_gan.report import write_report  # noqa: E402
from keras_gan.runner import compare_super_resolution, load_experiments, run  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Request:
    configs: str = "experiments/configs"
    results: str = "experiments/results"
    only: str = ""
    seeds: str = ""
    full: bool = False
    report: str = ""


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


def run_and_report(request: Request, log=print) -> int:
    """Trains, scores and draws what `request` selects, then writes the report of every configuration
    that has results (not only those of --only); returns the exit status."""
    experiments = load_experiments(request.configs, request.only, request.full, request.seeds)
    results = request.results + ("_full" if request.full else "")
    try:
        run(experiments, results, log=log)
    except KeyboardInterrupt as e:
        print("\ninterrupted: finished epochs are saved; run the same command again to carry on.", file=sys.stderr)
        return getattr(e, "exit_status", 130)
    report = request.report or os.path.join(os.path.dirname(os.path.abspath(results)),
                                            "report_full.md" if request.full else "report.md")
    everything = load_experiments(request.configs, "", request.full)
    compare_super_resolution(everything, results)
    log(f"wrote {write_report(everything, results, report, full=request.full)}")
    return 0


def _body(fv) -> int:
    return run_and_report(Request(fv.configs, fv.results, fv.only, fv.seeds, fv.full, fv.report))


def main(argv=None) -> int:
    return run_cli(sys.argv if argv is None else argv, define_flags, _body)


if __name__ == "__main__":
    sys.exit(main())
