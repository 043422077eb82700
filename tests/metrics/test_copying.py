"""The data-copying test (Meehan, Chaudhuri & Dasgupta 2020): its rank test against SciPy's, the whole
test against a brute-force reading of the paper's code, and its cells."""

import numpy as np
import pytest
from keras_gan.errors import MetricInputError
from keras_gan.metrics import copying
from scipy.spatial.distance import cdist
from scipy.stats import mannwhitneyu


def test_the_rank_test_is_scipys_mann_whitney_u_and_the_papers_z():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 12, 70).astype(float)  # small integers: many ties
    y = rng.integers(2, 14, 90).astype(float)
    u, z = copying.rank_test(x, y)
    assert u == pytest.approx(mannwhitneyu(x, y).statistic, abs=1e-9)
    # the authors' code: mean m n / 2 - 0.5 (its continuity term), no tie correction
    assert z == pytest.approx((u - (70 * 90 / 2 - 0.5)) / np.sqrt(70 * 90 * (70 + 90 + 1) / 12))
    assert copying.rank_test(np.zeros(5), np.ones(5))[0] == 0.0  # every x below every y
    assert copying.rank_test(np.ones(5), np.ones(5))[0] == 12.5  # all ties count half


def test_cells_are_the_nearest_centroids_and_k_means_improves_them():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(c, 0.3, (200, 4)) for c in (-3, 0, 3)])
    centroids = copying.partition(x, 3, seed=0)
    np.testing.assert_array_equal(copying.assign(x, centroids), cdist(x, centroids).argmin(axis=1))
    start = x[np.random.default_rng(0).choice(len(x), 3, replace=False)]
    inertia = lambda c: np.sum(cdist(x, c).min(axis=1) ** 2)  # noqa: E731
    assert inertia(centroids) < inertia(start)
    assert sorted(np.round(centroids.mean(axis=1)).tolist()) == [-3, 0, 3]  # the three clusters found


def brute_force(test, fake, train, k):
    """The paper's C_T and this package's creativity, from SciPy: the same cells, in-cell distances to the
    cell's training samples, cells with at least 20 generated samples, weights by held-out share."""
    centroids = copying.partition(train, k, seed=0)
    cell = lambda a: cdist(a, centroids).argmin(axis=1)  # noqa: E731
    ct, cp, cq = cell(train), cell(test), cell(fake)
    z, share, weight = [], [], []
    for c in range(k):
        if (cq == c).sum() < 20 or (cp == c).sum() == 0:
            continue
        lq = cdist(fake[cq == c], train[ct == c]).min(axis=1)
        lp = cdist(test[cp == c], train[ct == c]).min(axis=1)
        m, n = len(lq), len(lp)
        u = mannwhitneyu(lq, lp).statistic
        z.append((u - (m * n / 2 - 0.5)) / np.sqrt(m * n * (m + n + 1) / 12))
        share.append(np.mean(lq > np.median(lp)) + 0.5 * np.mean(lq == np.median(lp)))
        weight.append(n)
    w = np.asarray(weight) / np.sum(weight)
    return float(w @ z), min(1.0, 2 * float(w @ share)), len(z)


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(2)
    centres = rng.normal(0, 4, (6, 10))
    draw = lambda n: centres[rng.integers(0, 6, n)] + rng.normal(0, 1, (n, 10))  # noqa: E731
    return {"train": draw(3000), "test": draw(1200), "new": draw(600)}


@pytest.mark.parametrize("case", ["new", "copies", "half copies"])
def test_the_test_against_brute_force(blobs, case):
    train = blobs["train"]
    fake = {"new": blobs["new"], "copies": train[:600] + 0.01,
            "half copies": np.concatenate([train[:300], blobs["new"][:300]])}[case]
    got = copying.copy_test(blobs["test"], fake, train, cells=6)
    c_t, creativity, used = brute_force(blobs["test"], fake, train, 6)
    assert got["copy_z"] == pytest.approx(c_t, rel=1e-9) and got["creativity"] == pytest.approx(creativity)
    assert got["copy_cells"] == used and got["copying"] == float(c_t < -3)
    expected = {"new": (False, 0.9), "copies": (True, 0.0), "half copies": (True, 0.5)}[case]
    assert bool(got["copying"]) == expected[0]
    assert got["creativity"] == pytest.approx(expected[1], abs=0.1) if case != "new" else got["creativity"] > 0.9


@pytest.mark.parametrize("noise", [0.3, 0.5])
def test_near_copies_in_a_sparse_region_are_caught_by_the_cells_not_by_the_global_test(noise):
    """The paper's reason for cells: a dense region and a sparse one, and a generator that puts near-copies
    in the sparse one only. Their distances lie between the two regions' held-out distances, so over the
    whole set they look new; within their cell they are far closer than held-out samples."""
    rng = np.random.default_rng(3)
    draw = lambda n: np.concatenate([rng.normal(0, 0.3, (n, 10)), 20 + rng.normal(0, 1.5, (n, 10))])  # noqa: E731
    train, test = draw(1500), draw(600)
    fake = train[1500:2100] + rng.normal(0, noise, (600, 10))  # near-copies of the sparse region's samples
    whole = copying.copy_test(test, fake, train, cells=1)
    cells = copying.copy_test(test, fake, train, cells=2)
    assert whole["copying"] == 0.0 and whole["creativity"] > 0.8
    assert cells["copying"] == 1.0 and cells["copy_z"] < -20 and cells["creativity"] < 0.05


def test_cell_count_follows_the_sample_sizes():
    assert copying.cell_count(10_000, 5_000) == 50
    assert copying.cell_count(10_000, 1_000) == 10
    assert copying.cell_count(60, 60) == 1


def test_held_out_samples_that_are_training_samples_are_refused(blobs):
    test = np.concatenate([blobs["train"][:100], blobs["test"][:300]])  # 25% exact copies: tau would be 0
    with pytest.raises(MetricInputError, match="100 of the 400 held-out .* exact copies of training samples"):
        copying.copy_test(test, blobs["new"], blobs["train"])


@pytest.mark.parametrize("which", ["train", "test", "fake"])
def test_too_few_or_non_finite_samples_name_their_set(blobs, which):
    sets = {"train": blobs["train"], "test": blobs["test"], "fake": blobs["new"]}
    name = {"train": "training samples", "test": "held-out", "fake": "generated samples"}[which]
    with pytest.raises(MetricInputError, match=f"1 {name}.*at least 2"):
        copying.copy_test(**{**sets, which: sets[which][:1]})
    with pytest.raises(MetricInputError, match=f"0 {name}.*at least 2"):
        copying.copy_test(**{**sets, which: sets[which][:0]})
    broken = sets[which].copy()
    broken[4, 2] = np.nan
    with pytest.raises(MetricInputError, match=f"1 of {len(broken)} {name}.* NaN"):
        copying.copy_test(**{**sets, which: broken})


def test_a_copy_moved_by_a_pixel_is_at_distance_zero_through_the_shift_views():
    rng = np.random.default_rng(4)
    images = np.full((30, 12, 12, 1), -1.0)
    images[:, 2:10, 2:10] = rng.uniform(-1, 1, (30, 8, 8, 1))  # a black border, as the digit sets have
    views = copying.shift_views()
    for dy, dx in [(1, 0), (0, -1), (1, 1), (-1, 1)]:
        moved = np.roll(images, (dy, dx), axis=(1, 2))
        best = np.min([copying.nearest(v, copying.flat(images))[0] for v in views(moved)], axis=0)
        assert np.all(best == 0) and np.all(copying.nearest(moved, images)[0] > 1)
    assert copying.translations(images).shape == (9, 30, 12, 12, 1)
    np.testing.assert_array_equal(copying.translations(images)[0], images)  # the images themselves first
