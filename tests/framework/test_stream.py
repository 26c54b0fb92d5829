"""`advance`: one stream's live step from its stored record and new candles."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from framework.candles import Candle, CandleSeries
from framework.engine import IncrementalRun, run_full
from framework.errors import DataError
from framework.loading import load_candles
from framework.state import RedisStateStore, StateRecord, candle_digest, open_store
from framework.stream import Stream, StreamStep, advance
from framework.timeframes import Timeframe
from strategies.ma_unified import MAUnifiedStrategy


@pytest.fixture(scope="module")
def eurusd() -> CandleSeries:
    return load_candles("data/EURUSD_M15_2026.csv.gz").slice(0, 800)


@pytest.fixture
def stream(eurusd: CandleSeries) -> Stream:
    return Stream(MAUnifiedStrategy(fast=5, slow=20), eurusd.instrument, eurusd.timeframe)


@pytest.fixture
def store() -> RedisStateStore:
    return open_store("memory", prefix=f"parity-test-stream:{uuid.uuid4().hex}:")


def fed(stream: Stream, candles: list[Candle], chunk: int) -> list[StreamStep]:
    """Advance chunk by chunk, each step from the previous record (no warm run)."""
    steps, record = [], None
    for start in range(0, len(candles), chunk):
        step = advance(stream, record, candles[start : start + chunk])
        steps.append(step)
        record = step.record
    return steps


def test_the_next_record_holds_the_state_watermark_digest_and_count(
    stream: Stream, eurusd: CandleSeries
) -> None:
    candles = list(eurusd)[:300]

    step = advance(stream, None, candles)

    straight = IncrementalRun(MAUnifiedStrategy(fast=5, slow=20), eurusd.instrument)
    straight.run(candles)
    assert step.record.snapshots == straight.snapshot()
    assert step.record.watermark_ns == candles[-1].time_ns
    assert step.record.last_candle_hash == candle_digest(candles[-1])
    assert step.record.bars_processed == 300
    assert step.record.version == 0
    assert step.signals and step.record.last_signal == step.signals[-1]


def test_signals_name_the_stream_and_carry_the_full_paths_bar_side_price_and_reason(
    stream: Stream, eurusd: CandleSeries
) -> None:
    full = run_full(stream.strategy, eurusd)

    step = advance(stream, None, list(eurusd))

    assert {event.stream_id for event in step.signals} == {stream.key.id}
    assert [(e.bar_time_ns, e.side, e.price, e.reason) for e in step.signals] == [
        (s.time_ns, s.side.value, s.price, s.reason) for s in full.signals
    ]


def test_chunks_from_decoded_records_give_the_signals_of_one_pass(
    stream: Stream, eurusd: CandleSeries
) -> None:
    candles = list(eurusd)
    one_pass = advance(stream, None, candles)

    steps = fed(stream, candles, chunk=7)

    assert [e for step in steps for e in step.signals] == one_pass.signals
    assert steps[-1].record.snapshots == one_pass.record.snapshots
    assert steps[-1].record.bars_processed == len(candles)


def test_the_last_signal_is_kept_through_steps_without_signals(
    stream: Stream, eurusd: CandleSeries
) -> None:
    candles = list(eurusd)
    steps = fed(stream, candles, chunk=1)

    last = None
    for step in steps:
        last = step.signals[-1] if step.signals else last
        assert step.record.last_signal == last


def test_no_candles_leave_the_record_as_it_is(stream: Stream, eurusd: CandleSeries) -> None:
    record = advance(stream, None, list(eurusd)[:50]).record
    stored = dataclasses.replace(record, version=3)

    step = advance(stream, stored, [])

    assert step.record is stored
    assert step.signals == []


def test_the_loaded_version_is_carried_for_compare_and_set(
    stream: Stream, eurusd: CandleSeries, store: RedisStateStore
) -> None:
    candles = list(eurusd)
    first = store.commit(stream.key, advance(stream, None, candles[:40]).record)

    step = advance(stream, store.load(stream.key), candles[40:60])

    assert first.version == 1
    assert step.record.version == 1
    assert store.commit(stream.key, step.record).version == 2


def test_the_observer_sees_every_candle_after_it_is_processed(
    stream: Stream, eurusd: CandleSeries
) -> None:
    candles = list(eurusd)[:30]
    seen: list[tuple[int, dict[str, float | None]]] = []

    advance(stream, None, candles, observer=lambda c, run: seen.append((c.time_ns, run.values())))

    assert [t for t, _ in seen] == [c.time_ns for c in candles]
    assert seen[-1][1]["slow"] is not None and seen[18][1]["slow"] is None


@pytest.mark.parametrize(
    "bad_chunk",
    [
        lambda c: [c[50]],  # the watermark bar again
        lambda c: [c[20]],  # a bar before the watermark
        lambda c: [c[51], c[52], c[52]],  # a duplicate inside the chunk
        lambda c: [c[51], c[53], c[52]],  # out of order inside the chunk
    ],
    ids=["watermark", "before", "duplicate", "unsorted"],
)
def test_candles_not_after_the_watermark_are_refused_before_any_is_fed(
    stream: Stream, eurusd: CandleSeries, bad_chunk: object
) -> None:
    candles = list(eurusd)
    step = advance(stream, None, candles[:51])
    warm = step.run
    before = warm.snapshot()

    with pytest.raises(DataError, match="is not after the stream's last bar") as caught:
        advance(stream, step.record, bad_chunk(candles), warm=warm)  # type: ignore[operator]

    assert stream.key.id in str(caught.value)
    # The warm run is untouched, so a caller may keep it and go on from the record.
    assert warm.snapshot() == before
    rest = advance(stream, step.record, candles[51:], warm=warm)
    assert rest.record.snapshots == advance(stream, None, candles).record.snapshots


def test_a_warm_run_and_a_decoded_record_give_the_same_next_record(
    stream: Stream, eurusd: CandleSeries
) -> None:
    candles = list(eurusd)
    first = advance(stream, None, candles[:100])

    warm = advance(stream, first.record, candles[100:200], warm=first.run)
    cold = advance(stream, StateRecord.decode(first.record.encode()), candles[100:200])

    assert warm.record == cold.record
    assert warm.signals == cold.signals


def test_the_stream_key_changes_with_any_parameter_symbol_or_timeframe(
    eurusd: CandleSeries,
) -> None:
    def key(timeframe: Timeframe = eurusd.timeframe, **params: object) -> str:
        strategy = MAUnifiedStrategy(**{"fast": 5, "slow": 20, **params})
        return Stream(strategy, eurusd.instrument, timeframe).key.id

    base = key()

    assert key() == base
    assert key(fast="5", slow="20") == base, "the same values given as text"
    assert len({base, key(fast=6), key(slow=21), key(kind="ema"), key(price="hl2")}) == 5
    assert key(timeframe=Timeframe.H1) != base
    other = dataclasses.replace(eurusd.instrument, symbol="GBPUSD")
    strategy = MAUnifiedStrategy(fast=5, slow=20)
    assert Stream(strategy, other, eurusd.timeframe).key.id != base
    assert base.startswith("ma_unified:") and base.endswith(":EURUSD:M15")
