"""End to end against real servers: candles in MongoDB, state and outboxes in Redis.

A feed writes real 2026 M15 candles into the MongoDB-wire server (FerretDB on SQLite)
bar by bar, as a broker feed would, while a simulated clock advances 1-5 bars per cycle
and the live processor runs at each step. Whatever happens — a restart by SIGKILL,
Redis or MongoDB going away and coming back, a candle rewritten after it was processed —
the signals published must be exactly the full path's (`run_full` on the same data),
each once.

The MongoDB-wire test server scans a whole collection for every filtered query, so the
data stay small: a 360-bar window of each symbol, ≤ ~40 cycles per test.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pymongo.collection
import pytest
from _candles_testkit import with_close

from framework.candles import CandleSeries
from framework.engine import run_full
from framework.loading import load_candles
from framework.processor import CycleReport, SignalProcessor
from framework.sources.mongo import MongoCandleSource, MongoPolicy
from framework.state import ConnectionPolicy, RedisStateStore, SignalEvent, open_store
from framework.stream import Stream, advance
from framework.timeframes import Timeframe
from strategies.ma_unified import MAUnifiedStrategy

if TYPE_CHECKING:
    import pymongo.database
    from conftest import MongoServer, RedisServer

Collection = pymongo.collection.Collection[dict[str, Any]]
Signal = tuple[int, str, float]  # bar open time (ns), side, price

REPO = Path(__file__).resolve().parents[1]
ALL_SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "US30")
SYMBOLS = ALL_SYMBOLS[:3]
STRATEGY = MAUnifiedStrategy(fast=5, slow=20)
M15 = Timeframe.M15
BAR_NS = M15.nanoseconds
#: Bars of EURUSD in the window (its first bar is the latest first bar of the five files);
#: the first INITIAL are imported before the first cycle, the rest are replayed.
WINDOW = 360
INITIAL = 250
EVERYTHING = 10**6  # catch_up_bars: a new stream publishes every signal of its history
KILLS = 5  # SIGKILLs of `parity live` in the kill test


# --- the market: real candles on one clock ----------------------------------------------


@dataclass(frozen=True)
class Market:
    """Each symbol's bars in one time window, and the clock that replays them."""

    series: dict[str, CandleSeries]
    #: Close times of the window's EURUSD bars: ``clock[i]`` is "now" once bar i closed.
    clock: np.ndarray

    def closed(self, symbol: str, now_ns: int) -> CandleSeries:
        """The symbol's bars that have closed at ``now_ns``."""
        series = self.series[symbol]
        end = int(np.searchsorted(series.time_ns + BAR_NS, now_ns, side="right"))
        return series.slice(0, end)


@pytest.fixture(scope="module")
def market() -> Market:
    files = {s: load_candles(REPO / "data" / f"{s}_M15_2026.csv.gz") for s in ALL_SYMBOLS}
    start = max(int(series.time_ns[0]) for series in files.values())
    eurusd = files["EURUSD"]
    first = int(np.searchsorted(eurusd.time_ns, start))
    times = eurusd.time_ns[first : first + WINDOW]
    window = {
        symbol: series.slice(
            int(np.searchsorted(series.time_ns, start)),
            int(np.searchsorted(series.time_ns, times[-1], side="right")),
        )
        for symbol, series in files.items()
    }
    return Market(window, times + BAR_NS)


def streams_for(market: Market, symbols: Sequence[str]) -> list[Stream]:
    return [Stream(STRATEGY, market.series[s].instrument, M15) for s in symbols]


def full_path(series: CandleSeries, *, after_ns: int | None = None) -> list[Signal]:
    """The full path's signals on ``series`` (those after ``after_ns``, if given)."""
    return [
        (s.time_ns, s.side.value, s.price)
        for s in run_full(STRATEGY, series).signals
        if after_ns is None or s.time_ns > after_ns
    ]


def signals_of(events: Sequence[SignalEvent], stream: Stream) -> list[Signal]:
    return [(e.bar_time_ns, e.side, e.price) for e in events if e.stream_id == stream.key.id]


def outbox_of(store: RedisStateStore, stream: Stream) -> list[Signal]:
    return [(e.bar_time_ns, e.side, e.price) for _, e in store.read_outbox(stream.key, count=10**4)]


def positions(start: int, stop: int, rng: np.random.Generator) -> Iterator[int]:
    """Clock positions from ``start`` to ``stop`` (both included), 1-5 bars apart."""
    position = start
    yield position
    while position < stop:
        position = min(stop, position + int(rng.integers(1, 6)))
        yield position


# --- the feed: writes bars into MongoDB as they open --------------------------------------


def documents(series: CandleSeries, start: int, stop: int) -> list[dict[str, Any]]:
    """Bars ``start:stop`` as the documents `MongoCandleSource` reads."""
    part = series.slice(start, stop)
    columns = [part.prices(name).tolist() for name in ("open", "high", "low", "close")]
    return [
        {
            "symbol": part.symbol,
            "timeframe": part.timeframe.name,
            "time": moment,
            "open": o,
            "high": h,
            "low": low,
            "close": c,
            "volume": v,
        }
        for moment, o, h, low, c, v in zip(
            part.times().to_pydatetime().tolist(), *columns, part.volume.tolist(), strict=True
        )
    ]


class Feed:
    """A broker feed: a bar is written when it opens (with its final values), so the
    still-forming bar is always in the collection and the processor must skip it."""

    def __init__(self, collection: Collection, market: Market, symbols: Sequence[str]) -> None:
        self.collection = collection
        self.market = market
        self.written = dict.fromkeys(symbols, 0)

    def import_history(self, source: MongoCandleSource, now_ns: int) -> None:
        """What `parity data import` would load first: every bar closed at ``now_ns``."""
        source.ensure_index()
        for symbol in self.written:
            closed = self.market.closed(symbol, now_ns)
            assert source.import_series(closed).inserted == len(closed)
            self.written[symbol] = len(closed)
        self.until(now_ns)

    def until(self, now_ns: int) -> None:
        """Write every bar that has opened by ``now_ns`` and is not written yet."""
        for symbol, done in self.written.items():
            series = self.market.series[symbol]
            opened = int(np.searchsorted(series.time_ns, now_ns, side="right"))
            if opened > done:
                self.collection.insert_many(documents(series, done, opened), ordered=True)
                self.written[symbol] = opened


def check_cycle(report: CycleReport, now_ns: int) -> None:
    """What holds for every cycle: only closed bars produce signals, none twice."""
    for event in report.signals:
        assert event.bar_time_ns + BAR_NS <= now_ns, "a signal from a bar still forming"
    ids = [e.event_id for e in report.signals]
    assert len(ids) == len(set(ids))


@dataclass(frozen=True)
class SharedServers:
    """The session's servers: a MongoDB database and a Redis key prefix of this test's own."""

    mongo_uri: str
    db: pymongo.database.Database[dict[str, Any]]
    redis_url: str
    redis_prefix: str

    def source(self) -> MongoCandleSource:
        return MongoCandleSource(self.mongo_uri, database=self.db.name)

    def feed(self, market: Market, symbols: Sequence[str]) -> Feed:
        return Feed(self.db["candles"], market, symbols)

    def store(self) -> RedisStateStore:
        return open_store(self.redis_url, prefix=self.redis_prefix)


@pytest.fixture
def servers(
    mongo_uri: str,
    mongo_db: pymongo.database.Database[dict[str, Any]],
    redis_url: str,
    redis_prefix: str,
) -> SharedServers:
    return SharedServers(mongo_uri, mongo_db, redis_url, redis_prefix)


# --- 1. the replay: every full-path signal, once, in the outbox ----------------------------


def test_replayed_candles_publish_every_full_path_signal_exactly_once(
    market: Market, servers: SharedServers
) -> None:
    streams = streams_for(market, ALL_SYMBOLS)
    source = servers.source()
    feed = servers.feed(market, ALL_SYMBOLS)
    store = servers.store()
    processor = SignalProcessor(streams, source, store, catch_up_bars=EVERYTHING)
    clock = market.clock
    feed.import_history(source, int(clock[INITIAL - 1]))
    published: list[SignalEvent] = []
    cycles = 0

    try:
        for position in positions(INITIAL - 1, WINDOW - 1, np.random.default_rng(11)):
            now_ns = int(clock[position])
            feed.until(now_ns)
            queries = source.queries
            report = processor.cycle(now_ns)
            cycles += 1
            assert (report.errors, report.rebuilt, report.fallback) == ([], {}, False)
            check_cycle(report, now_ns)
            if cycles > 1:
                # Incremental: one batched query for all five streams, no history reads.
                assert source.queries == queries + 1
                assert report.candles <= len(streams) * (1 + 5)
            published += report.signals
    finally:
        source.close()

    final = int(clock[-1])
    assert 30 <= cycles <= 80
    assert len({e.event_id for e in published}) == len(published)
    for stream, symbol in zip(streams, ALL_SYMBOLS, strict=True):
        closed = market.closed(symbol, final)
        expected = full_path(closed)
        assert len(expected) >= 20, symbol
        assert signals_of(published, stream) == expected, symbol
        assert outbox_of(store, stream) == expected, symbol
        record = store.load(stream.key)
        assert record is not None
        assert record.watermark_ns == int(closed.time_ns[-1])
        # The incremental state is the full path's state on the same bars.
        assert record.snapshots == advance(stream, None, list(closed)).record.snapshots
    store.close()


# --- 2. kill -9 the live process, restart it ----------------------------------------------


class LiveProcess:
    """``python -m backtest live`` over the feed's database and a store, restartable."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.args = args
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._log_offset = 0

    def start(self) -> None:
        self._log_offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "backtest", "live", *self.args],
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=out,
            )
        self.starts += 1

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def logged(self, text: bytes) -> bool:
        """Whether the current process has logged ``text``."""
        with self.log.open("rb") as log:
            log.seek(self._log_offset)
            return text in log.read()

    def serving(self) -> bool:
        """Started up: connected, about to run cycles."""
        return self.logged(b"parity.live: serving ")

    def has_cycled(self) -> bool:
        """Finished a cycle (so its signal handlers are installed)."""
        return self.logged(b"parity.live: cycle ")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return "\n".join(lines[-30:])


def wait_until(
    condition: Callable[[], bool], what: str, live: LiveProcess, timeout_s: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert live.alive(), f"parity live exited while waiting for {what}:\n{live.tail()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{live.tail()}"
        time.sleep(0.05)


def watermarks(store: RedisStateStore, streams: Sequence[Stream]) -> list[int | None]:
    records = store.load_many([s.key for s in streams])
    return [None if r is None else r.watermark_ns for r in records.values()]


def test_kill_9_at_random_points_never_loses_or_repeats_a_signal(
    market: Market,
    mongo_uri: str,
    mongo_db: pymongo.database.Database[dict[str, Any]],
    redis_server: RedisServer,
    tmp_path: Path,
) -> None:
    # `parity live` runs on the wall clock: every bar of the window has long closed.
    assert time.time_ns() > int(market.clock[-1])
    streams = streams_for(market, SYMBOLS)
    source = MongoCandleSource(mongo_uri, database=mongo_db.name)
    feed = Feed(mongo_db["candles"], market, SYMBOLS)
    feed.import_history(source, int(market.clock[INITIAL - 1]))
    source.close()
    first_bars = {s: int(market.series[s].time_ns[feed.written[s] - 1]) for s in SYMBOLS}
    store = open_store(redis_server.url)  # the live command's default key prefix
    args = [
        *("--strategy", "ma_unified", "--param", "fast=5", "--param", "slow=20"),
        *(arg for symbol in SYMBOLS for arg in ("--symbol", symbol)),
        *("--timeframe", "M15", "--source", mongo_uri, "--database", mongo_db.name),
        *("--store", redis_server.url, "--interval", "0.2", "--quiet"),
    ]
    live = LiveProcess(args, tmp_path / "live.log")
    rng = np.random.default_rng(7)
    live.start()
    try:
        # The first start publishes only its newest bar's signals (catch_up_bars=1);
        # from then on every bar counts.
        wait_until(
            lambda: watermarks(store, streams) == [first_bars[s] for s in SYMBOLS],
            "the first cycle",
            live,
        )
        # Most kills land within a running process's cycles (~0.1 s of queries and a
        # commit, then 0.2 s of sleep); one lands while a process is still starting up.
        kills = 0
        kill_at: float | None = None
        position = INITIAL - 1
        while position < WINDOW - 1 or kills < KILLS:
            if position < WINDOW - 1:
                position = min(WINDOW - 1, position + int(rng.integers(1, 6)))
                feed.until(int(market.clock[position]))
            time.sleep(rng.uniform(0.05, 0.25))
            assert live.alive(), f"parity live exited on its own:\n{live.tail()}"
            if kill_at is None and live.serving():
                kill_at = time.monotonic() + rng.uniform(0.0, 0.8)
            if kills < KILLS and kill_at is not None and time.monotonic() >= kill_at:
                live.kill()
                kills += 1
                live.start()
                kill_at = time.monotonic() + rng.uniform(0.05, 0.5) if kills == 2 else None
        last_bars = [int(market.series[s].time_ns[-1]) for s in SYMBOLS]
        wait_until(lambda: watermarks(store, streams) == last_bars, "the last bar", live)
        wait_until(live.has_cycled, "a cycle of the last process", live)
        assert live.proc is not None
        live.proc.send_signal(signal.SIGTERM)  # a graceful stop: finish the cycle, exit 0
        assert live.proc.wait(timeout=20) == 0, live.tail()
    finally:
        if live.alive():
            live.kill()

    assert live.starts == KILLS + 1
    assert "Traceback" not in live.log.read_text(errors="replace"), live.tail()
    for stream, symbol in zip(streams, SYMBOLS, strict=True):
        expected = full_path(market.series[symbol], after_ns=first_bars[symbol] - BAR_NS)
        assert len(expected) >= 5, symbol
        assert outbox_of(store, stream) == expected, symbol
    store.close()


# --- 3. Redis stops mid-run ---------------------------------------------------------------


def test_with_redis_stopped_signals_continue_through_the_full_path_and_none_is_lost(
    market: Market,
    mongo_uri: str,
    mongo_db: pymongo.database.Database[dict[str, Any]],
    redis_server: RedisServer,
) -> None:
    streams = streams_for(market, SYMBOLS)
    source = MongoCandleSource(mongo_uri, database=mongo_db.name)
    feed = Feed(mongo_db["candles"], market, SYMBOLS)
    policy = ConnectionPolicy(
        breaker_reset_s=0.2, connect_timeout_s=0.2, socket_timeout_s=0.2, retries=0
    )
    store = open_store(redis_server.url, prefix="e2e:", policy=policy)
    processor = SignalProcessor(streams, source, store, catch_up_bars=EVERYTHING)
    clock = market.clock
    feed.import_history(source, int(clock[INITIAL - 1]))
    steps = list(positions(INITIAL - 1, WINDOW - 1, np.random.default_rng(13)))
    down_from, up_from = len(steps) // 3, len(steps) // 3 + 5
    published: list[SignalEvent] = []
    committed: list[int | None] = []
    recovered_at = None
    during_outage = 0

    try:
        for i, position in enumerate(steps):
            now_ns = int(clock[position])
            if i == down_from:
                committed = watermarks(store, streams)
                redis_server.stop()
            if i == up_from:
                redis_server.start()  # no persistence: it comes back empty
                time.sleep(policy.breaker_reset_s)
            feed.until(now_ns)
            started = time.monotonic()
            report = processor.cycle(now_ns)  # must never raise
            check_cycle(report, now_ns)
            assert report.rebuilt == {}
            if down_from <= i < up_from:
                assert report.fallback, f"cycle {i} with Redis down"
                assert report.errors and "unreachable" in report.errors[0]
                assert time.monotonic() - started < 2.0
                during_outage += len(report.signals)
            elif i < down_from:
                assert (report.fallback, report.errors) == (False, [])
            elif not report.fallback and recovered_at is None:
                recovered_at = i
            published += report.signals
    finally:
        source.close()

    assert 5 <= down_from < up_from
    assert during_outage > 0  # the full path did publish while Redis was down
    assert recovered_at is not None and recovered_at <= up_from + 2
    assert len({e.event_id for e in published}) == len(published)
    for stream, symbol, watermark in zip(streams, SYMBOLS, committed, strict=True):
        series = market.series[symbol]
        assert watermark is not None
        # Across the whole run, through all three phases: every signal exactly once.
        assert signals_of(published, stream) == full_path(series), symbol
        # The restarted Redis lost the outbox; every signal since the last commit
        # before the outage, computed while it was down, was delivered to it on return.
        assert outbox_of(store, stream) == full_path(series, after_ns=watermark), symbol
        record = store.load(stream.key)
        assert record is not None and record.watermark_ns == int(series.time_ns[-1])
        assert record.snapshots == advance(stream, None, list(series)).record.snapshots
    store.close()


# --- 4. MongoDB stops mid-run -------------------------------------------------------------


def test_with_mongodb_stopped_the_cycle_reports_the_error_and_resumes_after_restart(
    market: Market, mongo_server: MongoServer, redis_url: str, redis_prefix: str
) -> None:
    streams = streams_for(market, SYMBOLS)
    policy = MongoPolicy(server_selection_timeout_s=0.5, connect_timeout_s=0.5)
    source = MongoCandleSource(mongo_server.uri, database="parity", policy=policy)
    client = mongo_server.client()
    feed = Feed(client["parity"]["candles"], market, SYMBOLS)
    store = open_store(redis_url, prefix=redis_prefix)
    processor = SignalProcessor(streams, source, store, catch_up_bars=EVERYTHING)
    clock = market.clock
    feed.import_history(source, int(clock[INITIAL - 1]))
    steps = list(positions(INITIAL - 1, INITIAL + 70, np.random.default_rng(17)))
    down_from, up_from = len(steps) // 3, len(steps) // 3 + 3
    published: list[SignalEvent] = []
    errors_after_restart = 0

    try:
        for i, position in enumerate(steps):
            now_ns = int(clock[position])
            if i == down_from:
                mongo_server.stop()
            if i == up_from:
                mongo_server.start()
            if not down_from <= i < up_from:
                feed.until(now_ns)  # the feed writes what it missed once the server is back
            started = time.monotonic()
            report = processor.cycle(now_ns)  # must never raise
            check_cycle(report, now_ns)
            assert (report.rebuilt, report.fallback) == ({}, False)
            if down_from <= i < up_from:
                assert report.errors, f"cycle {i} with MongoDB down reported no error"
                assert report.errors[0].startswith(f"candle source {mongo_server.uri}: ")
                assert report.signals == []
                assert time.monotonic() - started < 5.0
            elif i < down_from:
                assert report.errors == []
            elif report.errors:
                errors_after_restart += 1
            published += report.signals
    finally:
        source.close()
        client.close()

    assert errors_after_restart <= 2  # pymongo rediscovers the server within a cycle or two
    assert len({e.event_id for e in published}) == len(published)
    final = int(clock[steps[-1]])
    for stream, symbol in zip(streams, SYMBOLS, strict=True):
        expected = full_path(market.closed(symbol, final))
        assert len(expected) >= 15, symbol
        assert signals_of(published, stream) == expected, symbol
        assert outbox_of(store, stream) == expected, symbol
    store.close()


class DyingSource(MongoCandleSource):
    """A MongoDB source whose server dies right after the batched fetch of a cycle."""

    def __init__(self, server: MongoServer, policy: MongoPolicy) -> None:
        super().__init__(server.uri, database="parity", policy=policy)
        self.server = server
        self.die_after_fetch = False

    def fetch_new(
        self, requests: Sequence[tuple[str, Timeframe, int | None]], *, now_ns: int
    ) -> dict[tuple[str, Timeframe], CandleSeries]:
        fetched = super().fetch_new(requests, now_ns=now_ns)
        if self.die_after_fetch:
            self.die_after_fetch = False
            self.server.stop()
        return fetched


def test_mongodb_dying_within_a_cycle_is_reported_and_the_audit_does_not_crash_it(
    market: Market, mongo_server: MongoServer, redis_url: str, redis_prefix: str
) -> None:
    streams = streams_for(market, SYMBOLS)
    policy = MongoPolicy(server_selection_timeout_s=0.5, connect_timeout_s=0.5)
    source = DyingSource(mongo_server, policy)
    client = mongo_server.client()
    feed = Feed(client["parity"]["candles"], market, SYMBOLS)
    store = open_store(redis_url, prefix=redis_prefix)
    processor = SignalProcessor(streams, source, store, catch_up_bars=EVERYTHING, seed=3)
    clock = market.clock
    feed.import_history(source, int(clock[INITIAL - 1]))
    steps = list(positions(INITIAL - 1, INITIAL + 25, np.random.default_rng(29)))
    published: list[SignalEvent] = []

    try:
        for i, position in enumerate(steps):
            now_ns = int(clock[position])
            # In cycle 4 every stream is audited: its history is read (once, for the
            # checksum before the step and the values after the commit), with the server gone.
            processor.audit_streams = len(streams) if i == 4 else 1
            if i == 4:
                source.die_after_fetch = True
            if i == 5:
                mongo_server.start()
            feed.until(now_ns)
            report = processor.cycle(now_ns)  # must never raise
            check_cycle(report, now_ns)
            assert report.audit_mismatches == []
            if i == 4:
                assert report.errors, "the audit's failed reads were not reported"
                assert len(report.errors) == len(streams)
                for error, stream in zip(
                    sorted(report.errors), sorted(s.key.id for s in streams), strict=True
                ):
                    assert error.startswith(f"{stream}: ")
                    assert f"candle source {mongo_server.uri}: " in error
            elif i > 5:  # (in cycle 5 pymongo may still be rediscovering the server)
                assert report.errors == [], i
            published += report.signals
    finally:
        source.close()
        client.close()

    final = int(clock[steps[-1]])
    for stream, symbol in zip(streams, SYMBOLS, strict=True):
        expected = full_path(market.closed(symbol, final))
        assert signals_of(published, stream) == expected, symbol
        assert outbox_of(store, stream) == expected, symbol
    store.close()


# --- 5. a processed candle is rewritten ---------------------------------------------------


def correction(series: CandleSeries, first: int, last: int) -> tuple[int, int]:
    """A bar index in ``[first, last]`` and the smallest close change (≤ 15 ticks) that
    changes the full path's later signals, so that a missed rebuild cannot pass."""
    original = full_path(series)
    for delta in (d * sign for d in range(1, 16) for sign in (-1, 1)):
        for index in range(first, last + 1):
            changed = full_path(with_close(series, index, delta))
            after = int(series.time_ns[index])
            if [s for s in changed if s[0] > after] != [s for s in original if s[0] > after]:
                return index, delta
    raise AssertionError("no small correction changes later signals")


def rewrite(collection: Collection, corrected: CandleSeries, index: int) -> None:
    bar = documents(corrected, index, index + 1)[0]
    key = {k: bar[k] for k in ("symbol", "timeframe", "time")}
    fields = {k: bar[k] for k in ("high", "low", "close")}
    assert collection.update_one(key, {"$set": fields}).modified_count == 1


def run_with_rewrite(market: Market, servers: SharedServers, *, bars_before_watermark: int) -> None:
    """Replay; when EURUSD's watermark is bar k, rewrite bar k - ``bars_before_watermark``."""
    streams = streams_for(market, SYMBOLS)
    eurusd = market.series["EURUSD"]
    assert eurusd.time_ns[0] + BAR_NS == market.clock[0]  # EURUSD's bars are the clock
    index, delta = correction(eurusd, INITIAL + 40, WINDOW - 20)
    watermark_at = index + bars_before_watermark
    corrected = with_close(eurusd, index, delta)
    source = servers.source()
    feed = servers.feed(market, SYMBOLS)
    store = servers.store()
    # A rewrite before the watermark is found by the audit's history checksum: audit
    # every stream every cycle so the test knows which cycle finds it.
    audit = len(streams) if bars_before_watermark else 0
    reason = (
        "history changed before the last bar"
        if bars_before_watermark
        else ("last bar changed in source")
    )
    processor = SignalProcessor(
        streams, source, store, catch_up_bars=EVERYTHING, audit_streams=audit
    )
    feed.import_history(source, int(market.clock[INITIAL - 1]))
    rng = np.random.default_rng(19)
    steps = [
        *positions(INITIAL - 1, watermark_at, rng),
        *list(positions(watermark_at, WINDOW - 1, rng))[1:],
    ]
    published: list[SignalEvent] = []
    eur = streams[0]
    rewritten = False

    try:
        for position in steps:
            now_ns = int(market.clock[position])
            feed.until(now_ns)
            report = processor.cycle(now_ns)
            check_cycle(report, now_ns)
            assert (report.errors, report.fallback) == ([], False)
            if rewritten:  # the cycle right after the rewrite
                assert report.rebuilt == {eur.key.id: reason}
                rewritten = False
            else:
                assert report.rebuilt == {}
            published += report.signals
            if position == watermark_at:
                rewrite(servers.db["candles"], corrected, index)
                rewritten = True
    finally:
        source.close()

    corrected_at = int(eurusd.time_ns[watermark_at])
    got = signals_of(published, eur)
    assert [s for s in got if s[0] <= corrected_at] == [
        s for s in full_path(eurusd) if s[0] <= corrected_at
    ]
    later = full_path(corrected, after_ns=corrected_at)
    assert later != full_path(eurusd, after_ns=corrected_at)
    assert [s for s in got if s[0] > corrected_at] == later
    assert outbox_of(store, eur) == got
    record = store.load(eur.key)
    assert record is not None
    assert record.snapshots == advance(eur, None, list(corrected)).record.snapshots
    for stream, symbol in zip(streams[1:], SYMBOLS[1:], strict=True):
        assert signals_of(published, stream) == full_path(market.series[symbol]), symbol
    store.close()


def test_a_rewritten_last_processed_candle_rebuilds_the_stream_and_later_signals_follow_it(
    market: Market, servers: SharedServers
) -> None:
    run_with_rewrite(market, servers, bars_before_watermark=0)


def test_a_rewritten_earlier_candle_rebuilds_the_stream_and_later_signals_follow_it(
    market: Market, servers: SharedServers
) -> None:
    run_with_rewrite(market, servers, bars_before_watermark=3)


def test_a_restarted_process_finding_its_last_candle_rewritten_publishes_all_since_it(
    market: Market, servers: SharedServers
) -> None:
    """Down for 99 bars, back with `parity live`'s default catch-up of one bar, and the
    stream needs a rebuild: the signals since the stored watermark are still owed."""
    streams = streams_for(market, ["EURUSD"])
    eurusd = market.series["EURUSD"]
    last_seen, back_at = INITIAL + 10, WINDOW - 1
    corrected = with_close(eurusd, last_seen, +3)
    source = servers.source()
    feed = servers.feed(market, ["EURUSD"])
    store = servers.store()
    feed.import_history(source, int(market.clock[INITIAL - 1]))
    try:
        before = SignalProcessor(streams, source, store)
        for position in positions(INITIAL - 1, last_seen, np.random.default_rng(23)):
            feed.until(int(market.clock[position]))
            assert before.cycle(int(market.clock[position])).errors == []
        rewrite(servers.db["candles"], corrected, last_seen)
        feed.until(int(market.clock[back_at]))

        after = SignalProcessor(streams, source, store)  # a new process: empty memory
        report = after.cycle(int(market.clock[back_at]))
    finally:
        source.close()

    assert report.rebuilt == {streams[0].key.id: "last bar changed in source"}
    owed = full_path(corrected.slice(0, back_at + 1), after_ns=int(eurusd.time_ns[last_seen]))
    assert len(owed) >= 2
    assert signals_of(report.signals, streams[0]) == owed
    assert outbox_of(store, streams[0])[-len(owed) :] == owed
    store.close()
