"""The two paths of the engine: `run_full` and `IncrementalRun` drive one `decide` alike.

Strategies here use multi-output (Bollinger) and multi-input (ATR) indicators, crossings,
other price fields and reads of previous bars, so that every way a decision can read a
value is compared between the paths.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pytest

from backtest.parity import verify
from framework.candles import CandleSeries
from framework.engine import IncrementalRun, run_full
from framework.errors import ParameterError, SnapshotError
from framework.indicators import ATR, EMA, SMA, Bollinger
from framework.instruments import Instrument
from framework.loading import load_candles
from framework.params import Param
from framework.state import open_store
from framework.strategy import Bar, Crossing, Side, Signal, Strategy, Use, crossing, use
from strategies.ma_unified import MAUnifiedStrategy


def bits(value: float | None) -> int | None:
    if value is None or value != value:
        return None
    return int(struct.unpack("<q", struct.pack("<d", value))[0])


class BandBreakout(Strategy):
    """Bollinger breakouts, filtered by ATR: every read goes through a multi-output name."""

    name = "band_breakout"
    lookback = 2
    period = Param(12, "band window", minimum=2)

    def indicators(self) -> Mapping[str, Use | Crossing]:
        return {
            "px": use(SMA, 1),
            "bb": use(Bollinger, self.period, 2.0),
            "atr": use(ATR, 5),
            "mid": crossing("px", "bb"),  # a multi-output indicator crosses by its first output
        }

    def decide(self, bar: Bar) -> Signal | None:
        px, upper, lower, atr = bar["px"], bar["bb.upper"], bar["bb.lower"], bar["atr"]
        before_px, before_upper = bar.value("px", 1), bar.value("bb.upper", 1)
        before_lower = bar.value("bb.lower", 1)
        if None in (px, upper, lower, atr, before_px, before_upper, before_lower):
            return None
        assert px is not None and upper is not None and lower is not None and atr is not None
        if px > upper and before_px <= before_upper:  # type: ignore[operator]
            return Signal.buy("closed above the upper band")
        if px < lower and before_px >= before_lower:  # type: ignore[operator]
            return Signal.sell("closed below the lower band")
        if bar["mid"] == -1 and upper - lower < 6 * atr:
            return Signal.sell("back under the middle of a narrow band")
        return None


PROBED = ["px", "bb", "bb.middle", "bb.upper", "bb.lower", "atr", "slow", "x", "y"]


class Probe(Strategy):
    """Records every value a decision can read, ``ago`` 0..lookback, and the bar time."""

    name = "probe"
    lookback = 2

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.reads: list[tuple[int | None, ...]] = []

    def indicators(self) -> Mapping[str, Use | Crossing]:
        return {
            "px": use(SMA, 1),
            "bb": use(Bollinger, 5, 1.5),
            "atr": use(ATR, 3),
            "slow": use(EMA, 4, price="hlc3"),
            "x": crossing("px", "bb"),
            "y": crossing("bb", "slow"),
        }

    def decide(self, bar: Bar) -> Signal | None:
        values = [bits(bar.value(n, ago)) for n in PROBED for ago in range(self.lookback + 1)]
        assert [bits(bar[n]) for n in PROBED] == [bits(bar.value(n)) for n in PROBED]
        self.reads.append((bar.time_ns, *values))
        return None


@pytest.fixture(scope="module")
def eurusd() -> CandleSeries:
    return load_candles("data/EURUSD_M15_2026.csv.gz").slice(0, 1500)


def stepped(strategy: Strategy, series: CandleSeries) -> tuple[list[Any], list[dict[str, Any]]]:
    run = IncrementalRun(strategy, series.instrument)
    signals, rows = [], []
    for candle in series:
        signal = run.step(candle)
        if signal is not None:
            signals.append(signal)
        rows.append({name: bits(value) for name, value in run.values().items()})
    return signals, rows


# --- multi-output and multi-input indicators --------------------------------------------


def test_full_values_name_each_output_once_as_the_incremental_run_does(
    eurusd: CandleSeries,
) -> None:
    full = run_full(BandBreakout(), eurusd)
    run = IncrementalRun(BandBreakout(), eurusd.instrument)

    assert list(full.values) == run.series_names
    assert set(run.series_names) == {"px", "bb.middle", "bb.upper", "bb.lower", "atr", "mid"}
    assert "bb" not in full.values, "the bare name is an alias for decide(), not a series"


def test_a_strategy_on_bands_and_atr_gives_bit_identical_values_and_signals_in_both_paths(
    eurusd: CandleSeries,
) -> None:
    full = run_full(BandBreakout(), eurusd)

    signals, rows = stepped(BandBreakout(), eurusd)

    assert len(full.signals) >= 10
    assert {s.side for s in full.signals} == {Side.BUY, Side.SELL}
    assert signals == full.signals
    for name, column in full.values.items():
        assert [row[name] for row in rows] == [bits(float(v)) for v in column], name


def test_parity_verify_accepts_multi_output_indicators_with_restarts(eurusd: CandleSeries) -> None:
    report = verify(
        BandBreakout(), eurusd, open_store("memory"), chunking="live", restarts=4, seed=7
    )

    assert report.ok, report.first_mismatch
    assert report.restarts == 4
    assert report.signals_full == report.signals_incremental >= 10


def test_every_read_a_decision_can_make_is_identical_in_both_paths(eurusd: CandleSeries) -> None:
    series = eurusd.slice(0, 300)
    full_probe, live_probe = Probe(), Probe()

    run_full(full_probe, series)
    IncrementalRun(live_probe, series.instrument).run(series)

    assert len(full_probe.reads) == len(series)
    assert live_probe.reads == full_probe.reads
    assert [read[0] for read in full_probe.reads] == series.time_ns.tolist()
    bb, middle = PROBED.index("bb"), PROBED.index("bb.middle")
    width = Probe.lookback + 1
    for read in full_probe.reads:
        values = read[1:]
        assert (
            values[bb * width : (bb + 1) * width] == values[middle * width : (middle + 1) * width]
        )


def test_signals_are_priced_at_the_close_whatever_price_the_averages_read(
    eurusd: CandleSeries,
) -> None:
    strategy = MAUnifiedStrategy(fast=5, slow=20, price="hl2")
    closes = dict(zip(eurusd.time_ns.tolist(), eurusd.prices("close").tolist(), strict=True))

    full = run_full(strategy, eurusd)
    live = IncrementalRun(strategy, eurusd.instrument).run(eurusd)

    assert full.signals == live
    assert all(s.price == closes[s.time_ns] for s in full.signals)


def test_a_strategy_without_indicators_still_decides_on_every_bar(eurusd: CandleSeries) -> None:
    class EveryHundredth(Strategy):
        name = "every_hundredth"

        def indicators(self) -> Mapping[str, Use | Crossing]:
            return {}

        def decide(self, bar: Bar) -> Signal | None:
            return Signal.buy() if bar.time_ns % (100 * 900 * 10**9) == 0 else None

    full = run_full(EveryHundredth(), eurusd)

    assert full.values == {}
    assert IncrementalRun(EveryHundredth(), eurusd.instrument).run(eurusd) == full.signals


# --- decisions that break the contract --------------------------------------------------


class Returns(Strategy):
    """decide() returns whatever the class says."""

    name = "returns"
    result: ClassVar[object] = None

    def indicators(self) -> Mapping[str, Use | Crossing]:
        return {"px": use(SMA, 1)}

    def decide(self, bar: Bar) -> Signal | None:
        return self.result  # type: ignore[return-value]


@pytest.mark.parametrize("result", ["BUY", Side.BUY, True, 1, ("BUY", "why")])
def test_a_decision_returning_something_else_than_a_signal_is_a_clear_error_in_both_paths(
    eurusd: CandleSeries, result: object
) -> None:
    strategy = type("Odd", (Returns,), {"result": result})()
    expected = f"decide\\(\\) must return a Signal or None, not {type(result).__name__}"

    with pytest.raises(TypeError, match=expected):
        run_full(strategy, eurusd.slice(0, 3))
    with pytest.raises(TypeError, match=expected):
        IncrementalRun(strategy, eurusd.instrument).step(eurusd.candle(0))


class ReadsBack(Strategy):
    """Reads ``name`` ``ago`` bars back, with the default lookback of one bar."""

    name = "reads_back"
    series = Param("px", "what to read", choices=("px", "x"))
    ago = Param(2, "how far back")

    def indicators(self) -> Mapping[str, Use | Crossing]:
        return {"px": use(SMA, 1), "other": use(SMA, 2), "x": crossing("px", "other")}

    def decide(self, bar: Bar) -> Signal | None:
        bar.value(self.series, self.ago)
        return None


@pytest.mark.parametrize("series", ["px", "x"])
@pytest.mark.parametrize("ago", [2, -1])
def test_reading_outside_the_lookback_fails_alike_in_both_paths(
    eurusd: CandleSeries, series: str, ago: int
) -> None:
    # A negative ``ago`` would read a later bar in the full path: look-ahead.
    strategy = ReadsBack(series=series, ago=ago)

    with pytest.raises(ParameterError, match=r"ago must be 0\.\.1"):
        run_full(strategy, eurusd.slice(0, 5))
    run = IncrementalRun(strategy, eurusd.instrument)
    with pytest.raises(ParameterError, match=r"ago must be 0\.\.1"):
        run.step(eurusd.candle(0))


def test_reading_within_the_lookback_before_the_first_bar_gives_none_in_both_paths(
    eurusd: CandleSeries,
) -> None:
    probe_full, probe_live = Probe(), Probe()

    run_full(probe_full, eurusd.slice(0, 1))
    IncrementalRun(probe_live, eurusd.instrument).step(eurusd.candle(0))

    assert probe_full.reads == probe_live.reads
    px_two_ago = probe_full.reads[0][1 + 2]
    assert px_two_ago is None


# --- declarations that do not make sense ------------------------------------------------


def declares(series: Mapping[str, object]) -> Strategy:
    class Declares(Strategy):
        name = "declares"

        def indicators(self) -> Mapping[str, Use | Crossing]:
            return series  # type: ignore[return-value]

        def decide(self, bar: Bar) -> Signal | None:
            return None

    return Declares()


@pytest.mark.parametrize(
    ("series", "message"),
    [
        (
            {"a": use(SMA, 2), "x": crossing("a", "b")},
            "declares: crossing 'x' refers to 'b', which is not a declared indicator",
        ),
        (
            {"a": use(SMA, 2), "b": use(SMA, 3), "x": crossing("a", "b"), "y": crossing("x", "a")},
            "declares: crossing 'y' refers to 'x', which is not a declared indicator",
        ),
        ({"a": SMA}, "declares: 'a' is not a Use or a Crossing"),
    ],
)
def test_a_declaration_that_cannot_be_computed_is_refused_before_any_bar(
    eurusd: CandleSeries, series: Mapping[str, object], message: str
) -> None:
    with pytest.raises(ParameterError) as full_error:
        run_full(declares(series), eurusd.slice(0, 3))
    with pytest.raises(ParameterError) as live_error:
        IncrementalRun(declares(series), eurusd.instrument)

    assert str(full_error.value) == str(live_error.value) == message


def test_an_unknown_price_field_is_refused_with_the_known_ones() -> None:
    with pytest.raises(
        ParameterError,
        match="unknown price field 'hl3'; expected one of open, high, low, close, hl2",
    ):
        use(SMA, 3, price="hl3")


# --- state: snapshot and restore ----------------------------------------------------------


@pytest.fixture
def warm_state(eurusd: CandleSeries) -> tuple[IncrementalRun, dict[str, bytes]]:
    run = IncrementalRun(MAUnifiedStrategy(fast=5, slow=20), eurusd.instrument)
    run.run(eurusd.slice(0, 100))
    return run, run.snapshot()


def test_a_run_restored_from_its_snapshot_continues_exactly_like_the_original(
    eurusd: CandleSeries, warm_state: tuple[IncrementalRun, dict[str, bytes]]
) -> None:
    original, state = warm_state
    restored = IncrementalRun(MAUnifiedStrategy(fast=5, slow=20), eurusd.instrument, state=state)

    assert restored.values() == original.values()
    rest = eurusd.slice(100, 400)
    assert restored.run(rest) == original.run(rest)
    assert restored.snapshot() == original.snapshot()


def swapped(state: dict[str, bytes], a: str, b: str) -> dict[str, bytes]:
    return {**state, a: state[b], b: state[a]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: {k: v for k, v in s.items() if k != "cross"}, "state holds"),
        (lambda s: {**s, "extra": s["fast"]}, "state holds"),
        (lambda s: {**s, "fast": s["slow"]}, "expected SMA"),  # SMA(20) where SMA(5) belongs
        (lambda s: swapped(s, "fast", "cross"), None),  # a crossing where an indicator belongs
        (lambda s: {**s, "cross": s["fast"]}, "crossing snapshot"),
        (lambda s: {**s, "fast": b"\x00garbage"}, "not an indicator snapshot"),
        (lambda s: {**s, "slow": s["slow"][:-3]}, None),
    ],
    ids=[
        "missing",
        "extra",
        "other-period",
        "swapped-kinds",
        "indicator-as-crossing",
        "garbage",
        "truncated",
    ],
)
def test_restoring_state_that_does_not_fit_the_strategy_raises_snapshot_error(
    eurusd: CandleSeries,
    warm_state: tuple[IncrementalRun, dict[str, bytes]],
    change: Any,
    message: str | None,
) -> None:
    _, state = warm_state

    with pytest.raises(SnapshotError, match=message):
        IncrementalRun(MAUnifiedStrategy(fast=5, slow=20), eurusd.instrument, state=change(state))


@pytest.mark.parametrize(
    ("strategy", "instrument"),
    [
        (MAUnifiedStrategy(fast=5, slow=20, kind="ema"), Instrument("EURUSD", 5)),  # other kind
        (MAUnifiedStrategy(fast=5, slow=20, price="hl2"), Instrument("EURUSD", 5)),  # scale × 2
        (MAUnifiedStrategy(fast=5, slow=20), Instrument("EURUSD", 4)),  # other precision
        (MAUnifiedStrategy(fast=5, slow=21), Instrument("EURUSD", 5)),  # other period
    ],
    ids=["kind", "price-field", "decimals", "period"],
)
def test_state_of_another_configuration_is_refused(
    warm_state: tuple[IncrementalRun, dict[str, bytes]],
    strategy: Strategy,
    instrument: Instrument,
) -> None:
    _, state = warm_state

    with pytest.raises(SnapshotError):
        IncrementalRun(strategy, instrument, state=state)


def test_state_of_another_lookback_is_refused(
    eurusd: CandleSeries, warm_state: tuple[IncrementalRun, dict[str, bytes]]
) -> None:
    class LongerMemory(MAUnifiedStrategy):
        lookback = 3

    _, state = warm_state

    with pytest.raises(SnapshotError):
        IncrementalRun(LongerMemory(fast=5, slow=20), eurusd.instrument, state=state)


def test_a_failed_restore_leaves_the_run_as_it_was(
    eurusd: CandleSeries, warm_state: tuple[IncrementalRun, dict[str, bytes]]
) -> None:
    run, state = warm_state
    twin = IncrementalRun(MAUnifiedStrategy(fast=5, slow=20), eurusd.instrument, state=state)

    with pytest.raises(SnapshotError):
        run.restore({**state, "cross": b"\xc1"})  # indicators fine, the crossing not

    assert run.snapshot() == state
    rest = eurusd.slice(100, 300)
    assert run.run(rest) == twin.run(rest)


def test_values_are_none_during_warm_up_and_floats_after(eurusd: CandleSeries) -> None:
    run = IncrementalRun(MAUnifiedStrategy(fast=2, slow=3), eurusd.instrument)

    run.step(eurusd.candle(0))
    first = run.values()
    run.step(eurusd.candle(1))
    second = run.values()
    run.step(eurusd.candle(2))

    assert first == {"fast": None, "slow": None, "cross": None}
    assert second["slow"] is None and isinstance(second["fast"], float)
    assert all(isinstance(v, float) for v in run.values().values())
    assert np.isnan(
        run_full(MAUnifiedStrategy(fast=2, slow=3), eurusd.slice(0, 3)).values["cross"][1]
    )
