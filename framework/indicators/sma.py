"""Simple moving average: the mean of the last ``period`` prices."""

from __future__ import annotations

import numpy.typing as npt

from framework.indicators._arrays import ratio, window_sums
from framework.indicators._base import RationalIndicator
from framework.indicators._limits import (
    EXACT,
    MAX_PERIOD,
    FloatArray,
    IntArray,
    check_denominator,
    check_int,
)

__all__ = ["SMA", "sma", "sma_exact"]


class SMA(RationalIndicator):
    """Simple moving average of ``period`` prices (first value at index ``period - 1``).

    How exactness is achieved: the window sum is an integer (a Python int here, int64
    differences of a cumulative sum in `sma`), kept below 2**53 by the input range
    ``|ticks| ≤ (2**53 - 1) // period``; the value is the single correctly rounded
    division ``sum / float(period * scale)`` in both twins. `exact` gives the fraction.

    Parameters
    ----------
    period : int
        Prices averaged, 1 to `MAX_PERIOD`.
    scale, lookback : int
        Ticks per price unit, and previous values kept readable (see `Indicator`).

    Examples
    --------
    >>> sma = SMA(3)
    >>> [sma.update(x) for x in (1, 2, 3, 4)]
    [None, None, 2.0, 3.0]
    >>> sma.exact(), sma.get(ago=1)
    ((9, 3), 2.0)
    >>> sma.batch([1, 2, 3, 4])["value"].tolist()
    [nan, nan, 2.0, 3.0]
    """

    kind = "sma"
    __slots__ = ("_total",)
    _total: int

    def __init__(self, period: int, *, scale: int = 1, lookback: int = 1) -> None:
        self.period = check_int("SMA", "period", period, 1, MAX_PERIOD)
        super().__init__(
            scale=scale, lookback=lookback, bound=EXACT // period, rule="period × |ticks| < 2**53"
        )
        self._set_denominator(check_denominator(type(self).__name__, period * self.scale))
        self._open_window()

    def update(self, price: int) -> float | None:
        """Add one price in ticks; return the average, None during warm-up."""
        bound = self._bound
        if not -bound <= price <= bound:
            raise self.limit.error(price)
        window = self._window
        total = self._total + price - window[0]
        window.append(price)
        self._total = total
        if self._count:
            self._count -= 1
            if self._count:
                self._history.append(None)
                return None
        self._history.append(total)
        return total / self._den_f

    def _batch(self, prices: npt.ArrayLike) -> dict[str, FloatArray]:
        return {"value": sma(prices, self.period, scale=self.scale)}

    def _batch_exact(self, prices: npt.ArrayLike) -> tuple[IntArray, int]:
        return sma_exact(prices, self.period, scale=self.scale)

    def _derive(self) -> None:
        self._total = sum(self._window)


def sma_exact(prices: npt.ArrayLike, period: int, scale: int = 1) -> tuple[IntArray, int]:
    """Exact SMA over a whole series: (window sums, ``period * scale``).

    Numerators in the warm-up (before index ``period - 1``) are partial sums; use the NaN
    positions of `sma` to tell them apart.

    Examples
    --------
    >>> numerators, denominator = sma_exact([1, 2, 3, 4], 3)
    >>> numerators[2:].tolist(), denominator
    ([6, 9], 3)
    """
    config = SMA(period, scale=scale)  # validates the parameters, knows the input range
    return window_sums(config.limit.ticks(prices), period), config.denominator


def sma(prices: npt.ArrayLike, period: int, scale: int = 1) -> FloatArray:
    """SMA of int64 ticks in price units, NaN in the warm-up (see `SMA`).

    Examples
    --------
    >>> sma([110000, 110010, 110020, 110050], 2, scale=100_000).tolist()
    [nan, 1.10005, 1.10015, 1.10035]
    """
    return ratio(*sma_exact(prices, period, scale), first=period - 1)
