"""The Likeness Score (Guan & Loew 2021, arXiv:2002.12345 v2 and later; the authors' compute_LS.py).

Three distance distributions, Euclidean over flattened images (or features):
ICD_r, the distances between pairs of distinct real samples; ICD_g, the same for generated ones;
BCD, the distances between every real and every generated sample. With KS the two-sample
Kolmogorov-Smirnov statistic, the distance-based separability index of the two sets is
DSI = max(KS(ICD_r, BCD), KS(ICD_g, BCD)), and

    LS = 1 - DSI,   in [0, 1]; 1 when real and generated samples are indistinguishable by distances.

A generator that repeats one image makes ICD_g collapse towards 0 (the paper's diversity), one
whose images look nothing like the data moves BCD away from ICD_r (inheritance). Note that a
generator that copies its training images scores as well as the real data: the score alone does not
measure creativity. The terms are computed in blocks on a subset of at most `max_samples` per set.
"""

import numpy as np

from keras_gan.metrics.checks import finite_pair
from keras_gan.metrics.registry import IMAGES, Column, Metric, register


def pairwise(a, b) -> np.ndarray:
    d = np.einsum("ij,ij->i", a, a)[:, None] - 2 * a @ b.T + np.einsum("ij,ij->i", b, b)[None, :]
    return np.sqrt(np.clip(d, 0, None))


def ks_statistic(a, b) -> float:
    """The two-sample Kolmogorov-Smirnov statistic sup |F_a - F_b|."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, side="right") / len(a)
                               - np.searchsorted(b, grid, side="right") / len(b))))


def distance_sets(real, fake):
    x = np.asarray(real, np.float64).reshape(len(real), -1)
    y = np.asarray(fake, np.float64).reshape(len(fake), -1)
    iu_x, iu_y = np.triu_indices(len(x), 1), np.triu_indices(len(y), 1)
    return pairwise(x, x)[iu_x], pairwise(y, y)[iu_y], pairwise(x, y).ravel()


def likeness_score(real, fake, *, max_samples: int = 2000, seed: int = 0) -> float:
    real, fake = finite_pair(real, fake, "samples")
    rng = np.random.default_rng(seed)
    if len(real) > max_samples:
        real = np.asarray(real)[rng.choice(len(real), max_samples, replace=False)]
    if len(fake) > max_samples:
        fake = np.asarray(fake)[rng.choice(len(fake), max_samples, replace=False)]
    icd_r, icd_g, bcd = distance_sets(real, fake)
    return 1.0 - max(ks_statistic(icd_r, bcd), ks_statistic(icd_g, bcd))


register(Metric("likeness", "Likeness Score on the images themselves (1 is best)", frozenset({IMAGES}),
                lambda i: {"likeness": likeness_score(i.real_images, i.fake_images, seed=i.seed)},
                (Column("likeness", "likeness", "{:.3f}", "higher"),)))
