"""The library behind `python -m keras_gan.experiment` (what `make experiment` runs).

`reproduce(request)` trains every (experiment, seed) of the configurations in experiments/configs/
(configs.py) into RESULTS/NAME/seed_S/ through `keras_gan.training.loop.fit`, so a finished run is
reused, an interrupted one resumes from its checkpoint, and running again after a stop carries on
where it stopped. Each run is then scored (keras_gan/evaluation/scoring.py, or for the
image-to-image members keras_gan/evaluation/image_scores.py on the test split; the scores are
reused while the generator is unchanged) and gets an animated GIF of its sample grids and the
figures its configuration asks for; last, report.py writes the report. Each dataset is read once,
and its feature network loaded once, however many runs use them.
"""

import dataclasses
import glob
import json
import os
import sys
import time

import numpy as np

from keras_gan.errors import ConfigError, RunFileError
from keras_gan.evaluation import features as feature_networks
from keras_gan.evaluation import image_scores
from keras_gan.evaluation.scoring import score_samples
from keras_gan.experiments import sessions
from keras_gan.experiments.configs import Experiment, load_experiments, seed_folder
from keras_gan.experiments.report import write_report
from keras_gan.io import figures as draw
from keras_gan.io.atomic import up_to_date, write_text
from keras_gan.metrics import registry
from keras_gan.models import sampling
from keras_gan.runs import checkpoint
from keras_gan.runs import folder as run_folder
from keras_gan.runs.config import arrays_for, read_config
from keras_gan.runs.generator import load_generator
from keras_gan.training import loop

# Seconds per epoch on a 2-core CPU, for the first estimate of the time left (replaced by the
# run's own epochs.csv as soon as it has one).
GUESS_SECONDS_PER_EPOCH = {"dcgan": 120.0, "cyclegan": 390.0, "srresnet": 160.0, "srgan": 720.0}
DEFAULT_GUESS = 25.0


@dataclasses.dataclass(frozen=True)
class Request:
    """What the experiment command makes (its flags)."""

    configs: str = "experiments/configs"
    results: str = "experiments/results"
    only: str = ""
    seeds: str = ""
    full: bool = False
    report: str = ""


class Data:
    """Each dataset's arrays and feature network, read and loaded once per process."""

    def __init__(self, log=print):
        self.log, self.arrays, self.networks = log, {}, {}

    def of(self, config):
        key = (config.dataset, config.data_dir, config.image_size, config.channels)
        if key not in self.arrays:
            self.arrays[key] = arrays_for(config, log=self.log)
        return self.arrays[key]

    def network(self, arrays):
        if arrays.fingerprint not in self.networks:
            self.networks[arrays.fingerprint] = feature_networks.classifier(arrays, log=self.log)
        return self.networks[arrays.fingerprint]


def finished_epochs(directory: str) -> int:
    meta = checkpoint.load_meta(directory)
    return meta["epoch"] if meta else 0


def seconds_per_epoch(directory: str, model: str) -> float:
    rows = run_folder.read_csv(os.path.join(directory, run_folder.EPOCHS), ("seconds",))
    if rows:
        return float(np.median([r["seconds"] for r in rows]))
    return GUESS_SECONDS_PER_EPOCH.get(model, DEFAULT_GUESS)


def time_left(experiments, results: str) -> float:
    """Seconds of training left over every (experiment, seed), from the runs' own epoch times."""
    total = 0.0
    for e in experiments:
        for seed in e.seeds:
            d = seed_folder(results, e.name, seed)
            total += max(e.epochs - finished_epochs(d), 0) * seconds_per_epoch(d, e.model)
    return total


def evaluate_run(e: Experiment, directory: str, data: Data, log=print) -> dict:
    """The run's scores (metrics.json), computed again only when its generator changed, they lack a
    metric, or a metric's scores are of an earlier version of it, or they came through another feature network than the dataset's cached one: the
    registry's default metrics of a noise generator's samples (keras_gan/evaluation/scoring.py), or
    an image-to-image member's scores on the test split (keras_gan/evaluation/image_scores.py)."""
    config = read_config(directory)
    image_task = config.preset.task != "noise"
    out, generator_path = os.path.join(directory, run_folder.METRICS), image_scores.generator_file(directory, config)
    arrays = data.of(config)
    network = data.network(arrays)
    if up_to_date(out, generator_path):
        try:
            scores = run_folder.read_json(out, "")
            missing = (["test-split scores"] if image_task and "methods" not in scores else
                       [] if image_task else [m.name for m in registry.defaults() if m.headline.key not in scores])
            outdated = [] if image_task else [m.name for m in registry.defaults() if m.name not in missing and
                                              scores.get("metric_versions", {}).get(m.name, 1) != m.version]
            if missing:
                log(f"  {out} has no {', '.join(missing)}: scoring the run again")
            elif outdated:
                log(f"  {out} has scores of an earlier version of {', '.join(outdated)}: scoring the run again")
            elif scores.get("feature_network") != network.description:
                log(f"  {out} came through {scores.get('feature_network', 'an unnamed feature network')}, not the "
                    f"cached {network.description}: scoring the run again")
            else:
                return scores
        except RunFileError:
            log(f"  {out} is damaged: scoring the run again")
    if image_task:
        scores = image_scores.score_run(directory, num_samples=e.num_samples, arrays=arrays, network=network, log=log)
    else:
        scores = score_samples(load_generator(generator_path), arrays, num_samples=e.num_samples, seed=config.seed,
                               network=network, log=log, figure=os.path.join(directory, run_folder.NEAREST),
                               name=generator_path)
        scores["metric_versions"] = {m.name: m.version for m in registry.defaults()}
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
        draw.animation(frames, gif)
    made.append(gif)
    if "interpolation" in e.figures:
        path = os.path.join(directory, "interpolation.png")
        generator_path = os.path.join(directory, run_folder.GENERATOR)
        if not up_to_date(path, generator_path):
            generator, seed = load_generator(generator_path), read_config(directory).seed
            rows, steps = 6, 10
            ends = generator.noise_for(2 * rows, [seed, 0x1E7]).reshape(rows, 2, -1)
            z = sampling.path_between(ends[:, 0], ends[:, 1], steps, "linear").reshape(rows * steps, -1)
            classes = generator.num_classes  # a conditional generator keeps one class per row
            images = generator.decode(z, None if classes is None else np.repeat(np.arange(rows) % classes, steps))
            draw.interpolation(images.reshape(rows, steps, -1), generator.image_shape, path,
                               title=f"{e.model}: straight lines between two noise vectors")
        made.append(path)
    return made


def train_and_score(experiments, results: str, log=print, data: Data | None = None) -> dict:
    """Trains, scores and draws every (experiment, seed); returns {name: [scores per seed]}.

    Each call appends a line to RESULTS/sessions.csv (when it started, its wall-clock minutes, how many
    runs it trained, whether it had to train a feature network first, whether it finished), so the
    report can say how long the results took to make, resumed sessions included."""
    everything = [(e, s) for e in experiments for s in e.seeds]
    for i, (e, seed) in enumerate(everything):  # before hours of training: no run goes on under other settings,
        check_existing_run(e, seed, results)     # none starts from a generator nothing will have trained
        source = e.init_generator(seed, results)
        if source and (e.init_from, seed) not in [(d.name, s) for d, s in everything[:i]] and not \
                os.path.isfile(source) and not finished_epochs(seed_folder(results, e.name, seed)):
            raise ConfigError(f"experiment {e.name} starts from the generator of {e.init_from} (seed {seed}), which "
                              f"is not in {source}: run that experiment first, e.g. --only={e.init_from},{e.name}")
    data = data or Data(log)
    cached = all(os.path.isfile(feature_networks.classifier_path(data.of(e.train_config(0, results))))
                 for e in experiments)
    session = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "trained": 0, "finished": False}
    clock = time.perf_counter()
    summary = {}
    try:
        for i, (e, seed) in enumerate(everything, 1):
            directory = seed_folder(results, e.name, seed)
            done = finished_epochs(directory)
            left = time_left(experiments, results)
            log(f"[{i}/{len(everything)}] {e.name} seed {seed}: {done}/{e.epochs} epochs done; "
                f"about {left / 60:.0f} min of training left in all")
            if done < e.epochs:
                started = time.perf_counter()
                config = e.train_config(seed, results)
                loop.fit(config, resume=done > 0, arrays=data.of(config), log=lambda msg, _n=e.name: log(f"  {_n}: {msg}"))
                session["trained"] += 1
                log(f"  trained in {(time.perf_counter() - started) / 60:.1f} min")
            else:
                log("  finished earlier: reused")
            with run_folder.lock(directory, "scoring"):
                scores = evaluate_run(e, directory, data, log=log)
                figures(e, directory)
            summary.setdefault(e.name, []).append(scores)
            log(f"  {headline(scores)}")
        session["finished"] = True
    finally:
        sessions.append(results, {**session, "minutes": (time.perf_counter() - clock) / 60,
                               "classifier_cached": cached})
    return summary


def compare_super_resolution(experiments, results: str, data: Data | None = None) -> list[str]:
    """RESULTS/super_resolution_DATASET.png: every super-resolution experiment's first seed, by dataset."""
    return image_scores.compare_runs([(e.name, seed_folder(results, e.name, e.seeds[0])) for e in experiments], results,
                                     (data or Data()).of)


def check_existing_run(e: Experiment, seed: int, results: str) -> None:
    """Refuses a run folder made with other settings than `e` now gives it (its epochs aside)."""
    directory = seed_folder(results, e.name, seed)
    if not os.path.exists(os.path.join(directory, checkpoint.CHECKPOINT)):
        return
    changes = e.train_config(seed, results).changes_from(read_config(directory))
    if changes:
        raise ConfigError(f"experiment {e.name}: the run in {directory} was made with other settings ("
                          + ", ".join(f"{k}: {a!r} there, {b!r} now" for k, (a, b) in sorted(changes.items()))
                          + "); delete that folder to train it again, or restore the configuration.")


def reproduce(request: Request, log=print) -> int:
    """Trains, scores and draws what `request` selects, then writes the report of every configuration
    that has results (not only those of --only); returns the exit status."""
    experiments = load_experiments(request.configs, request.only, request.full, request.seeds)
    results = request.results + ("_full" if request.full else "")
    data = Data(log)
    try:
        train_and_score(experiments, results, log=log, data=data)
    except KeyboardInterrupt as e:
        print("\ninterrupted: finished epochs are saved; run the same command again to carry on.", file=sys.stderr)
        return getattr(e, "exit_status", 130)
    report = request.report or os.path.join(os.path.dirname(os.path.abspath(results)),
                                            "report_full.md" if request.full else "report.md")
    everything = load_experiments(request.configs, "", request.full)
    compare_super_resolution(everything, results, data)
    log(f"wrote {write_report(everything, results, report, full=request.full)}")
    return 0
