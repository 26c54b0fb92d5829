"""Fingerprints and `candle_at` of the in-memory source: the definition both sources share."""

from __future__ import annotations

import numpy as np
import pytest

from framework.candles import CandleSeries
from framework.errors import SourceError
from framework.instruments import Instrument
from framework.sources import SeriesCandleSource
from framework.sources._queries import series_fingerprint
from framework.timeframes import Timeframe

M15 = Timeframe.M15
BAR_NS = M15.nanoseconds


def bars(closes: list[int]) -> CandleSeries:
    n = len(closes)
    return CandleSeries.create(
        Instrument("EURUSD", 5),
        M15,
        time_ns=np.arange(n, dtype=np.int64) * BAR_NS,
        open=closes,
        high=[c + 2 for c in closes],
        low=[c - 1 for c in closes],
        close=closes,
        volume=[1.0] * n,
    )


def test_the_checksum_weights_open_high_low_close_one_to_four() -> None:
    series = bars([100, 200])

    assert series_fingerprint(series, upto_ns=0) == (1, 100 + 2 * 102 + 3 * 99 + 4 * 100)
    assert series_fingerprint(series, upto_ns=BAR_NS - 1) == series_fingerprint(series, 0)
    assert series_fingerprint(series, upto_ns=-1) == (0, 0)
    assert series_fingerprint(series, upto_ns=10 * BAR_NS)[0] == 2


def test_any_one_price_moved_by_one_tick_changes_the_checksum() -> None:
    series = bars([100, 101, 102, 103])
    before = series_fingerprint(series, upto_ns=3 * BAR_NS)
    for name in ("open", "high", "low", "close"):
        for step in (-1, 1):
            values = {p: getattr(series, p).copy() for p in ("open", "high", "low", "close")}
            values[name][1] += step
            values["high"][1] = max(values["high"][1], values["open"][1], values["close"][1])
            values["low"][1] = min(values["low"][1], values["open"][1], values["close"][1])
            moved = CandleSeries.create(
                series.instrument, M15, time_ns=series.time_ns, volume=series.volume, **values
            )

            assert series_fingerprint(moved, upto_ns=3 * BAR_NS) != before, (name, step)


def test_the_in_memory_source_answers_fingerprints_and_candle_at() -> None:
    series = bars([100, 101, 102])
    source = SeriesCandleSource([series])

    together = source.fingerprints([("EURUSD", M15, 0), ("EURUSD", M15, BAR_NS)])

    assert together == {("EURUSD", M15): series_fingerprint(series, BAR_NS)}
    assert source.candle_at("EURUSD", M15, BAR_NS) == series.candle(1)
    assert source.candle_at("EURUSD", M15, BAR_NS + 1) is None
    assert source.candle_at("EURUSD", M15, 5 * BAR_NS) is None
    with pytest.raises(SourceError, match="no candles for GBPUSD M15"):
        source.fingerprint("GBPUSD", M15, upto_ns=0)
