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

from keras_gan.data.datasets import DATASETS, load_arrays
from keras_gan.data.pipeline import to_unit_range
from keras_gan.data.readers import read_images
from keras_gan.evaluation import features as feature_networks
from keras_gan.evaluation.scoring import (closest_to_training, format_table, metrics_of, real_subset, reference,
                                          score, score_samples)
from keras_gan.io.atomic import write_text
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
    metrics: str = ""      # "": the default metrics
    inception_weights: str = ""
    seed: int = 0
    out: str = ""          # JSON to write ("" : metrics.json beside a generator, else none)
    progress: bool = False


def evaluate(request: Request, log=print) -> dict:
    """Scores what `request` names, prints the table and writes the JSON; returns the scores. A
    generator's metrics.json is written into its run folder, which is held meanwhile."""
    chosen = metrics_of(request.metrics)
    spec = DATASETS.named(request.dataset)
    # The classifier is built (perhaps trained) only once the images to score have loaded.
    network = (feature_networks.inception(request.inception_weights, spec.image_shape)
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


def _score(request: Request, spec, network, chosen, log, out: str) -> tuple[dict, str]:
    figure = os.path.join(os.path.dirname(os.path.abspath(out)), run_folder.NEAREST) if out else ""
    if request.generator:
        what = f"{request.num_samples} samples of {request.generator}"
        log(f"scoring {what} against as many training images")
        return score_generator(request.generator, request.dataset, data_dir=request.data_dir,
                               num_samples=request.num_samples, seed=request.seed, network=network, metrics=chosen,
                               progress=request.progress, figure=figure, log=log), what
    fake = read_images(request.images, spec.image_shape, f"{request.dataset} images") if request.images else None
    arrays = load_arrays(request.dataset, request.data_dir)
    real, real_labels = real_subset(arrays, request.num_samples, request.seed)
    if request.images:
        what = f"{len(fake)} images of {request.images}"
    else:
        n = min(request.num_samples, len(arrays.x_test))
        fake = to_unit_range(arrays.x_test[:n]).reshape((-1, *spec.image_shape))
        what = f"{n} real images of the {request.dataset} test split"
    network = network or feature_networks.classifier(arrays, log=log)
    log(f"scoring {what} against {len(real)} training images")
    splits = reference(arrays, network, chosen)
    results = score(real, fake, network, metrics=chosen, real_labels=real_labels, num_classes=len(spec.class_names),
                    seed=request.seed, progress=request.progress, splits=splits)
    if figure and splits and request.images:
        closest_to_training(splits, fake, figure, title=f"{os.path.basename(request.images)}: the images closest "
                                                        "to a training image")
    return {"real_samples": len(real), "generated_samples": len(fake), "feature_network": network.description,
            **results}, what
