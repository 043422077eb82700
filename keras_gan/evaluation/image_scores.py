"""Scores of the image-to-image members on the test split, where every input has its true image:
what `make experiment` writes as their runs' metrics.json, with the figure that shows them.

    cyclegan   edges -> images (keras_gan/data/domains.py): G's translations of the test split's edge maps
               against the true images, beside three baselines that learnt nothing: the edge map
               itself, the edge map blurred (sigma 1), and the mean image of domain B's training half.
               Also F's translations of the true images back to edge maps, and the cycle errors,
               the L1 of F(G(a)) against a and of G(F(b)) against b.
    srgan,     x`scale` super-resolution of the test split's box-downsampled images against the
    srresnet   originals, beside bicubic upsampling.

Each method's outputs get the paired metrics of keras_gan/metrics/paired.py (L1, PSNR, SSIM,
sharpness) against the truth, and FID and KID against as many real images of the target domain's
training images (drawn with the run's seed), through the dataset's classifier
(features.py), the feature network of every other score of the package.
"""

import os

import numpy as np

from keras_gan.data import transforms
from keras_gan.data.domains import edges_and_images
from keras_gan.data.pipeline import to_unit_range
from keras_gan.evaluation import features as feature_networks
from keras_gan.evaluation import scoring
from keras_gan.io import figures
from keras_gan.io.atomic import up_to_date
from keras_gan.io.keras_files import load_image_model
from keras_gan.metrics.paired import l1, paired_scores
from keras_gan.models.sampling import apply
from keras_gan.runs import folder as run_folder
from keras_gan.runs.config import TrainConfig, arrays_for, read_config

# The network whose change makes a run's scores stale, per task.
GENERATORS = {"cyclegan": run_folder.GENERATOR_A2B, "srgan": run_folder.GENERATOR, "srresnet": run_folder.GENERATOR}
UNPAIRED = "fid,kid"
ROWS = 8  # test images in the comparison figures
BASELINES = {"cyclegan": {"identity": "the edge map itself", "blurred_edges": "the edge map, blurred (sigma 1)",
                          "mean_image": "the mean image of domain B"}}  # super-resolution's: bicubic
# The report's columns: (key, label, format). Sharpness is best at 1, the others as their arrows say.
COLUMNS = (("l1", "L1 ↓", "{:.3f}"), ("psnr", "PSNR (dB) ↑", "{:.2f}"), ("ssim", "SSIM ↑", "{:.3f}"),
           ("sharpness", "sharpness", "{:.2f}"), ("fid", "FID ↓", "{:.1f}"), ("kid", "KID ↓", "{:.2f}"))
COMPARED = ("l1", "psnr", "ssim", "fid")  # what a model is said to beat a baseline on
SHARPNESS = ("Sharpness: the root-mean-square gradient over the true images' (1 = as sharp as the truth, below "
             "is blurrier).")


def better(key: str, a: float, b: float) -> bool:
    """Whether score `a` of metric `key` is better than `b` (PSNR and SSIM: higher; L1, FID, KID: lower)."""
    return a > b if key in ("psnr", "ssim") else a < b


def generator_file(directory: str, config: TrainConfig) -> str:
    """The run's file whose change makes its scores stale."""
    return os.path.join(directory, GENERATORS.get(config.preset.task, run_folder.GENERATOR))


class _Judge:
    """Scores outputs against the truth (paired) and against real images of the target domain (unpaired)."""

    def __init__(self, network, reference: np.ndarray, truth: np.ndarray, seed: int):
        self.network, self.reference, self.truth, self.seed = network, reference, truth, seed
        self.reference_features = network(reference)

    def __call__(self, outputs: np.ndarray) -> dict:
        unpaired = scoring.score(self.reference, outputs, self.network, metrics=UNPAIRED, seed=self.seed,
                                 real_features=self.reference_features)
        return {**paired_scores(outputs, self.truth), **unpaired}


def score_run(directory: str, *, num_samples: int = 5000, arrays=None, network=None, log=print) -> dict:
    """The scores of an image-to-image run's networks on (at most `num_samples` images of) the test
    split of its data (`arrays` where they are loaded already), through `network` (default: the
    dataset's classifier); draws RUN/comparison.png."""
    config = read_config(directory)
    arrays = arrays or arrays_for(config, log=log)
    network = network or feature_networks.classifier(arrays, log=log)
    score = _translation if config.preset.task == "cyclegan" else _super_resolution
    return {"task": config.preset.task, "feature_network": network.description,
            **score(directory, config, arrays, network, num_samples)}


def _translation(directory, config, arrays, network, num_samples) -> dict:
    d = edges_and_images(arrays)
    n = min(num_samples, len(d.a_test), len(d.b_train))
    a, b = to_unit_range(d.a_test[:n]), to_unit_range(d.b_test[:n])
    g = load_image_model(os.path.join(directory, run_folder.GENERATOR_A2B), "translate")
    f = load_image_model(os.path.join(directory, run_folder.GENERATOR_B2A), "translate")
    fake_b, fake_a = apply(g, a), apply(f, b)
    back_a, back_b = apply(f, fake_b), apply(g, fake_a)
    pick = np.random.default_rng(config.seed).choice(len(d.b_train), n, replace=False)
    judge = _Judge(network, to_unit_range(d.b_train[pick]), b, config.seed)
    mean_b = np.broadcast_to(to_unit_range(d.b_train).mean(axis=0), b.shape)
    methods = {"identity": a, "blurred_edges": transforms.blur(a), "mean_image": mean_b, config.model: fake_b}
    figures.comparison([("edge map (A)", a[:ROWS]), ("blurred", methods["blurred_edges"][:ROWS]),
                      ("G(edge map)", fake_b[:ROWS]), ("F(G(edge map))", back_a[:ROWS]), ("true image (B)", b[:ROWS]),
                      ("F(true image)", fake_a[:ROWS])], os.path.join(directory, run_folder.COMPARISON),
                     title=f"{config.model} on {config.data_name} test pairs")
    return {"test_pairs": n, "real_samples": n, "methods": {k: judge(v) for k, v in methods.items()},
            "images_to_edges": paired_scores(fake_a, a),
            "cycle_l1_a": l1(back_a, a), "cycle_l1_b": l1(back_b, b)}


def _super_resolution(directory, config, arrays, network, num_samples) -> dict:
    n = min(num_samples, len(arrays.x_test))
    hr = to_unit_range(arrays.x_test[:n])
    lr = transforms.downsample(hr, config.scale)
    sr = apply(load_image_model(os.path.join(directory, run_folder.GENERATOR), "upscale"), lr)
    real, _ = scoring.real_subset(arrays, n, config.seed)
    judge = _Judge(network, real, hr, config.seed)
    methods = {"bicubic": transforms.upsample_bicubic(lr, config.scale), config.model: sr}
    figures.comparison(input_columns(lr, config.scale) + [(config.model, sr[:ROWS]), ("real", hr[:ROWS])],
                     os.path.join(directory, run_folder.COMPARISON),
                     title=f"{config.model} on {config.data_name} test images, x{config.scale}")
    return {"test_images": n, "real_samples": n, "scale": config.scale,
            "methods": {k: judge(v) for k, v in methods.items()}}


def input_columns(lr: np.ndarray, scale: int) -> list:
    """The first columns of a super-resolution comparison: the input (each pixel repeated), bicubic."""
    return [("input", transforms.upsample_nearest(lr[:ROWS], scale)),
            ("bicubic", transforms.upsample_bicubic(lr[:ROWS], scale))]


def compare_super_resolution(runs: list[tuple[str, str]], path: str, arrays_of=None) -> bool:
    """One figure of several super-resolution runs ([(name, run folder)]) on the same test images: the
    input, bicubic, each run's output, the real image. Runs of another dataset or scale than the first
    are left out; False when there is nothing to compare. `arrays_of(config)` gives a configuration's
    data where the caller has read it already."""
    configs = [(name, directory, read_config(directory)) for name, directory in runs]
    if not configs:
        return False
    first = configs[0][2]
    same = [(name, directory) for name, directory, c in configs
            if (c.dataset, c.scale, c.data_dir) == (first.dataset, first.scale, first.data_dir)]
    arrays = arrays_of(first) if arrays_of else arrays_for(first)
    hr = to_unit_range(arrays.x_test[:ROWS])
    lr = transforms.downsample(hr, first.scale)
    outputs = [(name, apply(load_image_model(os.path.join(d, run_folder.GENERATOR), "upscale"), lr))
               for name, d in same]
    figures.comparison(input_columns(lr, first.scale) + outputs + [("real", hr)], path,
                       title=f"x{first.scale} super-resolution of {first.dataset} test images")
    return True


def super_resolution_figure(results: str, dataset: str) -> str:
    return os.path.join(results, f"super_resolution_{dataset}.png")


def compare_runs(runs: list[tuple[str, str]], results: str, arrays_of=None) -> list[str]:
    """For each dataset, RESULTS/super_resolution_DATASET.png of the super-resolution runs among `runs`
    ([(name, run folder)]) that have a generator, drawn again when one of them changed; the paths."""
    by_dataset = {}
    for name, directory in runs:
        if all(os.path.exists(os.path.join(directory, f)) for f in (run_folder.GENERATOR, run_folder.CONFIG)):
            config = read_config(directory)
            if config.preset.task in ("srgan", "srresnet"):
                by_dataset.setdefault(config.dataset, []).append((name, directory))
    made = []
    for dataset, group in by_dataset.items():
        path = super_resolution_figure(results, dataset)
        if up_to_date(path, *(os.path.join(d, run_folder.GENERATOR) for _, d in group)) or \
                compare_super_resolution(group, path, arrays_of):
            made.append(path)
    return made
