"""Named experiments: `python -m keras_gan.experiment` (what `make experiment` runs).

    python -m keras_gan.experiment                         # every configuration, the reduced budget
    python -m keras_gan.experiment --only=wgan_gp          # one of them
    python -m keras_gan.experiment --full                  # the papers' (the seeds') lengths
    python -m keras_gan.experiment --seeds=0,1,2           # three seeds of each: mean and standard deviation

Each experiment is a JSON file in experiments/configs/: a model, a dataset, epochs and seeds for the
reduced budget (`epochs`, `seeds`) and for `--full` (`full_epochs`, `full_seeds`), extra training
flags (`args`), and which extra figures to draw. Every (experiment, seed) trains into
RESULTS/NAME/seed_S/ through keras_gan.train, so a finished run is reused, an interrupted one
resumes from its checkpoint, and re-running the command after a stop carries on where it stopped.
Each run is then scored (keras_gan.evaluate; the scores are reused while the generator is
unchanged) and gets an animated GIF of its sample grids and the figures its configuration asks for.
"""

import csv
import dataclasses
import glob
import json
import os
import sys
import time

import numpy as np
from absl import flags

from keras_gan import checkpoint, rundir
from keras_gan.cli import run_cli
from keras_gan.errors import ConfigError, RunFileError, reason

FIGURES = ("interpolation",)
# Seconds per epoch on a 2-core CPU, for the first estimate of the time left (replaced by the
# run's own epochs.csv as soon as it has one).
GUESS_SECONDS_PER_EPOCH = {"dcgan": 120.0}
DEFAULT_GUESS = 25.0


@dataclasses.dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    model: str
    dataset: str
    epochs: int
    seeds: tuple[int, ...]
    args: dict
    figures: tuple[str, ...] = ()
    num_samples: int = 5000
    source: str = ""  # the configuration file

    @classmethod
    def from_file(cls, path: str, full: bool = False) -> "Experiment":
        name = os.path.splitext(os.path.basename(path))[0]

        def bad(problem):
            return ConfigError(f"experiment {path}: {problem}")

        try:
            with open(path, encoding="utf-8") as f:
                spec = json.load(f)
        except (OSError, ValueError) as e:
            raise bad(f"cannot read it as JSON ({reason(e)}); fix the file") from None
        if not isinstance(spec, dict):
            raise bad("expected a JSON object of settings")
        known = {"description", "model", "dataset", "epochs", "full_epochs", "seeds", "full_seeds", "args",
                 "full_args", "figures", "num_samples", "full_num_samples"}
        unknown = sorted(set(spec) - known)
        missing = sorted({"model", "dataset", "epochs"} - set(spec))
        if unknown or missing:
            raise bad("; ".join(([f"unknown keys {unknown}"] if unknown else [])
                                + ([f"missing keys {missing}"] if missing else [])))
        pick = (lambda key, default: spec.get("full_" + key, spec.get(key, default))) if full else \
            (lambda key, default: spec.get(key, default))

        def count(key, default):
            value = pick(key, default)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise bad(f"{key} must be a positive integer. Received: {value!r}")
            return value

        seeds, figures = pick("seeds", [0]), spec.get("figures", [])
        args, full_args = spec.get("args", {}), spec.get("full_args", {})
        if not isinstance(seeds, list) or not seeds or not all(isinstance(x, int) and x >= 0 for x in seeds):
            raise bad(f"seeds must be a list of non-negative integers. Received: {seeds!r}")
        if not isinstance(args, dict) or not isinstance(full_args, dict):
            raise bad("args and full_args must be JSON objects of training flags")
        if not isinstance(figures, list) or any(f not in FIGURES for f in figures):
            raise bad(f"unknown figures {figures!r}; choose from {list(FIGURES)}")
        if not all(isinstance(spec.get(k, ""), str) for k in ("model", "dataset", "description")):
            raise bad("model, dataset and description must be strings")
        return cls(name=name, description=spec.get("description", ""), model=spec["model"],
                   dataset=spec["dataset"], epochs=count("epochs", 1), seeds=tuple(seeds),
                   args={**args, **(full_args if full else {})},
                   figures=tuple(figures), num_samples=count("num_samples", 5000), source=path)

    def train_config(self, seed: int, results: str):
        from keras_gan.config import TrainConfig

        try:
            return TrainConfig(model=self.model, dataset=self.dataset, epochs=self.epochs, seed=seed,
                               output_dir=run_dir(results, self.name, seed), **self.args)
        except TypeError as e:  # an unknown flag, or a value of the wrong type
            raise ConfigError(f"experiment {self.source or self.name}: bad args ({e})") from None
        except ConfigError as e:
            raise ConfigError(f"experiment {self.source or self.name}: {e}") from None


def run_dir(results: str, name: str, seed: int) -> str:
    return os.path.join(results, name, f"seed_{seed}")


def parse_seeds(text: str) -> tuple[int, ...]:
    """--seeds: "0,1,2" -> (0, 1, 2)."""
    try:
        seeds = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        seeds = ()
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ConfigError(f"--seeds={text}: expected distinct non-negative integers separated by commas, e.g. 0,1,2")
    return seeds


def load_experiments(folder: str, only: str = "", full: bool = False, seeds: str = "") -> list[Experiment]:
    """The configurations in `folder` (those named in `only`, if given), each with its own seeds or `seeds`."""
    paths = sorted(glob.glob(os.path.join(folder, "*.json")))
    if not paths:
        raise ConfigError(f"no experiment configurations (*.json) in {folder}")
    experiments = [Experiment.from_file(p, full) for p in paths]
    if only:
        names = [n.strip() for n in only.split(",")]
        unknown = [n for n in names if n not in {e.name for e in experiments}]
        if unknown:
            raise ConfigError(f"--only: no experiment named {unknown}; there are: "
                              f"{', '.join(e.name for e in experiments)}")
        experiments = [e for e in experiments if e.name in names]
    if seeds:
        experiments = [dataclasses.replace(e, seeds=parse_seeds(seeds)) for e in experiments]
    for e in experiments:  # fail on a bad configuration before hours of training, not after
        for seed in e.seeds:
            e.train_config(seed, "results")
    return experiments


def finished_epochs(directory: str) -> int:
    meta = checkpoint.load_meta(directory)
    return meta["epoch"] if meta else 0


def _csv_rows(path: str, numbers: tuple[str, ...] = (),
              what_to_do: str = "restore it from a copy, or delete the run's folder to train it again") -> list[dict]:
    """The rows of a CSV file with a header (epochs.csv, sessions.csv) as dicts, the columns `numbers`
    as floats; [] if it is not there; a RunFileError naming the file if it is damaged."""
    if not os.path.exists(path):
        return []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        for i, row in enumerate(rows, 2):
            for column in numbers:
                try:
                    row[column] = float(row[column])
                except (KeyError, TypeError, ValueError):
                    raise ValueError(f"line {i} has no number in column {column!r}") from None
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as e:
        raise RunFileError(f"{path} is damaged ({e}); {what_to_do}.") from None
    return rows


def _json(path: str, what_to_do: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
        if not isinstance(value, dict):
            raise ValueError("not a JSON object")
        return value
    except (OSError, ValueError) as e:
        raise RunFileError(f"{path} is damaged ({str(e).splitlines()[0]}); {what_to_do}.") from None


def seconds_per_epoch(directory: str, model: str) -> float:
    rows = _csv_rows(os.path.join(directory, "epochs.csv"), ("seconds",))
    if rows:
        return float(np.median([r["seconds"] for r in rows]))
    return GUESS_SECONDS_PER_EPOCH.get(model, DEFAULT_GUESS)


def time_left(experiments, results: str) -> float:
    """Seconds of training left over every (experiment, seed), from the runs' own epoch times."""
    total = 0.0
    for e in experiments:
        for seed in e.seeds:
            d = run_dir(results, e.name, seed)
            total += max(e.epochs - finished_epochs(d), 0) * seconds_per_epoch(d, e.model)
    return total


def _up_to_date(target: str, source: str) -> bool:
    return os.path.exists(target) and os.path.getmtime(target) >= os.path.getmtime(source)


def evaluate_run(e: Experiment, directory: str, log=print) -> dict:
    """The run's scores (metrics.json), computed again only when its generator changed."""
    from keras_gan import evaluate
    from keras_gan.checkpoint import write_text

    out, generator_path = os.path.join(directory, "metrics.json"), os.path.join(directory, "generator.keras")
    if _up_to_date(out, generator_path):
        try:
            return _json(out, "")
        except RunFileError:
            log(f"  {out} is damaged: scoring the run again")
    config = rundir.read_config(directory)
    scores = evaluate.score_generator(generator_path, e.dataset, data_dir=config.data_dir,
                                      num_samples=e.num_samples, seed=config.seed, noise=config.noise, log=log)
    write_text(out, json.dumps(scores, indent=2))
    return scores


def figures(e: Experiment, directory: str) -> list[str]:
    """The run's animated sample grids and the figures its configuration asks for."""
    from keras_gan import data, plots
    from keras_gan.generate import decode, load_generator, num_classes
    from keras_gan.train import make_noise

    made = []
    frames = sorted(glob.glob(os.path.join(directory, "samples", "epoch_*.png")))
    gif = os.path.join(directory, "samples.gif")
    if frames and not _up_to_date(gif, frames[-1]):
        plots.animation(frames, gif)
    made.append(gif)
    if "interpolation" in e.figures:
        path = os.path.join(directory, "interpolation.png")
        generator_path = os.path.join(directory, "generator.keras")
        if not _up_to_date(path, generator_path):
            config = rundir.read_config(directory)
            model = load_generator(generator_path)
            rows, steps = 6, 10
            rng = np.random.default_rng([config.seed, 0x1E7])
            ends = make_noise(rng, 2 * rows, config.noise_dim, config.noise).reshape(rows, 2, -1)
            t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[None, :, None]
            z = (ends[:, :1] * (1 - t) + ends[:, 1:] * t).reshape(rows * steps, -1)
            classes = num_classes(model)  # a conditional generator keeps one class per row
            images = decode(model, z, None if classes is None else np.repeat(np.arange(rows) % classes, steps))
            plots.interpolation(images.reshape(rows, steps, -1), data.get_spec(e.dataset).image_shape, path,
                                title=f"{e.model}: straight lines between two noise vectors")
        made.append(path)
    return made


def run(experiments, results: str, log=print) -> dict:
    """Trains, scores and draws every (experiment, seed); returns {name: [scores per seed]}.

    Each call appends a line to RESULTS/sessions.csv (when it started, its wall-clock minutes, how many
    runs it trained, whether it had to train a feature network first, whether it finished), so the
    report can say how long the results took to make, resumed sessions included."""
    from keras_gan import data, train
    from keras_gan.metrics import features

    everything = [(e, s) for e in experiments for s in e.seeds]
    for e, seed in everything:  # before hours of training: no run goes on under settings it was not made with
        check_existing_run(e, seed, results)
    sources = {(e.dataset, e.train_config(0, results).data_dir) for e in experiments}
    cached = all(os.path.isfile(features.classifier_path(name, data.load_arrays(name, data_dir).fingerprint))
                 for name, data_dir in sources)
    session = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "trained": 0, "finished": False}
    clock = time.perf_counter()
    summary = {}
    try:
        for i, (e, seed) in enumerate(everything, 1):
            directory = run_dir(results, e.name, seed)
            done = finished_epochs(directory)
            left = time_left(experiments, results)
            log(f"[{i}/{len(everything)}] {e.name} seed {seed}: {done}/{e.epochs} epochs done; "
                f"about {left / 60:.0f} min of training left in all")
            if done < e.epochs:
                started = time.perf_counter()
                train.train(e.train_config(seed, results), resume=done > 0,
                            log=lambda msg, _n=e.name: log(f"  {_n}: {msg}"))
                session["trained"] += 1
                log(f"  trained in {(time.perf_counter() - started) / 60:.1f} min")
            else:
                log("  finished earlier: reused")
            with rundir.lock(directory, "scoring"):
                scores = evaluate_run(e, directory, log=log)
                figures(e, directory)
            summary.setdefault(e.name, []).append(scores)
            log(f"  FID {scores.get('fid', float('nan')):.2f}, KID {scores.get('kid', float('nan')):.4f}")
        session["finished"] = True
    finally:
        _log_session(results, {**session, "minutes": (time.perf_counter() - clock) / 60,
                               "classifier_cached": cached})
    return summary


def check_existing_run(e: Experiment, seed: int, results: str) -> None:
    """Refuses a run folder made with other settings than `e` now gives it (its epochs aside)."""
    directory = run_dir(results, e.name, seed)
    if not os.path.exists(os.path.join(directory, checkpoint.CHECKPOINT)):
        return
    changes = e.train_config(seed, results).changes_from(rundir.read_config(directory))
    if changes:
        raise ConfigError(f"experiment {e.name}: the run in {directory} was made with other settings ("
                          + ", ".join(f"{k}: {a!r} there, {b!r} now" for k, (a, b) in sorted(changes.items()))
                          + "); delete that folder to train it again, or restore the configuration.")


SESSION_FIELDS = ("started", "minutes", "trained", "classifier_cached", "finished")


def _log_session(results: str, session: dict) -> None:
    path = os.path.join(results, "sessions.csv")
    os.makedirs(results, exist_ok=True)
    new = not os.path.exists(path)
    with open(path, "a") as f:
        if new:
            f.write(",".join(SESSION_FIELDS) + "\n")
        f.write(",".join(f"{session[k]:.2f}" if k == "minutes" else str(session[k]) for k in SESSION_FIELDS) + "\n")


def sessions(results: str) -> list[dict]:
    """The rows of RESULTS/sessions.csv: every `run` over these results, oldest first."""
    return [{"started": r["started"], "minutes": r["minutes"], "trained": int(r["trained"]),
             "classifier_cached": r["classifier_cached"] == "True", "finished": r["finished"] == "True"}
            for r in _csv_rows(os.path.join(results, "sessions.csv"), ("minutes", "trained"),
                               "mend or delete its damaged lines (they only record how long each session took)")]


DECK_LOSSES = {"d_loss": 0.558, "g_loss": 1.577}  # seeds/003's epoch-50 means, on MNIST
TABLE = (("fid", "FID", "{:.1f}"), ("kid", "KID", "{:.2f}"), ("is", "IS", "{:.2f}"), ("precision", "precision", "{:.3f}"),
         ("recall", "recall", "{:.3f}"), ("coverage", "coverage", "{:.3f}"), ("likeness", "likeness", "{:.3f}"),
         ("mode_kl", "mode KL", "{:.3f}"))


def _mean_sd(values, fmt):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(np.mean(values))} ± {fmt.format(np.std(values, ddof=1))}"


def _machine() -> str:
    import platform

    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpus = tf.config.list_physical_devices("GPU")
    return (f"{cpu}, {os.cpu_count()} cores, {'%d GPU(s)' % len(gpus) if gpus else 'no GPU'}; "
            f"Python {platform.python_version()}, TensorFlow {tf.__version__}")


def _commit() -> str:
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "keras_gan"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + (" (with uncommitted changes to keras_gan/)" if dirty else "") or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def scored_seeds(e: Experiment, results: str) -> list[int]:
    """The seeds of `e` with a scored run in `results`: its own seeds, then any others run with --seeds
    at the same budget (a run folder of the same model and epochs), so they stay in later reports."""
    found = set()
    for d in glob.glob(os.path.join(results, e.name, "seed_*")):
        try:
            seed = int(os.path.basename(d)[5:])
        except ValueError:  # not a folder of this runner's
            continue
        if not os.path.exists(os.path.join(d, "metrics.json")):  # written once training has finished
            continue
        config = rundir.read_config(d)
        if config.model == e.model and config.epochs == e.epochs:
            found.add(seed)
    return sorted(found, key=lambda s: (s not in e.seeds, s))


def _time_taken(results: str, rel) -> list[str]:
    """The report's paragraph on how long making these results took, from RESULTS/sessions.csv."""
    rows = sessions(results)
    if not rows:
        return []

    def describe(r):
        return (f"{r['minutes']:.1f} minutes from {r['started']}, {r['trained']} run(s) trained"
                + ("" if r["classifier_cached"] else ", the classifier trained first (its cache was empty)")
                + ("" if r["finished"] else ", stopped before the end"))

    total = sum(r["minutes"] for r in rows)
    if len(rows) == 1:
        told = f"one session: {describe(rows[0])}"
    else:
        told = f"{len(rows)} sessions, {total:.1f} minutes in all: " + "; ".join(
            f"({i}) {describe(r)}" for i, r in enumerate(rows, 1))
    return [f"Wall-clock time of the `python -m keras_gan.experiment` sessions that made these results, "
            f"[sessions.csv]({rel(os.path.join(results, 'sessions.csv'))}): {told}.", ""]


def write_report(experiments, results: str, path: str, *, full: bool = False) -> str:
    """A Markdown report that reads top to bottom: what ran, how long it took, what it shows."""
    rel = lambda p: os.path.relpath(p, os.path.dirname(os.path.abspath(path)))  # noqa: E731
    budget = "the papers' lengths (--full)" if full else "the reduced budget"
    lines = ["# Experiment report", "",
             f"Generated by `python -m keras_gan.experiment{' --full' if full else ''}` ({budget}) from code at "
             f"commit {_commit()}, on {_machine()}.", "",
             "Every run below is a `python -m keras_gan.train` run of a named configuration in "
             "`experiments/configs/`; its folder holds the configuration, losses, per-epoch times and figures.", ""]
    lines += _time_taken(results, rel)
    rows, few, network, samples = [], [], "", ""
    for e in experiments:
        seeds = scored_seeds(e, results)
        done = [run_dir(results, e.name, s) for s in seeds]
        if not done:
            continue
        scores = [_json(os.path.join(d, "metrics.json"), f"delete it, and make experiment ONLY={e.name} scores "
                        "the run again") for d in done]
        epochs = [_csv_rows(os.path.join(d, "epochs.csv"), ("seconds", "images_per_second", "d_loss", "g_loss"))
                  for d in done]
        minutes = [sum(r["seconds"] for r in rows_) / 60 for rows_ in epochs]
        ips = [float(np.median([r["images_per_second"] for r in rows_])) for rows_ in epochs]
        network = scores[0].get("feature_network", network)
        samples = f"{scores[0].get('generated_samples')} generated and {scores[0].get('real_samples')} real"
        first = done[0]
        config = rundir.read_config(first)
        args = " ".join(f"--{k}={v}" for k, v in sorted(e.args.items()))
        lines += [f"## {e.name}", "", e.description, "", "```sh",
                  f"python -m keras_gan.train --model={e.model} --dataset={e.dataset} --epochs={e.epochs} "
                  f"--seed=S {args}".rstrip(), "```", "",
                  f"Seeds {', '.join(str(s) for s in seeds)}; {_mean_sd(minutes, '{:.1f}')} minutes "
                  f"of training per seed, {_mean_sd(ips, '{:.0f}')} real images per second (median epoch).", ""]
        last = epochs[0][-1]
        lines.append(f"Final epoch ({last['epoch']}) mean losses: D {last['d_loss']:.3f}, "
                     f"G {last['g_loss']:.3f}"
                     + (f" (the slide deck reports D {DECK_LOSSES['d_loss']}, G {DECK_LOSSES['g_loss']} at "
                        f"epoch 50 on MNIST{'' if e.dataset == 'mnist' else '; this run is on ' + e.dataset})"
                        if e.model == "vanilla" else "") + ".")
        lines.append("")
        grids = sorted(glob.glob(os.path.join(first, "samples", "epoch_*.png")))
        figs = [("samples, last epoch", grids[-1] if grids else None), ("samples across epochs", os.path.join(first, "samples.gif")),
                ("loss curves", os.path.join(first, "loss_curves.png")),
                ("FID and KID against epochs", os.path.join(first, "metric_curves.png")),
                ("latent interpolation", os.path.join(first, "interpolation.png"))]
        for title, fig in figs:
            if fig and os.path.exists(fig):
                lines += [f"![{e.name}: {title}]({rel(fig)})", ""]
        if grids:
            lines += ["Every sample grid: " + ", ".join(f"[{os.path.basename(g)[6:9].lstrip('0')}]({rel(g)})"
                                                        for g in grids), ""]
        cells = [_mean_sd([s.get(key) for s in scores], fmt) for key, _, fmt in TABLE]
        if len(done) < 3:
            few.append(f"`{e.name}` ({len(done)})")
        rows.append(f"| `{e.name}` | {config.model} | {e.dataset} | {len(done)} | {e.epochs} | "
                    f"{_mean_sd(minutes, '{:.1f}')} | {_mean_sd(ips, '{:.0f}')} | " + " | ".join(cells) + " |")
    lines += ["## Results", "",
              f"Scores of {samples} (training split) images per run, through the feature network: {network}. "
              "Mean ± standard deviation over seeds where a row has more than one (the seeds column says how many). "
              "These are not Inception features, so published FID and IS numbers, which use ImageNet's "
              "InceptionV3, are not comparable and are not put beside them.", "",
              "| experiment | model | dataset | seeds | epochs | minutes | img/s | "
              + " | ".join(t for _, t, _ in TABLE) + " |",
              "|" + "---|" * (7 + len(TABLE))] + rows + [""]
    if few:
        lines += [f"Fewer than three seeds, so no spread or a rough one: {', '.join(few)}. "
                  "`make experiment SEEDS=0,1,2` runs three of each (finished runs are reused).", ""]
    from keras_gan.checkpoint import write_text

    write_text(path, "\n".join(lines))
    return path


def define_flags() -> flags.FlagValues:
    fv = flags.FlagValues()
    flags.DEFINE_string("configs", "experiments/configs", "Folder of experiment configurations (*.json).",
                        flag_values=fv)
    flags.DEFINE_string("results", "experiments/results", "Where the runs go, one folder per experiment.",
                        flag_values=fv)
    flags.DEFINE_string("only", "", "Comma-separated experiment names to run (default: all).", flag_values=fv)
    flags.DEFINE_string("seeds", "", "Comma-separated seeds to run for every experiment instead of its "
                        "configured ones, e.g. 0,1,2 for a mean and standard deviation.", flag_values=fv)
    flags.DEFINE_boolean("full", False, "The papers' (the seeds') lengths instead of the reduced budget.",
                         flag_values=fv)
    flags.DEFINE_string("report", "", "The Markdown report to write (default: RESULTS/../report.md, or "
                        "report_full.md with --full).", flag_values=fv)
    return fv


def _body(fv) -> int:
    experiments = load_experiments(fv.configs, fv.only, fv.full, fv.seeds)
    results = fv.results + ("_full" if fv.full else "")
    try:
        run(experiments, results)
    except KeyboardInterrupt as e:
        print("\ninterrupted: finished epochs are saved; run the same command again to carry on.", file=sys.stderr)
        return getattr(e, "exit_status", 130)
    report = fv.report or os.path.join(os.path.dirname(os.path.abspath(results)),
                                       "report_full.md" if fv.full else "report.md")
    # The report covers every configuration that has results, not only those of --only.
    print(f"wrote {write_report(load_experiments(fv.configs, '', fv.full), results, report, full=fv.full)}")
    return 0


def main(argv=None) -> int:
    return run_cli(sys.argv if argv is None else argv, define_flags, _body)


if __name__ == "__main__":
    sys.exit(main())
