"""Vectorized building blocks of the batch twins (numpy, no Python loops)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from framework.indicators._limits import FloatArray, IntArray

__all__ = ["nan_before", "ratio", "smooth", "window_max", "window_sums"]


def window_sums(values: npt.NDArray[Any], period: int) -> npt.NDArray[Any]:
    """Sum of the ``period`` values ending at each position (fewer at the start).

    Differences of a cumulative sum. With int64 the cumulative sum may wrap around,
    but the differences are exact modulo 2**64, hence exact whenever the window sums
    themselves fit in int64. Works on object arrays (Python ints) too.

    Examples
    --------
    >>> window_sums(np.array([1, 2, 3, 4]), 3).tolist()
    [1, 3, 6, 9]
    """
    sums = np.cumsum(values)
    sums[period:] -= sums[:-period].copy()
    return sums


def window_max(values: IntArray, period: int) -> IntArray:
    """Maximum of the ``period`` values ending at each position (fewer at the start).

    By doubling: after the step of width ``w``, each position holds the maximum of the
    ``2w`` values ending there; a last step joins two overlapping power-of-two windows.
    ``log2(period)`` vectorized passes, comparisons only — exact for any integers.

    Examples
    --------
    >>> window_max(np.array([5, 1, 2, 3, 9, 0, 0, 0, 1]), 3).tolist()
    [5, 5, 5, 3, 9, 9, 9, 0, 1]
    """
    out = values.copy()
    width = 1
    while 2 * width <= period:
        out[width:] = np.maximum(out[width:], out[:-width])  # numpy buffers the overlap
        width *= 2
    if period > width:
        out[period - width :] = np.maximum(out[period - width :], out[: width - period])
    return out


def nan_before(values: FloatArray, first: int) -> FloatArray:
    """``values`` with NaN at every position before ``first`` (the warm-up)."""
    values[: max(first, 0)] = np.nan
    return values


def ratio(numerators: IntArray, denominator: int, first: int) -> FloatArray:
    """``numerators / denominator`` as float64 with one correctly rounded division each.

    Both operands convert to float64 exactly (they are below 2**53), exactly like
    ``total / float(denominator)`` in the incremental twins.
    """
    return nan_before(numerators.astype(np.float64) / float(denominator), first)


def smooth(
    values: FloatArray, period: int, coefficients: tuple[float, float], start: int = 0
) -> FloatArray:
    """The batch recursion shared by EMA, Wilder's averages (RSI, ATR) and MACD.

    Seed at ``start + period - 1``: the left-to-right sum of ``values[start:][:period]``
    (`numpy.cumsum` is sequential) over ``period``; then ``y = a·x + b·y_prev``. NaN before.
    """
    from scipy.signal import lfilter  # deferred: importing scipy.signal takes ~1 s

    a, b = coefficients
    first = start + period - 1
    if values.size <= first:
        return np.full(values.size, np.nan)
    seed = np.cumsum(values[start : first + 1])[-1] / period
    tail = lfilter([a], [1.0, -b], values[first + 1 :], zi=[b * seed])[0]
    return np.concatenate([np.full(first, np.nan), [seed], tail])
