"""One stream's incremental step: from its stored record and new candles to the next record.

This is the code both the live processor and ``parity verify`` run, so the parity the
harness proves is the parity of production. It does no I/O: callers load records and
commit the result, one stream at a time or many in one round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from framework.candles import Candle
from framework.engine import IncrementalRun, SignalAt
from framework.errors import DataError
from framework.instruments import Instrument
from framework.state import (
    SignalEvent,
    StateRecord,
    StreamKey,
    candle_digest,
    history_checksum,
)
from framework.strategy import Strategy
from framework.timeframes import Timeframe

__all__ = ["Stream", "StreamStep", "advance", "signal_event"]

#: Called after each candle with the candle and the run, e.g. to record every value.
StepObserver = Callable[[Candle, IncrementalRun], None]


@dataclass(frozen=True)
class Stream:
    """A strategy with its parameters, on one instrument and timeframe."""

    strategy: Strategy
    instrument: Instrument
    timeframe: Timeframe
    #: The stream's key: a new parameter set is a new stream. Computed once, since the
    #: processor needs it several times per stream per cycle.
    key: StreamKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        strategy = self.strategy
        key = StreamKey.for_params(
            strategy.name, strategy.params, self.instrument.symbol, self.timeframe.name
        )
        object.__setattr__(self, "key", key)


@dataclass(frozen=True)
class StreamStep:
    """What `advance` produced: the record to commit, its signals and the live run."""

    record: StateRecord
    signals: list[SignalEvent]
    run: IncrementalRun


def advance(
    stream: Stream,
    record: StateRecord | None,
    candles: Sequence[Candle],
    *,
    warm: IncrementalRun | None = None,
    observer: StepObserver | None = None,
) -> StreamStep:
    """Feed the candles after ``record``'s watermark; return the next record and signals.

    Parameters
    ----------
    stream : Stream
        The stream being advanced.
    record : StateRecord or None
        Its stored record (None: start from nothing).
    candles : sequence of Candle
        Closed candles, in time order, all after the record's watermark.
    warm : IncrementalRun, optional
        A run already holding exactly ``record``'s state (kept in memory since the last
        commit); saves decoding the snapshots.
    observer : callable, optional
        Called after every candle.

    Returns
    -------
    StreamStep
        The record to commit (its ``version`` is the loaded one, for compare-and-set).
    """
    record = record or StateRecord()
    if warm is not None:
        run = warm
    elif record.snapshots:
        run = IncrementalRun(stream.strategy, stream.instrument, state=record.snapshots)
    else:
        run = IncrementalRun(stream.strategy, stream.instrument)
    stream_id = stream.key.id
    watermark = record.watermark_ns
    # Every time is checked before any candle is fed: a rejected chunk leaves ``warm``
    # exactly at ``record``'s state, so the caller may keep using it.
    for candle in candles:
        if watermark is not None and candle.time_ns <= watermark:
            raise DataError(
                f"candle at {candle.time} is not after the stream's last bar",
                source=stream_id,
            )
        watermark = candle.time_ns
    signals: list[SignalEvent] = []
    for candle in candles:
        signal = run.step(candle)
        if signal is not None:
            signals.append(signal_event(stream_id, signal))
        if observer is not None:
            observer(candle, run)
    if not candles:
        return StreamStep(record, [], run)
    next_record = StateRecord(
        snapshots=run.snapshot(),
        watermark_ns=watermark,
        last_candle_hash=candle_digest(candles[-1]),
        bars_processed=record.bars_processed + len(candles),
        history_checksum=history_checksum(candles, record.history_checksum),
        last_signal=signals[-1] if signals else record.last_signal,
        version=record.version,
    )
    return StreamStep(next_record, signals, run)


def signal_event(stream_id: str, signal: SignalAt) -> SignalEvent:
    """A decision's signal as the stream publishes it."""
    return SignalEvent(stream_id, signal.time_ns, signal.side.value, signal.price, signal.reason)
