"""The CID index: Creativity x Inheritance x Diversity, as seeds/000 defines it.

seeds/000 names the index and its three terms and says what each means: generated images must not
duplicate real images (creativity), they keep the style of the real images (inheritance), and they
differ from each other (diversity). The formulas of the paper that introduced it (Guan & Loew,
arXiv:2002.12345 v1) could not be read here, so each term is made operational with a published test
of what seeds/000 says it means. Each is in [0, 1], 1 the ideal, and real held-out data scores about
1 on all three:

    creativity  = the data-copying test of Meehan, Chaudhuri & Dasgupta (2020) read as a share
                  (keras_gan/metrics/copying.py): within cells of the training set, twice the share
                  of generated samples farther from the training set than the median held-out
                  (test split) sample, capped at 1. Exact copies score 0, and so do near-copies
                  (training images with noise) that lie closer than new images do. The test's
                  statistic C_T (`copy_z`) and verdict (`copying`: C_T < -3) come with it.
    inheritance = 1 - KS(BCD, ICD_real): distances from generated to real images look like the
                  distances between real images.
    diversity   = min(1, 2 A) x (1 - KS(ICD_gen, ICD_real)). A is the probability that a generated
                  sample's nearest other generated sample is farther than a real sample's nearest
                  other real sample (up to 5,000 of each, as many of each; the Mann-Whitney AUC): 1/2 for data as varied
                  as the real, 0 when every sample has a twin. The pairwise term alone sees repeats
                  only through the share of pairs that are twins, which stays small even when every
                  sample has one (100 images repeated 20 times each: 1 - KS = 0.94); the
                  nearest-neighbour term alone does not see a missing class (its samples still have
                  close neighbours), which moves the pairwise distances.
    CID         = creativity x inheritance x diversity

KS is the two-sample Kolmogorov-Smirnov statistic; ICD_real, ICD_gen and BCD are the Likeness
Score's distance sets (real pairs, generated pairs, real x generated) on at most 2,000 of each set.
The Likeness Score is 1 - max(KS(ICD_real, BCD), KS(ICD_gen, BCD)): inheritance and the pairwise half
of diversity are its two comparisons made against the real data alone, and creativity is what it
cannot see (a generator that copies its training set scores as well as the real data on it).
`memorised` is the share of samples closer to a training image than tau, the 1% quantile of the
held-out samples' nearest-training distances: exact and nearly exact copies. Distances are
Euclidean on the pixels (`cid`) or on the feature network's features (`cid_features`). Nearest
neighbours are found in blocks, so 10,000 generated images against 60,000 training images fit in
memory.
"""

import numpy as np

from keras_gan.metrics import copying
from keras_gan.metrics.checks import check_samples
from keras_gan.metrics.copying import QUANTILE, nearest
from keras_gan.metrics.likeness import ks_statistic, pairwise
from keras_gan.metrics.registry import FEATURES, IMAGES, SPLITS, Column, Metric, register

MAX_SAMPLES = 2000
NN_SAMPLES = 5000


def threshold(test, train, q: float = QUANTILE) -> float:
    """tau: the q-th quantile of the distances from real test images to their nearest training image."""
    check_samples(test, "held-out (test split) samples")
    distances = nearest(test, train)[0]
    copying.check_held_out(distances, q)
    return float(np.quantile(distances, q))


def _subset(x, n: int, rng) -> np.ndarray:
    x = copying.flat(x).astype(np.float64)
    return x[rng.choice(len(x), n, replace=False)] if len(x) > n else x


def nearest_other(x, block: int = copying.BLOCK) -> np.ndarray:
    """Each sample's distance to its nearest other sample of `x`, in blocks."""
    x = copying.flat(x).astype(np.float64)
    norms = np.einsum("ij,ij->i", x, x)
    out = np.empty(len(x))
    for i in range(0, len(x), block):
        d = norms[i:i + block, None] - 2.0 * x[i:i + block] @ x.T + norms[None, :]
        d[np.arange(len(d)), np.arange(i, i + len(d))] = np.inf
        out[i:i + block] = np.sqrt(np.clip(d.min(axis=1), 0, None))
    return out


def diversity_terms(real, fake, *, max_samples: int = MAX_SAMPLES, nn_samples: int = NN_SAMPLES,
                    seed: int = 0) -> dict:
    """The two halves of diversity, and inheritance, from the real and generated samples: `twins_auc`
    (A, the nearest-neighbour term, on up to `nn_samples` of each set, as many of each), `spread`
    (1 - KS of the pairwise distances) and `inheritance`, on up to `max_samples` of each."""
    rng = np.random.default_rng(seed)
    size = min(len(real), len(fake), nn_samples)  # nearest-neighbour distances shrink with the set: equal sizes
    u, _ = copying.rank_test(nearest_other(_subset(fake, size, rng)), nearest_other(_subset(real, size, rng)))
    real, fake = _subset(real, max_samples, rng), _subset(fake, max_samples, rng)
    upper_real, upper_fake = np.triu_indices(len(real), 1), np.triu_indices(len(fake), 1)
    within_real = pairwise(real, real)[upper_real]
    return {"twins_auc": u / (size * size),
            "spread": 1.0 - ks_statistic(pairwise(fake, fake)[upper_fake], within_real),
            "inheritance": 1.0 - ks_statistic(pairwise(real, fake).ravel(), within_real)}


def cid_terms(real, fake, fake_to_train: np.ndarray, tau: float, copy: dict, *, max_samples: int = MAX_SAMPLES,
              seed: int = 0) -> dict:
    """The terms from the real and generated samples, each generated sample's distance to its nearest
    training image (`fake_to_train`), the threshold `tau` and the copy test's result `copy`."""
    check_samples(real, "real samples")
    check_samples(fake, "generated samples")
    d = diversity_terms(real, fake, max_samples=max_samples, seed=seed)
    creativity, inheritance = copy["creativity"], d["inheritance"]
    diversity = min(1.0, 2.0 * d["twins_auc"]) * d["spread"]
    return {"cid": creativity * inheritance * diversity, "creativity": creativity, "inheritance": inheritance,
            "diversity": diversity, "memorised": float(np.mean(np.asarray(fake_to_train) < tau)),
            "cid_threshold": tau, **{k: v for k, v in copy.items() if k != "creativity"}}


def cid_index(real, fake, train, test, *, q: float = QUANTILE, max_samples: int = MAX_SAMPLES, seed: int = 0,
              cells: int | None = None, shifts: bool = False) -> dict:
    """The CID index and its terms for arrays of samples (images or features, one row each): `real`
    and `fake` for inheritance and diversity, `train` and `test` (the held-out yardstick) for
    creativity; `cells` overrides the copy test's number of cells; `shifts`, for images
    (n, H, W, C), makes the copy test find copies moved by a pixel, as the registered metric does."""
    check_samples(train, "training samples")
    check_samples(fake, "generated samples")
    tau = threshold(test, train, q)
    views = copying.shift_views() if shifts else copying.exact_views
    copy = copying.copy_test(test, fake, train, cells=cells, seed=seed, views=views)
    return cid_terms(real, fake, nearest(fake, train)[0], tau, copy, max_samples=max_samples, seed=seed)


def _compute(space: str):
    suffix = "" if space == "pixels" else "_features"

    def compute(i) -> dict:
        ref = i.reference
        if space == "pixels":
            train, test, real, fake = ref.train_images, ref.test_images, i.real_images, i.fake_images
            views = copying.shift_views()
        else:
            train, test, real, fake = ref.features("train"), ref.features("test"), i.real_features, i.fake_features
            views = copying.shift_views(embed=lambda images: ref.network(images)[0])
        check_samples(fake, "generated samples")
        tau = ref.remember(("cid_threshold", space), lambda: threshold(test, train))
        k = copying.cell_count(len(test), len(fake))
        # The copy test compares images moved by up to a pixel, in pixels or through the network.
        cells = ref.remember(("copy_cells", space, k),
                             lambda: copying.Cells(train, ref.test_images, k, views=views))
        distances, index = nearest(fake, train)
        ref.cache[("cid_nearest", space)] = (distances, index, tau)  # for the figure of the closest samples
        terms = cid_terms(real, fake, distances, tau, cells.test(i.fake_images), seed=i.seed)
        return {key + suffix: value for key, value in terms.items()}

    return compute


def _columns(suffix: str, report: bool) -> tuple[Column, ...]:
    label = "" if not suffix else " (features)"
    return tuple(Column(key + suffix, name + label, fmt, better, report=report) for key, name, fmt, better in (
        ("cid", "CID", "{:.3f}", "higher"), ("creativity", "creativity", "{:.3f}", "higher"),
        ("inheritance", "inheritance", "{:.3f}", "higher"), ("diversity", "diversity", "{:.3f}", "higher"),
        ("memorised", "memorised", "{:.3f}", "lower"), ("copy_z", "copy C_T", "{:.1f}", ""),
        ("copying", "copying", "{:.2f}", "lower")))


KEYS = ("cid", "creativity", "inheritance", "diversity", "memorised", "cid_threshold", "copy_z", "copying",
        "copy_cells")
register(Metric("cid", "CID index, creativity x inheritance x diversity (seeds/000), on pixels, with the "
                "data-copying test (C_T < -3: copying) and the share of samples memorised (closer to a training "
                "image than 1% of test images are)",
                frozenset({IMAGES, SPLITS}), _compute("pixels"), _columns("", True), keys=KEYS, version=2))
register(Metric("cid_features", "the CID index on the feature network's features",
                frozenset({FEATURES, SPLITS}), _compute("features"), _columns("_features", False),
                keys=tuple(k + "_features" for k in KEYS), default=False, version=2))
