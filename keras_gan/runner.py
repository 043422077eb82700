"""Named experiments: the library behind `python -m keras_gan.experiment` (what `make experiment` runs).

Each experiment is a JSON file in experiments/configs/: a model, a dataset, epochs and seeds for the
reduced budget (`epochs`, `seeds`) and for `--full` (`full_epochs`, `full_seeds`), extra training
flags (`args`), and which extra figures to draw. Every (experiment, seed) trains into
RESULTS/NAME/seed_S/ through `keras_gan.loop.fit`, so a finished run is reused, an interrupted one
resumes from its checkpoint, and running again after a stop carries on where it stopped. Each run
is then scored (keras_gan/scoring.py, or for the image-to-image members keras_gan/image_scores.py
on the test split; the scores are reused while the generator is unchanged) and gets an animated GIF
of its sample grids and the figures its configuration asks for. The report is keras_gan/report.py.
"""

import dataclasses
import glob
import json
import os
import re
import time

import numpy as np

from keras_gan import checkpoint, data, image_scores, loop, plots, rundir, scoring, sessions
from keras_gan.config import TrainConfig
from keras_gan.errors import ConfigError, RunFileError, reason
from keras_gan.files import up_to_date, write_text
from keras_gan.metrics import features as feature_networks
from keras_gan.metrics import registry
from keras_gan.sampling import Generator

FIGURES = ("interpolation",)
# Seconds per epoch on a 2-core CPU, for the first estimate of the time left (replaced by the
# run's own epochs.csv as soon as it has one).
GUESS_SECONDS_PER_EPOCH = {"dcgan": 120.0, "cyclegan": 390.0, "srresnet": 160.0, "srgan": 720.0}
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
    init_from: str = ""  # an earlier experiment whose run of the same seed gives G's first weights (srgan)

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
                 "full_args", "figures", "num_samples", "full_num_samples", "init_from"}
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
        if not all(isinstance(spec.get(k, ""), str) for k in ("model", "dataset", "description", "init_from")):
            raise bad("model, dataset, description and init_from must be strings")
        return cls(name=name, description=spec.get("description", ""), model=spec["model"],
                   dataset=spec["dataset"], epochs=count("epochs", 1), seeds=tuple(seeds),
                   args={**args, **(full_args if full else {})},
                   figures=tuple(figures), num_samples=count("num_samples", 5000), source=path,
                   init_from=spec.get("init_from", ""))

    def init_generator(self, seed: int, results: str) -> str:
        return os.path.join(run_dir(results, self.init_from, seed), "generator.keras") if self.init_from else ""

    def command(self) -> str:
        """The train command of the configuration's runs, for seed S of results folder RESULTS."""
        args = " ".join(f"--{k}={v}" for k, v in sorted(self.args.items()))
        start = f" --init_generator={self.init_generator('S', 'RESULTS')}" if self.init_from else ""
        return (f"python -m keras_gan.train --model={self.model} --dataset={self.dataset} --epochs={self.epochs} "
                f"--seed=S {args}".rstrip() + start)

    def train_config(self, seed: int, results: str):
        try:
            start = {"init_generator": self.init_generator(seed, results)} if self.init_from else {}
            return TrainConfig(model=self.model, dataset=self.dataset, epochs=self.epochs, seed=seed,
                               output_dir=run_dir(results, self.name, seed), **start, **self.args)
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


def _numbers_first(path: str) -> list:
    """Sorts 2_x before 10_x: the numbers in a name compare as numbers."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", os.path.basename(path))]


def load_experiments(folder: str, only: str = "", full: bool = False, seeds: str = "") -> list[Experiment]:
    """The configurations in `folder` (those named in `only`, if given), each with its own seeds or `seeds`."""
    paths = sorted(glob.glob(os.path.join(folder, "*.json")), key=_numbers_first)
    if not paths:
        raise ConfigError(f"no experiment configurations (*.json) in {folder}")
    experiments = [Experiment.from_file(p, full) for p in paths]
    for i, e in enumerate(experiments):
        if e.init_from and e.init_from not in [d.name for d in experiments[:i]]:
            raise ConfigError(f"experiment {e.source}: init_from names {e.init_from!r}, which is not a configuration "
                              f"that comes before it in {folder}; name an earlier one (they run in number order).")
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


def seconds_per_epoch(directory: str, model: str) -> float:
    rows = rundir.read_csv(os.path.join(directory, rundir.EPOCHS), ("seconds",))
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


def evaluate_run(e: Experiment, directory: str, log=print) -> dict:
    """The run's scores (metrics.json), computed again only when its generator changed, they lack a
    metric, or they came through another feature network than the dataset's cached one: the
    registry's default metrics of a noise generator's samples (keras_gan/scoring.py), or an
    image-to-image member's scores on the test split (keras_gan/image_scores.py)."""
    config = rundir.read_config(directory)
    image_task = image_scores.task_of(config) != "noise"
    out, generator_path = os.path.join(directory, rundir.METRICS), image_scores.generator_file(directory, config)
    network = feature_networks.classifier(config.dataset, config.data_dir, log=log)
    if up_to_date(out, generator_path):
        try:
            scores = rundir.read_json(out, "")
            missing = (["test-split scores"] if image_task and "methods" not in scores else
                       [] if image_task else [m.name for m in registry.defaults() if m.headline.key not in scores])
            if missing:
                log(f"  {out} has no {', '.join(missing)}: scoring the run again")
            elif scores.get("feature_network") != network.description:
                log(f"  {out} came through {scores.get('feature_network', 'an unnamed feature network')}, not the "
                    f"cached {network.description}: scoring the run again")
            else:
                return scores
        except RunFileError:
            log(f"  {out} is damaged: scoring the run again")
    if image_task:
        scores = image_scores.score_run(directory, num_samples=e.num_samples, network=network, log=log)
    else:
        scores = scoring.score_generator(generator_path, e.dataset, data_dir=config.data_dir,
                                         num_samples=e.num_samples, seed=config.seed, noise=config.noise, log=log,
                                         network=network, figure=os.path.join(directory, rundir.NEAREST))
    write_text(out, json.dumps(scores, indent=2))
    return scores


def headline(scores: dict) -> str:
    """The scores' one-line summary in the runner's log."""
    if "methods" in scores:
        return "; ".join(f"{name}: L1 {m['l1']:.3f}, PSNR {m['psnr']:.2f} dB, SSIM {m['ssim']:.3f}, FID {m['fid']:.1f}"
                         for name, m in scores["methods"].items())
    return f"FID {scores.get('fid', float('nan')):.2f}, KID {scores.get('kid', float('nan')):.4f}"


def figures(e: Experiment, directory: str) -> list[str]:
    """The run's animated sample grids and the figures its configuration asks for."""
    made = []
    frames = sorted(glob.glob(os.path.join(directory, "samples", "epoch_*.png")))
    gif = os.path.join(directory, "samples.gif")
    if frames and not up_to_date(gif, frames[-1]):
        plots.animation(frames, gif)
    made.append(gif)
    if "interpolation" in e.figures:
        path = os.path.join(directory, "interpolation.png")
        generator_path = os.path.join(directory, rundir.GENERATOR)
        if not up_to_date(path, generator_path):
            generator = Generator.load(generator_path)
            rows, steps = 6, 10
            ends = generator.noise_for(2 * rows, [generator.config.seed, 0x1E7]).reshape(rows, 2, -1)
            t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[None, :, None]
            z = (ends[:, :1] * (1 - t) + ends[:, 1:] * t).reshape(rows * steps, -1)
            classes = generator.num_classes  # a conditional generator keeps one class per row
            images = generator.decode(z, None if classes is None else np.repeat(np.arange(rows) % classes, steps))
            plots.interpolation(images.reshape(rows, steps, -1), generator.image_shape, path,
                                title=f"{e.model}: straight lines between two noise vectors")
        made.append(path)
    return made


def run(experiments, results: str, log=print) -> dict:
    """Trains, scores and draws every (experiment, seed); returns {name: [scores per seed]}.

    Each call appends a line to RESULTS/sessions.csv (when it started, its wall-clock minutes, how many
    runs it trained, whether it had to train a feature network first, whether it finished), so the
    report can say how long the results took to make, resumed sessions included."""
    everything = [(e, s) for e in experiments for s in e.seeds]
    for i, (e, seed) in enumerate(everything):  # before hours of training: no run goes on under other settings,
        check_existing_run(e, seed, results)     # none starts from a generator nothing will have trained
        source = e.init_generator(seed, results)
        if source and (e.init_from, seed) not in [(d.name, s) for d, s in everything[:i]] and not \
                os.path.isfile(source) and not finished_epochs(run_dir(results, e.name, seed)):
            raise ConfigError(f"experiment {e.name} starts from the generator of {e.init_from} (seed {seed}), which "
                              f"is not in {source}: run that experiment first, e.g. --only={e.init_from},{e.name}")
    sources = {(e.dataset, e.train_config(0, results).data_dir) for e in experiments}
    cached = all(os.path.isfile(feature_networks.classifier_path(name, data.load_arrays(name, data_dir).fingerprint))
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
                loop.fit(e.train_config(seed, results), resume=done > 0,
                            log=lambda msg, _n=e.name: log(f"  {_n}: {msg}"))
                session["trained"] += 1
                log(f"  trained in {(time.perf_counter() - started) / 60:.1f} min")
            else:
                log("  finished earlier: reused")
            with rundir.lock(directory, "scoring"):
                scores = evaluate_run(e, directory, log=log)
                figures(e, directory)
            summary.setdefault(e.name, []).append(scores)
            log(f"  {headline(scores)}")
        session["finished"] = True
    finally:
        sessions.append(results, {**session, "minutes": (time.perf_counter() - clock) / 60,
                               "classifier_cached": cached})
    return summary


def compare_super_resolution(experiments, results: str) -> list[str]:
    """RESULTS/super_resolution_DATASET.png: every super-resolution experiment's first seed, by dataset."""
    return image_scores.compare_runs([(e.name, run_dir(results, e.name, e.seeds[0])) for e in experiments], results)


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
