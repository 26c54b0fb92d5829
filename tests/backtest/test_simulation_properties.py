"""Properties of the trade simulation over random series, signals and settings."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.simulation import Mode, Simulation, SimulationSettings, simulate
from backtest.stats import compute_stats
from framework.candles import CandleSeries
from framework.engine import SignalAt
from framework.instruments import Instrument
from framework.strategy import Side
from framework.timeframes import Timeframe

HOUR_NS = 3_600 * 10**9
# Prices 100.00-190.00: no price is twice another, so with spread ≤ 1 and
# commission ≤ 1 % no short can lose its whole equity and every trade's
# growth factor stays positive (the monotonicity argument needs that).
TICKS = st.integers(10_000, 19_000)


@st.composite
def markets(draw: st.DrawFn) -> tuple[CandleSeries, list[SignalAt]]:
    """A random H1 series of 2-60 bars and random signals on its bars, in any order."""
    n = draw(st.integers(2, 60))
    opens = np.array(draw(st.lists(TICKS, min_size=n, max_size=n)))
    closes = np.array(draw(st.lists(TICKS, min_size=n, max_size=n)))
    series = CandleSeries.create(
        Instrument("TEST", 2),
        Timeframe.H1,
        time_ns=np.arange(n, dtype=np.int64) * HOUR_NS,
        open=opens,
        high=np.maximum(opens, closes),
        low=np.minimum(opens, closes),
        close=closes,
        volume=np.zeros(n),
    )
    picks = draw(st.lists(st.tuples(st.integers(0, n - 1), st.booleans()), max_size=2 * n))
    signals = [SignalAt(bar * HOUR_NS, Side.BUY if buy else Side.SELL, 0.0) for bar, buy in picks]
    return series, signals


MODES = st.sampled_from(["long-short", "long-only"])
COMMISSIONS = st.floats(0.0, 0.01)
SPREADS = st.floats(0.0, 1.0)
SIZES = st.floats(0.05, 1.0)
#: Random settings: any mode, commission, spread and size; the default cash.
SETTINGS = st.builds(
    SimulationSettings, mode=MODES, commission=COMMISSIONS, spread=SPREADS, size=SIZES
)


def run(market: tuple[CandleSeries, list[SignalAt]], **options: Any) -> Simulation:
    series, signals = market
    return simulate(series, signals, SimulationSettings(**options))


@settings(deadline=None)
@given(markets(), SETTINGS)
def test_equity_is_cash_plus_position_value_at_every_bar(
    market: tuple[CandleSeries, list[SignalAt]], options: SimulationSettings
) -> None:
    sim = simulate(*market, options)

    close = market[0].prices("close")
    assert np.array_equal(sim.equity, sim.cash + sim.position * close)
    # Nothing is created or lost between trades: the end is the start plus every pnl.
    assert sim.final_equity == pytest.approx(10_000.0 + sum(t.pnl for t in sim.trades), rel=1e-9)


def reference_equity(
    series: CandleSeries, signals: list[SignalAt], options: SimulationSettings
) -> list[float]:
    """A plain bar-by-bar model of the documented rules, to check the vectorized one."""
    opens, closes = series.prices("open").tolist(), series.prices("close").tolist()
    pending: dict[int, list[bool]] = {}
    for s in sorted(signals, key=lambda s: s.time_ns):
        pending.setdefault(s.time_ns // HOUR_NS, []).append(s.side is Side.BUY)
    half, fee = options.spread / 2, options.commission
    cash, units, equity = options.cash, 0.0, []
    for bar in range(len(opens)):
        for buy in pending.get(bar - 1, []):
            held = (units > 0) - (units < 0)
            if held == (1 if buy else -1) or (not buy and not held and options.mode == "long-only"):
                continue
            if units:
                price = opens[bar] + half if units < 0 else opens[bar] - half
                cash += units * price - fee * abs(units) * price
                units = 0.0
            if (buy or options.mode == "long-short") and cash > 0:
                price = opens[bar] + half if buy else opens[bar] - half
                amount = options.size * cash / (price * (1 + fee))
                units = amount if buy else -amount
                cash -= units * price + fee * amount * price
        equity.append(cash + units * closes[bar])
    if units:
        price = closes[-1] + half if units < 0 else closes[-1] - half
        equity[-1] = cash + units * price - fee * abs(units) * price
    return equity


@settings(deadline=None)
@given(markets(), SETTINGS)
def test_equity_matches_a_bar_by_bar_model_of_the_rules(
    market: tuple[CandleSeries, list[SignalAt]], options: SimulationSettings
) -> None:
    sim = simulate(*market, options)

    assert sim.equity.tolist() == pytest.approx(reference_equity(*market, options), rel=1e-9)


@settings(deadline=None)
@given(markets())
def test_without_costs_long_short_return_compounds_the_trade_returns(
    market: tuple[CandleSeries, list[SignalAt]],
) -> None:
    sim = run(market)

    compounded = math.prod(1 + t.return_pct / 100 for t in sim.trades)
    assert sim.final_equity / 10_000.0 == pytest.approx(compounded, rel=1e-9)


@settings(deadline=None)
@given(markets(), MODES, SIZES, COMMISSIONS, COMMISSIONS, SPREADS, SPREADS)
def test_commission_and_spread_only_ever_lower_the_final_equity(
    market: tuple[CandleSeries, list[SignalAt]],
    mode: Mode,
    size: float,
    commission_a: float,
    commission_b: float,
    spread_a: float,
    spread_b: float,
) -> None:
    low_c, high_c = sorted((commission_a, commission_b))
    low_s, high_s = sorted((spread_a, spread_b))

    free = run(market, mode=mode, size=size)
    cheap = run(market, mode=mode, size=size, commission=low_c, spread=low_s)
    dear = run(market, mode=mode, size=size, commission=high_c, spread=high_s)

    # Equal costs may round differently by an ulp or so; anything more is a bug.
    assert cheap.final_equity <= free.final_equity * (1 + 1e-12)
    assert dear.final_equity <= cheap.final_equity * (1 + 1e-12)


@settings(deadline=None)
@given(markets(), SETTINGS)
def test_exposure_is_a_percentage_and_trades_chain_in_time(
    market: tuple[CandleSeries, list[SignalAt]], options: SimulationSettings
) -> None:
    sim = simulate(*market, options)

    stats = compute_stats(market[0], sim, options)

    assert 0.0 <= stats.exposure_pct <= 100.0
    assert stats.n_trades == len(sim.trades)
    series, signals = market
    last = int(series.time_ns[-1])
    assert sim.unfilled == sum(s.time_ns == last for s in signals)
    for before, after in zip(sim.trades, sim.trades[1:], strict=False):
        assert before.exit_time <= after.entry_time
        assert not before.closed_at_end
    if options.mode == "long-only":
        assert all(t.side == "long" for t in sim.trades)
