"""MA_Unified_Strat: the incremental path equals the full path, bit for bit, always.

For random candles (constant runs, ties, magnitudes up to the exact-arithmetic bound),
random parameters, random chunkings and random restarts, the live step
(`framework.stream.advance`) committed to a state store chunk by chunk — with every
object dropped and reloaded from the store at the restart points — gives exactly the
full path's signals (as published in the store's outbox) and, after every bar, exactly
the full path's value of every declared series: the same float64 bits, and None exactly
where the full path has NaN.

This harness is written independently of `backtest.parity.verify` (which is checked by
the last property), so a bug there cannot hide one here.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.parity import verify
from framework.candles import PRICE_FIELDS, CandleSeries
from framework.engine import FullRun, IncrementalRun, run_full
from framework.indicators import EXACT
from framework.instruments import Instrument
from framework.state import SignalEvent, open_store
from framework.stream import Stream, advance
from framework.timeframes import Timeframe
from strategies.ma_unified import MAUnifiedStrategy

START_NS = 1_704_067_200 * 10**9  # 2024-01-01T00:00Z
M15_NS = 900 * 10**9
MAX_SLOW = 9


def top_price(params: dict[str, Any]) -> int:
    """The largest price in ticks that ``params`` compute exactly: the slow average's
    input (a sum of ``len(PRICE_FIELDS[price])`` prices) times its window weight (``n``,
    or ``n(n+1)/2`` for WMA) must stay below 2**53."""
    n = int(params["slow"])
    weight = n * (n + 1) // 2 if params["kind"] == "wma" else n
    return EXACT // weight // len(PRICE_FIELDS[params["price"]])


@st.composite
def candle_series(draw: st.DrawFn, top: int) -> CandleSeries:
    """Valid candles up to ``top`` ticks: walks in steps of one size with many zero moves
    (constant runs, ties). Near ``top`` with steps of one tick, distinct averages often
    round to the same float, which only an exact comparison tells apart."""
    n = draw(st.integers(1, 48), label="bars")
    magnitudes = [3, 20, 110_000, 10**9, top // 2, top - 200]
    base = draw(st.sampled_from(magnitudes), label="magnitude")
    step = draw(st.sampled_from(sorted({1, 2, max(1, base // 1000), max(1, base // 7)})))
    moves = draw(st.lists(st.sampled_from([-2, -1, 0, 0, 0, 1, 2]), min_size=n, max_size=n))
    close = np.clip(base + step * np.cumsum(moves), 1, top)
    previous = np.concatenate(([close[0]], close[:-1]))
    gap = draw(st.sampled_from([0, 1, step]), label="open gap")
    open_ = np.clip(previous + gap * np.array(moves), 1, top)
    wick = np.array(draw(st.lists(st.sampled_from([0, 1, step]), min_size=n, max_size=n)))
    high = np.minimum(np.maximum(open_, close) + wick, top)
    low = np.maximum(np.minimum(open_, close) - wick[::-1], 1)
    spacing = draw(st.lists(st.sampled_from([1, 1, 1, 4]), min_size=n, max_size=n))
    decimals = draw(st.sampled_from([0, 1, 2, 5]), label="decimals")
    return CandleSeries.create(
        Instrument("PROP", decimals),
        Timeframe.M15,
        time_ns=START_NS + M15_NS * np.cumsum(spacing),
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=np.ones(n),
    )


@st.composite
def parameters(draw: st.DrawFn) -> dict[str, Any]:
    fast = draw(st.integers(1, MAX_SLOW - 1))
    return {
        "fast": fast,
        "slow": draw(st.integers(fast + 1, MAX_SLOW)),
        "kind": draw(st.sampled_from(["sma", "ema", "wma"])),
        "price": draw(st.sampled_from(sorted(PRICE_FIELDS))),
    }


@dataclass
class Plan:
    """How the candles arrive: chunk sizes, and before which chunks the process restarts."""

    sizes: list[int]
    restarts: set[int]


@st.composite
def plans(draw: st.DrawFn, total: int) -> Plan:
    sizes: list[int] = []
    while sum(sizes) < total:
        largest = total - sum(sizes)
        sizes.append(draw(st.integers(1, largest) | st.integers(1, min(5, largest))))
    flags = draw(st.lists(st.booleans(), min_size=len(sizes), max_size=len(sizes)))
    return Plan(sizes, {i for i, flag in enumerate(flags) if flag})


def bits(value: float | None) -> int | None:
    """The float64 bit pattern; None (and NaN, the full path's None) as None."""
    if value is None or value != value:
        return None
    return int(struct.unpack("<q", struct.pack("<d", value))[0])


def full_rows(full: FullRun) -> list[dict[str, int | None]]:
    names = list(full.values)
    n = len(next(iter(full.values.values()))) if names else 0
    return [{name: bits(float(full.values[name][i])) for name in names} for i in range(n)]


def signal_key(time_ns: int, side: str, price: float, reason: str) -> tuple[Any, ...]:
    return (time_ns, side, price.hex(), reason)


def replay(
    params: dict[str, Any], series: CandleSeries, plan: Plan
) -> tuple[list[dict[str, int | None]], list[SignalEvent], dict[str, bytes]]:
    """The live step over ``plan``, committing every chunk and restarting where it says."""
    prefix = f"parity-prop:{uuid.uuid4().hex}:"

    def fresh() -> Stream:
        return Stream(MAUnifiedStrategy(**params), series.instrument, series.timeframe)

    stream = fresh()
    key = stream.key
    store = open_store("memory", prefix=prefix)
    rows: list[dict[str, int | None]] = []

    def observe(candle: object, run: IncrementalRun) -> None:
        rows.append({name: bits(value) for name, value in run.values().items()})

    candles = list(series)
    record, warm, position = None, None, 0
    for index, size in enumerate(plan.sizes):
        if index in plan.restarts:
            # A new process: nothing survives but what the store holds.
            store.close()
            store = open_store("memory", prefix=prefix)
            stream, warm = fresh(), None
            record = store.load(key)
        step = advance(
            stream, record, candles[position : position + size], warm=warm, observer=observe
        )
        record = store.commit(key, step.record, step.signals)
        warm = step.run
        position += size
    assert record is not None
    assert record.bars_processed == len(series)
    assert record.watermark_ns == int(series.time_ns[-1])
    published = [event for _, event in store.read_outbox(key)]
    store.delete([key], include_outbox=True)
    store.close()
    return rows, published, record.snapshots


@settings(deadline=None)
@given(parameters(), st.data())
def test_incremental_with_commits_and_restarts_equals_the_full_path_bit_for_bit(
    params: dict[str, Any], data: st.DataObject
) -> None:
    series = data.draw(candle_series(top_price(params)), label="series")
    plan = data.draw(plans(len(series)), label="plan")
    full = run_full(MAUnifiedStrategy(**params), series)

    rows, published, snapshots = replay(params, series, plan)

    assert [signal_key(e.bar_time_ns, e.side, e.price, e.reason) for e in published] == [
        signal_key(s.time_ns, s.side.value, s.price, s.reason) for s in full.signals
    ]
    expected = full_rows(full)
    for i, (want, got) in enumerate(zip(expected, rows, strict=True)):
        assert got == want, f"bar {i}"
    # The state after chunks and restarts is the state of one uninterrupted pass.
    straight = IncrementalRun(MAUnifiedStrategy(**params), series.instrument)
    straight.run(series)
    assert snapshots == straight.snapshot()


@settings(deadline=None)
@given(
    parameters(),
    st.sampled_from(["live", "random", 1, 2, 7]),
    st.integers(0, 4),
    st.integers(0, 2**32 - 1),
    st.data(),
)
def test_parity_verify_finds_no_difference_for_any_chunking_restarts_and_seed(
    params: dict[str, Any], chunking: Any, restarts: int, seed: int, data: st.DataObject
) -> None:
    series = data.draw(candle_series(top_price(params)), label="series")
    store = open_store("memory", prefix=f"parity-prop:{uuid.uuid4().hex}:")

    report = verify(
        MAUnifiedStrategy(**params), series, store, chunking=chunking, restarts=restarts, seed=seed
    )

    assert report.ok, report.first_mismatch
    assert report.candles == len(series)
    assert report.signals_full == report.signals_incremental
