"""Bench section 3: one live cycle over many streams, incremental vs the original method.

The original bot fetched the last 200 candles of every stream each cycle and recomputed
its averages from scratch; Parity's processor loads every state in one round trip,
fetches only the candles after each watermark in batched queries, updates in O(1) and
commits in one round trip. Both run against the same candles: in MongoDB with a real
Redis (the figures the issue asks for), and in memory (no candle I/O at all, which
leaves the original method its computation only: the processor's own overhead).

Each stream's state is first committed as an earlier run would have left it; one
untimed cycle then loads and restores every run, and the timed cycles follow, each
with one more closed bar per stream. A section that would run past its time budget
(a slow server) stops and says so instead of reporting a number.
"""

from __future__ import annotations

import importlib
import statistics
import time
import uuid
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, Protocol

from backtest._bench_data import Notes, Progress
from framework.candles import CandleSeries
from framework.engine import run_full
from framework.errors import ParityError
from framework.instruments import Instrument
from framework.processor import CandleSource, CycleReport, SignalProcessor, freeze_warm_state
from framework.sources import SeriesCandleSource
from framework.state import Commit, RedisStateStore, open_store
from framework.stream import Stream, advance
from strategies.ma_unified import MAUnifiedStrategy

__all__ = [
    "ORIGINAL_CANDLES",
    "BenchSource",
    "MemorySource",
    "SourceFactory",
    "live_section",
    "memory_factory",
    "mongo_factory",
]

#: Candles the original method fetched and recomputed per stream and cycle.
ORIGINAL_CANDLES = 200
#: History per stream before the timed cycles: enough for the original fetch.
_HISTORY = ORIGINAL_CANDLES + 10


class BenchSource(CandleSource, Protocol):
    """The processor's `CandleSource`, plus what the bench needs to fill and count it."""

    queries: int

    def import_series(self, series: CandleSeries) -> Any:
        """Store every bar of ``series``; the clock (``now_ns``) reveals them."""


#: Opens an empty source of the bench's own, and a callable that removes it.
SourceFactory = Callable[[Mapping[str, Instrument]], tuple[BenchSource, Callable[[], None]]]


class MemorySource(SeriesCandleSource):
    """`SeriesCandleSource` that imports: the live cycle without a database's I/O."""

    def __init__(self) -> None:
        super().__init__([])

    def import_series(self, series: CandleSeries) -> None:
        """Serve ``series`` (replacing any earlier one of its stream)."""
        self.replace(series)


def memory_factory(
    instruments: Mapping[str, Instrument],
) -> tuple[BenchSource, Callable[[], None]]:
    """An in-memory source (nothing to clean up)."""
    del instruments
    return MemorySource(), lambda: None


def mongo_factory(uri: str) -> SourceFactory | str:
    """A factory of MongoDB sources in a database of the bench's own, or why there is none."""
    try:
        mongo = importlib.import_module("framework.sources.mongo")
    except ImportError:
        return "MongoDB source not available (framework.sources.mongo)"

    def open_mongo(
        instruments: Mapping[str, Instrument],
    ) -> tuple[BenchSource, Callable[[], None]]:
        import pymongo

        database = f"parity_bench_{uuid.uuid4().hex[:12]}"
        source = mongo.MongoCandleSource(uri, database=database, instruments=dict(instruments))

        def drop() -> None:
            source.close()
            client: pymongo.MongoClient[dict[str, Any]]
            with pymongo.MongoClient(uri) as client:
                client.drop_database(database)

        try:
            source.ensure_index()
        except BaseException:
            drop()
            raise
        return source, drop

    return open_mongo


class _OverBudgetError(ParityError):
    """The section would run past its time budget."""


def live_section(
    series: CandleSeries,
    *,
    streams: int,
    cycles: int,
    store_url: str | None,
    factory: SourceFactory | str | None,
    budget_s: float,
    notes: Notes,
    progress: Progress,
    label: str = "live",
) -> dict[str, Any]:
    """ms per cycle, candles fetched and queries, incremental vs original."""
    result: dict[str, Any] = {
        "streams": streams,
        "cycles": cycles,
        "incremental_ms": None,
        "original_ms": None,
        "candles_fetched_incremental": None,
        "candles_fetched_original": None,
        "queries_incremental": None,
        "queries_original": None,
        "incremental_phases_ms": None,
    }
    if store_url is None or factory is None:
        missing = [
            name
            for name, value in (("PARITY_REDIS_URL", store_url), ("PARITY_MONGODB_URI", factory))
            if value is None
        ]
        notes.add(f"{label}: not measured, needs {' and '.join(missing)} (a real server)")
        return result
    if isinstance(factory, str):
        notes.add(f"{label}: {factory}")
        return result
    bars = _HISTORY + 1 + cycles
    if len(series) < bars:
        notes.add(f"{label}: needs at least {bars} candles, the bench has {len(series)}")
        return result
    feeds = _feeds(series, streams, bars)
    try:
        incremental, original, phases = _measure(
            feeds, cycles, store_url, factory, budget_s, progress
        )
    except ParityError as error:
        notes.add(f"{label}: not measured, {error}")
        return result
    result.update(_summary(incremental, "incremental") | _summary(original, "original"))
    names = dict.fromkeys(name for cycle in phases for name in cycle)
    result["incremental_phases_ms"] = {
        name: statistics.median(cycle.get(name, 0.0) for cycle in phases) * 1000 for name in names
    }
    return result


def _measure(
    feeds: list[CandleSeries],
    cycles: int,
    store_url: str,
    factory: SourceFactory,
    budget_s: float,
    progress: Progress,
) -> tuple[list[tuple[float, int, int]], list[tuple[float, int, int]], list[dict[str, float]]]:
    """Timed cycles of both methods, and the phases of Parity's; one more bar each cycle."""
    deadline = time.perf_counter() + budget_s
    strategy = MAUnifiedStrategy(fast=50, slow=200)
    live = [Stream(strategy, feed.instrument, feed.timeframe) for feed in feeds]
    step = feeds[0].timeframe.nanoseconds
    source, cleanup = factory({feed.symbol: feed.instrument for feed in feeds})
    store = open_store(store_url, prefix=f"parity-bench-{uuid.uuid4().hex[:12]}:")
    incremental: list[tuple[float, int, int]] = []
    original: list[tuple[float, int, int]] = []
    phases: list[dict[str, float]] = []
    try:
        progress(f"live: loading {len(feeds):,} streams × {len(feeds[0])} candles")
        for count, feed in enumerate(feeds, 1):
            source.import_series(feed)
            if time.perf_counter() > deadline:
                raise _OverBudgetError(
                    f"loading {len(feeds):,} streams of {len(feeds[0])} candles into the "
                    f"source passed the {budget_s:.0f} s budget after {count:,} streams"
                )
        progress("live: state of every stream after its history, committed")
        _seed(store, live, feeds)
        processor = SignalProcessor(live, source, store)
        now = int(feeds[0].time_ns[_HISTORY]) + step  # one bar past the seeded state
        _checked(processor.cycle(now))  # loads and restores every run: the warm-up
        freeze_warm_state()  # as parity live does after its first cycle
        for cycle in range(cycles):
            progress(f"live: cycle {cycle + 1} of {cycles}")
            now += step
            incremental.append(_timed(source, partial(_cycle, processor, now, phases)))
            original.append(
                _timed(source, partial(_original_cycle, live, source, now, deadline, budget_s))
            )
    finally:
        try:
            store.delete([s.key for s in live], include_outbox=True)
        finally:
            store.close()
            cleanup()
    return incremental, original, phases


def _seed(store: RedisStateStore, streams: list[Stream], feeds: list[CandleSeries]) -> None:
    """Commit each stream's state after its first `_HISTORY` bars, as an earlier run would."""
    commits = [
        Commit(stream.key, advance(stream, None, list(feed.slice(0, _HISTORY))).record)
        for stream, feed in zip(streams, feeds, strict=True)
    ]
    if not all(result.committed for result in store.commit_many(commits)):
        raise ParityError("seeding the state store met conflicting records")


def _checked(report: CycleReport) -> CycleReport:
    """The report of a cycle that took the normal path for every stream, or an error."""
    if report.fallback or report.errors or report.conflicts or report.rebuilt:
        problem = report.errors[0] if report.errors else "a fallback, conflict or rebuild"
        raise ParityError(f"the processor's cycle did not complete normally: {problem}")
    return report


def _feeds(series: CandleSeries, streams: int, bars: int) -> list[CandleSeries]:
    """``streams`` series of ``bars`` bars on one time grid, cut from different offsets."""
    times = series.time_ns[:bars]
    room = max(1, len(series) - bars)
    feeds = []
    for i in range(streams):
        start = (i * 7919) % room
        part = series.slice(start, start + bars)
        feeds.append(
            CandleSeries.create(
                Instrument(f"BENCH{i:05d}", series.decimals),
                series.timeframe,
                time_ns=times,
                open=part.open,
                high=part.high,
                low=part.low,
                close=part.close,
                volume=part.volume,
            )
        )
    return feeds


def _cycle(processor: SignalProcessor, now: int, phases: list[dict[str, float]]) -> int:
    """One cycle of Parity's processor; the candles it fetched. Its phases go to ``phases``."""
    report = _checked(processor.cycle(now))
    phases.append(report.phases)
    return report.candles


def _original_cycle(
    streams: list[Stream], source: BenchSource, now: int, deadline: float, budget_s: float
) -> int:
    """The seed bot's cycle: last 200 candles of every stream, recomputed from scratch."""
    fetched = 0
    for count, stream in enumerate(streams, 1):
        history = source.history(
            stream.instrument.symbol, stream.timeframe, now_ns=now, limit=ORIGINAL_CANDLES
        )
        fetched += len(history)
        run_full(stream.strategy, history)
        if time.perf_counter() > deadline:
            raise _OverBudgetError(
                f"the original method's cycle passed the {budget_s:.0f} s budget "
                f"after {count:,} of {len(streams):,} streams"
            )
    return fetched


def _timed(source: BenchSource, work: Callable[[], int]) -> tuple[float, int, int]:
    queries = source.queries
    started = time.perf_counter()
    candles = work()
    return (time.perf_counter() - started) * 1000, candles, source.queries - queries


def _summary(runs: list[tuple[float, int, int]], name: str) -> dict[str, Any]:
    return {
        f"{name}_ms": statistics.median(ms for ms, _, _ in runs),
        f"candles_fetched_{name}": int(statistics.median(c for _, c, _ in runs)),
        f"queries_{name}": int(statistics.median(q for _, _, q in runs)),
    }
