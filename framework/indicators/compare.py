"""Exact comparison of two indicator values — what a crossover decision needs.

Two averages that print as the same float may still differ: SMA(3) = 1e15 + 1/3 and
SMA(7) = 1e15 + 3/7 round to the same float64. When both values have an exact
fraction (`Indicator.exact`), they are compared exactly by integer cross-multiplication;
otherwise their floats are compared (the floats are then the definition).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from framework.errors import ParameterError
from framework.indicators._base import Indicator, RationalIndicator

__all__ = ["compare", "compare_arrays", "tie_breaker"]

Exact = tuple[int, int]
ExactArray = tuple[npt.NDArray[Any], int]


def compare(
    a_value: float | None, a_exact: Exact | None, b_value: float | None, b_exact: Exact | None
) -> int:
    """The sign of ``a − b``: -1, 0 or 1; 0 also when either is warming up (None/NaN).

    Examples
    --------
    >>> compare(1e15 + 0.375, (3 * 10**15 + 1, 3), 1e15 + 0.375, (7 * 10**15 + 3, 7))
    -1
    >>> compare(1.5, None, 1.25, (5, 4)), compare(None, None, 1.0, None)
    (1, 0)
    """
    if a_value is None or b_value is None or a_value != a_value or b_value != b_value:
        return 0
    if a_exact is not None and b_exact is not None:
        (a_num, a_den), (b_num, b_den) = a_exact, b_exact
        # Python ints: numpy integers could overflow the cross products silently.
        difference = int(a_num) * int(b_den) - int(b_num) * int(a_den)
        return (difference > 0) - (difference < 0)
    return (a_value > b_value) - (a_value < b_value)


def tie_breaker(a: Indicator, b: Indicator) -> Callable[[], int]:
    """How `compare` orders the current values of ``a`` and ``b`` when their floats are equal.

    Floats that differ already give `compare`'s answer: an exact value comes with a
    correctly rounded float, and rounding is monotonic (see `compare_arrays`). Only equal
    floats of two rational indicators (SMA, WMA) need their exact fractions, compared by
    the same integer cross-multiplication `compare` makes, straight from the numerators;
    equal floats of other indicators are equal values (NaN, which `compare` calls 0, is
    never above or below anything either). Call it only after both are warm.

    Examples
    --------
    >>> from framework.indicators import SMA
    >>> a, b = SMA(3), SMA(7)
    >>> for price in [10**15 + 1, 10**15, 10**15 + 1, 10**15, 10**15, 10**15, 10**15 + 1]:
    ...     _ = a.update(price), b.update(price)
    >>> a.get() == b.get(), tie_breaker(a, b)()  # 1e15 + 1/3 < 1e15 + 3/7
    (True, -1)
    """
    if isinstance(a, RationalIndicator) and isinstance(b, RationalIndicator):
        a_den, b_den = a.denominator, b.denominator

        def exact() -> int:
            # Python ints, as in `compare`: numpy integers could overflow silently.
            difference = int(a._history[-1]) * b_den - int(b._history[-1]) * a_den
            return (difference > 0) - (difference < 0)

        return exact
    return _equal


def _equal() -> int:
    return 0


def compare_arrays(
    a_values: npt.ArrayLike,
    a_exact: ExactArray | None,
    b_values: npt.ArrayLike,
    b_exact: ExactArray | None,
) -> npt.NDArray[np.int8]:
    """`compare` at every position of two series (exact forms from ``batch_exact``).

    Fast and still exact: floats are compared first, and only where they are equal are
    the fractions cross-multiplied. This is sound because exact values come with
    correctly rounded floats (numerator and denominator below 2**53, one division),
    and rounding is monotonic: ``fl(a) < fl(b)`` implies ``a < b``. Warm-up (NaN) → 0.

    Examples
    --------
    >>> compare_arrays([np.nan, 2.0, 2.0], None, [1.0, 1.0, 3.0], None).tolist()
    [0, 1, -1]
    """
    a = np.asarray(a_values, dtype=np.float64)
    b = np.asarray(b_values, dtype=np.float64)
    if a.shape != b.shape:
        raise ParameterError(f"compare_arrays: series differ in shape ({a.shape}, {b.shape})")
    signs = (a > b).astype(np.int8) - (a < b).astype(np.int8)
    if a_exact is not None and b_exact is not None:
        ties = np.flatnonzero(a == b)
        (a_num, a_den), (b_num, b_den) = a_exact, b_exact
        signs[ties] = _sign(_cross(a_num[ties], b_den) - _cross(b_num[ties], a_den))
    return signs


def _cross(numerators: npt.NDArray[Any], denominator: int) -> npt.NDArray[Any]:
    """``numerators · denominator`` exactly: int64 while it fits, Python ints beyond."""
    largest = int(np.abs(numerators).max()) if numerators.size else 0
    fits = largest * denominator < 2**62  # the difference of two such products fits too
    return numerators * denominator if fits else numerators.astype(object) * denominator


def _sign(values: npt.NDArray[Any]) -> npt.NDArray[np.int8]:
    return (values > 0).astype(np.int8) - (values < 0).astype(np.int8)
