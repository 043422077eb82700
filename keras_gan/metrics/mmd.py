"""Kernel Inception Distance (Bińkowski et al. 2018, arXiv:1801.01401, section 4 and appendix).

The squared MMD between real and generated features under the cubic polynomial kernel
k(x, y) = (x.y / d + 1)^3, estimated without bias on random subsets of m samples each:

    MMD^2_u = sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (m (m - 1))
              - 2 sum_{i, j} k(x_i, y_j) / m^2

KID is the mean over subsets; its spread over subsets is reported too. It can be slightly negative
(an unbiased estimate of 0). Subsets hold at most half of the smaller set, so that they differ
from each other and the spread means something.
"""

import numpy as np

from keras_gan.metrics.checks import finite_pair
from keras_gan.metrics.registry import FEATURES, Column, Metric, register


def polynomial_kernel(x, y, degree: int = 3) -> np.ndarray:
    return (x @ y.T / x.shape[1] + 1.0) ** degree


def mmd2_unbiased(x, y, degree: int = 3) -> float:
    m = len(x)
    kxx, kyy, kxy = polynomial_kernel(x, x, degree), polynomial_kernel(y, y, degree), polynomial_kernel(x, y, degree)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                 - 2 * kxy.mean())


def kid(real_features, fake_features, *, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """(mean, standard deviation) of the unbiased MMD^2 over `subsets` random subsets."""
    x, y = finite_pair(real_features, fake_features)
    m = min(subset_size, len(x) // 2, len(y) // 2)
    if m < 2:
        raise ValueError("KID needs at least 4 real and 4 generated samples")
    rng = np.random.default_rng(seed)
    values = [mmd2_unbiased(x[rng.choice(len(x), m, replace=False)], y[rng.choice(len(y), m, replace=False)])
              for _ in range(subsets)]
    return float(np.mean(values)), float(np.std(values))


def _kid(i) -> dict:
    mean, std = kid(i.real_features, i.fake_features, seed=i.seed)
    return {"kid": mean, "kid_std": std}


register(Metric("kid", "kernel distance of features, mean and standard deviation over subsets (lower is better)",
                frozenset({FEATURES}), _kid, (Column("kid", "KID", "{:.2f}"),), keys=("kid", "kid_std")))
