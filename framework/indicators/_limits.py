"""Parameter checks and the exact-arithmetic limits shared by every indicator.

Every indicator keeps its integer sums below `EXACT` (2**53 − 1), so that converting
a sum to float64 is exact and the one division that follows is correctly rounded —
in Python and in numpy alike. Each indicator derives from its parameters a `Limit`: the
largest input magnitude (in ticks) that keeps its sums below `EXACT`, checked once per
incremental update (one comparison) and once per batch array (its min and max).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from framework.errors import IndicatorRangeError, ParameterError

__all__ = [
    "EXACT",
    "MAX_PERIOD",
    "FloatArray",
    "IntArray",
    "Limit",
    "check_denominator",
    "check_int",
    "label",
    "same_length",
]

#: Largest integer every value up to which float64 represents exactly.
EXACT = 2**53 - 1
#: Longest window an indicator accepts; state grows with the window.
MAX_PERIOD = 1_000_000

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def label(kind: str, *params: object) -> str:
    """An indicator's display name from its defining parameters, e.g. ``SMA(50)``."""
    return f"{kind}({', '.join(str(value) for value in params)})"


def check_int(owner: str, name: str, value: object, minimum: int, maximum: int = EXACT) -> int:
    """Return ``value`` if it is an int in ``[minimum, maximum]``, else raise `ParameterError`.

    Examples
    --------
    >>> check_int("SMA", "period", 0, 1)
    Traceback (most recent call last):
    ...
    framework.errors.ParameterError: SMA period must be an integer ≥ 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParameterError(f"{owner} {name} must be an integer ≥ {minimum}, got {value!r}")
    if value < minimum:
        raise ParameterError(f"{owner} {name} must be an integer ≥ {minimum}, got {value}")
    if value > maximum:
        raise ParameterError(f"{owner} {name} must be at most {maximum}, got {value}")
    return int(value)


def check_denominator(owner: str, denominator: int) -> int:
    """Return ``denominator`` if float64 holds it exactly, else raise `ParameterError`."""
    if denominator > EXACT:
        raise ParameterError(
            f"{owner}: the divisor {denominator} (window weight × scale) must stay below 2**53"
        )
    return denominator


def same_length(owner: str, arrays: tuple[IntArray, ...]) -> None:
    """Raise `ParameterError` unless the input arrays have one length."""
    if len({array.size for array in arrays}) > 1:
        sizes = ", ".join(str(array.size) for array in arrays)
        raise ParameterError(f"{owner}: input arrays differ in length ({sizes})")


@dataclass(frozen=True, slots=True)
class Limit:
    """The supported input range ``|ticks| ≤ bound`` of one configured indicator.

    Parameters
    ----------
    owner : str
        The indicator's name, for messages (``"SMA(50)"``).
    bound : int
        Largest supported input magnitude in ticks.
    rule : str
        Why the bound exists, in words.

    Examples
    --------
    >>> Limit("SMA(3)", 10, "period × |ticks| < 2**53").ticks([1, 2, 11])
    Traceback (most recent call last):
    ...
    framework.errors.IndicatorRangeError: SMA(3): input 11 ticks (index 2) is outside ±10 ticks ...
    """

    owner: str
    bound: int
    rule: str

    def __post_init__(self) -> None:
        if self.bound < 1:
            raise ParameterError(
                f"{self.owner}: parameters leave no exact input range ({self.rule})"
            )

    def error(self, value: object, where: str = "") -> IndicatorRangeError:
        """The error for an input outside the range (``where`` locates it)."""
        return IndicatorRangeError(
            f"{self.owner}: input {value} ticks{where} is outside ±{self.bound} ticks "
            f"supported exactly ({self.rule})"
        )

    def ticks(self, values: npt.ArrayLike) -> IntArray:
        """One batch input as a 1-d int64 array, checked against the range."""
        array = np.asarray(values)
        if array.ndim != 1 or array.dtype == np.bool_ or array.dtype.kind not in "iu":
            raise ParameterError(
                f"{self.owner} takes a 1-d array of integer ticks, got {array.ndim}-d {array.dtype}"
            )
        if array.size and (array.max() > self.bound or array.min() < -self.bound):
            index = int(np.flatnonzero((array > self.bound) | (array < -self.bound))[0])
            raise self.error(int(array[index]), f" (index {index})")
        return array.astype(np.int64, copy=False)
