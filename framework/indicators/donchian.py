"""Donchian channel: highest high and lowest low of the last ``period`` bars."""

from __future__ import annotations

from collections import deque
from itertools import pairwise
from typing import Any, NamedTuple

import numpy.typing as npt

from framework.indicators import _snapshot as snap
from framework.indicators._arrays import nan_before, window_max
from framework.indicators._base import Indicator
from framework.indicators._limits import EXACT, MAX_PERIOD, FloatArray, check_int, same_length

__all__ = ["Channel", "Donchian", "donchian"]


class Channel(NamedTuple):
    """One bar of a Donchian channel, in price units."""

    upper: float
    lower: float
    middle: float


def _slide(queue: deque[tuple[int, int]], bar: int, value: int, period: int) -> int:
    """Push onto a monotonic (decreasing) queue of (bar, value); return the window's maximum."""
    while queue and queue[-1][1] <= value:
        queue.pop()
    queue.append((bar, value))
    if queue[0][0] <= bar - period:
        queue.popleft()
    return queue[0][1]


class Donchian(Indicator):
    """Donchian channel: upper = highest high, lower = lowest low, middle = their mean.

    O(1) amortized per bar: monotonic queues of candidate highs (and of negated lows).
    The first value is at index ``period - 1``.

    How exactness is achieved: the extremes are input ticks themselves, chosen by
    integer comparisons in both twins (the batch twin by doubling windows, see
    `window_max`); each output is one division, ``ticks / float(scale)`` and
    ``(high + low) / float(2 · scale)``. Inputs up to ``(2**53 - 1) // 2`` ticks.

    Parameters
    ----------
    period : int, default 20
        Bars in the channel, 1 to `MAX_PERIOD`.
    scale, lookback : int
        Ticks per price unit, and previous values kept readable (see `Indicator`).

    Examples
    --------
    >>> channel = Donchian(2)
    >>> [channel.update(*bar) for bar in [(12, 9), (13, 10), (11, 8)]]
    [None, Channel(upper=13.0, lower=9.0, middle=11.0), Channel(upper=13.0, lower=8.0, middle=10.5)]
    """

    kind = "donchian"
    inputs = ("high", "low")
    outputs = ("upper", "lower", "middle")
    _entry = Channel
    __slots__ = ("_bar", "_highs", "_lows", "_scale_f", "period")

    def __init__(self, period: int = 20, *, scale: int = 1, lookback: int = 1) -> None:
        self.period = check_int("Donchian", "period", period, 1, MAX_PERIOD)
        super().__init__(scale=scale, lookback=lookback, bound=EXACT // 2, rule="2·|ticks| < 2**53")
        self._scale_f = float(self.scale)
        self._bar = 0  # bars seen (only its distance to `period` matters)
        self._highs: deque[tuple[int, int]] = deque()
        self._lows: deque[tuple[int, int]] = deque()  # negated lows: their maximum is -min

    def update(self, high: int, low: int) -> Channel | None:
        """Add one bar's high and low in ticks; return the channel, None during warm-up."""
        bound = self._bound
        if not (-bound <= high <= bound and -bound <= low <= bound):
            raise self.limit.error(high if not -bound <= high <= bound else low)
        bar = self._bar = self._bar + 1
        upper = _slide(self._highs, bar, high, self.period)
        lower = -_slide(self._lows, bar, -low, self.period)
        if bar < self.period:
            self._history.append(None)
            return None
        scale = self._scale_f
        value = Channel(upper / scale, lower / scale, (upper + lower) / (2 * scale))
        self._history.append(value)
        return value

    def _batch(self, high: npt.ArrayLike, low: npt.ArrayLike) -> dict[str, FloatArray]:
        return donchian(high, low, self.period, scale=self.scale)

    def _state(self) -> list[Any]:
        # Ages (bars since each candidate) instead of bar numbers keep the state bounded.
        ages = [[[self._bar - bar, v] for bar, v in queue] for queue in (self._highs, self._lows)]
        return [min(self._bar, self.period), *ages]

    def _set_state(self, state: list[Any]) -> None:
        bar, highs, lows = snap.fields(state, 3)
        self._bar = snap.an_int(bar, 0, self.period, "the bars seen")
        self._highs, self._lows = (self._queue(entries) for entries in (highs, lows))

    def _queue(self, entries: Any) -> deque[tuple[int, int]]:
        snap.require(isinstance(entries, list) and len(entries) <= self.period, "a queue")
        pairs = [snap.ints(entry, 2, self._bound, "an (age, ticks) pair") for entry in entries]
        ordered = all(a[0] > b[0] and a[1] > b[1] for a, b in pairwise(pairs))
        fresh = all(0 <= age < self.period for age, _ in pairs)
        snap.require(ordered and fresh, "a monotonic queue of candidates")
        return deque((self._bar - age, value) for age, value in pairs)


def donchian(
    high: npt.ArrayLike, low: npt.ArrayLike, period: int = 20, scale: int = 1
) -> dict[str, FloatArray]:
    """Donchian channel of int64 ticks: ``{"upper", "lower", "middle"}`` (see `Donchian`).

    Examples
    --------
    >>> donchian([12, 13, 11], [9, 10, 8], 2)["middle"].tolist()
    [nan, 11.0, 10.5]
    """
    config = Donchian(period, scale=scale)  # validates the parameters, knows the input range
    highs, lows = arrays = config.limit.ticks(high), config.limit.ticks(low)
    same_length(config.name, arrays)
    upper, lower = window_max(highs, period), -window_max(-lows, period)
    first = period - 1
    scale_f = float(config.scale)
    return {
        "upper": nan_before(upper / scale_f, first),
        "lower": nan_before(lower / scale_f, first),
        "middle": nan_before((upper + lower) / (2 * scale_f), first),
    }
