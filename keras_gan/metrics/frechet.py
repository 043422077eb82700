"""Fréchet Inception Distance (Heusel et al. 2017, arXiv:1706.08500, eq. 6).

    FID = ||mu_r - mu_g||^2 + tr(S_r + S_g - 2 (S_r S_g)^(1/2))

The trace of the matrix square root is computed without forming (S_r S_g)^(1/2), which is not
symmetric and makes general `sqrtm` routines return complex noise on near-singular covariances:
with A = S_r^(1/2) (symmetric, from an eigendecomposition), S_r S_g is similar to A S_g A, which is
symmetric positive semi-definite, so tr((S_r S_g)^(1/2)) = sum(sqrt(eigvalsh(A S_g A))). Negative
eigenvalues from round-off are clipped to 0. Everything runs in float64. The result is not clamped:
round-off can leave it a hair below 0 for identical statistics, and anything more negative is a bug.
"""

import numpy as np

from keras_gan.metrics.checks import finite_pair
from keras_gan.metrics.registry import FEATURES, Column, Metric, register


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """The Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"mismatched shapes: mu {mu1.shape} and {mu2.shape}, sigma {sigma1.shape} and {sigma2.shape}")
    a = _psd_sqrt(sigma1)
    m = a @ sigma2 @ a
    tr_sqrt = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_sqrt)


def statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of features, shape (n, d)."""
    f = np.asarray(features, np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"features must be (n >= 2, d). Received shape {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def fid(real_features, fake_features) -> float:
    """FID between two sets of features (n, d); lower is better, 0 for identical statistics."""
    real_features, fake_features = finite_pair(real_features, fake_features)
    return frechet_distance(*statistics(real_features), *statistics(fake_features))


register(Metric("fid", "Fréchet distance of features (lower is better)", frozenset({FEATURES}),
                lambda i: {"fid": fid(i.real_features, i.fake_features)},
                (Column("fid", "FID", "{:.1f}"),)))
