"""Backtest statistics, checked by hand on a 10-bar series."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from _backtest_testkit import STATS_KEYS

from backtest.simulation import SimulationSettings, simulate
from backtest.stats import Stats, compute_stats
from framework.candles import CandleSeries
from framework.engine import SignalAt
from framework.instruments import Instrument
from framework.strategy import Side
from framework.timeframes import Timeframe

DAY_NS = 86_400 * 10**9
#           bar: 0    1    2    3    4    5    6   7   8    9
OPENS = [100, 100, 104, 110, 112, 105, 100, 95, 98, 102]
CLOSES = [100, 104, 108, 112, 106, 100, 96, 98, 102, 105]
SETTINGS = SimulationSettings(cash=1000.0)


def series_at(times_ns: np.ndarray, timeframe: Timeframe = Timeframe.D1) -> CandleSeries:
    return CandleSeries.create(
        Instrument("TEST", 0),
        timeframe,
        time_ns=times_ns,
        open=OPENS,
        high=np.maximum(OPENS, CLOSES),
        low=np.minimum(OPENS, CLOSES),
        close=CLOSES,
        volume=np.zeros(len(OPENS)),
    )


DAILY = series_at(np.arange(10, dtype=np.int64) * DAY_NS)


def stats_for(series: CandleSeries, sides: dict[int, Side]) -> Stats:
    signals = [SignalAt(int(series.time_ns[bar]), side, 0.0) for bar, side in sides.items()]
    return compute_stats(series, simulate(series, signals, SETTINGS), SETTINGS)


# Long-short: long 104→110, short 110→100, long 100→95, short 95→105 (closed at end).
FOUR_TRADES = {1: Side.BUY, 2: Side.SELL, 5: Side.BUY, 6: Side.SELL}


def test_hand_computed_statistics_of_four_trades() -> None:
    # Each trade commits all equity, so units carry over: 1000/104, 1000/104,
    # 1200/104, 1200/104. Equity * 104 per bar, marked at the close:
    #   104000 104000 108000 108000 114000 120000 115200 110400 105600 102000
    # pnl * 104: +6000, +10000, -6000, -12000.
    stats = stats_for(DAILY, FOUR_TRADES)

    assert stats.candles == 10
    assert stats.start == datetime(1970, 1, 1, tzinfo=UTC)
    assert stats.end == datetime(1970, 1, 10, tzinfo=UTC)
    assert stats.final_equity == pytest.approx(102000 / 104, rel=1e-12)  # 980.77
    assert stats.return_pct == pytest.approx((102000 / 104000 - 1) * 100, rel=1e-12)  # -1.92
    assert stats.buy_hold_return_pct == pytest.approx(5.0, rel=1e-12)  # 105 / 100
    # Peak 120000 on bar 5, trough 102000 on bar 9: 102/120 - 1 = -15 %,
    # never recovered, so the duration runs to the last bar: 4 days.
    assert stats.max_drawdown_pct == pytest.approx(-15.0, rel=1e-12)
    assert stats.max_drawdown_duration == timedelta(days=4)
    assert stats.n_trades == 4
    assert stats.win_rate_pct == 50.0
    # Gross profit 16000/104 over gross loss 18000/104.
    assert stats.profit_factor == pytest.approx(16 / 18, rel=1e-12)
    # Trade returns: 6/104, 10/110, -5/100, -10/95.
    assert stats.best_trade_pct == pytest.approx(1000 / 110, rel=1e-12)
    assert stats.worst_trade_pct == pytest.approx(-1000 / 95, rel=1e-12)
    assert stats.avg_trade_pct == pytest.approx(
        (600 / 104 + 1000 / 110 - 5 - 1000 / 95) / 4, rel=1e-12
    )
    # In the market from bar 2 to bar 9: 8 of 10 bars.
    assert stats.exposure_pct == 80.0
    assert stats.total_commission == 0.0


def test_risk_ratios_follow_the_documented_formulas() -> None:
    # Ten daily bars span 10 days (first open to last close): 365.25 bars a year.
    stats = stats_for(DAILY, FOUR_TRADES)

    curve = (
        np.array([104000, 104000, 108000, 108000, 114000, 120000, 115200, 110400, 105600, 102000])
        / 104
    )
    returns = curve[1:] / curve[:-1] - 1
    root = math.sqrt(365.25)
    downside = math.sqrt(np.mean(np.minimum(returns, 0) ** 2))
    assert stats.volatility_pct == pytest.approx(100 * returns.std(ddof=1) * root, rel=1e-9)
    assert stats.sharpe == pytest.approx(returns.mean() / returns.std(ddof=1) * root, rel=1e-9)
    assert stats.sortino == pytest.approx(returns.mean() / downside * root, rel=1e-9)
    assert stats.cagr_pct == pytest.approx(100 * ((102 / 104) ** (365.25 / 10) - 1), rel=1e-9)


def test_annualization_uses_the_data_s_own_bar_density() -> None:
    # The same ten bars as hourly bars: 24 times as many bars per year.
    hourly = series_at(np.arange(10, dtype=np.int64) * 3_600 * 10**9, Timeframe.H1)
    # ...and as weekday-only daily bars (Mon 5 Jan 1970 on, weekend gap): 10 bars in 12 days.
    monday = 4 * DAY_NS
    weekdays = np.array([0, 1, 2, 3, 4, 7, 8, 9, 10, 11], dtype=np.int64) * DAY_NS + monday
    gapped = series_at(weekdays)

    daily, per_hour, per_weekday = (stats_for(s, FOUR_TRADES) for s in (DAILY, hourly, gapped))

    assert daily.sharpe is not None and per_hour.sharpe is not None
    assert per_weekday.sharpe is not None
    assert per_hour.sharpe / daily.sharpe == pytest.approx(math.sqrt(24), rel=1e-12)
    assert per_weekday.sharpe / daily.sharpe == pytest.approx(math.sqrt(10 / 12), rel=1e-12)


def test_a_recovered_drawdown_lasts_from_peak_to_recovery() -> None:
    # Long-short BUY@1, SELL@4, BUY@7 (zero costs); equity * 104 per bar:
    #   104000 104000 108000 112000 106000 110000 114000 112000 ...
    # Peak 112000 on bar 3, underwater on bars 4-5, back above on bar 6: 3 days.
    stats = stats_for(DAILY, {1: Side.BUY, 4: Side.SELL, 7: Side.BUY})

    assert stats.max_drawdown_duration == timedelta(days=3)
    assert stats.max_drawdown_pct == pytest.approx((106 / 112 - 1) * 100, rel=1e-12)
    # Three winners and no loser: the profit factor is undefined.
    assert stats.win_rate_pct == 100.0
    assert stats.profit_factor is None


def test_undefined_values_are_none_without_trades() -> None:
    stats = stats_for(DAILY, {})

    assert stats.n_trades == 0
    assert stats.win_rate_pct is None
    assert stats.best_trade_pct is None and stats.worst_trade_pct is None
    assert stats.avg_trade_pct is None and stats.profit_factor is None
    # A flat equity curve has zero volatility and no defined risk-adjusted return.
    assert stats.volatility_pct == 0.0
    assert stats.sharpe is None and stats.sortino is None
    assert stats.return_pct == 0.0 and stats.cagr_pct == 0.0
    assert stats.max_drawdown_pct == 0.0
    assert stats.max_drawdown_duration == timedelta(0)
    assert stats.exposure_pct == 0.0


def test_a_cagr_too_large_for_a_float_is_none() -> None:
    # +5 % in ten minutes of M1 bars: 1.05 ** 52596 is far beyond 1e308.
    minutes = series_at(np.arange(10, dtype=np.int64) * 60 * 10**9, Timeframe.M1)

    stats = stats_for(minutes, {0: Side.BUY})

    assert stats.return_pct > 0
    assert stats.cagr_pct is None


def test_as_dict_is_json_ready_with_iso_times() -> None:
    stats = stats_for(DAILY, FOUR_TRADES)

    values = json.loads(json.dumps(stats.as_dict(), allow_nan=False))

    assert values["start"] == "1970-01-01T00:00:00+00:00"
    assert values["end"] == "1970-01-10T00:00:00+00:00"
    assert values["max_drawdown_duration"] == "P4DT0H0M0S"
    assert values["n_trades"] == 4
    assert set(values) >= STATS_KEYS


def test_as_dict_keeps_undefined_values_as_null() -> None:
    values = stats_for(DAILY, {}).as_dict()

    assert values["win_rate_pct"] is None and values["sharpe"] is None
    assert "null" in json.dumps(values)
