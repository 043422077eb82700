"""The one check every metric makes of its inputs: finite values, or a one-line error saying how many
samples are not (NaN or infinite values come from a generator whose weights diverged)."""

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


def finite_pair(real, fake, what: str = "feature vectors") -> tuple[np.ndarray, np.ndarray]:
    """`real` and `fake` as float64 arrays, once both are checked."""
    check_finite(real, f"real {what}")
    check_finite(fake, f"generated {what}")
    return np.asarray(real, np.float64), np.asarray(fake, np.float64)
