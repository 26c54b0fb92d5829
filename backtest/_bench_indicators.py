"""Bench section 1: indicator updates (Parity, a plain-Python loop, talipp) and batch speed."""

from __future__ import annotations

import importlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from backtest._bench_data import Notes, Progress, best_seconds, per_second
from framework.candles import CandleSeries
from framework.indicators import EMA, RSI, SMA, Indicator

__all__ = [
    "CASES",
    "IndicatorCase",
    "ema_loop",
    "indicator_section",
    "loops_agree",
    "rsi_loop",
    "sma_loop",
]


def sma_loop(prices: list[int], period: int, scale: int) -> float | None:
    """The floor for pure Python: a deque and a running sum; returns the last value."""
    window: deque[int] = deque()
    total = 0
    divisor = period * scale
    value = None
    for price in prices:
        window.append(price)
        total += price
        if len(window) > period:
            total -= window.popleft()
        value = total / divisor if len(window) == period else None
    return value


def ema_loop(prices: list[int], period: int, scale: int) -> float | None:
    """A plain EMA loop (SMA seed, then ``a·x + b·e``); returns the last value."""
    a, b = EMA.coefficients(period)
    seed, count = 0, 0
    ema: float | None = None
    value = None
    for price in prices:
        if ema is None:
            seed += price
            count += 1
            if count == period:
                ema = seed / period
                value = ema / scale
        else:
            ema = a * price + b * ema
            value = ema / scale
    return value


def rsi_loop(prices: list[int], period: int, scale: int) -> float | None:
    """A plain Wilder RSI loop; returns the last value (``scale`` does not matter)."""
    a, b = 1 / period, (period - 1) / period
    previous: int | None = None
    gains = losses = count = 0
    gain_avg: float | None = None
    loss_avg = 0.0
    value = None
    for price in prices:
        if previous is None:
            previous = price
            continue
        change, previous = price - previous, price
        gain = change if change > 0 else 0
        loss = -change if change < 0 else 0
        if gain_avg is None:
            gains += gain
            losses += loss
            count += 1
            if count < period:
                continue
            gain_avg, loss_avg = gains / period, losses / period
        else:
            gain_avg = a * gain + b * gain_avg
            loss_avg = a * loss + b * loss_avg
        total = gain_avg + loss_avg
        value = 100.0 * (gain_avg / total) if total else 50.0
    return value


def _pandas_sma(prices: pd.Series[float], period: int) -> pd.Series[float]:
    return prices.rolling(period).mean()


def _pandas_ema(prices: pd.Series[float], period: int) -> pd.Series[float]:
    return prices.ewm(span=period, adjust=False).mean()


def _pandas_rsi(prices: pd.Series[float], period: int) -> pd.Series[float]:
    change = prices.diff()
    gain = change.clip(lower=0).ewm(alpha=1 / period, adjust=False).mean()
    loss = (-change).clip(lower=0).ewm(alpha=1 / period, adjust=False).mean()
    return 100.0 * gain / (gain + loss)


@dataclass(frozen=True)
class IndicatorCase:
    """One indicator configuration and its counterparts."""

    name: str
    indicator: type[Indicator]
    period: int
    loop: Callable[[list[int], int, int], float | None]
    pandas: Callable[[pd.Series[float], int], pd.Series[float]]

    def build(self, scale: int) -> Indicator:
        """A fresh Parity indicator."""
        built: Indicator = cast(Any, self.indicator)(self.period, scale=scale)
        return built


CASES = (
    IndicatorCase("SMA(20)", SMA, 20, sma_loop, _pandas_sma),
    IndicatorCase("SMA(200)", SMA, 200, sma_loop, _pandas_sma),
    IndicatorCase("SMA(2000)", SMA, 2000, sma_loop, _pandas_sma),
    IndicatorCase("EMA(50)", EMA, 50, ema_loop, _pandas_ema),
    IndicatorCase("RSI(14)", RSI, 14, rsi_loop, _pandas_rsi),
)


def indicator_section(
    series: CandleSeries, *, repeats: int, notes: Notes, progress: Progress
) -> list[dict[str, Any]]:
    """ns per incremental update and batch values per second for every case."""
    scale = series.instrument.scale
    ticks = series.close
    prices = ticks.tolist()
    floats = (ticks / scale).tolist()
    frame = pd.Series(ticks / scale)
    talipp = _talipp(notes)
    n = len(prices)
    rows = []
    for case in CASES:
        progress(f"indicators: {case.name}")
        parity = best_seconds(partial(_feed_new, case, scale, prices), repeats)
        plain = best_seconds(partial(case.loop, prices, case.period, scale), repeats)
        talipp_seconds = None
        if talipp is not None:
            maker = partial(getattr(talipp, case.indicator.__name__), case.period)
            talipp_seconds = best_seconds(partial(_feed_talipp, maker, floats), max(1, repeats - 1))
        batch = best_seconds(partial(_batch, case, scale, ticks), repeats)
        pandas = best_seconds(partial(case.pandas, frame, case.period), repeats)
        rows.append(
            {
                "name": case.name,
                "updates": n,
                "parity_ns": _ns(parity, n),
                "deque_ns": _ns(plain, n),
                "talipp_ns": None if talipp_seconds is None else _ns(talipp_seconds, n),
                "batch_values_per_s": per_second(n, batch),
                "pandas_values_per_s": per_second(n, pandas),
            }
        )
    notes.add(
        "indicators: ns/update is the best of several passes over every close; the plain "
        "loop (deque_ns) is a deque + running sum for SMA and the bare recursion for EMA "
        "and RSI, the floor of pure Python; pandas uses rolling().mean() and ewm()"
    )
    return rows


def _feed_new(case: IndicatorCase, scale: int, prices: list[int]) -> None:
    _feed(case.build(scale), prices)


def _batch(case: IndicatorCase, scale: int, ticks: npt.NDArray[np.int64]) -> None:
    case.build(scale).batch(ticks)


def _feed(indicator: Indicator, prices: list[int]) -> None:
    update = indicator.update
    for price in prices:
        update(price)


def _feed_talipp(maker: Callable[[], Any], prices: list[float]) -> None:
    add = maker().add
    for price in prices:
        add(price)


def _talipp(notes: Notes) -> Any:
    try:
        return importlib.import_module("talipp.indicators")
    except ImportError:
        notes.add("talipp_ns: talipp not installed (pip install 'parity[bench]')")
        return None


def _ns(seconds: float, items: int) -> float:
    return seconds / max(items, 1) * 1e9


def loops_agree(series: CandleSeries) -> bool:
    """Whether every plain loop ends on the value Parity's indicator ends on."""
    scale = series.instrument.scale
    prices = series.close.tolist()
    for case in CASES:
        indicator = case.build(scale)
        _feed(indicator, prices)
        if case.loop(prices, case.period, scale) != indicator.get():
            return False
    return True
