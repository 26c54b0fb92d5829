"""The live processor over in-memory candles and the embedded store."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import pytest
from _candles_testkit import with_close

from framework.candles import CandleSeries
from framework.engine import run_full
from framework.errors import ParameterError, SourceUnavailable
from framework.loading import load_candles
from framework.processor import SignalProcessor
from framework.sources import SeriesCandleSource
from framework.state import ConnectionPolicy, RedisStateStore, SignalEvent, open_store
from framework.stream import Stream, advance
from strategies.ma_unified import MAUnifiedStrategy

ROOT_DATA = "data/{}_M15_2026.csv.gz"
SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY")


@pytest.fixture(scope="module")
def histories() -> dict[str, CandleSeries]:
    return {s: load_candles(ROOT_DATA.format(s)).slice(0, 1500) for s in SYMBOLS}


def streams_for(histories: dict[str, CandleSeries]) -> list[Stream]:
    strategy = MAUnifiedStrategy(fast=10, slow=30)
    return [Stream(strategy, h.instrument, h.timeframe) for h in histories.values()]


def closes(series: CandleSeries) -> np.ndarray:
    return series.time_ns + series.timeframe.nanoseconds


def replay(processor: SignalProcessor, clock: np.ndarray, rng: np.random.Generator) -> list:
    """Run cycles at 1-5 bar steps of a simulated clock; return every published signal."""
    published: list[SignalEvent] = []
    position = 0
    while position < clock.size:
        position = min(clock.size, position + int(rng.integers(1, 6)))
        published += processor.cycle(now_ns=int(clock[position - 1])).signals
    return published


def expected_signals(stream: Stream, series: CandleSeries) -> list[tuple[int, str]]:
    return [(s.time_ns, s.side.value) for s in run_full(stream.strategy, series).signals]


def one_stream(
    histories: dict[str, CandleSeries], symbol: str, **store_options: Any
) -> tuple[CandleSeries, Stream, SeriesCandleSource, RedisStateStore, np.ndarray]:
    """A symbol's candles, one MA stream on them, their source, an empty store, the closes."""
    series = histories[symbol]
    store = open_store("memory", **store_options)
    store.invalidate(include_outbox=True)
    stream = streams_for({symbol: series})[0]
    return series, stream, SeriesCandleSource([series]), store, closes(series)


def test_cycles_publish_every_full_path_signal_exactly_once(histories):
    streams = streams_for(histories)
    source = SeriesCandleSource(histories.values())
    store = open_store("memory")
    store.invalidate(include_outbox=True)
    processor = SignalProcessor(streams, source, store, catch_up_bars=10**6, seed=1)
    clock = closes(histories["EURUSD"])

    published = replay(processor, clock, np.random.default_rng(3))

    for stream, series in zip(streams, histories.values(), strict=True):
        got = [(s.bar_time_ns, s.side) for s in published if s.stream_id == stream.key.id]
        assert got == expected_signals(
            stream, series.slice(0, int(np.searchsorted(closes(series), clock[-1], "right")))
        )
        outbox = [(e.bar_time_ns, e.side) for _, e in store.read_outbox(stream.key, count=10**4)]
        assert outbox == got


def test_a_restarted_processor_publishes_nothing_twice_and_misses_nothing(histories):
    streams = streams_for(histories)
    source = SeriesCandleSource(histories.values())
    store = open_store("memory")
    store.invalidate(include_outbox=True)
    clock = closes(histories["EURUSD"])
    rng = np.random.default_rng(5)
    published: list[SignalEvent] = []
    position = 0
    while position < clock.size:
        # A new process every few cycles: nothing survives but the store.
        processor = SignalProcessor(streams, source, store, catch_up_bars=10**6)
        for _ in range(int(rng.integers(1, 8))):
            position = min(clock.size, position + int(rng.integers(1, 6)))
            published += processor.cycle(now_ns=int(clock[position - 1])).signals

    ids = [s.event_id for s in published]
    assert len(ids) == len(set(ids))
    for stream, series in zip(streams, histories.values(), strict=True):
        got = [(s.bar_time_ns, s.side) for s in published if s.stream_id == stream.key.id]
        assert got == expected_signals(stream, series)


def test_a_corrected_candle_rebuilds_the_stream_and_later_signals_follow_the_new_data(
    histories,
):
    series, stream, source, store, clock = one_stream(histories, "EURUSD")
    processor = SignalProcessor([stream], source, store, catch_up_bars=10**6)
    processor.cycle(now_ns=int(clock[999]))

    # The last processed bar is corrected: its close moves up one tick.
    corrected = with_close(series, 999, 1)
    source.replace(corrected)
    report = processor.cycle(now_ns=int(clock[-1]))

    assert report.rebuilt == {stream.key.id: "last bar changed in source"}
    after = [(s.bar_time_ns, s.side) for s in report.signals]
    expected = [
        signal
        for signal in expected_signals(stream, corrected)
        if signal[0] > int(series.time_ns[999])
    ]
    assert after == expected


def test_with_the_store_down_signals_continue_through_the_full_path_and_are_kept(histories):
    series, stream, source, store, clock = one_stream(
        histories, "GBPUSD", policy=ConnectionPolicy(breaker_reset_s=0.01)
    )
    processor = SignalProcessor([stream], source, store, catch_up_bars=10**6)
    processor.cycle(now_ns=int(clock[400]))
    published = []
    server = store._client.connection_pool.connection_kwargs["server"]

    server.connected = False
    try:
        for position in range(401, 1200, 7):
            report = processor.cycle(now_ns=int(clock[position]))
            assert report.fallback
            published += report.signals
    finally:
        server.connected = True
    time.sleep(0.02)  # the breaker lets a trial call through after its reset time
    published += processor.cycle(now_ns=int(clock[-1])).signals

    got = [(s.bar_time_ns, s.side) for s in published]
    expected = [s for s in expected_signals(stream, series) if s[0] > int(series.time_ns[400])]
    assert got == expected
    outbox = [(e.bar_time_ns, e.side) for _, e in store.read_outbox(stream.key, count=10**4)]
    assert outbox[-len(expected) :] == expected


def test_two_strategies_on_one_symbol_advance_independently(histories):
    series = histories["EURUSD"]
    sma = Stream(MAUnifiedStrategy(fast=10, slow=30), series.instrument, series.timeframe)
    ema = Stream(
        MAUnifiedStrategy(fast=8, slow=40, kind="ema"), series.instrument, series.timeframe
    )
    source = SeriesCandleSource([series])
    store = open_store("memory")
    store.invalidate(include_outbox=True)
    clock = closes(series)
    # The EMA stream starts later, so the two watermarks differ from then on.
    SignalProcessor([sma], source, store, catch_up_bars=10**6).cycle(now_ns=int(clock[300]))
    processor = SignalProcessor([sma, ema], source, store, catch_up_bars=10**6)

    published = replay_from(processor, clock, 301, np.random.default_rng(11))

    assert all(not report.rebuilt for report in published[1:])

    def signals_of(stream):
        return [
            (s.bar_time_ns, s.side)
            for r in published
            for s in r.signals
            if s.stream_id == stream.key.id
        ]

    after_first_run = int(series.time_ns[300])
    assert signals_of(sma) == [s for s in expected_signals(sma, series) if s[0] > after_first_run]
    assert signals_of(ema) == expected_signals(ema, series)


def replay_from(processor, clock, start, rng):
    reports = []
    position = start
    while position < clock.size:
        position = min(clock.size, position + int(rng.integers(1, 6)))
        reports.append(processor.cycle(now_ns=int(clock[position - 1])))
    return reports


def test_processors_taking_turns_resume_from_each_others_commits(histories):
    # Each keeps its last commit in memory; a turn by the other must be noticed and
    # read from the store, never advanced over (that would conflict or diverge).
    streams = streams_for(histories)
    source = SeriesCandleSource(histories.values())
    store = open_store("memory")
    store.invalidate(include_outbox=True)
    processors = [SignalProcessor(streams, source, store, catch_up_bars=10**6) for _ in range(2)]
    clock = closes(histories["EURUSD"])
    rng = np.random.default_rng(11)
    published: list[SignalEvent] = []
    position = 0
    while position < clock.size:
        position = min(clock.size, position + int(rng.integers(1, 6)))
        report = processors[int(rng.integers(0, 2))].cycle(now_ns=int(clock[position - 1]))
        assert (report.conflicts, report.rebuilt, report.errors) == (0, {}, [])
        published += report.signals

    for stream, series in zip(streams, histories.values(), strict=True):
        got = [(s.bar_time_ns, s.side) for s in published if s.stream_id == stream.key.id]
        assert got == expected_signals(stream, series)


def test_the_audit_catches_state_that_drifted_from_the_full_path_and_rebuilds_it(histories):
    series, stream, source, store, clock = one_stream(histories, "USDJPY")
    SignalProcessor([stream], source, store, catch_up_bars=10**6).cycle(now_ns=int(clock[999]))
    # State that no history gives: the indicators saw bar 990 a tick higher, while the
    # watermark, its digest, the count and the checksum still match the source.
    stored = store.load(stream.key)
    assert stored is not None
    drifted = with_close(series.slice(0, 1000), 990, 1)
    wrong = advance(stream, None, list(drifted)).record.snapshots
    store.commit(stream.key, dataclasses.replace(stored, snapshots=wrong))
    processor = SignalProcessor([stream], source, store, catch_up_bars=10**6, audit_streams=1)

    audited = processor.cycle(now_ns=int(clock[1000]))
    healed = processor.cycle(now_ns=int(clock[1001]))

    assert audited.audit_mismatches == [stream.key.id] and audited.rebuilt == {}
    assert store.load(stream.key) is not None and healed.audit_mismatches == []
    assert healed.rebuilt == {}  # a stream without state starts over: not a "rebuild"
    full = run_full(stream.strategy, series.slice(0, 1002))
    live = processor._memory[stream.key].run
    assert live is not None
    assert live.values() == {
        name: None if np.isnan(values[-1]) else values[-1] for name, values in full.values.items()
    }


def test_a_stream_the_store_refuses_fails_alone_and_publishes_once_repaired(histories):
    streams = streams_for(histories)
    source = SeriesCandleSource(histories.values())
    store = open_store("memory")
    store.invalidate(include_outbox=True)
    broken = streams[0]
    store._client.set(store.outbox_key(broken.key), b"someone else's string")
    processor = SignalProcessor(streams, source, store, catch_up_bars=10**6)
    clock = closes(histories["EURUSD"])

    report = processor.cycle(now_ns=int(clock[-1]))  # every bar at once: signals for all

    refused = [e for e in report.errors if "WRONGTYPE" in e]
    assert refused and all(e.startswith(f"{broken.key.id}: state store ") for e in refused)
    assert report.errors == refused and report.conflicts == 0
    for stream, series in zip(streams, histories.values(), strict=True):
        got = [(s.bar_time_ns, s.side) for s in report.signals if s.stream_id == stream.key.id]
        assert got == expected_signals(stream, series)  # sinks hear every stream
    assert store.load(broken.key) is None
    assert all(store.load(s.key) is not None for s in streams[1:])

    store._client.delete(store.outbox_key(broken.key))  # the operator repairs the key
    repaired = processor.cycle(now_ns=int(clock[-1]))

    assert repaired.errors == [] and repaired.signals == []  # nothing delivered twice
    outbox = [(e.bar_time_ns, e.side) for _, e in store.read_outbox(broken.key, count=10**4)]
    assert outbox == expected_signals(broken, histories["EURUSD"])


class _Unreachable(SeriesCandleSource):
    """A source whose server is gone: every read times out alike (counted)."""

    def history(self, *args: object, **kwargs: object) -> CandleSeries:
        self.queries += 1
        raise SourceUnavailable("candle source mongodb://db:27017: connection refused")


def test_with_store_and_source_both_down_one_error_is_reported_not_one_per_stream(
    histories, caplog: pytest.LogCaptureFixture
):
    source = _Unreachable(histories.values())
    store = open_store("memory", policy=ConnectionPolicy(breaker_reset_s=60))
    store._client.connection_pool.connection_kwargs["server"].connected = False
    try:
        processor = SignalProcessor(streams_for(histories), source, store)
        with caplog.at_level("ERROR", logger="parity.processor"):
            report = processor.cycle(now_ns=int(closes(histories["EURUSD"])[-1]))
    finally:
        store._client.connection_pool.connection_kwargs["server"].connected = True

    assert report.fallback and source.queries == 1  # not one timeout per stream
    assert report.errors[-1] == "candle source mongodb://db:27017: connection refused"
    assert "connection refused" in caplog.text  # logged, not only counted


@pytest.mark.parametrize("option", ["catch_up_bars", "audit_streams"])
def test_negative_counts_are_refused(histories, option: str) -> None:
    with pytest.raises(ParameterError, match="must be ≥ 0"):
        SignalProcessor([], SeriesCandleSource([]), open_store("memory"), **{option: -1})


def test_a_record_another_writer_rebuilt_to_the_same_version_is_not_stepped_with_a_stale_run(
    histories,
):
    series, stream, source, store, clock = one_stream(histories, "EURUSD")
    first, second = (SignalProcessor([stream], source, store) for _ in range(2))
    for i in range(5):  # versions 1 to 5, watermark at bar 504
        first.cycle(now_ns=int(clock[500 + i]))
    store.delete([stream.key])  # e.g. parity cache invalidate
    for i in range(5):  # versions 1 to 5 again, from another writer, at bar 904
        second.cycle(now_ns=int(clock[900 + i]))

    report = first.cycle(now_ns=int(clock[910]))  # holds its own version 5 and its run

    assert (report.errors, report.conflicts) == ([], 0)
    truth = advance(stream, None, list(series.slice(0, 911))).record
    stored = store.load(stream.key)
    assert stored is not None and stored.version == 6
    assert (stored.watermark_ns, stored.snapshots) == (truth.watermark_ns, truth.snapshots)


def test_a_step_that_lost_its_commit_publishes_nothing_it_has_to_again_later(histories):
    series, stream, source, store, clock = one_stream(histories, "EURUSD")
    bars = series.time_ns.tolist()
    signal_bars = [bars.index(s.time_ns) for s in run_full(stream.strategy, series).signals]
    behind = next(i for i in signal_bars if i > 200) - 3  # the other writer stops short of it
    ahead = behind + 10
    mine, other = (
        SignalProcessor([stream], SeriesCandleSource([series]) if i else source, store,
                        catch_up_bars=10**6)
        for i in range(2)
    )  # fmt: skip
    mine.cycle(now_ns=int(clock[150]))
    load_many = store.load_many

    def load_then_the_other_writer_commits(keys, held=None):  # type: ignore[no-untyped-def]
        loaded = load_many(keys, held=held)
        store.load_many = load_many  # type: ignore[method-assign]
        other.cycle(now_ns=int(clock[behind]))
        return loaded

    store.load_many = load_then_the_other_writer_commits  # type: ignore[method-assign]
    assert mine.cycle(now_ns=int(clock[ahead])).conflicts == 1
    # Then the other writer's last bar is corrected: this processor rebuilds the stream.
    source.replace(with_close(series, behind, 1))
    assert mine.cycle(now_ns=int(clock[ahead + 2])).rebuilt

    outbox = [bars.index(e.bar_time_ns) for _, e in store.read_outbox(stream.key, count=10**4)]
    assert outbox == [i for i in signal_bars if i <= ahead + 1]
