"""Exponential moving average (α = 2/(n+1), seeded with the SMA of the first n prices)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from framework.indicators import _snapshot as snap
from framework.indicators._arrays import smooth
from framework.indicators._base import Indicator
from framework.indicators._limits import EXACT, MAX_PERIOD, FloatArray, check_int

__all__ = ["EMA", "WilderAverage", "ema"]


class EMA(Indicator):
    """Exponential moving average, the charting convention (as TA-Lib's EMA).

    The first value, at index ``period - 1``, is the mean of the first ``period``
    prices; then ``e = a·x + b·e_prev`` with ``a = 2/(n+1)``, ``b = (n-1)/(n+1)``, in
    ticks; the value is ``e / scale``.

    How exactness is achieved: the seed is an exact integer sum divided once (the input
    range ``|ticks| ≤ (2**53 - 1) // period`` keeps it below 2**53); the recursion is the
    identical float expression ``a * x + b * e`` in both twins — the batch twin runs
    ``scipy.signal.lfilter([a], [1, -b], x, zi=[b * seed])``, whose C loop evaluates
    exactly that (verified bit for bit by the property tests). Floats are accepted as
    inputs too (MACD feeds its signal line); their seed is summed left to right in both
    twins.

    Parameters
    ----------
    period : int
        Prices in the seed; α = 2 / (period + 1), 1 to `MAX_PERIOD`.
    scale, lookback : int
        Ticks per price unit, and previous values kept readable (see `Indicator`).

    Examples
    --------
    >>> ema = EMA(3)
    >>> [ema.update(x) for x in (1, 2, 3, 5)]
    [None, None, 2.0, 3.5]
    >>> ema.batch([1, 2, 3, 5])["value"].tolist()
    [nan, nan, 2.0, 3.5]
    """

    kind = "ema"
    __slots__ = ("_a", "_b", "_count", "_ema", "_scale_f", "_total", "period")

    def __init__(self, period: int, *, scale: int = 1, lookback: int = 1) -> None:
        self.period = check_int(type(self).__name__, "period", period, 1, MAX_PERIOD)
        super().__init__(
            scale=scale, lookback=lookback, bound=EXACT // period, rule="period × |ticks| < 2**53"
        )
        self._a, self._b = self.coefficients(period)
        self._scale_f = float(self.scale)
        self._count = period  # updates left in the warm-up
        self._total: int | float = 0
        self._ema: float | None = None

    @staticmethod
    def coefficients(period: int) -> tuple[float, float]:
        """``(a, b)`` of the recursion ``e = a·x + b·e_prev``."""
        return 2 / (period + 1), (period - 1) / (period + 1)

    def update(self, price: float) -> float | None:
        """Add one price in ticks; return the average, None during warm-up."""
        bound = self._bound
        if not -bound <= price <= bound:
            raise self.limit.error(price)
        ema = self._ema
        if ema is None:
            self._total += price
            self._count -= 1
            if self._count:
                self._history.append(None)
                return None
            ema = self._total / self.period
        else:
            ema = self._a * price + self._b * ema
        self._ema = ema
        value = ema / self._scale_f
        self._history.append(value)
        return value

    def _batch(self, prices: npt.ArrayLike) -> dict[str, FloatArray]:
        return {"value": ema(prices, self.period, scale=self.scale)}

    def _state(self) -> list[Any]:
        return [self._count, self._total, self._ema]

    def _set_state(self, state: list[Any]) -> None:
        count, total, ema = snap.fields(state, 3)
        self._count = snap.an_int(count, 0, self.period, "updates left in the warm-up")
        self._total = snap.number(total, "a seed sum")
        snap.require(ema is None if count else type(ema) is float, "an average after the warm-up")
        self._ema = ema


class WilderAverage(EMA):
    """Wilder's smoothing (RSI, ATR): an EMA with ``a = 1/n``, ``b = (n-1)/n``."""

    __slots__ = ()

    @staticmethod
    def coefficients(period: int) -> tuple[float, float]:
        """``(a, b)`` of the recursion ``e = a·x + b·e_prev``."""
        return 1 / period, (period - 1) / period


def ema(prices: npt.ArrayLike, period: int, scale: int = 1) -> FloatArray:
    """EMA of int64 ticks in price units, NaN in the warm-up (see `EMA`).

    Examples
    --------
    >>> ema([100, 102, 104, 110], 2, scale=100).tolist()
    [nan, 1.01, 1.03, 1.0766666666666667]
    """
    config = EMA(period, scale=scale)  # validates the parameters, knows the input range
    ticks = config.limit.ticks(prices).astype(np.float64)  # exact: |ticks| < 2**53
    values = smooth(ticks, period, config.coefficients(period))
    values /= float(config.scale)
    return values
