"""The Markdown report of `make experiment`: what ran, how long it took, and what it shows.

Its table has one column per reported number of the metric registry (keras_gan/metrics/registry.py),
mean ± standard deviation over seeds; a new metric appears in it by registering.
"""

import glob
import os
import platform
import re
import subprocess

import numpy as np

from keras_gan import backend
from keras_gan.evaluation import image_scores
from keras_gan.experiments import sessions
from keras_gan.experiments.configs import Experiment, seed_folder
from keras_gan.io.atomic import write_text
from keras_gan.metrics import registry
from keras_gan.runs import folder as run_folder
from keras_gan.runs.config import read_config

UNNAMED = "an unnamed feature network"
DECK_LOSSES = {"d_loss": 0.558, "g_loss": 1.577}  # seeds/003's epoch-50 means, on MNIST
LOSS_NAMES = {"d_loss": "D", "g_loss": "G", "d_a_loss": "D_A", "d_b_loss": "D_B"}


def _mean_sd(values, fmt):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(np.mean(values))} ± {fmt.format(np.std(values, ddof=1))}"


def _networks(scores: list[dict]) -> list[str]:
    """The feature networks `scores` came through, each once, in order."""
    return list(dict.fromkeys(s.get("feature_network", UNNAMED) for s in scores))


def _through(scores: list[dict]) -> str:
    """Where the feature-based scores of one table came from: one network, or a warning naming each."""
    names = _networks(scores)
    if len(names) == 1:
        return f"through {names[0]}"
    return (f"through {len(names)} different feature networks ({'; '.join(names)}), so these FIDs and KIDs are "
            "not comparable with each other")


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpus = backend.gpus()
    return (f"{cpu}, {os.cpu_count()} cores, {'%d GPU(s)' % len(gpus) if gpus else 'no GPU'}; "
            f"Python {platform.python_version()}, {backend.describe()}")


def _commit() -> str:
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
        if not os.path.exists(os.path.join(d, run_folder.METRICS)):  # written once training has finished
            continue
        config = read_config(d)
        if config.model == e.model and config.epochs == e.epochs:
            found.add(seed)
    return sorted(found, key=lambda s: (s not in e.seeds, s))


def _time_taken(results: str, rel) -> list[str]:
    """The report's paragraph on how long making these results took, from RESULTS/sessions.csv."""
    rows = sessions.read(results)
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


WEAK_CLASSIFIER = 0.8


def _accuracy(network: str) -> float | None:
    """The test accuracy a classifier's description names, or None."""
    found = re.search(r"test accuracy ([0-9.]+)", network)
    return float(found.group(1)) if found else None


def write_report(experiments, results: str, path: str, *, full: bool = False) -> str:
    """A Markdown report that reads top to bottom: what ran, how long it took, what it shows."""
    rel = lambda p: os.path.relpath(p, os.path.dirname(os.path.abspath(path)))  # noqa: E731
    table = [c for c in registry.columns() if c.report]
    budget = "the papers' lengths (--full)" if full else "the reduced budget"
    lines = ["# Experiment report", "",
             f"Generated by `python -m keras_gan.experiment{' --full' if full else ''}` ({budget}) from code at "
             f"commit {_commit()}, on {_machine()}.", "",
             "Every run below is a `python -m keras_gan.train` run of a named configuration in "
             "`experiments/configs/`; its folder holds the configuration, losses, per-epoch times and figures.", ""]
    lines += _time_taken(results, rel)
    rows, few, flagged, samples, image_runs = [], [], [], {}, {}
    for e in experiments:
        seeds = scored_seeds(e, results)
        done = [seed_folder(results, e.name, s) for s in seeds]
        if not done:
            continue
        scores = [run_folder.read_json(os.path.join(d, run_folder.METRICS),
                                       f"delete it, and make experiment ONLY={e.name} scores the run again")
                  for d in done]
        epochs = [run_folder.read_epochs(d) for d in done]
        minutes = [sum(r["seconds"] for r in rows_) / 60 for rows_ in epochs]
        ips = [float(np.median([r["images_per_second"] for r in rows_])) for rows_ in epochs]
        first = done[0]
        config = read_config(first)
        task = config.preset.task
        if task == "noise":
            samples[e.name] = f"{scores[0].get('generated_samples')} generated and {scores[0].get('real_samples')} real"
        lines += [f"## {e.name}", "", e.description, "", "```sh", e.command(), "```", "",
                  f"Seeds {', '.join(str(s) for s in seeds)}; {_mean_sd(minutes, '{:.1f}')} minutes "
                  f"of training per seed, {_mean_sd(ips, '{:.0f}')} real images per second (median epoch).", ""]
        last = epochs[0][-1]
        lines.append(f"Final epoch ({last['epoch']}) mean losses: "
                     + ", ".join(f"{LOSS_NAMES.get(k, k)} {v:.3f}" for k, v in last.items() if k.endswith("_loss"))
                     + (f" (the slide deck reports D {DECK_LOSSES['d_loss']}, G {DECK_LOSSES['g_loss']} at "
                        f"epoch 50 on MNIST{'' if e.dataset == 'mnist' else '; this run is on ' + e.dataset})"
                        if e.model == "vanilla" else "") + ".")
        lines.append("")
        grids = sorted(glob.glob(os.path.join(first, "samples", "epoch_*.png")))
        figs = [("samples, last epoch", grids[-1] if grids else None), ("samples across epochs", os.path.join(first, "samples.gif")),
                ("loss curves", os.path.join(first, "loss_curves.png")),
                ("scores against epochs", os.path.join(first, run_folder.METRIC_CURVES)),
                ("latent interpolation", os.path.join(first, "interpolation.png")),
                ("the samples closest to a training image (CID)", os.path.join(first, run_folder.NEAREST)),
                ("test inputs, baselines, outputs and the truth", os.path.join(first, run_folder.COMPARISON))]
        for title, fig in figs:
            if fig and os.path.exists(fig):
                lines += [f"![{e.name}: {title}]({rel(fig)})", ""]
        if grids:
            lines += ["Every sample grid: " + ", ".join(f"[{os.path.basename(g)[6:9].lstrip('0')}]({rel(g)})"
                                                        for g in grids), ""]
        if len(done) < 3:
            few.append(f"`{e.name}` ({len(done)})")
        if task != "noise":
            image_runs.setdefault("cyclegan" if task == "cyclegan" else ("sr", e.dataset), []).append((e, scores))
            continue
        if any(s.get("copying") for s in scores):
            flagged.append(f"`{e.name}`")
        cells = [_mean_sd([s.get(c.key) for s in scores], c.fmt) for c in table]
        rows.append((f"`{e.name}`", f" | {config.model} | {config.data_name} | {len(done)} | {e.epochs} | "
                     f"{_mean_sd(minutes, '{:.1f}')} | {_mean_sd(ips, '{:.0f}')} | " + " | ".join(cells) + " |",
                     _networks(scores)))
    networks = list(dict.fromkeys(n for *_, names in rows for n in names))
    if len(networks) < 2:
        through = f"through the feature network: {networks[0]}" if networks else "through the dataset's feature network"
    else:  # e.g. runs scored on two machines, whose classifiers trained alike but round differently
        marks = {n: chr(ord("a") + i) for i, n in enumerate(networks)}
        through = (f"through {len(networks)} different feature networks, marked beside each experiment: "
                   + "; ".join(f"({marks[n]}) {n}" for n in networks) + ". Compare scores only between rows of "
                   "one mark; a row of several mixes networks across its seeds. `make experiment` scores a run "
                   "again through the cached network where its generator is at hand")
        rows = [(f"{name} ({', '.join(marks[n] for n in names)})", rest, names) for name, rest, names in rows]
    common = max(samples.values(), key=list(samples.values()).count) if samples else "the"
    others = [f"`{name}`: {count}" for name, count in samples.items() if count != common]
    weak = [n for n in networks if _accuracy(n) is not None and _accuracy(n) < WEAK_CLASSIFIER]
    lines += ["## Results", "",
              f"Scores of {common} (training split) images per run"
              + (f" ({'; '.join(others)})" if others else "") + f", {through}. "
              "Mean ± standard deviation over seeds where a row has more than one (the seeds column says how many). "
              "These are not Inception features, so published FID and IS numbers, which use ImageNet's "
              "InceptionV3, are not comparable and are not put beside them.", "",
              "| experiment | model | dataset | seeds | epochs | minutes | img/s | "
              + " | ".join(c.label for c in table) + " |",
              "|" + "---|" * (7 + len(table))] + [f"| {name}{rest}" for name, rest, _ in rows] + [""]
    if weak:
        lines += [f"A classifier below {WEAK_CLASSIFIER:.0%} test accuracy ({'; '.join(weak)}) gives features too weak to "
                  "tell its samples from real images: the scores through it say little about them (an FID near 0 "
                  "here is not a good generator). Give such data the FID Inception's weights (python -m "
                  "keras_gan.evaluate --fid_weights=PATH|download).", ""]
    if rows and any(c.key == "copying" for c in table):
        lines += ["The data-copying test (Meehan et al. 2020; keras_gan/metrics/copying.py) flags a generator when its "
                  "samples lie closer to the training set than new images do (C_T < -3, on pixels and their "
                  "one-pixel translations): it flags "
                  + (", ".join(flagged) if flagged else f"none of these {len(rows)} experiments") + ".", ""]
    lines += image_tables(image_runs, results, rel)
    if few:
        lines += [f"Fewer than three seeds, so no spread or a rough one: {', '.join(few)}. "
                  "`make experiment SEEDS=0,1,2` runs three of each (finished runs are reused).", ""]
    write_text(path, "\n".join(lines))
    return path


def _cells(methods: list[dict]) -> list[str]:
    return [_mean_sd([m[key] for m in methods], fmt) for key, _, fmt in image_scores.COLUMNS]


def image_tables(image_runs: dict, results: str, rel) -> list[str]:
    """The image-to-image members' tables on the test split, each beside its baselines, and what they show."""
    lines = []
    header = "| method | seeds | " + " | ".join(label for _, label, _ in image_scores.COLUMNS)
    rule = "|---|---|" + "---|" * len(image_scores.COLUMNS)
    for e, scores in image_runs.get("cyclegan", []):
        methods = [s["methods"][e.model] for s in scores]
        first = scores[0]
        lines += [f"## Edges → images of {e.dataset}: `{e.name}`", "",
                  f"G's translations of the {first['test_pairs']} test edge maps against their true images, beside "
                  "baselines that learnt nothing; FID and KID against as many real images of domain B "
                  f"({_through(scores)}). {image_scores.SHARPNESS}", "", header + " | cycle L1 (A, B) |", rule + "---|"]
        for key, label in image_scores.BASELINES["cyclegan"].items():
            lines.append(f"| {label} | 1 | " + " | ".join(_cells([first["methods"][key]])) + " | – |")
        cycle = (_mean_sd([s["cycle_l1_a"] for s in scores], "{:.3f}") + ", "
                 + _mean_sd([s["cycle_l1_b"] for s in scores], "{:.3f}"))
        lines += [f"| `{e.name}` (G) | {len(scores)} | " + " | ".join(_cells(methods)) + f" | {cycle} |", ""]
        ours = {k: np.mean([m[k] for m in methods]) for k in image_scores.COMPARED}
        beaten = [(label, [k for k in image_scores.COMPARED if image_scores.better(k, ours[k], first["methods"][key][k])])
                  for key, label in image_scores.BASELINES["cyclegan"].items()]
        name = {key: label.split(" ")[0] for key, label, _ in image_scores.COLUMNS}
        lines += [f"Of {', '.join(name[k] for k in image_scores.COMPARED)}, G is better than "
                  + "; ".join(f"{label} on {', '.join(name[k] for k in ks) or 'none'}" for label, ks in beaten) + ".", ""]
    for key, sr in image_runs.items():
        if key == "cyclegan":
            continue
        first, dataset = sr[0][1][0], key[1]
        lines += [f"## ×{first['scale']} super-resolution of {dataset}", "",
                  f"The {first['test_images']} test images, box-downsampled ×{first['scale']} and upscaled, against "
                  f"the originals; FID and KID against as many training images "
                  f"({_through([s for _, scores in sr for s in scores])}). "
                  + image_scores.SHARPNESS, "",
                  header + " |", rule, "| bicubic | 1 | " + " | ".join(_cells([first["methods"]["bicubic"]])) + " |"]
        for e, scores in sr:
            lines.append(f"| `{e.name}` | {len(scores)} | " + " | ".join(_cells([s["methods"][e.model] for s in scores]))
                         + " |")
        lines.append("")
        figure = image_scores.super_resolution_figure(results, dataset)
        if os.path.exists(figure):
            lines += [f"![super-resolution side by side]({rel(figure)})", ""]
        by_model = {e.model: {k: np.mean([s["methods"][e.model][k] for s in scores]) for k in ("psnr", "sharpness", "fid")}
                    for e, scores in sr}
        if {"srgan", "srresnet"} <= set(by_model):
            gan, res = by_model["srgan"], by_model["srresnet"]
            held = gan["psnr"] < res["psnr"] and gan["sharpness"] > res["sharpness"]
            bicubic = first["methods"]["bicubic"]["psnr"]
            verdict = ("reproduced" if held else "not reproduced") if res["psnr"] > bicubic else (
                f"undecided: SRResNet's PSNR is not above bicubic upsampling's ({bicubic:.2f} dB), so it has not "
                "learnt these images yet")
            lines += [f"SRGAN's PSNR is {'lower' if gan['psnr'] < res['psnr'] else 'not lower'} than SRResNet's "
                      f"({gan['psnr']:.2f} against {res['psnr']:.2f} dB) and its images are "
                      f"{'sharper' if gan['sharpness'] > res['sharpness'] else 'not sharper'} (sharpness "
                      f"{gan['sharpness']:.2f} against {res['sharpness']:.2f}"
                      + ("; above 1, more gradient than the true images have: noise or artefacts"
                         if gan["sharpness"] > 1 else "")
                      + f"): at this budget the slide deck's claim is {verdict}. "
                      f"Its FID is {'lower' if gan['fid'] < res['fid'] else 'not lower'} ({gan['fid']:.1f} against "
                      f"{res['fid']:.1f}).", ""]
    return lines
