"""Scores of generated images: `python -m keras_gan.evaluate`.

    python -m keras_gan.evaluate train-classifier --dataset=fashion_mnist     # once; cached
    python -m keras_gan.evaluate --generator=runs/dcgan_fashion_mnist/generator.keras \\
        --dataset=fashion_mnist --num_samples=10000
    python -m keras_gan.evaluate --images=samples.npy --dataset=fashion_mnist   # another tool's output
    python -m keras_gan.evaluate --test_split --dataset=fashion_mnist           # the real data: the floor

The generated (or given) images are compared with `--num_samples` images of the dataset's training
split, through a feature network (keras_gan/metrics/features.py): the dataset's own classifier by
default, or InceptionV3 with `--inception_weights=PATH`. A table is printed and the numbers are
written as JSON (`--out`; by default metrics.json beside the generator). Metrics (`--metrics`):

  fid        Fréchet distance of features (lower is better)
  kid        kernel distance of features, mean and standard deviation over subsets (lower is better)
  is         Inception Score of the class probabilities (higher is better; blind to the real data)
  pr         improved precision and recall, k = 3 (higher is better)
  dc         density and coverage, k = 5
  likeness   Likeness Score on the images themselves (1 is best)
  modes      classes covered by the classifier's predictions, KL to the real class frequencies, and
             for conditional generators the fraction classified as the label asked for
"""

import contextlib
import json
import math
import os
import sys

import numpy as np
from absl import flags

from keras_gan.cli import run_cli
from keras_gan.errors import ConfigError, DataError, MetricInputError, reason
from keras_gan.metrics.features import CLASSIFIER_EPOCHS

METRICS = ("fid", "kid", "is", "pr", "dc", "likeness", "modes")


def parse_metrics(text: str) -> list[str]:
    chosen = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in METRICS]
    if unknown or not chosen:
        raise ConfigError(f"--metrics: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(METRICS)}")
    return chosen


def score(real_images, fake_images, network, *, metrics=METRICS, real_labels=None, fake_labels=None,
          num_classes: int = 10, seed: int = 0, progress: bool = False) -> dict:
    """Every metric of `metrics` for images in [-1, 1], (n, H, W, C); returns a flat dict."""
    from keras_gan import metrics as m

    m.finite_pair(real_images, fake_images, "images")
    out = {}
    real_f, real_p = network(real_images, progress=progress)
    fake_f, fake_p = network(fake_images, progress=progress)
    if "fid" in metrics:
        out["fid"] = m.fid(real_f, fake_f)
    if "kid" in metrics:
        out["kid"], out["kid_std"] = m.kid(real_f, fake_f, seed=seed)
    if "is" in metrics:
        out["is"], out["is_std"] = m.inception_score(fake_p, splits=min(10, len(fake_p)))
    if "pr" in metrics:
        out["precision"], out["recall"] = m.precision_recall(real_f, fake_f)
    if "dc" in metrics:
        out["density"], out["coverage"] = m.density_coverage(real_f, fake_f)
    if "likeness" in metrics:
        out["likeness"] = m.likeness_score(real_images, fake_images, seed=seed)
    if "modes" in metrics and network.name == "classifier":
        frequencies = (np.bincount(real_labels, minlength=num_classes) if real_labels is not None
                       else np.ones(num_classes))
        modes = m.mode_coverage(fake_p, frequencies)
        out.update({"classes_covered": modes["classes_covered"], "mode_kl": modes["kl_to_real"],
                    "class_histogram": modes["histogram"]})
        if fake_labels is not None:
            out["label_accuracy"] = m.conditional_accuracy(fake_p, fake_labels)
    return out


def real_subset(arrays, n: int, seed) -> tuple[np.ndarray, np.ndarray]:
    """`n` training images (in [-1, 1]) and their labels, drawn without replacement with `seed`."""
    from keras_gan import data

    pick = np.random.default_rng(seed).choice(len(arrays.x_train), min(n, len(arrays.x_train)), replace=False)
    return data.to_unit_range(arrays.x_train[pick]), arrays.y_train[pick]


def sample(model, n: int, seed: int, noise_kind: str) -> tuple[np.ndarray, np.ndarray | None]:
    """`n` samples of a generator and, for a conditional one, the labels asked for (each class in turn)."""
    from keras_gan.generate import generate, num_classes

    classes = num_classes(model)
    labels = None if classes is None else np.arange(n) % classes
    return generate(model, n, seed, noise_kind, labels), labels


def score_generator(generator_path: str, dataset: str, *, data_dir=None, num_samples: int, seed: int,
                    noise: str = "uniform", network=None, metrics=METRICS, progress: bool = False,
                    log=print) -> dict:
    """Scores `num_samples` samples of a saved generator (noise seed `seed` + 1) against as many
    training images (drawn with `seed`): what `--generator` and `make experiment` write as metrics.json.
    The feature network defaults to the dataset's classifier."""
    from keras_gan import data
    from keras_gan.generate import load_generator
    from keras_gan.metrics import features

    spec = data.get_spec(dataset)
    arrays = data.load_arrays(dataset, data_dir)
    real, real_labels = real_subset(arrays, num_samples, seed)
    fake, fake_labels = sample(load_generator(generator_path), num_samples, seed + 1, noise)
    broken = int(np.sum(~np.isfinite(fake.reshape(len(fake), -1)).all(axis=1)))
    if broken:
        raise MetricInputError(f"{generator_path} makes NaN or infinite images ({broken} of {len(fake)}): its weights "
                               "diverged. Score a generator saved before that (a run keeps its last good one).")
    network = network or features.classifier(dataset, arrays=arrays, log=log)
    results = score(real, fake.reshape((-1, *spec.image_shape)), network, metrics=metrics, real_labels=real_labels,
                    fake_labels=fake_labels, num_classes=len(spec.class_names), seed=seed, progress=progress)
    return {"real_samples": len(real), "generated_samples": len(fake), "feature_network": network.description,
            **results}


class TrainingEvaluator:
    """FID, KID and mode coverage of a generator during training (`--eval_every`), against a fixed
    subset of the training split whose features are computed once."""

    def __init__(self, dataset: str, data_dir, arrays, *, num_samples: int, seed: int, log=print):
        from keras_gan import data
        from keras_gan.metrics import features

        self.network = features.classifier(dataset, arrays=arrays, log=log)
        self.real_features, _ = self.network(real_subset(arrays, num_samples, [seed, 0xE7A1])[0])
        self.frequencies = np.bincount(arrays.y_train, minlength=len(data.get_spec(dataset).class_names))
        self.num_samples, self.seed = num_samples, seed

    def __call__(self, generator, noise_kind: str) -> dict:
        from keras_gan import metrics as m

        fake, _ = sample(generator, self.num_samples, self.seed + 0xE7A1, noise_kind)
        fake_f, fake_p = self.network(fake)
        kid, kid_std = m.kid(self.real_features, fake_f, subsets=50, seed=self.seed)
        modes = m.mode_coverage(fake_p, self.frequencies)
        return {"fid": m.fid(self.real_features, fake_f), "kid": kid, "kid_std": kid_std,
                "classes_covered": modes["classes_covered"], "mode_kl": modes["kl_to_real"]}


def format_table(results: dict) -> str:
    rows = [(k, v) for k, v in results.items() if isinstance(v, (int, float)) and not k.endswith("_std")]
    lines = []
    for k, v in rows:
        std = results.get(k + "_std")
        value = f"{v:.4f}" if isinstance(v, float) else str(v)
        lines.append(f"  {k:<18} {value}" + (f" ± {std:.4f}" if std is not None else ""))
    return "\n".join(lines)


def define_flags() -> flags.FlagValues:
    fv = flags.FlagValues()
    flags.DEFINE_string("generator", None, "A generator.keras to sample from.", flag_values=fv)
    flags.DEFINE_string("images", None, "An .npy of images in [-1, 1] (N, H, W, C) or flat, to score instead.",
                        flag_values=fv)
    flags.DEFINE_boolean("test_split", False, "Score the dataset's real test split (the floor).", flag_values=fv)
    flags.DEFINE_string("dataset", None, "mnist, fashion_mnist or cifar10 (default: the run's).", flag_values=fv)
    flags.DEFINE_string("data_dir", None, "Folder with the dataset's files (tried first).", flag_values=fv)
    flags.DEFINE_integer("num_samples", 10000, "Generated and real samples to compare.", flag_values=fv)
    flags.DEFINE_string("metrics", ",".join(METRICS), "Which metrics, comma-separated.", flag_values=fv)
    flags.DEFINE_string("inception_weights", None, "InceptionV3 weights (.h5) to use as the feature network.",
                        flag_values=fv)
    flags.DEFINE_integer("seed", 0, "Seed of the noise and of the real subset.", flag_values=fv)
    flags.DEFINE_string("out", None, "JSON file to write (default: metrics.json beside the generator).",
                        flag_values=fv)
    flags.DEFINE_integer("epochs", CLASSIFIER_EPOCHS, "train-classifier: epochs.", flag_values=fv)
    return fv


def read_images(path: str, dataset: str) -> np.ndarray:
    """The images of an .npy file as float32 (N, H, W, C) in [-1, 1], or a one-line error."""
    from keras_gan import data

    shape = data.get_spec(dataset).image_shape
    try:
        images = np.load(path, allow_pickle=False)
        images = images.astype(np.float32)
    except Exception as e:  # a missing, truncated, pickled or non-numeric file: NumPy raises many types
        raise DataError(f"--images={path}: cannot read it as an .npy array of numbers ({reason(e)}).") from None
    if images.size == 0 or images.size % math.prod(shape):
        raise DataError(f"--images={path} must hold {dataset} images {shape}, flat or not; got shape {images.shape}.")
    images = images.reshape((-1, *shape))
    broken = int(np.sum(~np.isfinite(images.reshape(len(images), -1)).all(axis=1)))
    if broken:
        raise DataError(f"--images={path}: {broken} of {len(images)} images hold NaN or infinite values; "
                        "scores need finite images in [-1, 1].")
    if images.min() < -1.001 or images.max() > 1.001:
        raise DataError(f"--images must hold {dataset} images {shape} with values in [-1, 1]; "
                        f"got range [{images.min():.3g}, {images.max():.3g}].")
    return images


def _body(fv, argv_rest) -> int:
    from keras_gan import data, rundir
    from keras_gan.checkpoint import write_text
    from keras_gan.metrics import features

    if argv_rest == ["train-classifier"]:
        if not fv.dataset:
            raise ConfigError("train-classifier needs --dataset.")
        features.train_classifier(fv.dataset, fv.data_dir, epochs=fv.epochs)
        return 0
    if argv_rest:
        raise ConfigError(f"unexpected arguments: {' '.join(argv_rest)} (the one command is train-classifier)")
    chosen = parse_metrics(fv.metrics)
    sources = [bool(fv.generator), bool(fv.images), fv.test_split]
    if sum(sources) != 1:
        raise ConfigError("give exactly one of --generator=PATH.keras, --images=PATH.npy or --test_split.")
    if fv.num_samples < 10:
        raise ConfigError(f"--num_samples must be at least 10. Received: num_samples={fv.num_samples}")
    config = rundir.config_beside(fv.generator) if fv.generator else None
    dataset = fv.dataset or (config.dataset if config else None)
    if not dataset:
        raise ConfigError("--dataset is required (no run config.json beside the generator names one).")
    spec = data.get_spec(dataset)
    data_dir = fv.data_dir or (config.data_dir if config else None)
    # The classifier is built (perhaps trained) only once the images to score have loaded.
    network = features.inception(fv.inception_weights, spec.image_shape) if fv.inception_weights else None
    progress = sys.stdout.isatty()
    out = fv.out or (os.path.join(os.path.dirname(os.path.abspath(fv.generator)), "metrics.json")
                     if fv.generator else None)
    # metrics.json beside a run's generator is written into its run folder: hold the folder meanwhile.
    folder = os.path.dirname(out) if config and not fv.out else None
    with rundir.lock(folder, "evaluating", hint="Or pass --out=FILE to write the scores elsewhere.") if folder \
            else contextlib.nullcontext():
        results, what = _score(fv, config, dataset, spec, data_dir, network, chosen, progress)
        results = {"dataset": dataset, "evaluated": what, **results}
        print(f"feature network: {results['feature_network']}")
        print(format_table(results))
        if out:
            write_text(out, json.dumps(results, indent=2))
            print(f"wrote {out}")
    return 0


def _score(fv, config, dataset, spec, data_dir, network, chosen, progress) -> tuple[dict, str]:
    from keras_gan import data
    from keras_gan.metrics import features

    if fv.generator:
        what = f"{fv.num_samples} samples of {fv.generator}"
        print(f"scoring {what} against as many training images")
        results = score_generator(fv.generator, dataset, data_dir=data_dir, num_samples=fv.num_samples,
                                  seed=fv.seed, noise=config.noise if config else "uniform", network=network,
                                  metrics=chosen, progress=progress)
    else:
        fake = read_images(fv.images, dataset) if fv.images else None
        arrays = data.load_arrays(dataset, data_dir)
        real, real_labels = real_subset(arrays, fv.num_samples, fv.seed)
        if fv.images:
            what = f"{len(fake)} images of {fv.images}"
        else:
            n = min(fv.num_samples, len(arrays.x_test))
            fake = data.to_unit_range(arrays.x_test[:n]).reshape((-1, *spec.image_shape))
            what = f"{n} real images of the {dataset} test split"
        network = network or features.classifier(dataset, arrays=arrays)
        print(f"scoring {what} against {len(real)} training images")
        results = {"real_samples": len(real), "generated_samples": len(fake), "feature_network": network.description,
                   **score(real, fake, network, metrics=chosen, real_labels=real_labels,
                           num_classes=len(spec.class_names), seed=fv.seed, progress=progress)}
    return results, what


def main(argv=None) -> int:
    argv = sys.argv if argv is None else argv
    rest = [a for a in argv[1:] if not a.startswith("-")]
    flags_only = [argv[0]] + [a for a in argv[1:] if a.startswith("-")]
    return run_cli(flags_only, define_flags, lambda fv: _body(fv, rest))


if __name__ == "__main__":
    sys.exit(main())
