"""Candle-series helpers shared by the source tests and the live end-to-end tests."""

from __future__ import annotations

import numpy as np

from framework.candles import CandleSeries


def with_close(series: CandleSeries, index: int, delta_ticks: int) -> CandleSeries:
    """The series with one bar's close moved, high/low widened to keep the bar valid."""
    close = series.close.copy()
    close[index] += delta_ticks
    return CandleSeries.create(
        series.instrument,
        series.timeframe,
        time_ns=series.time_ns,
        open=series.open,
        high=np.maximum(series.high, close),
        low=np.minimum(series.low, close),
        close=close,
        volume=series.volume,
    )


def assert_same_bars(got: CandleSeries, expected: CandleSeries) -> None:
    """Same instrument and timeframe, and every column equal to the tick."""
    assert (got.symbol, got.timeframe, got.decimals) == (
        expected.symbol,
        expected.timeframe,
        expected.decimals,
    )
    for name in ("time_ns", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)
