"""Inception Score (Salimans et al. 2016, arXiv:1606.03498, section 4).

    IS = exp(E_x KL(p(y|x) || p(y))),  p(y) = E_x p(y|x)

computed on `splits` equal parts of the samples (10, as in the paper's code), returning the mean
and standard deviation over the parts. Between 1 (every image the same class distribution) and the
number of classes (confident, evenly spread predictions). It never looks at real images.
"""

import numpy as np

from keras_gan.metrics.checks import check_finite
from keras_gan.metrics.registry import PROBABILITIES, Column, Metric, register


def inception_score(probabilities, splits: int = 10, eps: float = 1e-12) -> tuple[float, float]:
    check_finite(probabilities, "generated class probability vectors")
    p = np.asarray(probabilities, np.float64)
    if p.ndim != 2 or len(p) < splits:
        raise ValueError(f"need (n >= splits, classes) probabilities. Received shape {p.shape}, splits={splits}")
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = np.sum(part * (np.log(part + eps) - np.log(marginal + eps)), axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def _is(i) -> dict:
    mean, std = inception_score(i.fake_probabilities, splits=min(10, len(i.fake_probabilities)))
    return {"is": mean, "is_std": std}


register(Metric("is", "Inception Score of the class probabilities (higher is better; blind to the real data)",
                frozenset({PROBABILITIES}), _is, (Column("is", "IS", "{:.2f}", "higher"),), keys=("is", "is_std")))
