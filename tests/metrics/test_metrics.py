"""Every metric against an independent NumPy/SciPy computation on seeded features, and known cases."""

import numpy as np
import pytest
from keras_gan import metrics
from keras_gan.metrics import likeness, manifold, mmd
from scipy import linalg, spatial, stats


def gaussian(n, d=8, shift=0.0, scale=1.0, seed=0):
    return np.random.default_rng(seed).normal(shift, scale, (n, d))


def clusters(n, seed=0, d=6, k=10):
    """n samples around k well separated centres, with their cluster labels."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(1234).normal(0, 20, (k, d))  # the same centres for every seed
    labels = rng.integers(0, k, n)
    return centres[labels] + rng.normal(0, 1, (n, d)), labels


# --- FID -----------------------------------------------------------------------------------------

def scipy_fid(a, b):
    mu1, mu2, s1, s2 = a.mean(0), b.mean(0), np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean))


def test_fid_matches_scipy_sqrtm():
    a, b = gaussian(500, seed=1), gaussian(400, shift=0.3, scale=1.5, seed=2) @ np.triu(np.ones((8, 8))) / 3
    assert metrics.fid(a, b) == pytest.approx(scipy_fid(a, b), rel=1e-6)


def test_fid_of_a_set_with_itself_is_zero():
    a = gaussian(300, d=16)
    assert abs(metrics.fid(a, a)) < 1e-8


def test_frechet_distance_closed_form_for_gaussians():
    mu = np.array([1.0, -2.0, 0.5])
    sd1, sd2 = np.array([1.0, 2.0, 0.5]), np.array([3.0, 1.0, 0.5])
    expected = mu @ mu + np.sum((sd1 - sd2) ** 2)  # commuting (diagonal) covariances
    assert metrics.frechet_distance(np.zeros(3), np.diag(sd1 ** 2), mu, np.diag(sd2 ** 2)) == pytest.approx(expected)
    # Shifted samples of one Gaussian: the mean term alone, up to sampling error.
    a, b = gaussian(20000, d=4, seed=3), gaussian(20000, d=4, shift=2.0, seed=4)
    assert metrics.fid(a, b) == pytest.approx(4 * 2.0 ** 2, rel=0.02)


def test_fid_stays_real_for_singular_covariances():
    a = np.repeat(gaussian(50, d=3), 1, axis=0) @ np.array([[1.0, 1, 0], [0, 0, 0], [0, 0, 0]])  # rank 1
    value = metrics.fid(a, a + 1e-9)
    # Not clamped at 0: round-off may leave it a hair either side, a bug would show as more.
    assert isinstance(value, float) and abs(value) < 1e-6


# --- KID -----------------------------------------------------------------------------------------

def loop_mmd2(x, y):
    k = lambda a, b: (a @ b / len(a) + 1) ** 3  # noqa: E731
    m = len(x)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / m ** 2
    return xx + yy - 2 * xy


def test_kid_unbiased_mmd_matches_a_loop():
    x, y = gaussian(25, d=5, seed=1), gaussian(25, d=5, shift=0.5, seed=2)
    assert mmd.mmd2_unbiased(x, y) == pytest.approx(loop_mmd2(x, y), rel=1e-9)


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    a, b, c = gaussian(600, seed=1), gaussian(600, seed=2), gaussian(600, shift=1.0, seed=3)
    same, same_sd = metrics.kid(a, b, subsets=20, subset_size=200)
    other, other_sd = metrics.kid(a, c, subsets=20, subset_size=200)
    assert abs(same) < 3 * same_sd + 1e-3 and other > 10 * other_sd > 0


# --- Inception Score -----------------------------------------------------------------------------

def test_inception_score_matches_scipy_entropy():
    p = np.random.default_rng(0).dirichlet(np.ones(10) * 0.3, size=200)
    expected = []
    for part in np.array_split(p, 4):
        marginal = part.mean(0)
        expected.append(np.exp(np.mean([stats.entropy(row, marginal) for row in part])))
    mean, sd = metrics.inception_score(p, splits=4)
    assert mean == pytest.approx(np.mean(expected), rel=1e-6) and sd == pytest.approx(np.std(expected), rel=1e-5)


def test_inception_score_bounds():
    assert metrics.inception_score(np.full((100, 10), 0.1))[0] == pytest.approx(1.0)
    confident = np.eye(10)[np.arange(100) % 10]
    assert metrics.inception_score(confident, splits=1)[0] == pytest.approx(10.0, rel=1e-6)
    one_class = np.eye(10)[np.zeros(100, int)]
    assert metrics.inception_score(one_class, splits=1)[0] == pytest.approx(1.0, rel=1e-6)


# --- precision, recall, density, coverage --------------------------------------------------------

def brute_force(x, y, k_pr=3, k_dc=5):
    dxx, dyy, dxy = spatial.distance.cdist(x, x), spatial.distance.cdist(y, y), spatial.distance.cdist(y, x)
    rx, ry = np.sort(dxx, 1)[:, k_pr], np.sort(dyy, 1)[:, k_pr]
    precision = np.mean([(dxy[j] <= rx).any() for j in range(len(y))])
    recall = np.mean([(dxy[:, i] <= ry).any() for i in range(len(x))])
    r5 = np.sort(dxx, 1)[:, k_dc]
    density = sum((dxy[j] <= r5).sum() for j in range(len(y))) / (k_dc * len(y))
    coverage = np.mean([(dxy[:, i] <= r5[i]).any() for i in range(len(x))])
    return precision, recall, density, coverage


def test_manifold_metrics_match_brute_force(monkeypatch):
    monkeypatch.setattr(manifold, "BLOCK", 37)  # exercise the blocking
    x, y = gaussian(150, d=4, seed=1), gaussian(120, d=4, shift=0.7, scale=0.8, seed=2)
    p, r, d, c = brute_force(x, y)
    assert metrics.precision_recall(x, y) == pytest.approx((p, r))
    assert metrics.density_coverage(x, y) == pytest.approx((d, c))


def test_manifold_metrics_known_cases():
    x, _ = clusters(500)
    assert metrics.precision_recall(x, x) == (1.0, 1.0)
    collapsed = np.repeat(x[:1], 500, axis=0)  # a generator that repeats one real image
    precision, recall = metrics.precision_recall(x, collapsed)
    assert precision == 1.0 and recall < 0.05
    density, coverage = metrics.density_coverage(x, collapsed)
    assert coverage < 0.05


# --- Likeness Score ------------------------------------------------------------------------------

def test_likeness_score_matches_scipy():
    x, y = gaussian(60, d=5, seed=1), gaussian(50, d=5, shift=0.4, seed=2)
    icd_x = spatial.distance.pdist(x)
    icd_y = spatial.distance.pdist(y)
    bcd = spatial.distance.cdist(x, y).ravel()
    expected = 1 - max(stats.ks_2samp(icd_x, bcd).statistic, stats.ks_2samp(icd_y, bcd).statistic)
    assert metrics.likeness_score(x, y) == pytest.approx(expected, abs=1e-9)
    assert likeness.ks_statistic(icd_x, bcd) == pytest.approx(stats.ks_2samp(icd_x, bcd).statistic, abs=1e-12)


def test_likeness_score_known_cases():
    x, _ = clusters(300, seed=1)
    y, _ = clusters(300, seed=2)
    good = metrics.likeness_score(x, y)
    assert good > 0.9
    assert metrics.likeness_score(x, np.repeat(y[:1], 300, axis=0)) < 0.3  # no diversity
    assert metrics.likeness_score(x, y + 50) < 0.3  # no inheritance


# --- mode coverage -------------------------------------------------------------------------------

def test_mode_coverage():
    uniform = np.full(10, 0.1)
    one = metrics.mode_coverage(np.eye(10)[np.full(200, 4)], uniform)
    assert one["classes_covered"] == 1 and one["coverage_fraction"] == 0.1
    assert one["kl_to_real"] == pytest.approx(np.log(10))
    every = metrics.mode_coverage(np.eye(10)[np.arange(200) % 10], uniform)
    assert every["coverage_fraction"] == 1.0 and every["kl_to_real"] == pytest.approx(0.0, abs=1e-12)
    p = np.random.default_rng(0).dirichlet(np.ones(10), 300)
    hist = np.bincount(p.argmax(1), minlength=10) / 300
    real = np.arange(1, 11) / 55
    assert metrics.mode_coverage(p, real)["kl_to_real"] == pytest.approx(stats.entropy(hist, real), rel=1e-9)


def test_conditional_accuracy():
    labels = np.arange(20) % 10
    probs = np.eye(10)[labels]
    probs[:5] = np.eye(10)[(labels[:5] + 1) % 10]
    assert metrics.conditional_accuracy(probs, labels) == 0.75


def test_kid_subsets_are_at_most_half_of_each_set():
    a, b = gaussian(40, seed=1), gaussian(40, seed=2)
    _, spread = metrics.kid(a, b, subsets=10)  # subsets of 20 of the 40: they differ, so they spread
    assert spread > 0
    with pytest.raises(ValueError, match="at least 4"):
        metrics.kid(a[:3], b)


# --- inputs that are not finite -------------------------------------------------------------------

@pytest.mark.parametrize("name, call", [
    ("fid", lambda r, g: metrics.fid(r, g)),
    ("kid", lambda r, g: metrics.kid(r, g, subsets=2)),
    ("pr", lambda r, g: metrics.precision_recall(r, g)),
    ("dc", lambda r, g: metrics.density_coverage(r, g)),
    ("likeness", lambda r, g: metrics.likeness_score(r, g)),
    ("is", lambda r, g: metrics.inception_score(np.abs(g), splits=2)),
    ("modes", lambda r, g: metrics.mode_coverage(g, np.ones(8))),
])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_every_metric_refuses_non_finite_inputs_in_one_line(name, call, bad):
    from keras_gan.errors import MetricInputError

    real, fake = gaussian(40, seed=1), gaussian(40, seed=2)
    fake[[3, 17], 2] = bad
    with pytest.raises(MetricInputError) as caught:
        call(real, fake)
    message = str(caught.value)
    assert "2 of 40 generated" in message and "NaN or infinite" in message and "\n" not in message
