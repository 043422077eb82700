"""Scores of generated images: `python -m keras_gan.evaluate`.

    python -m keras_gan.evaluate train-classifier --dataset=fashion_mnist     # once; cached
    python -m keras_gan.evaluate --generator=runs/dcgan_fashion_mnist/generator.keras \\
        --dataset=fashion_mnist --num_samples=10000
    python -m keras_gan.evaluate --images=samples.npy --dataset=fashion_mnist   # another tool's output
    python -m keras_gan.evaluate --test_split --dataset=fashion_mnist           # real data: the best score

The generated (or given) images are compared with `--num_samples` images of the dataset's training
split, through a feature network (keras_gan/evaluation/features.py): the dataset's own classifier
by default; the FID Inception of the reference FID code with `--fid_weights=PATH` (pytorch-fid's
pt_inception-2015-12-05-6726825d.pth, or `download`), whose FIDs are those papers report; or Keras's
InceptionV3 with `--inception_weights=PATH`. `--save_real_stats=PATH.npz` writes the real set's
statistics (mu, sigma, pytorch-fid's layout) and `--real_stats=PATH.npz` scores FID against such a file. A table is printed and the numbers are
written as JSON (`--out`; by default metrics.json beside the generator). The metrics (`--metrics`)
are those of the registry, keras_gan/metrics/registry.py; `--help` lists them. The library behind
this command is keras_gan/evaluation/saved.py.
"""

import sys

from keras_gan.cli import execute, import_tensorflow_quietly

import_tensorflow_quietly()

from absl import flags  # noqa: E402

from keras_gan.data.datasets import load_arrays, split_name  # noqa: E402
from keras_gan.errors import ConfigError  # noqa: E402
from keras_gan.evaluation import features, saved  # noqa: E402
from keras_gan.evaluation.scoring import default_metrics  # noqa: E402
from keras_gan.metrics import registry  # noqa: E402
from keras_gan.runs.config import config_beside  # noqa: E402


def define_flags() -> flags.FlagValues:
    fv = flags.FlagValues()
    flags.DEFINE_string("generator", None, "A generator.keras to sample from.", flag_values=fv)
    flags.DEFINE_string("images", None, "An .npy of images in [-1, 1] (N, H, W, C) or flat, to score instead.",
                        flag_values=fv)
    flags.DEFINE_boolean("test_split", False, "Score the dataset's real test split: the best a generator can "
                         "score (FID near 0, CID near 1).", flag_values=fv)
    flags.DEFINE_string("dataset", None, "mnist, fashion_mnist, cifar10, photos or folder:PATH (default: the run's).",
                        flag_values=fv)
    flags.DEFINE_string("data_dir", None, "Folder with the dataset's files (tried first).", flag_values=fv)
    flags.DEFINE_integer("image_size", 0, "folder datasets: the side of the images (default: the run's, else 64).",
                         flag_values=fv)
    flags.DEFINE_integer("channels", 0, "folder datasets: 3 or 1 (default: the run's, else 3).", flag_values=fv)
    flags.DEFINE_integer("num_samples", 10000, "Generated and real samples to compare.", flag_values=fv)
    flags.DEFINE_string("metrics", default_metrics(), "Which metrics, comma-separated: " + "; ".join(
        f"{m.name}: {m.help}" + ("" if m.default else " (not by default)") for m in registry.METRICS.values()) + ".",
        flag_values=fv)
    flags.DEFINE_string("inception_weights", None, "InceptionV3 weights (.h5) to use as the feature network.",
                        flag_values=fv)
    flags.DEFINE_string("fid_weights", None, "The FID Inception's weights: pytorch-fid's "
                        "pt_inception-2015-12-05-6726825d.pth, or 'download' (checked by its SHA-256).",
                        flag_values=fv)
    flags.DEFINE_string("real_stats", None, "An .npz of the real set's statistics (mu, sigma) to compute FID "
                        "against, instead of training images.", flag_values=fv)
    flags.DEFINE_string("save_real_stats", None, "Write the real set's statistics (mu, sigma) to this .npz.",
                        flag_values=fv)
    flags.DEFINE_integer("seed", 0, "Seed of the noise and of the real subset.", flag_values=fv)
    flags.DEFINE_string("out", None, "JSON file to write (default: metrics.json beside the generator).",
                        flag_values=fv)
    flags.DEFINE_integer("epochs", features.CLASSIFIER_EPOCHS, "train-classifier: epochs.", flag_values=fv)
    return fv


def request_from_flags(fv) -> saved.Request:
    """The request of the flags; the dataset and data folder default to the run's beside a generator."""
    try:
        registry.parse(fv.metrics)
    except ValueError as e:
        raise ConfigError(f"--metrics: {e}") from None
    if sum([bool(fv.generator), bool(fv.images), fv.test_split]) != 1:
        raise ConfigError("give exactly one of --generator=PATH.keras, --images=PATH.npy or --test_split.")
    if fv.num_samples < 10:
        raise ConfigError(f"--num_samples must be at least 10. Received: num_samples={fv.num_samples}")
    config = config_beside(fv.generator) if fv.generator else None
    dataset = fv.dataset or (config.dataset if config else None)
    if not dataset:
        raise ConfigError("--dataset is required (no run config.json beside the generator names one).")
    dataset, data_dir = split_name(dataset, fv.data_dir)
    own = config is not None and config.dataset == dataset  # the run's data: its folder, size and classes
    metrics = fv.metrics if fv["metrics"].present else ""  # "": the defaults, or FID alone with --real_stats
    return saved.Request(dataset, fv.generator or "", fv.images or "", fv.test_split,
                         data_dir or (config.data_dir if own else None), fv.num_samples, metrics,
                         fv.inception_weights or "", fv.fid_weights or "", fv.real_stats or "",
                         fv.save_real_stats or "", fv.seed, fv.out or "", sys.stdout.isatty(),
                         image_size=fv.image_size or (config.image_size if own else 0),
                         channels=fv.channels or (config.channels if own else 0),
                         classes=tuple(config.classes) if own and config.classes else None)


def _body(fv, argv_rest) -> int:
    if argv_rest == ["train-classifier"]:
        if not fv.dataset:
            raise ConfigError("train-classifier needs --dataset.")
        features.train_classifier(load_arrays(fv.dataset, fv.data_dir, image_size=fv.image_size,
                                              channels=fv.channels), epochs=fv.epochs)
        return 0
    if argv_rest:
        raise ConfigError(f"unexpected arguments: {' '.join(argv_rest)} (the one command is train-classifier)")
    saved.evaluate(request_from_flags(fv))
    return 0


def main(argv=None) -> int:
    argv = sys.argv if argv is None else argv
    rest = [a for a in argv[1:] if not a.startswith("-")]
    flags_only = [argv[0]] + [a for a in argv[1:] if a.startswith("-")]
    return execute(flags_only, define_flags, lambda fv: _body(fv, rest))


if __name__ == "__main__":
    sys.exit(main())
