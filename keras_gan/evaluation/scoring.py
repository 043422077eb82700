"""Scoring: generated (or given) images against real ones, through the metric registry.

    scores = score(real_images, fake_images, network, metrics=["fid", "kid"])   # arrays in [-1, 1]

Images are compared with as many images of the dataset's training split, drawn with the seed,
through a feature network (features.py): the dataset's own classifier by default, or InceptionV3
with weights the user supplies. `score` is the one function every path calls: the evaluate command
and `make experiment` (saved.py), and in-training evaluation (`Evaluator`).
"""

import dataclasses
import os

import numpy as np

from keras_gan.data.pipeline import to_unit_range
from keras_gan.errors import MetricInputError
from keras_gan.evaluation import features as feature_networks
from keras_gan.io import figures
from keras_gan.metrics import finite_pair, registry
from keras_gan.models.sampling import Generator


def default_metrics() -> str:
    """The metrics computed when none are named: every registered one but the opt-in ones."""
    return ",".join(m.name for m in registry.defaults())


def metrics_of(metrics) -> list:
    """Metric objects of names, objects or a comma-separated string; the default ones for none."""
    if not metrics:
        return registry.defaults()
    if isinstance(metrics, str):
        return registry.parse(metrics)
    return [registry.get(m) if isinstance(m, str) else m for m in metrics]


def reference(arrays, network, metrics=None) -> registry.Reference | None:
    """The dataset's whole splits in [-1, 1], for the metrics that compare with every training image;
    None when none of `metrics` does."""
    if not any(registry.SPLITS in m.needs for m in metrics_of(metrics)):
        return None
    return registry.Reference(to_unit_range(arrays.x_train), to_unit_range(arrays.x_test), network)


def score(real_images, fake_images, network, *, metrics=None, real_labels=None, fake_labels=None,
          class_frequencies=None, num_classes: int = 10, seed: int = 0, progress: bool = False,
          real_features=None, splits: registry.Reference | None = None) -> dict:
    """Every metric of `metrics` (names, Metric objects, or a comma-separated string; default: the
    default ones) for images in [-1, 1], (n, H, W, C); returns a flat dict. `real_features`
    ((features, probabilities) of `real_images`) may be given when they were computed before;
    `splits` (see `reference`) is needed by the metrics that compare with every training image."""
    chosen = metrics_of(metrics)
    finite_pair(real_images, fake_images, "images")
    inputs = registry.Inputs(real_images, fake_images, fake_labels=fake_labels, network=network.name, seed=seed,
                             reference=splits)
    if any(m.needs & {registry.FEATURES, registry.PROBABILITIES} for m in chosen):
        real_f, real_p = real_features or network(real_images, progress=progress)
        fake_f, fake_p = network(fake_images, progress=progress)
        inputs = dataclasses.replace(inputs, real_features=real_f, fake_features=fake_f,
                                     real_probabilities=real_p, fake_probabilities=fake_p)
    if class_frequencies is None and real_labels is not None:
        class_frequencies = np.bincount(real_labels, minlength=num_classes)
    inputs.class_frequencies = class_frequencies
    return registry.compute(chosen, inputs)


def real_subset(arrays, n: int, seed) -> tuple[np.ndarray, np.ndarray]:
    """`n` training images (in [-1, 1]) and their labels, drawn without replacement with `seed`."""
    pick = np.random.default_rng(seed).choice(len(arrays.x_train), min(n, len(arrays.x_train)), replace=False)
    return to_unit_range(arrays.x_train[pick]), arrays.y_train[pick]


def generated(generator: Generator, n: int, seed, name: str = "the generator") -> tuple[np.ndarray, np.ndarray | None]:
    """`n` finite samples of a generator and the labels asked of a conditional one (each class in turn)."""
    labels = None if generator.num_classes is None else np.arange(n) % generator.num_classes
    fake = generator.sample(n, seed, labels)
    broken = int(np.sum(~np.isfinite(fake.reshape(len(fake), -1)).all(axis=1)))
    if broken:
        raise MetricInputError(f"{name} makes NaN or infinite images ({broken} of {len(fake)}): its weights "
                               "diverged. Score a generator saved before that (a run keeps its last good one).")
    return fake, labels


def score_samples(generator: Generator, arrays, *, num_samples: int, seed: int, network=None, metrics=None,
                  progress: bool = False, log=print, figure: str = "", name: str = "the generator") -> dict:
    """Scores `num_samples` samples of `generator` (noise seed `seed` + 1) against as many training
    images of `arrays` (drawn with `seed`): what the evaluate command and `make experiment` write as
    metrics.json. The feature network defaults to the dataset's classifier. With the CID index among
    the metrics, `figure` names the PNG of the samples closest to training images."""
    spec = arrays.spec
    real, real_labels = real_subset(arrays, num_samples, seed)
    fake, fake_labels = generated(generator, num_samples, seed + 1, name)
    network = network or feature_networks.classifier(arrays, log=log)
    splits = reference(arrays, network, metrics)
    fake = fake.reshape((-1, *spec.image_shape))
    results = score(real, fake, network, metrics=metrics, real_labels=real_labels, fake_labels=fake_labels,
                    num_classes=len(spec.class_names), seed=seed, progress=progress, splits=splits)
    if figure and splits:
        closest_to_training(splits, fake, figure, title=f"{os.path.basename(name)}: the samples closest to a "
                                                         "training image")
    return {"real_samples": len(real), "generated_samples": len(fake), "feature_network": network.description,
            **results}


class Evaluator:
    """Scores a generator during training (`--eval_every`) with the metrics `metrics`, against a fixed
    subset of the training split whose features are computed once."""

    def __init__(self, arrays, *, num_samples: int, seed: int, metrics=None, log=print):
        self.metrics = metrics_of(metrics)
        self.network = feature_networks.classifier(arrays, log=log)
        self.real, _ = real_subset(arrays, num_samples, [seed, 0xE7A1])
        self.real_features = self.network(self.real)
        self.splits = reference(arrays, self.network, self.metrics)
        self.frequencies = np.bincount(arrays.y_train, minlength=len(arrays.spec.class_names))
        self.image_shape = arrays.spec.image_shape
        self.num_samples, self.seed = num_samples, seed

    def __call__(self, generator, noise_kind: str) -> dict:
        """The scores of a generator model whose noise is of kind `noise_kind`."""
        fake, labels = generated(Generator(generator, noise_kind, self.image_shape), self.num_samples,
                                 self.seed + 0xE7A1)
        return score(self.real, fake, self.network, metrics=self.metrics, fake_labels=labels,
                     class_frequencies=self.frequencies, seed=self.seed, real_features=self.real_features,
                     splits=self.splits)


def closest_pairs(splits: registry.Reference, count: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float] | None:
    """(generated index, training index, distance) of the `count` generated images nearest to a training
    image, nearest first, and the CID threshold; None if the CID index was not computed on `n` images."""
    found = splits.cache.get(("cid_nearest", "pixels"))
    if found is None or len(found[0]) != n:
        return None
    distances, index, tau = found
    closest = np.argsort(distances, kind="stable")[:count]
    return closest, index[closest], distances[closest], tau


def closest_to_training(splits: registry.Reference, fake: np.ndarray, path: str, *, count: int = 8,
                        title: str = "") -> bool:
    """Draws the `count` generated images nearest to a training image above those training images, with
    their distances and the CID threshold (what "duplicate" means for this model); False if the CID
    index was not computed on these images."""
    pairs = closest_pairs(splits, count, len(fake))
    if pairs is None:
        return False
    closest, index, distances, tau = pairs
    figures.nearest_pairs(fake[closest], splits.train_images[index], distances, tau, path, title=title)
    return True


def format_table(results: dict) -> str:
    rows = [(k, v) for k, v in results.items() if isinstance(v, (int, float)) and not k.endswith("_std")]
    lines = []
    for k, v in rows:
        std = results.get(k + "_std")
        value = f"{v:.4f}" if isinstance(v, float) else str(v)
        lines.append(f"  {k:<18} {value}" + (f" ± {std:.4f}" if std is not None else ""))
    return "\n".join(lines)
