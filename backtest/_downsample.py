"""Display downsampling that keeps every extreme a reader would look for."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["minmax_indices"]


def minmax_indices(values: npt.NDArray[np.float64], max_points: int) -> npt.NDArray[np.intp]:
    """Indices of about ``max_points`` samples keeping each bucket's min and max.

    The series is cut into ``max_points // 2`` equal buckets; from each the
    positions of its minimum and maximum are kept, in time order, so spikes,
    crossings and drawdown troughs survive. NaN (warm-up) is skipped; an
    all-NaN bucket keeps its first position, so gaps stay gaps. The first and
    last samples are always kept (so up to ``max_points + 2`` indices).

    Examples
    --------
    >>> y = np.array([0.0, 5.0, 1.0, 2.0, -3.0, 2.0, 1.0, 0.0])
    >>> minmax_indices(y, 4).tolist()
    [0, 1, 4, 5, 7]
    >>> minmax_indices(y, 100).tolist() == list(range(8))
    True
    """
    n = values.size
    if n <= max_points:
        return np.arange(n)
    buckets = max(max_points // 2, 1)
    width = -(-n // buckets)
    padded = np.full(buckets * width, np.nan)
    padded[:n] = values
    grid = padded.reshape(buckets, width)
    missing = np.isnan(grid)
    # ±inf stand-ins make NaN lose every comparison without a warning per bucket.
    low = np.argmin(np.where(missing, np.inf, grid), axis=1)
    high = np.argmax(np.where(missing, -np.inf, grid), axis=1)
    offsets = np.arange(buckets) * width
    keep = np.concatenate([[0, n - 1], offsets + low, offsets + high])
    return np.unique(keep[keep < n])
