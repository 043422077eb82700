"""The checks every metric makes of its inputs, each a one-line error naming the set and what to do:
at least two samples (a distribution of one sample has no spread to compare), and finite values
(NaN or infinite values come from a generator whose weights diverged)."""

import numpy as np

from keras_gan.errors import MetricInputError


def check_finite(values, what: str) -> None:
    """Raises MetricInputError if `values` (one row per sample) hold a NaN or an infinity."""
    a = np.asarray(values)
    if a.dtype.kind in "fc" and a.size and not np.isfinite(a).all():
        rows = a.reshape(len(a), -1) if a.ndim > 1 else a.reshape(-1, 1)
        broken = int(np.sum(~np.isfinite(rows).all(axis=1)))
        raise MetricInputError(f"{broken} of {len(a)} {what} hold NaN or infinite values; the metrics need finite "
                               "values (a generator whose weights diverged makes such images).")


def check_samples(values, what: str, at_least: int = 2) -> None:
    """Raises MetricInputError unless `values` holds at least `at_least` samples (rows), all finite."""
    count = len(values) if np.ndim(values) else 0
    if count < at_least:
        raise MetricInputError(f"{count} {what}: the metrics compare distributions and need at least {at_least} "
                               "samples in each set; give more (--num_samples, or a larger image file).")
    check_finite(values, what)


def finite_pair(real, fake, what: str = "feature vectors") -> tuple[np.ndarray, np.ndarray]:
    """`real` and `fake` as float64 arrays, once both are checked."""
    check_samples(real, f"real {what}")
    check_samples(fake, f"generated {what}")
    return np.asarray(real, np.float64), np.asarray(fake, np.float64)
