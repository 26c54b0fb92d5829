"""The engine's fast paths decide exactly as the plain definitions do.

`IncrementalRun.run` inlines `step`; a crossing compares the floats the updates return
and only breaks float ties exactly (`tie_breaker`); a live bar answers its current
values from a dict. Each is checked here against the slow, obvious form, on series made
of ties: prices near the exact-arithmetic bound moving by one tick, where distinct
averages round to the same float.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.candles import CandleSeries
from framework.crossing import CrossTracker
from framework.engine import IncrementalRun, run_full
from framework.indicators import EMA, EXACT, SMA, WMA, Bollinger, Indicator, compare
from framework.indicators.compare import tie_breaker
from framework.instruments import Instrument
from framework.strategy import Bar, Crossing, Signal, Strategy, Use, crossing, use
from framework.timeframes import Timeframe
from strategies.ma_unified import MAUnifiedStrategy

M15_NS = 900 * 10**9
KINDS: dict[str, type[Indicator]] = {"sma": SMA, "wma": WMA, "ema": EMA}


@st.composite
def tie_series(draw: st.DrawFn, slow: int) -> CandleSeries:
    """Closes at a magnitude where averages tie, moving by 0 or ±1 tick."""
    n = draw(st.integers(slow, slow + 60), label="bars")
    top = EXACT // (slow * (slow + 1) // 2)  # within every kind's exact range
    base = draw(st.sampled_from([3, 110_000, top // 2, top - 100]), label="magnitude")
    moves = draw(st.lists(st.sampled_from([-1, 0, 0, 0, 1]), min_size=n, max_size=n))
    close = np.clip(base + np.cumsum(moves), 1, top)
    return CandleSeries.create(
        Instrument("TIE", 0),
        Timeframe.M15,
        time_ns=np.arange(1, n + 1) * M15_NS,
        open=close,
        high=close,
        low=close,
        close=close,
        volume=np.ones(n),
    )


@settings(deadline=None, max_examples=60)
@given(st.data())
def test_run_step_and_the_full_path_give_the_same_signals_and_values_on_ties(
    data: st.DataObject,
) -> None:
    fast = data.draw(st.integers(1, 7), label="fast")
    slow = data.draw(st.integers(fast + 1, 9), label="slow")
    kind = data.draw(st.sampled_from(sorted(KINDS)), label="kind")
    series = data.draw(tie_series(slow))
    strategy = MAUnifiedStrategy(fast=fast, slow=slow, kind=kind)

    ran = IncrementalRun(strategy, series.instrument)
    run_signals = ran.run(series)
    stepped = IncrementalRun(strategy, series.instrument)
    step_signals = [s for c in series if (s := stepped.step(c)) is not None]
    full = run_full(strategy, series)

    assert run_signals == step_signals == full.signals
    assert ran.values() == stepped.values()
    assert ran.snapshot() == stepped.snapshot()
    last = {name: float(values[-1]) for name, values in full.values.items()}
    assert ran.values() == {name: None if v != v else v for name, v in last.items()}


@settings(deadline=None, max_examples=80)
@given(st.data())
def test_float_order_with_the_tie_breaker_is_compare_on_every_bar(data: st.DataObject) -> None:
    kinds = sorted(KINDS)
    a_kind, b_kind = data.draw(st.sampled_from(kinds)), data.draw(st.sampled_from(kinds))
    a_period, b_period = data.draw(st.integers(1, 8)), data.draw(st.integers(1, 8))
    a, b = KINDS[a_kind](a_period), KINDS[b_kind](b_period)
    series = data.draw(tie_series(max(a_period, b_period)))
    tie = tie_breaker(a, b)

    for price in series.close.tolist():
        x, y = a.update(price), b.update(price)
        if x is None or y is None:
            continue
        fast_path = 1 if x > y else -1 if x < y else tie()
        assert fast_path == compare(x, a.exact(), y, b.exact())


@given(
    st.lists(
        st.tuples(st.none() | st.sampled_from([1.0, 2.0]), st.sampled_from([1.0, 2.0])),
        max_size=40,
    )
)
def test_update_values_is_update_of_the_comparison(pairs: list[tuple[float | None, float]]) -> None:
    by_values, by_sign = CrossTracker(lookback=2), CrossTracker(lookback=2)

    for a, b in pairs:
        sign = None if a is None else (a > b) - (a < b)
        assert by_values.update_values(a, b, lambda: 0) == by_sign.update(sign)

    assert by_values.snapshot() == by_sign.snapshot()


class Reads(Strategy):
    """Reads one name, current bar only."""

    name = "reads"

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def indicators(self) -> Mapping[str, Use | Crossing]:
        return {"px": use(SMA, 1), "bb": use(Bollinger, 3, 2.0), "x": crossing("px", "bb")}

    def decide(self, bar: Bar) -> Signal | None:
        bar[self.target]
        return None


@pytest.mark.parametrize("target", ["nope", "bb.nope", "x.value"])
def test_reading_an_undeclared_name_fails_in_the_live_path_as_it_reads_by_value(
    target: str,
) -> None:
    series = CandleSeries.create(
        Instrument("X", 0),
        Timeframe.M15,
        time_ns=[M15_NS],
        open=[5],
        high=[5],
        low=[5],
        close=[5],
        volume=[1.0],
    )
    run = IncrementalRun(Reads(target), series.instrument)

    with pytest.raises(Exception) as by_item:
        run.step(series.candle(0))
    with pytest.raises(Exception) as by_value:
        run._bar.value(target)

    assert type(by_item.value) is type(by_value.value)
    assert str(by_item.value) == str(by_value.value)
