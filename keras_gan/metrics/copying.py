"""The data-copying test of Meehan, Chaudhuri & Dasgupta (AISTATS 2020), "A Non-Parametric Test to
Detect Data-Copying in Generative Models", and the creativity it gives the CID index.

A generator copies its training set when its samples lie closer to training samples than fresh
samples of the same distribution do. The test measures exactly that. With L(x) the distance from x
to its nearest training sample, it compares L over held-out real samples P (the test split) with L
over generated samples Q by a Mann-Whitney rank test:

    U     = #{(q, p): L(q) > L(p)} + #{ties} / 2,            over m generated and n held-out samples
    Z_U   = (U - (mn/2 - 1/2)) / sqrt(mn(m + n + 1) / 12)    (the authors' code, with its continuity term)

Z_U is about 0 when Q is as far from the training set as P is, << 0 when Q is closer (copying),
>> 0 when it is farther (a generator that has not learnt the data yet). Copying may happen in one
region only, so the space is cut into cells by k-means on the training samples, Z_U is taken within
each cell (L to the cell's own training samples), and

    C_T   = sum over cells pi of P(pi) Z_U(pi) / sum of P(pi),

over the cells holding at least `MIN_GENERATED` generated samples (the paper's tau = 20/m), P(pi)
the share of held-out samples in the cell. The paper's MNIST experiments use 50 cells and 10,000
samples of each set; here there are about 100 held-out samples per cell, 50 cells at most. The
verdict: data-copying when C_T < `COPYING_Z` (-3, a z-score's one-sided 0.1%).

Creativity is the same comparison as a share a person can read, the 1 of which means "no sign of
copying": within each cell, the share of generated samples farther from the training set than the
cell's median held-out sample (ties half), averaged with the same weights, doubled and capped at 1.
Held-out data scores 1 up to sampling noise; exact copies 0; training images with noise added score
by how far the noise moves them compared with how far new images lie. Distances are Euclidean, on
pixels or on the feature network's features (`space`): a feature network that does not change under
small shifts catches shifted copies that pixels miss.
"""

import numpy as np

from keras_gan.errors import MetricInputError
from keras_gan.metrics.checks import check_samples

COPYING_Z = -3.0
QUANTILE = 0.01
SHIFT = 1
MIN_GENERATED = 20
PER_CELL = 100
MAX_CELLS = 50
KMEANS_STEPS = 20
BLOCK = 512


def flat(x) -> np.ndarray:
    x = np.asarray(x)
    return x.reshape(len(x), -1)


def nearest(queries, references, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """(distance, index) of each query's nearest reference, Euclidean. The search runs in float32
    matrix products, `block` queries at a time; the winner's distance is then computed exactly."""
    q0, r0 = flat(queries), flat(references)
    q, r = q0.astype(np.float32, copy=False), r0.astype(np.float32, copy=False)
    r_norms = np.einsum("ij,ij->i", r, r)
    index = np.empty(len(q), np.int64)
    for i in range(0, len(q), block):
        index[i:i + block] = np.argmin(r_norms[None, :] - 2.0 * q[i:i + block] @ r.T, axis=1)
    distance = np.sqrt(np.sum((q0.astype(np.float64) - r0[index].astype(np.float64)) ** 2, axis=1))
    return distance, index


def rank_test(x, y) -> tuple[float, float]:
    """(U, Z_U) of the Mann-Whitney test of `x` against `y`: U counts the pairs with x > y, ties
    half; Z_U standardises it under the hypothesis that both come from one distribution, as the
    paper's code does."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    m, n = len(x), len(y)
    ys = np.sort(y)
    u = float(np.sum(np.searchsorted(ys, x, side="left")) + 0.5 * np.sum(
        np.searchsorted(ys, x, side="right") - np.searchsorted(ys, x, side="left")))
    return u, (u - (m * n / 2 - 0.5)) / np.sqrt(m * n * (m + n + 1) / 12)


def check_held_out(distances, q: float = QUANTILE) -> None:
    """Refuses held-out samples that are training samples: when at least a share `q` of them lie at
    distance 0 from the training set, the yardstick says nothing (the CID threshold tau would be 0,
    and copies would tie with the held-out data)."""
    distances = np.asarray(distances)
    if len(distances) and np.quantile(distances, q) == 0:
        exact = int(np.sum(distances == 0))
        raise MetricInputError(f"{exact} of the {len(distances)} held-out (test split) samples are exact copies of "
                               "training samples, so they cannot show how far new images lie from the training "
                               "set; remove them from the test split (or hold out other images).")


def cell_count(n_test: int, n_generated: int) -> int:
    """How many cells: about `PER_CELL` held-out samples and `5 * MIN_GENERATED` generated ones in
    each, at most `MAX_CELLS`; one (the global test) for small sets."""
    return int(max(1, min(MAX_CELLS, n_test // PER_CELL, n_generated // (5 * MIN_GENERATED))))


def assign(x, centroids) -> np.ndarray:
    x, c = flat(x).astype(np.float32), centroids.astype(np.float32)
    labels = np.empty(len(x), np.int64)
    c_norms = np.einsum("ij,ij->i", c, c)
    for i in range(0, len(x), 4096):
        labels[i:i + 4096] = np.argmin(c_norms[None, :] - 2.0 * x[i:i + 4096] @ c.T, axis=1)
    return labels


def partition(train, k: int, seed: int = 0) -> np.ndarray:
    """k centroids of Lloyd's k-means on the training samples (from k distinct samples drawn with
    `seed`, `KMEANS_STEPS` steps); a cell left empty keeps its centroid."""
    x = flat(train).astype(np.float32)
    if k <= 1:
        return x.mean(axis=0, keepdims=True)
    centroids = x[np.random.default_rng(seed).choice(len(x), k, replace=False)].copy()
    for _ in range(KMEANS_STEPS):
        labels = assign(x, centroids)
        counts = np.bincount(labels, minlength=k)
        members = np.zeros((k, len(x)), np.float32)
        members[labels, np.arange(len(x))] = 1.0
        sums = members @ x
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled, None]
    return centroids


def translations(images, pixels: int = SHIFT, fill: float = -1.0) -> np.ndarray:
    """Every translation of `images` (n, H, W, C) by up to `pixels` pixels along each axis, the
    untranslated images first: ((2 pixels + 1) ** 2, n, H, W, C). Pixels moved in from outside take
    `fill` (-1, black: the background of the digit and clothing sets)."""
    x = np.asarray(images)
    p, (h, w) = pixels, x.shape[1:3]
    moves = [(0, 0)] + [(dy, dx) for dy in range(-p, p + 1) for dx in range(-p, p + 1) if (dy, dx) != (0, 0)]
    padded = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), constant_values=fill)
    return np.stack([padded[:, p + dy:p + dy + h, p + dx:p + dx + w] for dy, dx in moves])


def shift_views(embed=None, pixels: int = SHIFT):
    """The views of images (n, H, W, C) that the test compares with the training samples: their
    translations by up to `pixels` (`translations`), as flat pixels or through `embed` (images ->
    features), so that a copy moved by a pixel is still found at about distance 0 from its original."""
    def views(images) -> np.ndarray:
        moved = translations(images, pixels)
        whole = moved.reshape(-1, *moved.shape[2:])
        return flat(whole if embed is None else embed(whole)).reshape(len(moved), len(images), -1)
    return views


def exact_views(x) -> np.ndarray:
    """The samples themselves, one view: distances as they are."""
    return flat(x)[None]


class Cells:
    """The training set cut into cells, with each held-out sample's distance to its cell's training
    samples: what every generator scored against this training set shares. `views` maps samples to
    (V, n, d), and a sample's distance to the training set is the least over its views
    (`exact_views`: the sample alone; `shift_views`: its translations)."""

    def __init__(self, train, test, k: int, seed: int = 0, views=exact_views):
        self.train, self.k, self.views = flat(train), k, views
        self.centroids = partition(self.train, k, seed)
        self.train_cell = assign(self.train, self.centroids)
        self.test_cell, self.test_distance = self._distances(test)
        check_held_out(self.test_distance[np.isfinite(self.test_distance)])

    def _distances(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Each sample's distance to the training samples of its cell (NaN where the cell has none),
        and its cell. Each view is placed in its own cell; the sample's distance is its nearest view's,
        and its cell that view's, so a moved copy meets its original wherever the move takes it."""
        seen = self.views(x)
        cells = np.stack([assign(view, self.centroids) for view in seen])
        distances = np.full(cells.shape, np.inf)
        for v, view in enumerate(seen):
            for c in np.unique(cells[v]):
                inside, train = cells[v] == c, self.train[self.train_cell == c]
                if len(train):
                    distances[v, inside] = nearest(view[inside], train)[0]
        best = np.argmin(distances, axis=0)
        columns = np.arange(cells.shape[1])
        distance = distances[best, columns]
        return cells[best, columns], np.where(np.isfinite(distance), distance, np.nan)

    def test(self, fake) -> dict:
        """The test's statistics for the generated samples `fake`."""
        fake_cell, fake_distance = self._distances(fake)
        z, share, weight = [], [], []
        least = min(MIN_GENERATED, len(fake_cell))
        for c in range(self.k):
            held_out = self.test_distance[(self.test_cell == c) & np.isfinite(self.test_distance)]
            distance = fake_distance[(fake_cell == c) & np.isfinite(fake_distance)]
            if len(held_out) == 0 or len(distance) < least:
                continue
            z.append(rank_test(distance, held_out)[1])
            median = np.median(held_out)
            share.append(np.mean(distance > median) + 0.5 * np.mean(distance == median))
            weight.append(len(held_out))
        if not weight:
            raise MetricInputError(f"no cell of the copy test holds {least} generated samples and held-out ones "
                                   f"({len(fake_cell)} generated samples in {self.k} cells); generate more samples.")
        weight = np.asarray(weight, np.float64) / np.sum(weight)
        c_t = float(np.dot(weight, z))
        return {"copy_z": c_t, "creativity": float(min(1.0, 2.0 * np.dot(weight, share))),
                "copying": float(c_t < COPYING_Z), "copy_cells": float(len(z))}


def copy_test(test, fake, train, *, cells: int | None = None, seed: int = 0, views=exact_views) -> dict:
    """The data-copying test of generated samples `fake` against the training samples `train`, with
    the held-out samples `test` as the yardstick (images or features, one row each): C_T
    (`copy_z`), its verdict (`copying`, 1.0 when C_T < -3), the creativity it implies and how many
    cells it used. `views`: `exact_views`, or `shift_views()` for images (n, H, W, C) and their
    translations."""
    for values, what in ((train, "training samples"), (test, "held-out (test split) samples"),
                         (fake, "generated samples")):
        check_samples(values, what)
    k = cells if cells is not None else cell_count(len(test), len(fake))
    return Cells(train, test, k, seed, views).test(fake)
