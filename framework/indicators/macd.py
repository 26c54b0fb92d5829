"""MACD: the difference of a fast and a slow EMA, its signal EMA and their histogram."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from framework.indicators import _snapshot as snap
from framework.indicators._arrays import nan_before, smooth
from framework.indicators._base import Indicator
from framework.indicators._limits import EXACT, MAX_PERIOD, FloatArray, check_int
from framework.indicators.ema import EMA

__all__ = ["MACD", "MACDValue", "macd"]


class MACDValue(NamedTuple):
    """One bar of MACD, in price units."""

    macd: float
    signal: float
    histogram: float


class MACD(Indicator):
    """MACD(fast, slow, signal), composed of three `EMA` objects, aligned as TA-Lib.

    macd = EMA_fast − EMA_slow, signal = EMA_signal(macd), histogram = macd − signal.
    As in TA-Lib, the fast EMA starts ``slow − fast`` bars late, so that both EMAs give
    their first value at index ``slow − 1``; the signal EMA is seeded with the mean of
    the first ``signal`` MACD values. All three outputs start at index
    ``slow + signal − 2`` (33 for 12/26/9) and are None (NaN) before.

    How exactness is achieved: each EMA is exact on its own (see `EMA`); the MACD line
    is ``fast_value - slow_value`` and the histogram ``macd - signal`` in both twins;
    the signal line's seed is a left-to-right float sum in both. Input range
    ``|ticks| ≤ (2**53 - 1) // max(slow, 3·signal)``.

    Parameters
    ----------
    fast, slow, signal : int, default 12, 26, 9
        Periods of the EMAs, ``fast < slow``.
    scale, lookback : int
        Ticks per price unit, and previous values kept readable (see `Indicator`).

    Examples
    --------
    >>> macd = MACD(1, 3, 2)
    >>> [macd.update(x) for x in (10, 12, 14, 18)]
    [None, None, None, MACDValue(macd=3.0, signal=2.5, histogram=0.5)]
    """

    kind = "macd"
    outputs = ("macd", "signal", "histogram")
    _params = ("fast", "slow", "signal")
    _entry = MACDValue
    __slots__ = ("_delay", "_fast", "_signal", "_slow", "fast", "signal", "slow")

    def __init__(
        self, fast: int = 12, slow: int = 26, signal: int = 9, *, scale: int = 1, lookback: int = 1
    ) -> None:
        self.fast = check_int("MACD", "fast", fast, 1, MAX_PERIOD - 1)
        self.slow = check_int("MACD", "slow", slow, self.fast + 1, MAX_PERIOD)
        self.signal = check_int("MACD", "signal", signal, 1, MAX_PERIOD)
        # The slow EMA's seed sum stays exact; the signal EMA sees |macd| ≤ 2·|ticks| (and
        # a few ulps: EMAs may overshoot their inputs by rounding), well inside 3·|ticks|.
        bound = EXACT // max(slow, 3 * signal)
        rule = "max(slow, 3·signal) × |ticks| < 2**53"
        super().__init__(scale=scale, lookback=lookback, bound=bound, rule=rule)
        self._fast = EMA(fast, scale=self.scale, lookback=0)
        self._slow = EMA(slow, scale=self.scale, lookback=0)
        self._signal = EMA(signal, lookback=0)
        self._delay = slow - fast  # bars before the fast EMA starts

    def update(self, price: int) -> MACDValue | None:
        """Add one price in ticks; return the MACD values, None during warm-up."""
        bound = self._bound
        if not -bound <= price <= bound:
            raise self.limit.error(price)
        slow = self._slow.update(price)
        if self._delay:
            self._delay -= 1
            self._history.append(None)
            return None
        fast = self._fast.update(price)
        line = None if fast is None or slow is None else fast - slow
        signal = None if line is None else self._signal.update(line)
        value = None if line is None or signal is None else MACDValue(line, signal, line - signal)
        self._history.append(value)
        return value

    def _batch(self, prices: npt.ArrayLike) -> dict[str, FloatArray]:
        return macd(prices, self.fast, self.slow, self.signal, scale=self.scale)

    def _state(self) -> list[Any]:
        return [self._delay, self._fast._dump(), self._slow._dump(), self._signal._dump()]

    def _set_state(self, state: list[Any]) -> None:
        delay, fast, slow, signal = snap.fields(state, 4)
        self._delay = snap.an_int(delay, 0, self.slow - self.fast, "bars before the fast EMA")
        self._fast._load(fast)
        self._slow._load(slow)
        self._signal._load(signal)


def macd(
    prices: npt.ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9, scale: int = 1
) -> dict[str, FloatArray]:
    """MACD of int64 ticks: ``{"macd", "signal", "histogram"}`` arrays (see `MACD`).

    Examples
    --------
    >>> macd([10, 12, 14, 18], 1, 3, 2)["histogram"].tolist()
    [nan, nan, nan, 0.5]
    """
    config = MACD(fast, slow, signal, scale=scale)  # validates the parameters, knows the range
    ticks = config.limit.ticks(prices).astype(np.float64)
    scale_f = float(config.scale)
    fast_ema = smooth(ticks, fast, EMA.coefficients(fast), start=slow - fast) / scale_f
    line = fast_ema - smooth(ticks, slow, EMA.coefficients(slow)) / scale_f
    signal_ema = smooth(line, signal, EMA.coefficients(signal), start=slow - 1)
    histogram = line - signal_ema
    return {
        "macd": nan_before(line, slow + signal - 2),
        "signal": signal_ema,
        "histogram": histogram,
    }
