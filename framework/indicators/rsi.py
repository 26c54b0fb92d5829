"""Relative strength index (Wilder): 100 · avg gain / (avg gain + avg loss)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from framework.indicators import _snapshot as snap
from framework.indicators._arrays import smooth
from framework.indicators._base import Indicator
from framework.indicators._limits import EXACT, MAX_PERIOD, FloatArray, check_int
from framework.indicators.ema import WilderAverage

__all__ = ["RSI", "rsi"]


class RSI(Indicator):
    """Wilder's RSI over ``period`` price changes (first value at index ``period``).

    Gains and losses are the positive and negative parts of each change; their first
    averages are the simple means of the first ``period`` changes, then Wilder's
    smoothing (`WilderAverage`), as TA-Lib does. When both averages are 0 (no movement
    at all) the RSI is 50. The value does not depend on ``scale``.

    How exactness is achieved: changes are exact integer differences; the averages are
    `WilderAverage` objects (exact integer seed, then ``a * x + b * e``) mirrored by
    `smooth` in the batch twin; the value is ``100.0 * (gain / (gain + loss))`` in both
    (exactly 100 without losses, exactly 0 without gains).
    The input range ``|ticks| ≤ (2**53 - 1) // (2·period)`` keeps the seed sums exact.

    Parameters
    ----------
    period : int, default 14
        Price changes averaged, 1 to `MAX_PERIOD`.
    scale, lookback : int
        Ticks per price unit, and previous values kept readable (see `Indicator`).

    Examples
    --------
    >>> rsi = RSI(2)
    >>> [rsi.update(x) for x in (10, 12, 11, 11, 14)]
    [None, None, 66.66666666666666, 66.66666666666666, 93.33333333333333]
    """

    kind = "rsi"
    __slots__ = ("_gains", "_losses", "_previous", "period")

    def __init__(self, period: int = 14, *, scale: int = 1, lookback: int = 1) -> None:
        self.period = check_int("RSI", "period", period, 1, MAX_PERIOD)
        super().__init__(
            scale=scale,
            lookback=lookback,
            bound=EXACT // (2 * period),
            rule="2 × period × |ticks| < 2**53",
        )
        self._gains = WilderAverage(period, lookback=0)
        self._losses = WilderAverage(period, lookback=0)
        self._previous: int | None = None

    def update(self, price: int) -> float | None:
        """Add one price in ticks; return the RSI (0..100), None during warm-up."""
        bound = self._bound
        if not -bound <= price <= bound:
            raise self.limit.error(price)
        previous, self._previous = self._previous, price
        if previous is None:
            self._history.append(None)
            return None
        change = price - previous
        gain = self._gains.update(change if change > 0 else 0)
        loss = self._losses.update(-change if change < 0 else 0)
        if gain is None or loss is None:
            self._history.append(None)
            return None
        total = gain + loss
        value = 100.0 * (gain / total) if total else 50.0
        self._history.append(value)
        return value

    def _batch(self, prices: npt.ArrayLike) -> dict[str, FloatArray]:
        return {"value": rsi(prices, self.period)}

    def _state(self) -> list[Any]:
        return [self._previous, self._gains._dump(), self._losses._dump()]

    def _set_state(self, state: list[Any]) -> None:
        previous, gains, losses = snap.fields(state, 3)
        self._previous = snap.maybe_int(previous, self._bound, "the previous price")
        self._gains._load(gains)
        self._losses._load(losses)


def rsi(prices: npt.ArrayLike, period: int = 14) -> FloatArray:
    """RSI of int64 ticks (0..100), NaN in the warm-up (see `RSI`).

    Examples
    --------
    >>> rsi([10, 12, 11, 11, 14], 2).tolist()
    [nan, nan, 66.66666666666666, 66.66666666666666, 93.33333333333333]
    """
    config = RSI(period)  # validates the parameters, knows the input range
    ticks = config.limit.ticks(prices)
    changes = np.diff(ticks)
    coefficients = WilderAverage.coefficients(period)
    gain = smooth(np.maximum(changes, 0).astype(np.float64), period, coefficients)
    loss = smooth(np.maximum(-changes, 0).astype(np.float64), period, coefficients)
    total = gain + loss
    out = np.full(ticks.size, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[1:] = np.where(total == 0, 50.0, 100.0 * (gain / total))
    return out
