"""The live signal processor: many streams per cycle, only new candles, state in Redis.

One cycle loads every stream's record in one round trip (two when another writer
changed some since this process committed them), fetches the new closed
candles in batched queries, advances each stream with O(1) work per candle, commits
all records with their signals in one round trip, and hands the signals the outbox
accepted to the sinks. Streams whose state is missing, unreadable or contradicted by
the source are rebuilt from the source's history; while Redis is unreachable, every
stream is computed through the full path, so signals never stop and never differ.
"""

from __future__ import annotations

import gc
import logging
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from framework.candles import CandleSeries
from framework.engine import IncrementalRun, run_full
from framework.errors import (
    ParameterError,
    ParityError,
    SourceError,
    SourceUnavailable,
    StoreError,
)
from framework.metrics import ProcessorMetrics
from framework.sinks import Sink
from framework.state import (
    Commit,
    RedisStateStore,
    SignalEvent,
    StateRecord,
    StreamKey,
    candle_digest,
    history_checksum,
)
from framework.stream import Stream, StreamStep, advance, signal_event
from framework.timeframes import Timeframe

__all__ = ["CandleSource", "CycleReport", "SignalProcessor", "freeze_warm_state"]

log = logging.getLogger("parity.processor")


class CandleSource(Protocol):
    """What the processor needs from a candle source (see `framework.sources`)."""

    def fetch_new(
        self, requests: Sequence[tuple[str, Timeframe, int | None]], *, now_ns: int
    ) -> dict[tuple[str, Timeframe], CandleSeries]:
        """Closed candles after each watermark, batched across streams."""

    def history(
        self, symbol: str, timeframe: Timeframe, *, now_ns: int, limit: int | None = None
    ) -> CandleSeries:
        """Every closed candle of a stream, oldest first."""


@dataclass
class CycleReport:
    """What one cycle did."""

    streams: int = 0
    candles: int = 0
    signals: list[SignalEvent] = field(default_factory=list)
    rebuilt: dict[str, str] = field(default_factory=dict)
    fallback: bool = False
    conflicts: int = 0
    audit_mismatches: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: Wall seconds of each phase that ran: load, fetch, step, commit, audit.
    phases: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Add the wall time of the block to ``phases[name]``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - started


@dataclass
class _Memory:
    """What the process remembers of a stream between cycles (lost on restart)."""

    #: The run holding the state of ``record``, the record this process last committed.
    run: IncrementalRun | None = None
    record: StateRecord | None = None
    watermark_ns: int | None = None
    pending: list[SignalEvent] = field(default_factory=list)
    delivered_upto_ns: int = 0


class SignalProcessor:
    """Runs cycles over a set of streams.

    Parameters
    ----------
    streams : sequence of Stream
        The streams to serve; keys must be distinct.
    source : CandleSource
        Where candles come from (MongoDB in production).
    store : RedisStateStore
        Where state and the signal outboxes live.
    sinks : sequence of Sink
        Also receive each published signal.
    catch_up_bars : int
        A stream with no state anywhere publishes signals of at most its last
        ``catch_up_bars`` closed bars, so a new deployment does not replay history.
    audit_streams : int
        Streams per cycle whose state is re-derived through the full path and compared.
    """

    def __init__(
        self,
        streams: Sequence[Stream],
        source: CandleSource,
        store: RedisStateStore,
        *,
        sinks: Sequence[Sink] = (),
        metrics: ProcessorMetrics | None = None,
        catch_up_bars: int = 1,
        audit_streams: int = 0,
        seed: int | None = None,
    ) -> None:
        self.streams = list(streams)
        self.source = source
        self.store = store
        self.sinks = list(sinks)
        self.metrics = metrics or ProcessorMetrics()
        if catch_up_bars < 0 or audit_streams < 0:
            raise ParameterError(
                f"catch_up_bars and audit_streams must be ≥ 0, got {catch_up_bars} "
                f"and {audit_streams}"
            )
        self.catch_up_bars = catch_up_bars
        self.audit_streams = audit_streams
        self._random = random.Random(seed)
        self._memory = {stream.key: _Memory() for stream in self.streams}
        if len(self._memory) != len(self.streams):
            raise ParityError("two streams have the same key")

    def cycle(self, now_ns: int | None = None) -> CycleReport:
        """Run one cycle at ``now_ns`` (default: the wall clock)."""
        now_ns = time.time_ns() if now_ns is None else now_ns
        report = CycleReport(streams=len(self.streams))
        started = time.perf_counter()
        try:
            held = {key: m.record for key, m in self._memory.items() if m.record is not None}
            with report.phase("load"):
                records = self.store.load_many([s.key for s in self.streams], held=held)
        except StoreError as error:
            log.warning("state store unavailable, computing through the full path: %s", error)
            self.metrics.errors.labels(kind="store").inc()
            report.errors.append(str(error))
            self._fallback_cycle(now_ns, report)
        else:
            self._incremental_cycle(records, now_ns, report)
        report.seconds = time.perf_counter() - started
        self.metrics.cycle_seconds.observe(report.seconds)
        return report

    # -- the normal path --------------------------------------------------------------

    def _incremental_cycle(
        self, records: dict[StreamKey, StateRecord | None], now_ns: int, report: CycleReport
    ) -> None:
        requests = []
        misses = 0
        for stream in self.streams:
            record = records[stream.key]
            misses += record is None
            # Re-read the watermark bar itself: a changed digest means a correction.
            watermark = None if record is None else record.watermark_ns
            after = None if watermark is None else watermark - 1
            requests.append((stream.instrument.symbol, stream.timeframe, after))
        self.metrics.cache.labels(result="hit").inc(len(self.streams) - misses)
        self.metrics.cache.labels(result="miss").inc(misses)
        try:
            with report.phase("fetch"):
                fetched = self._fetch(requests, now_ns, report)
        except ParityError:
            return
        stored = [stream for stream in self.streams if records[stream.key] is not None]
        audited = self._random.sample(stored, min(self.audit_streams, len(stored)))
        audited_keys = {stream.key for stream in audited}
        with report.phase("step"):
            commits, histories = self._steps(records, fetched, now_ns, report, audited_keys)
        with report.phase("commit"):
            self._commit(commits, report)
        with report.phase("audit"):
            self._audit([s for s in audited if s.key in histories], histories, report)

    def _steps(
        self,
        records: dict[StreamKey, StateRecord | None],
        fetched: dict[tuple[str, Timeframe], CandleSeries],
        now_ns: int,
        report: CycleReport,
        audited: set[StreamKey],
    ) -> tuple[list[tuple[Stream, StreamStep, list[SignalEvent]]], dict[StreamKey, CandleSeries]]:
        """Advance every stream: what to commit, and the audited streams' full histories.

        An audited stream's history is read once, checked against its state before the
        step, and kept for the full-path comparison after the commit. A stream that
        fails is logged and reported, and left out of both.
        """
        commits: list[tuple[Stream, StreamStep, list[SignalEvent]]] = []
        histories: dict[StreamKey, CandleSeries] = {}
        for stream in self.streams:
            key = stream.key
            record = records[key]
            candles = fetched.get((stream.instrument.symbol, stream.timeframe))
            step_started = time.perf_counter()
            try:
                history = None
                if key in audited:
                    history = self.source.history(
                        stream.instrument.symbol, stream.timeframe, now_ns=now_ns
                    )
                step = self._step(stream, record, candles, now_ns, report, history)
                if history is not None:
                    histories[key] = history
            except (SourceError, ParityError) as error:
                log.error("stream %s failed: %s", key.id, error)
                self.metrics.errors.labels(kind=type(error).__name__).inc()
                report.errors.append(f"{key.id}: {error}")
                continue
            self.metrics.stream_seconds.observe(time.perf_counter() - step_started)
            if step is not None:
                memory = self._memory[key]
                signals = self._merge_pending(memory, step.signals)
                commits.append((stream, step, signals))
        return commits, histories

    def _fetch(
        self,
        requests: list[tuple[str, Timeframe, int | None]],
        now_ns: int,
        report: CycleReport,
    ) -> dict[tuple[str, Timeframe], CandleSeries]:
        try:
            fetched = self.source.fetch_new(requests, now_ns=now_ns)
        except ParityError as error:
            log.error("candle source failed: %s", error)
            self.metrics.errors.labels(kind="source").inc()
            report.errors.append(str(error))
            raise
        count = sum(len(series) for series in fetched.values())
        self.metrics.candles.inc(count)
        report.candles += count
        return fetched

    def _step(
        self,
        stream: Stream,
        record: StateRecord | None,
        candles: CandleSeries | None,
        now_ns: int,
        report: CycleReport,
        history: CandleSeries | None = None,
    ) -> StreamStep | None:
        """Advance one stream, or rebuild it when its state cannot be trusted.

        Every stream's last processed bar is re-read and compared with its digest; an
        audited stream's whole ``history`` is compared with its count and checksum.
        """
        key = stream.key
        memory = self._memory[key]
        if record is None or record.watermark_ns is None:
            return self._rebuild(stream, record, now_ns, report, "no state")
        new = [] if candles is None else list(_from(candles, record.watermark_ns))
        if not new or new[0].time_ns != record.watermark_ns:
            return self._rebuild(stream, record, now_ns, report, "last bar missing in source")
        if candle_digest(new[0]) != record.last_candle_hash:
            return self._rebuild(stream, record, now_ns, report, "last bar changed in source")
        if history is not None and _history_changed(record, history):
            return self._rebuild(
                stream, record, now_ns, report, "history changed before the last bar"
            )
        new = new[1:]
        if not new:
            return None
        # The run in memory holds the state of the record this process committed; any
        # other record (another writer's, even at the same version) is restored.
        held = memory.record
        same = held is not None and held.same_write(record.version, record.write_id)
        warm = memory.run if same else None
        return advance(stream, record, new, warm=warm)

    def _rebuild(
        self,
        stream: Stream,
        record: StateRecord | None,
        now_ns: int,
        report: CycleReport,
        reason: str,
    ) -> StreamStep | None:
        key = stream.key
        memory = self._memory[key]
        history = self.source.history(stream.instrument.symbol, stream.timeframe, now_ns=now_ns)
        if record is not None and record.watermark_ns is not None:
            log.warning("rebuilding %s: %s", key.id, reason)
            self.metrics.rebuilds.labels(reason=reason).inc()
            report.rebuilt[key.id] = reason
        if len(history) == 0:
            return None
        step = advance(stream, None, list(history))
        stored = None if record is None else record.watermark_ns
        horizon = self._publish_after(stream, memory, history, stored)
        signals = [s for s in step.signals if s.bar_time_ns > horizon]
        version = 0 if record is None else record.version
        return StreamStep(step.record.with_version(version), signals, step.run)

    def _publish_after(
        self,
        stream: Stream,
        memory: _Memory,
        history: CandleSeries,
        stored_watermark_ns: int | None = None,
    ) -> int:
        """Bar time after which a rebuilt stream's signals are new to its consumers.

        The signals up to a watermark were published with it (this process's, or the
        stored record's after a restart); only a stream known nowhere starts at the
        catch-up horizon.
        """
        known = [w for w in (memory.watermark_ns, stored_watermark_ns) if w is not None]
        if known:
            return max(known)
        last = int(history.time_ns[-1])
        return last - self.catch_up_bars * stream.timeframe.nanoseconds

    def _merge_pending(self, memory: _Memory, signals: list[SignalEvent]) -> list[SignalEvent]:
        if not memory.pending:
            return signals
        by_bar = {s.bar_time_ns: s for s in memory.pending}
        by_bar.update({s.bar_time_ns: s for s in signals})
        return [by_bar[bar] for bar in sorted(by_bar)]

    def _commit(
        self, commits: list[tuple[Stream, StreamStep, list[SignalEvent]]], report: CycleReport
    ) -> None:
        if not commits:
            return
        try:
            results = self.store.commit_many(
                [Commit(stream.key, step.record, signals) for stream, step, signals in commits]
            )
        except StoreError as error:
            log.warning("commit failed, signals kept for the next cycle: %s", error)
            self.metrics.errors.labels(kind="store").inc()
            report.errors.append(str(error))
            for stream, step, signals in commits:
                self._keep_uncommitted(self._memory[stream.key], step, signals, report)
            return
        for (stream, step, signals), result in zip(commits, results, strict=True):
            memory = self._memory[stream.key]
            if result.error is not None:
                log.error("%s; its signals are kept for the next cycle", result.error)
                self.metrics.errors.labels(kind="store").inc()
                report.errors.append(f"{stream.key.id}: {result.error}")
                self._keep_uncommitted(memory, step, signals, report)
            elif not result.committed:
                # Another processor advanced this stream first; next cycle reloads it and
                # steps on from its record. Nothing of this step counts as published.
                report.conflicts += 1
                memory.record = None
            else:
                memory.pending = []
                memory.run, memory.record = step.run, result.record
                memory.watermark_ns = step.record.watermark_ns
                skipped = set(result.skipped)
                self._deliver(memory, [s for s in signals if s not in skipped], report)

    def _keep_uncommitted(
        self, memory: _Memory, step: StreamStep, signals: list[SignalEvent], report: CycleReport
    ) -> None:
        """A step the store did not take: its signals go out now and again with the next."""
        memory.pending = signals
        memory.record = None
        memory.watermark_ns = step.record.watermark_ns
        self._deliver(memory, signals, report)

    def _deliver(self, memory: _Memory, signals: list[SignalEvent], report: CycleReport) -> None:
        for signal in signals:
            if signal.bar_time_ns <= memory.delivered_upto_ns:
                continue
            memory.delivered_upto_ns = signal.bar_time_ns
            report.signals.append(signal)
            self.metrics.signals.labels(side=signal.side).inc()
            for sink in self.sinks:
                try:
                    sink(signal)
                except Exception as error:  # a broken sink must not stop the others
                    log.error("sink %r failed for %s: %s", sink, signal.event_id, error)
                    self.metrics.errors.labels(kind="sink").inc()

    # -- Redis down: the full path ----------------------------------------------------

    def _fallback_cycle(self, now_ns: int, report: CycleReport) -> None:
        report.fallback = True
        for stream in self.streams:
            memory = self._memory[stream.key]
            try:
                history = self.source.history(
                    stream.instrument.symbol, stream.timeframe, now_ns=now_ns
                )
            except SourceError as error:
                log.error("candle source failed for %s: %s", stream.key.id, error)
                report.errors.append(str(error))
                self.metrics.errors.labels(kind="source").inc()
                if isinstance(error, SourceUnavailable):
                    break  # every other stream would wait out the same timeout
                continue
            self.metrics.fallbacks.inc()
            if len(history) == 0:
                continue
            full = run_full(stream.strategy, history)
            horizon = self._publish_after(stream, memory, history)
            stream_id = stream.key.id
            fresh = [signal_event(stream_id, s) for s in full.signals if s.time_ns > horizon]
            memory.pending = self._merge_pending(memory, fresh)
            memory.watermark_ns = int(history.time_ns[-1])
            memory.run, memory.record = None, None
            self._deliver(memory, fresh, report)

    # -- audit ------------------------------------------------------------------------

    def _audit(
        self, audited: list[Stream], histories: dict[StreamKey, CandleSeries], report: CycleReport
    ) -> None:
        """Re-derive the audited streams through the full path and compare with their state."""
        for stream in audited:
            try:
                self._audit_stream(stream, histories[stream.key], report)
            except ParityError as error:  # the store failed: next cycle
                log.error("audit of %s failed: %s", stream.key.id, error)
                self.metrics.errors.labels(kind=type(error).__name__).inc()
                report.errors.append(f"{stream.key.id}: audit: {error}")

    def _audit_stream(self, stream: Stream, history: CandleSeries, report: CycleReport) -> None:
        memory = self._memory[stream.key]
        if memory.run is None:
            return
        if len(history) == 0 or int(history.time_ns[-1]) != memory.watermark_ns:
            return
        full = run_full(stream.strategy, history)
        live = memory.run.values()
        for name, values in full.values.items():
            expected, actual = values[-1], live[name]
            same = (np.isnan(expected) and actual is None) or expected == actual
            if not same:
                log.error("audit: %s differs from the full path in %s", stream.key.id, name)
                self.metrics.audit_mismatches.inc()
                report.audit_mismatches.append(stream.key.id)
                memory.record = None
                self.store.delete([stream.key])
                return


def freeze_warm_state() -> None:
    """Move everything alive now out of the cyclic garbage collector's reach.

    For a long-running service, after its first cycle: the warm runs it built then are
    kept until their stream is rebuilt, and frozen they no longer make each full
    collection walk every stream's state (a pause of tens of ms at 1,000 streams).
    Objects freed later are still freed by reference counting.
    """
    gc.collect()
    gc.freeze()


def _history_changed(record: StateRecord, history: CandleSeries) -> bool:
    """Whether ``history``'s bars up to the watermark differ from those processed."""
    if record.watermark_ns is None:
        return False
    processed = history.slice(
        0, int(np.searchsorted(history.time_ns, record.watermark_ns, "right"))
    )
    return (
        len(processed) != record.bars_processed
        or history_checksum(processed) != record.history_checksum
    )


def _from(candles: CandleSeries, time_ns: int) -> CandleSeries:
    """The candles from ``time_ns`` on.

    Streams sharing a symbol and timeframe share one fetch from the lowest watermark
    among them; each starts at its own. Most streams have a fetch of their own, which
    starts at their watermark already.
    """
    if len(candles) and candles.time_ns[0] == time_ns:
        return candles
    return candles.slice(int(np.searchsorted(candles.time_ns, time_ns)))
