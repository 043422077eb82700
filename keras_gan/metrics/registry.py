"""The metric registry: what every command that scores images iterates.

A metric declares its name (the `--metrics` and `--eval_metrics` name), what it needs, a function
of the `Inputs` that returns its numbers, and the columns it shows: a key of its output, a label,
a format and which way is better. The evaluate command's table, the training log and evals.csv,
the metric curves and `make experiment`'s report are all made from these declarations.

A new metric is one file that computes it and ends with `register(Metric(...))`, imported once
(keras_gan/metrics/__init__.py imports the package's own; a user's module registers by being
imported before the scoring starts). `METRICS` is a registry like the presets', losses' and
penalties' (keras_gan/registry.py).
"""

import dataclasses
from collections.abc import Callable

import numpy as np

from keras_gan.errors import ConfigError
from keras_gan.registry import Registry

FEATURES, PROBABILITIES, IMAGES = "features", "probabilities", "images"
SPLITS = "splits"  # the dataset's whole training split, and its test split for calibration


@dataclasses.dataclass
class Reference:
    """The dataset's splits, for metrics that compare generated images with every training image
    (images in [-1, 1], (n, H, W, C)). What is derived from them (their features, a calibrated
    threshold) is computed once and kept in `cache`, so an evaluation every few epochs pays once."""

    train_images: np.ndarray
    test_images: np.ndarray
    network: Callable | None = None  # images -> (features, probabilities)
    cache: dict = dataclasses.field(default_factory=dict)

    def remember(self, key, compute: Callable):
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    def features(self, split: str) -> np.ndarray:
        """The feature network's features of the `split` ("train" or "test") split."""
        return self.remember(("features", split), lambda: self.network(getattr(self, f"{split}_images"))[0])


@dataclasses.dataclass
class Inputs:
    """What a metric may read: images in [-1, 1] (n, H, W, C), the feature network's features and
    class probabilities of both sets, and the class labels where they are known."""

    real_images: np.ndarray
    fake_images: np.ndarray
    real_features: np.ndarray | None = None
    fake_features: np.ndarray | None = None
    real_probabilities: np.ndarray | None = None
    fake_probabilities: np.ndarray | None = None
    class_frequencies: np.ndarray | None = None  # of the real data, one count per class
    fake_labels: np.ndarray | None = None        # the classes a conditional generator was asked for
    network: str = "classifier"                  # which feature network: classifier or inception
    seed: int = 0
    reference: Reference | None = None           # the whole splits, for metrics that need SPLITS


@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    label: str
    fmt: str = "{:.4f}"
    better: str = "lower"   # lower, higher, or "" (no direction)
    report: bool = True     # a column of make experiment's report table


@dataclasses.dataclass(frozen=True)
class Metric:
    name: str
    help: str
    needs: frozenset
    compute: Callable[[Inputs], dict]
    columns: tuple[Column, ...]
    keys: tuple[str, ...] = ()     # every key of its output; default: its columns' keys
    classifier_only: bool = False  # needs the dataset classifier's own classes (not InceptionV3's)
    default: bool = True           # computed when no list of metrics is given
    version: int = 1               # raised when its numbers change meaning: make experiment scores again

    @property
    def output_keys(self) -> tuple[str, ...]:
        return self.keys or tuple(c.key for c in self.columns)

    def applies(self, inputs: Inputs) -> bool:
        return (not self.classifier_only or inputs.network == "classifier") and (
            SPLITS not in self.needs or inputs.reference is not None)

    @property
    def headline(self) -> Column:
        """The number that stands for the metric: plotted against epochs, and picks the best generator."""
        return self.columns[0]


METRICS = Registry("metric")
register, get = METRICS.add, METRICS.named


def parse(text: str) -> list[Metric]:
    """The metrics of a comma-separated list of names, or a ConfigError (a ValueError) naming the
    unknown ones."""
    chosen = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in METRICS]
    if unknown or not chosen:
        raise ConfigError(f"unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(METRICS)}")
    return [get(m) for m in chosen]


def compute(metrics, inputs: Inputs) -> dict:
    """The flat dict of every metric of `metrics` that applies to `inputs`."""
    out = {}
    for metric in metrics:
        if metric.applies(inputs):
            result = metric.compute(inputs)
            undeclared = sorted(set(result) - set(metric.output_keys))
            if undeclared:
                raise ValueError(f"metric {metric.name!r} returned keys it does not declare: {undeclared}")
            out.update(result)
    return out


def defaults() -> list[Metric]:
    return [m for m in METRICS.values() if m.default]


def columns(metrics=None) -> list[Column]:
    return [c for m in (METRICS.values() if metrics is None else metrics) for c in m.columns]


def show(results: dict, metrics=None) -> list[tuple[str, str]]:
    """(label, value) of every column present in `results`, a `KEY_std` beside its mean as ± std."""
    shown = []
    for c in columns(metrics):
        if c.key in results and results[c.key] is not None:
            std = results.get(c.key + "_std")
            shown.append((c.label, c.fmt.format(results[c.key]) + (f" ± {c.fmt.format(std)}" if std is not None else "")))
    return shown
