"""Rolling population standard deviation of the last ``period`` prices."""

from __future__ import annotations

from math import sqrt
from operator import index

import numpy as np
import numpy.typing as npt

from framework.indicators._arrays import window_sums
from framework.indicators._base import WindowIndicator
from framework.indicators._limits import EXACT, MAX_PERIOD, FloatArray, check_denominator, check_int

__all__ = ["StdDev", "stddev"]


class StdDev(WindowIndicator):
    """Population standard deviation (ddof = 0, as TA-Lib STDDEV and Bollinger bands).

    How exactness is achieved: with integer window sums ``S = Σx`` and ``Q = Σx²``, the
    variance numerator ``N = n·Q − S²`` (= n² · variance) is an exact integer; the value
    is ``sqrt(float(N)) / float(n · scale)`` in both twins — one correctly rounded
    conversion, IEEE sqrt, one division. The incremental twin uses Python ints (no
    limit); the batch twin uses int64, exact modulo 2**64 while the true ``N < 2**63``
    — guaranteed when ``(n · (max − min))² < 2**65`` (Popoviciu: variance ≤ range²/4) —
    and Python-int object arrays beyond. Inputs up to ``2**53 - 1`` ticks.

    Parameters
    ----------
    period : int
        Prices in the window, 1 to `MAX_PERIOD`.
    scale, lookback : int
        Ticks per price unit, and previous values kept readable (see `Indicator`).

    Examples
    --------
    >>> std = StdDev(2)
    >>> [std.update(x) for x in (1, 3, 3, 10)]
    [None, 1.0, 0.0, 3.5]
    """

    kind = "stddev"
    __slots__ = ("_den_f", "_squares", "_total")
    _total: int
    _squares: int

    def __init__(self, period: int, *, scale: int = 1, lookback: int = 1) -> None:
        self.period = check_int("StdDev", "period", period, 1, MAX_PERIOD)
        rule = "ticks convert to float64 exactly"
        super().__init__(scale=scale, lookback=lookback, bound=EXACT, rule=rule)
        self._den_f = float(check_denominator(type(self).__name__, period * self.scale))
        self._open_window()

    def update(self, price: int) -> float | None:
        """Add one price in ticks; return the deviation in price units, None in warm-up."""
        bound = self._bound
        if not -bound <= price <= bound:
            raise self.limit.error(price)
        price = index(price)  # a numpy integer would overflow when squared
        window = self._window
        oldest = window[0]
        window.append(price)
        total = self._total = self._total + price - oldest
        squares = self._squares = self._squares + price * price - oldest * oldest
        if self._count:
            self._count -= 1
            if self._count:
                self._history.append(None)
                return None
        value = sqrt(self.period * squares - total * total) / self._den_f
        self._history.append(value)
        return value

    def _batch(self, prices: npt.ArrayLike) -> dict[str, FloatArray]:
        return {"value": stddev(prices, self.period, scale=self.scale)}

    def _derive(self) -> None:
        self._total = sum(self._window)
        self._squares = sum(x * x for x in self._window)


def stddev(prices: npt.ArrayLike, period: int, scale: int = 1) -> FloatArray:
    """Rolling population standard deviation of int64 ticks in price units (see `StdDev`).

    Examples
    --------
    >>> stddev([110000, 110010, 110010], 2, scale=100_000).tolist()
    [nan, 5e-05, 0.0]
    """
    config = StdDev(period, scale=scale)  # validates the parameters, knows the input range
    ticks = config.limit.ticks(prices)
    spread = int(ticks.max()) - int(ticks.min()) if ticks.size else 0
    values = ticks if (period * spread) ** 2 < 2**65 else ticks.astype(object)
    total = window_sums(values, period)[period - 1 :]
    squares = window_sums(values * values, period)[period - 1 :]
    out = np.full(ticks.size, np.nan)
    out[period - 1 :] = np.sqrt((period * squares - total * total).astype(np.float64))
    out /= config._den_f
    return out
