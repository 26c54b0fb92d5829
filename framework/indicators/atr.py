"""Average true range (Wilder) from high, low and close."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from framework.indicators import _snapshot as snap
from framework.indicators._arrays import smooth
from framework.indicators._base import Indicator
from framework.indicators._limits import EXACT, MAX_PERIOD, FloatArray, check_int, same_length
from framework.indicators.ema import WilderAverage

__all__ = ["ATR", "atr"]


class ATR(Indicator):
    """Wilder's average true range over ``period`` bars (first value at index ``period``).

    The true range of bar ``t ≥ 1`` is ``max(h − l, |h − c_prev|, |l − c_prev|)``; the
    first ATR is the mean of the true ranges of bars 1..period, then Wilder's smoothing,
    as TA-Lib does.

    How exactness is achieved: true ranges are exact integers; the average is a
    `WilderAverage` (exact integer seed, then ``a * x + b * e``, divided by ``scale``)
    mirrored by `smooth` in the batch twin. The input range
    ``|ticks| ≤ (2**53 - 1) // (2·period)`` keeps the seed sum exact.

    Parameters
    ----------
    period : int, default 14
        True ranges averaged, 1 to `MAX_PERIOD`.
    scale, lookback : int
        Ticks per price unit, and previous values kept readable (see `Indicator`).

    Examples
    --------
    >>> atr = ATR(2)
    >>> [atr.update(*bar) for bar in [(12, 9, 10), (13, 10, 12), (15, 12, 14), (14, 13, 13)]]
    [None, None, 3.0, 2.0]
    """

    kind = "atr"
    inputs = ("high", "low", "close")
    __slots__ = ("_close", "_range", "period")

    def __init__(self, period: int = 14, *, scale: int = 1, lookback: int = 1) -> None:
        self.period = check_int("ATR", "period", period, 1, MAX_PERIOD)
        bound = EXACT // (2 * period)
        super().__init__(
            scale=scale, lookback=lookback, bound=bound, rule="2·period·|ticks| < 2**53"
        )
        self._range = WilderAverage(period, scale=self.scale, lookback=0)
        self._close: int | None = None

    def update(self, high: int, low: int, close: int) -> float | None:
        """Add one bar in ticks; return the ATR in price units, None during warm-up."""
        bound = self._bound
        for price in (high, low, close):
            if not -bound <= price <= bound:
                raise self.limit.error(price)
        previous, self._close = self._close, close
        if previous is None:
            self._history.append(None)
            return None
        value = self._range.update(max(high - low, abs(high - previous), abs(low - previous)))
        self._history.append(value)
        return value

    def _batch(
        self, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike
    ) -> dict[str, FloatArray]:
        return {"value": atr(high, low, close, self.period, scale=self.scale)}

    def _state(self) -> list[Any]:
        return [self._close, self._range._dump()]

    def _set_state(self, state: list[Any]) -> None:
        close, average = snap.fields(state, 2)
        self._close = snap.maybe_int(close, self._bound, "the previous close")
        self._range._load(average)


def atr(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14, scale: int = 1
) -> FloatArray:
    """ATR of int64 tick arrays in price units, NaN in the warm-up (see `ATR`).

    Examples
    --------
    >>> atr([12, 13, 15, 14], [9, 10, 12, 13], [10, 12, 14, 13], 2).tolist()
    [nan, nan, 3.0, 2.0]
    """
    config = ATR(period, scale=scale)  # validates the parameters, knows the input range
    highs, lows, closes = arrays = tuple(config.limit.ticks(x) for x in (high, low, close))
    same_length(config.name, arrays)
    previous = closes[:-1]
    true_range = np.maximum(highs[1:] - lows[1:], np.abs(highs[1:] - previous))
    true_range = np.maximum(true_range, np.abs(lows[1:] - previous))
    coefficients = WilderAverage.coefficients(period)
    out = np.full(highs.size, np.nan)
    out[1:] = smooth(true_range.astype(np.float64), period, coefficients) / float(config.scale)
    return out
