"""Weighted moving average: linear weights 1..period, the newest price weighs most."""

from __future__ import annotations

import numpy as np
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

__all__ = ["WMA", "wma", "wma_exact"]


class WMA(RationalIndicator):
    """Weighted moving average ``Σ i·x_i / (n(n+1)/2)``, ``i = 1`` the oldest of ``n``.

    How exactness is achieved: the weighted sum is an integer, updated in O(1) as
    ``W' = W − S + n·x`` (S the window sum before the update) with Python ints; the
    batch twin computes it independently from two cumulative sums in int64. The input
    range ``|ticks| ≤ (2**53 - 1) // (n(n+1)/2)`` keeps it below 2**53, and the value is
    the single division ``W / float(n(n+1)/2 · scale)`` in both twins.

    Parameters
    ----------
    period : int
        Prices weighted 1..period, 1 to `MAX_PERIOD`.
    scale, lookback : int
        Ticks per price unit, and previous values kept readable (see `Indicator`).

    Examples
    --------
    >>> wma = WMA(3)
    >>> [wma.update(x) for x in (1, 2, 3, 6)]
    [None, None, 2.3333333333333335, 4.333333333333333]
    >>> wma.exact()
    (26, 6)
    """

    kind = "wma"
    __slots__ = ("_total", "_weighted")
    _total: int
    _weighted: int

    def __init__(self, period: int, *, scale: int = 1, lookback: int = 1) -> None:
        self.period = check_int("WMA", "period", period, 1, MAX_PERIOD)
        weight = period * (period + 1) // 2
        super().__init__(
            scale=scale, lookback=lookback, bound=EXACT // weight, rule="n(n+1)/2 × |ticks| < 2**53"
        )
        self._set_denominator(check_denominator(type(self).__name__, weight * self.scale))
        self._open_window()

    def update(self, price: int) -> float | None:
        """Add one price in ticks; return the average, None during warm-up."""
        bound = self._bound
        if not -bound <= price <= bound:
            raise self.limit.error(price)
        window = self._window
        total = self._total
        weighted = self._weighted + self.period * price - total
        self._total = total + price - window[0]
        window.append(price)
        self._weighted = weighted
        if self._count:
            self._count -= 1
            if self._count:
                self._history.append(None)
                return None
        self._history.append(weighted)
        return weighted / self._den_f

    def _batch(self, prices: npt.ArrayLike) -> dict[str, FloatArray]:
        return {"value": wma(prices, self.period, scale=self.scale)}

    def _batch_exact(self, prices: npt.ArrayLike) -> tuple[IntArray, int]:
        return wma_exact(prices, self.period, scale=self.scale)

    def _derive(self) -> None:
        self._total = sum(self._window)
        self._weighted = sum(weight * x for weight, x in enumerate(self._window, start=1))


def wma_exact(prices: npt.ArrayLike, period: int, scale: int = 1) -> tuple[IntArray, int]:
    """Exact WMA over a whole series: (weighted sums, ``n(n+1)/2 · scale``).

    For the window ending at ``t``, ``W_t = Σ j·x_j − (t − n)·Σ x_j`` over ``j`` in the
    window: two cumulative sums, exact modulo 2**64 and hence exact (``|W_t| < 2**53``).

    Examples
    --------
    >>> numerators, denominator = wma_exact([1, 2, 3, 6], 3)
    >>> numerators[2:].tolist(), denominator
    ([14, 26], 6)
    """
    config = WMA(period, scale=scale)  # validates the parameters, knows the input range
    ticks = config.limit.ticks(prices)
    positions = np.arange(ticks.size, dtype=np.int64)
    offsets = positions - period
    weighted = window_sums(positions * ticks, period) - offsets * window_sums(ticks, period)
    return weighted, config.denominator


def wma(prices: npt.ArrayLike, period: int, scale: int = 1) -> FloatArray:
    """WMA of int64 ticks in price units, NaN in the warm-up (see `WMA`).

    Examples
    --------
    >>> wma([1, 2, 3, 6], 3).tolist()
    [nan, nan, 2.3333333333333335, 4.333333333333333]
    """
    return ratio(*wma_exact(prices, period, scale), first=period - 1)
