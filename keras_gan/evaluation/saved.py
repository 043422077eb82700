"""Scores of saved work: a run's generator.keras, an `.npy` of images, or the test split; what the
evaluate command prints and writes as metrics.json, and what `make experiment` keeps for each run.

    from keras_gan.evaluation.saved import score_generator
    scores = score_generator("runs/dcgan_fashion_mnist/generator.keras", "fashion_mnist",
                             num_samples=5000, seed=0)
"""

import contextlib
import dataclasses
import json
import os

import numpy as np

from keras_gan.data.datasets import load_arrays, spec_of
from keras_gan.data.pipeline import to_unit_range
from keras_gan.data.readers import read_images
from keras_gan.evaluation import features as feature_networks
from keras_gan.errors import ConfigError, DataError, reason
from keras_gan.evaluation.scoring import (closest_to_training, format_table, generated, metrics_of, real_subset,
                                          reference, score, score_samples)
from keras_gan.metrics.checks import check_samples
from keras_gan.metrics.frechet import frechet_distance, statistics
from keras_gan.io.atomic import atomic_path, write_text
from keras_gan.runs import folder as run_folder
from keras_gan.runs.config import config_beside
from keras_gan.runs.generator import load_generator


def score_generator(generator_path: str, dataset: str, *, data_dir=None, arrays=None, num_samples: int, seed: int,
                    noise: str = "", network=None, metrics=None, progress: bool = False, log=print,
                    figure: str = "") -> dict:
    """Scores `num_samples` samples of a saved generator (its run's noise, or `noise`) against as many
    training images of `dataset` (`arrays` where they are loaded already, else read from `data_dir`):
    `scoring.score_samples` of the loaded generator."""
    arrays = arrays or load_arrays(dataset, data_dir)
    generator = load_generator(generator_path, noise=noise)
    return score_samples(generator, arrays, num_samples=num_samples, seed=seed, network=network, metrics=metrics,
                         progress=progress, log=log, figure=figure, name=generator_path)


@dataclasses.dataclass(frozen=True)
class Request:
    """What the evaluate command scores: one of a generator, an .npy of images or the test split."""

    dataset: str
    generator: str = ""
    images: str = ""
    test_split: bool = False
    data_dir: str | None = None
    num_samples: int = 10000
    metrics: str = ""      # "": the default metrics (FID alone with real_stats)
    inception_weights: str = ""
    fid_weights: str = ""  # the FID Inception's weights (pytorch-fid's file), or "download"
    real_stats: str = ""   # an .npz of the real set's feature statistics (mu, sigma) to compare with
    save_real_stats: str = ""  # where to write the real set's statistics
    seed: int = 0
    out: str = ""          # JSON to write ("" : metrics.json beside a generator, else none)
    progress: bool = False
    image_size: int = 0    # a folder dataset's image size and channels (0: the run's, else 64 and 3)
    channels: int = 0
    classes: tuple | None = None  # a folder dataset's classes as its run recorded them

    def spec(self):
        return spec_of(self.dataset, self.data_dir, image_size=self.image_size, channels=self.channels,
                       classes=self.classes)

    def arrays(self, log=print):
        return load_arrays(self.dataset, self.data_dir, image_size=self.image_size, channels=self.channels,
                           classes=self.classes, log=log)


def evaluate(request: Request, log=print) -> dict:
    """Scores what `request` names, prints the table and writes the JSON; returns the scores. A
    generator's metrics.json is written into its run folder, which is held meanwhile."""
    chosen = metrics_of(request.metrics or ("fid" if request.real_stats else ""))  # statistics give FID alone
    spec = request.spec()
    if request.real_stats and [m.name for m in chosen] != ["fid"]:
        raise ConfigError("--real_stats holds the real set's statistics only, from which FID alone is computed; "
                          "drop --metrics (or say --metrics=fid).")
    if request.fid_weights and request.inception_weights:
        raise ConfigError("give one of --fid_weights and --inception_weights: each names a feature network.")
    network = (feature_networks.reference_inception(request.fid_weights, spec.image_shape) if request.fid_weights
               else feature_networks.inception(request.inception_weights, spec.image_shape)
               if request.inception_weights else None)
    out = request.out or (os.path.join(os.path.dirname(os.path.abspath(request.generator)), run_folder.METRICS)
                          if request.generator else "")
    folder = os.path.dirname(out) if request.generator and not request.out and config_beside(out) else None
    with run_folder.lock(folder, "evaluating", hint="Or pass --out=FILE to write the scores elsewhere.") if folder \
            else contextlib.nullcontext():
        results, what = _score(request, spec, network, chosen, log, out)
        results = {"dataset": request.dataset, "evaluated": what, **results}
        log(f"feature network: {results['feature_network']}")
        log(format_table(results))
        if out:
            write_text(out, json.dumps(results, indent=2))
            log(f"wrote {out}")
    return results


def _to_score(request: Request, spec, arrays) -> tuple[np.ndarray, np.ndarray | None, str]:
    """The images `request` scores (a generator's samples from noise seed + 1, an .npy, or the test
    split), the labels a conditional generator was asked for, and what they are, in words."""
    if request.generator:
        fake, labels = generated(load_generator(request.generator), request.num_samples, request.seed + 1,
                                 request.generator)
        return fake.reshape((-1, *spec.image_shape)), labels, f"{request.num_samples} samples of {request.generator}"
    if request.images:
        fake = read_images(request.images, spec.image_shape, f"{request.dataset} images")
        return fake, None, f"{len(fake)} images of {request.images}"
    n = min(request.num_samples, len(arrays.x_test))
    return to_unit_range(arrays.x_test[:n]).reshape((-1, *spec.image_shape)), None, \
        f"{n} real images of the {request.dataset} test split"


def read_statistics(path: str, dimensions: int) -> tuple[np.ndarray, np.ndarray]:
    """(mu, sigma) of an .npz in pytorch-fid's layout, checked against the feature network's size."""
    try:
        with np.load(path) as f:
            mu, sigma = np.asarray(f["mu"], np.float64), np.asarray(f["sigma"], np.float64)
    except FileNotFoundError:
        raise DataError(f"--real_stats={path}: file not found.") from None
    except Exception as e:  # not an .npz, or without mu and sigma: NumPy raises many types
        raise DataError(f"--real_stats={path} is not an .npz holding mu and sigma ({reason(e)}).") from None
    if mu.shape != (dimensions,) or sigma.shape != (dimensions, dimensions) or not (
            np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise DataError(f"--real_stats={path} holds mu {mu.shape} and sigma {sigma.shape}; this feature network "
                        f"needs finite ({dimensions},) and ({dimensions}, {dimensions}): statistics made through "
                        "another network cannot be compared.")
    return mu, sigma


def _score(request: Request, spec, network, chosen, log, out: str) -> tuple[dict, str]:
    """The scores of what `request` names: against `--num_samples` training images drawn with the seed
    (their statistics written to `--save_real_stats`), or, with `--real_stats`, FID against those."""
    arrays = request.arrays(log)
    fake, fake_labels, what = _to_score(request, spec, arrays)
    network = network or feature_networks.classifier(arrays, log=log)  # built once the images are at hand
    if request.real_stats:
        mu, sigma = read_statistics(request.real_stats, int(network.model.outputs[0].shape[-1]))
        log(f"scoring {what} against the statistics of {request.real_stats}")
        fake_features = network(fake, progress=request.progress)[0]
        check_samples(fake_features, "generated feature vectors")
        return {"generated_samples": len(fake), "real_statistics": request.real_stats,
                "feature_network": network.description,
                "fid": frechet_distance(mu, sigma, *statistics(fake_features))}, what
    real, real_labels = real_subset(arrays, request.num_samples, request.seed)
    log(f"scoring {what} against {len(real)} training images")
    real_features = network(real, progress=request.progress) if request.save_real_stats else None
    if real_features is not None:
        _save_statistics(request.save_real_stats, real_features[0], log)
        log(f"  (the statistics of those {len(real)} training images through {network.description})")
    splits = reference(arrays, network, chosen)
    results = score(real, fake, network, metrics=chosen, real_labels=real_labels, fake_labels=fake_labels,
                    num_classes=len(spec.class_names), seed=request.seed, progress=request.progress,
                    real_features=real_features, splits=splits)
    figure = os.path.join(os.path.dirname(os.path.abspath(out)), run_folder.NEAREST) if out else ""
    if figure and splits and not request.test_split:
        name = os.path.basename(request.generator or request.images)
        closest_to_training(splits, fake, figure, title=f"{name}: the images closest to a training image")
    return {"real_samples": len(real), "generated_samples": len(fake), "feature_network": network.description,
            **results}, what


def _save_statistics(path: str, features: np.ndarray, log) -> None:
    """Writes the mean and covariance of `features` as pytorch-fid's .npz layout: mu, sigma."""
    mu, sigma = statistics(features)
    with atomic_path(path, ".npz") as tmp:
        np.savez(tmp, mu=mu, sigma=sigma)
    log(f"wrote {path}")
