"""Bollinger bands: SMA ± k population standard deviations."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy.typing as npt

from framework.errors import ParameterError
from framework.indicators import _snapshot as snap
from framework.indicators._base import Indicator
from framework.indicators._limits import EXACT, MAX_PERIOD, FloatArray, check_int
from framework.indicators.sma import SMA, sma
from framework.indicators.stddev import StdDev, stddev

__all__ = ["Bands", "Bollinger", "bollinger"]


class Bands(NamedTuple):
    """One bar of Bollinger bands, in price units."""

    middle: float
    upper: float
    lower: float


class Bollinger(Indicator):
    """Bollinger bands: middle = SMA(period), upper/lower = middle ± k · StdDev(period).

    Composed of an `SMA` and a `StdDev` (population, as TA-Lib BBANDS).

    How exactness is achieved: both parts are exact (see `SMA`, `StdDev`); the bands are
    ``middle + k * std`` and ``middle - k * std`` in both twins. Input range as `SMA`.

    Parameters
    ----------
    period : int, default 20
        Prices in the window, 1 to `MAX_PERIOD`.
    k : float, default 2.0
        Band width in standard deviations, positive.
    scale, lookback : int
        Ticks per price unit, and previous values kept readable (see `Indicator`).

    Examples
    --------
    >>> bands = Bollinger(2, k=2.0)
    >>> [bands.update(x) for x in (1, 3, 3)]
    [None, Bands(middle=2.0, upper=4.0, lower=0.0), Bands(middle=3.0, upper=3.0, lower=3.0)]
    >>> bands.get(output="upper"), bands.get(ago=1, output="lower")
    (3.0, 0.0)
    """

    kind = "bollinger"
    outputs = ("middle", "upper", "lower")
    _params = ("period", "k")
    _entry = Bands
    __slots__ = ("_mean", "_std", "k", "period")

    def __init__(
        self, period: int = 20, k: float = 2.0, *, scale: int = 1, lookback: int = 1
    ) -> None:
        self.period = check_int("Bollinger", "period", period, 1, MAX_PERIOD)
        if isinstance(k, bool) or not isinstance(k, int | float) or not 0 < k < math.inf:
            raise ParameterError(f"Bollinger k must be a positive finite number, got {k!r}")
        self.k = float(k)
        rule = "period × |ticks| < 2**53, as SMA"
        super().__init__(scale=scale, lookback=lookback, bound=EXACT // period, rule=rule)
        self._mean = SMA(period, scale=self.scale, lookback=0)
        self._std = StdDev(period, scale=self.scale, lookback=0)

    def update(self, price: int) -> Bands | None:
        """Add one price in ticks; return the bands, None during warm-up."""
        bound = self._bound
        if not -bound <= price <= bound:
            raise self.limit.error(price)
        middle = self._mean.update(price)
        std = self._std.update(price)
        if middle is None or std is None:
            self._history.append(None)
            return None
        width = self.k * std
        value = Bands(middle, middle + width, middle - width)
        self._history.append(value)
        return value

    def _batch(self, prices: npt.ArrayLike) -> dict[str, FloatArray]:
        return bollinger(prices, self.period, self.k, scale=self.scale)

    def _state(self) -> list[Any]:
        return [self._mean._dump(), self._std._dump()]

    def _set_state(self, state: list[Any]) -> None:
        mean, std = snap.fields(state, 2)
        self._mean._load(mean)
        self._std._load(std)


def bollinger(
    prices: npt.ArrayLike, period: int = 20, k: float = 2.0, scale: int = 1
) -> dict[str, FloatArray]:
    """Bollinger bands of int64 ticks: ``{"middle", "upper", "lower"}`` arrays (see `Bollinger`).

    Examples
    --------
    >>> {name: band.tolist() for name, band in bollinger([1, 3, 3], 2).items()}
    {'middle': [nan, 2.0, 3.0], 'upper': [nan, 4.0, 3.0], 'lower': [nan, 0.0, 3.0]}
    """
    config = Bollinger(period, k, scale=scale)  # validates the parameters and the range
    ticks = config.limit.ticks(prices)
    middle = sma(ticks, period, scale)
    width = config.k * stddev(ticks, period, scale)
    return {"middle": middle, "upper": middle + width, "lower": middle - width}
