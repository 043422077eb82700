"""The CID index: Creativity x Inheritance x Diversity, as seeds/000 defines it.

seeds/000 names the index and its three terms and says what each means: generated images must not
duplicate real images (creativity), they keep the style of the real images (inheritance), and they
differ from each other (diversity). The formulas of the paper that introduced it (Guan & Loew,
arXiv:2002.12345 v1) could not be read here, so this is seeds/000's definition made operational on
the same distance distributions as the Likeness Score (keras_gan/metrics/likeness.py, the same
authors' later measure), so that the two read together. Each term is in [0, 1], 1 the ideal:

    creativity  = 1 - the share of generated images whose nearest training image is closer than
                  tau, the q-th quantile (q = 1%) of the distances from the real test images to
                  their nearest training image. The threshold is calibrated on real data: the test
                  split scores about 1 - q by construction, training images fed back score 0.
    inheritance = 1 - KS(BCD, ICD_real): distances from generated to real images look like the
                  distances between real images.
    diversity   = 1 - KS(ICD_gen, ICD_real): generated images are as far from each other as real
                  images are.
    CID         = creativity x inheritance x diversity

KS is the two-sample Kolmogorov-Smirnov statistic; ICD_real, ICD_gen and BCD are the Likeness
Score's distance sets (real pairs, generated pairs, real x generated) on at most 2,000 of each set.
The Likeness Score is 1 - max(KS(ICD_real, BCD), KS(ICD_gen, BCD)): inheritance and diversity are
its two comparisons made against the real data alone, and creativity is what it cannot see (a
generator that copies its training set scores as well as the real data on it). `memorised`, 1 -
creativity, is the share of samples closer to a training image than tau. Distances are Euclidean
on the pixels (`cid`) or on the feature network's features (`cid_features`). Nearest neighbours
are found in blocks, so 10,000 generated images against 60,000 training images fit in memory.
"""

import numpy as np

from keras_gan.metrics.checks import check_finite
from keras_gan.metrics.likeness import distance_sets, ks_statistic
from keras_gan.metrics.registry import FEATURES, IMAGES, SPLITS, Column, Metric, register

QUANTILE = 0.01
MAX_SAMPLES = 2000
BLOCK = 512


def _flat(x) -> np.ndarray:
    return np.asarray(x, np.float32).reshape(len(x), -1)


def nearest(queries, references, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """(distance, index) of each query's nearest reference, Euclidean. The search runs in float32
    matrix products, `block` queries at a time; the winner's distance is then computed exactly."""
    q0, r0 = np.asarray(queries), np.asarray(references)
    q0, r0 = q0.reshape(len(q0), -1), r0.reshape(len(r0), -1)
    q, r = q0.astype(np.float32, copy=False), r0.astype(np.float32, copy=False)
    r_norms = np.einsum("ij,ij->i", r, r)
    index = np.empty(len(q), np.int64)
    for i in range(0, len(q), block):
        index[i:i + block] = np.argmin(r_norms[None, :] - 2.0 * q[i:i + block] @ r.T, axis=1)
    distance = np.sqrt(np.sum((q0.astype(np.float64) - r0[index].astype(np.float64)) ** 2, axis=1))
    return distance, index


def threshold(test, train, q: float = QUANTILE) -> float:
    """tau: the q-th quantile of the distances from real test images to their nearest training image."""
    check_finite(test, "test images")
    return float(np.quantile(nearest(test, train)[0], q))


def cid_terms(real, fake, fake_to_train: np.ndarray, tau: float, *, max_samples: int = MAX_SAMPLES,
              seed: int = 0) -> dict:
    """The terms from the real and generated samples, each generated sample's distance to its nearest
    training image (`fake_to_train`) and the threshold `tau`."""
    check_finite(real, "real samples")
    check_finite(fake, "generated samples")
    rng = np.random.default_rng(seed)
    real, fake = _flat(real), _flat(fake)
    if len(real) > max_samples:
        real = real[rng.choice(len(real), max_samples, replace=False)]
    if len(fake) > max_samples:
        fake = fake[rng.choice(len(fake), max_samples, replace=False)]
    icd_real, icd_gen, bcd = distance_sets(real, fake)
    memorised = float(np.mean(fake_to_train < tau))
    creativity, inheritance, diversity = 1.0 - memorised, 1.0 - ks_statistic(bcd, icd_real), \
        1.0 - ks_statistic(icd_gen, icd_real)
    return {"cid": creativity * inheritance * diversity, "creativity": creativity, "inheritance": inheritance,
            "diversity": diversity, "memorised": memorised, "cid_threshold": tau}


def cid_index(real, fake, train, test, *, q: float = QUANTILE, max_samples: int = MAX_SAMPLES, seed: int = 0) -> dict:
    """The CID index and its terms for arrays of samples (images or features, one row each)."""
    check_finite(train, "training samples")
    return cid_terms(real, fake, nearest(fake, train)[0], threshold(test, train, q), max_samples=max_samples,
                     seed=seed)


def _compute(space: str):
    suffix = "" if space == "pixels" else "_features"

    def compute(i) -> dict:
        ref = i.reference
        if space == "pixels":
            train, test, real, fake = ref.train_images, ref.test_images, i.real_images, i.fake_images
        else:
            train, test, real, fake = ref.features("train"), ref.features("test"), i.real_features, i.fake_features
        tau = ref.remember(("cid_threshold", space), lambda: threshold(test, train))
        distances, index = nearest(fake, train)
        ref.cache[("cid_nearest", space)] = (distances, index, tau)  # for the figure of the closest samples
        terms = cid_terms(real, fake, distances, tau, seed=i.seed)
        return {key + suffix: value for key, value in terms.items()}

    return compute


def _columns(suffix: str, report: bool) -> tuple[Column, ...]:
    label = "" if not suffix else " (features)"
    return tuple(Column(key + suffix, name + label, "{:.3f}", better, report=report) for key, name, better in (
        ("cid", "CID", "higher"), ("creativity", "creativity", "higher"), ("inheritance", "inheritance", "higher"),
        ("diversity", "diversity", "higher"), ("memorised", "memorised", "lower")))


KEYS = ("cid", "creativity", "inheritance", "diversity", "memorised", "cid_threshold")
register(Metric("cid", "CID index, creativity x inheritance x diversity (seeds/000), on pixels; with the share "
                "of samples memorised (closer to a training image than 1% of test images are)",
                frozenset({IMAGES, SPLITS}), _compute("pixels"), _columns("", True), keys=KEYS))
register(Metric("cid_features", "the CID index on the feature network's features",
                frozenset({FEATURES, SPLITS}), _compute("features"), _columns("_features", False),
                keys=tuple(k + "_features" for k in KEYS), default=False))
