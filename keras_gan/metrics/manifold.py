"""k-nearest-neighbour estimates of the real and generated manifolds.

Improved precision and recall (Kynkäänniemi et al. 2019, arXiv:1904.06991, section 2): each sample's
ball has the radius of its k-th nearest neighbour in its own set (k = 3);
precision = the fraction of generated samples inside some real ball,
recall    = the fraction of real samples inside some generated ball.

Density and coverage (Naeem et al. 2020, arXiv:2002.09797, eq. 3 and 4), from real balls only (k = 5):
density  = (1 / (k M)) sum_j sum_i 1[Y_j in B(X_i, NND_k(X_i))]   (can exceed 1),
coverage = (1 / N) sum_i 1[some Y_j in B(X_i, NND_k(X_i))].

Distances are computed in blocks, so memory stays O(block * n).
"""

import numpy as np

from keras_gan.metrics.checks import finite_pair
from keras_gan.metrics.registry import FEATURES, Column, Metric, register

BLOCK = 1024


def _sq_norms(x):
    return np.einsum("ij,ij->i", x, x)


def _distances(a, b, b_norms):
    d = _sq_norms(a)[:, None] - 2 * a @ b.T + b_norms[None, :]
    return np.sqrt(np.clip(d, 0, None))


def knn_radii(x, k: int) -> np.ndarray:
    """Distance from each row of x to its k-th nearest other row."""
    if len(x) <= k:
        raise ValueError(f"need more than k={k} samples, got {len(x)}")
    norms = _sq_norms(x)
    radii = np.empty(len(x))
    for i in range(0, len(x), BLOCK):
        d = _distances(x[i:i + BLOCK], x, norms)
        radii[i:i + BLOCK] = np.partition(d, k, axis=1)[:, k]  # index 0 is the point itself
    return radii


def _inside_counts(points, centres, radii) -> np.ndarray:
    """For each point, how many balls B(centre, radius) contain it."""
    norms = _sq_norms(centres)
    counts = np.empty(len(points), np.int64)
    for i in range(0, len(points), BLOCK):
        counts[i:i + BLOCK] = (_distances(points[i:i + BLOCK], centres, norms) <= radii[None, :]).sum(axis=1)
    return counts


def precision_recall(real_features, fake_features, k: int = 3) -> tuple[float, float]:
    x, y = finite_pair(real_features, fake_features)
    precision = np.mean(_inside_counts(y, x, knn_radii(x, k)) > 0)
    recall = np.mean(_inside_counts(x, y, knn_radii(y, k)) > 0)
    return float(precision), float(recall)


def density_coverage(real_features, fake_features, k: int = 5) -> tuple[float, float]:
    x, y = finite_pair(real_features, fake_features)
    radii = knn_radii(x, k)
    density = _inside_counts(y, x, radii).sum() / (k * len(y))
    # Coverage: is the nearest generated sample of each real one inside its ball?
    y_norms = _sq_norms(y)
    nearest = np.concatenate([_distances(x[i:i + BLOCK], y, y_norms).min(axis=1) for i in range(0, len(x), BLOCK)])
    return float(density), float(np.mean(nearest <= radii))


def _pr(i) -> dict:
    precision, recall = precision_recall(i.real_features, i.fake_features)
    return {"precision": precision, "recall": recall}


def _dc(i) -> dict:
    density, coverage = density_coverage(i.real_features, i.fake_features)
    return {"density": density, "coverage": coverage}


register(Metric("pr", "improved precision and recall, k = 3 (higher is better)", frozenset({FEATURES}), _pr,
                (Column("precision", "precision", "{:.3f}", "higher"), Column("recall", "recall", "{:.3f}", "higher"))))
register(Metric("dc", "density and coverage, k = 5", frozenset({FEATURES}), _dc,
                (Column("coverage", "coverage", "{:.3f}", "higher"),
                 Column("density", "density", "{:.3f}", "", report=False))))
