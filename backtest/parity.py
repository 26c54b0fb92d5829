"""Parity verification: the full path and the incremental path, compared bar by bar.

The incremental path is the live processor's own step (`framework.stream.advance`)
against a real state store: candles arrive in chunks, every chunk is committed, and at
restart points every in-memory object is dropped and the state reloaded from the store.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from framework.candles import Candle, CandleSeries
from framework.engine import FullRun, IncrementalRun, run_full
from framework.errors import ParameterError
from framework.state import DEFAULT_OUTBOX_MAXLEN, RedisStateStore, SignalEvent, StateRecord
from framework.strategy import Strategy
from framework.stream import Stream, advance

__all__ = ["Chunking", "Mismatch", "VerifyReport", "chunk_sizes", "parse_chunking", "verify"]

Chunking = Literal["live", "random"] | int
#: Candles per cycle in production: a live service sees one to five new bars a cycle.
LIVE_CHUNK = (1, 5)


def parse_chunking(text: str) -> Chunking:
    """``live``, ``random`` or a positive integer (fixed chunk size)."""
    if text in ("live", "random"):
        return text  # type: ignore[return-value]
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise ParameterError(f"--chunks must be live, random or a positive integer, got {text!r}")


def chunk_sizes(total: int, chunking: Chunking, rng: np.random.Generator) -> list[int]:
    """Sizes of consecutive chunks that cover ``total`` candles.

    Examples
    --------
    >>> chunk_sizes(7, 3, np.random.default_rng(0))
    [3, 3, 1]
    """
    if isinstance(chunking, int):
        low, high = chunking, chunking
    elif chunking == "live":
        low, high = LIVE_CHUNK
    else:
        low, high = 1, max(2, total // 20)
    sizes: list[int] = []
    covered = 0
    while covered < total:
        size = min(int(rng.integers(low, high + 1)), total - covered)
        sizes.append(size)
        covered += size
    return sizes


@dataclass(frozen=True)
class Mismatch:
    """The first bar where the two paths differ."""

    index: int
    time: str
    series: str
    full: Any
    incremental: Any


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of one verification; `ok` when nothing differs."""

    strategy: str
    params: dict[str, Any]
    symbol: str
    timeframe: str
    candles: int
    signals_full: int
    signals_incremental: int
    mismatches: int
    first_mismatch: Mismatch | None
    chunks: int
    restarts: int
    store: str
    seconds_full: float
    seconds_incremental: float

    @property
    def ok(self) -> bool:
        """True when every value and every signal agreed."""
        return self.mismatches == 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def verify(
    strategy: Strategy,
    series: CandleSeries,
    store: RedisStateStore | None,
    *,
    chunking: Chunking = "live",
    restarts: int = 0,
    seed: int = 0,
    full: FullRun | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Run both paths over ``series`` and compare every value and signal bar by bar.

    With a ``store``, the incremental path is the live step committed chunk by chunk
    under a key of the verification's own (deleted after). Without one, it is a single
    in-memory pass (the quick check every backtest runs); chunking and restarts then
    do not apply. ``full`` reuses a full-path run already computed.
    """
    if restarts < 0:
        raise ParameterError(f"--restarts must be ≥ 0, got {restarts}")
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    full = full or run_full(strategy, series)
    seconds_full = time.perf_counter() - started

    if store is None:
        sizes, restart_at = [len(series)], set()
    else:
        sizes = chunk_sizes(len(series), chunking, rng)
        boundaries = np.cumsum(sizes)[:-1]
        chosen = rng.choice(boundaries, size=min(restarts, boundaries.size), replace=False)
        restart_at = {int(b) for b in chosen}
    started = time.perf_counter()
    recorder = _Recorder(list(full.values))
    if store is None:
        stream = Stream(_fresh(strategy), series.instrument, series.timeframe)
        signals = advance(stream, None, list(series), observer=recorder).signals
        if progress is not None:
            progress(len(series))
    else:
        signals = _replay(strategy, series, store, sizes, restart_at, recorder, progress)
    seconds_incremental = time.perf_counter() - started

    full_signals = [(s.time_ns, s.side.value, s.price, s.reason) for s in full.signals]
    incremental_signals = [(s.bar_time_ns, s.side, s.price, s.reason) for s in signals]
    mismatches, first = _compare(
        series, full.values, recorder.columns(), full_signals, incremental_signals
    )
    return VerifyReport(
        strategy=strategy.name,
        params=strategy.params,
        symbol=series.symbol,
        timeframe=series.timeframe.name,
        candles=len(series),
        signals_full=len(full_signals),
        signals_incremental=len(incremental_signals),
        mismatches=mismatches,
        first_mismatch=first,
        chunks=len(sizes),
        restarts=len(restart_at),
        store="none (in memory)" if store is None else store.name,
        seconds_full=seconds_full,
        seconds_incremental=seconds_incremental,
    )


class _Recorder:
    """Collects every series' value after every incremental step."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self._rows: list[list[float | None]] = []

    def __call__(self, candle: Candle, run: IncrementalRun) -> None:
        values = run.values()
        self._rows.append([values[name] for name in self.names])

    def columns(self) -> dict[str, npt.NDArray[np.float64]]:
        table = np.array(
            [[np.nan if v is None else v for v in row] for row in self._rows], dtype=np.float64
        ).reshape(len(self._rows), len(self.names))
        return {name: table[:, i] for i, name in enumerate(self.names)}


def _replay(
    strategy: Strategy,
    series: CandleSeries,
    store: RedisStateStore,
    sizes: list[int],
    restart_at: set[int],
    observer: _Recorder,
    progress: Callable[[int], None] | None,
) -> list[SignalEvent]:
    """Feed the series chunk by chunk through `advance`, committing every chunk."""
    base = Stream(strategy, series.instrument, series.timeframe)
    stream = Stream(_fresh(strategy), series.instrument, series.timeframe)
    key = base.key
    # A verification must never touch a live stream's state: give it a key of its own.
    key = type(key)(key.strategy, f"verify{uuid.uuid4().hex[:10]}", key.symbol, key.timeframe)
    published: list[SignalEvent] = []
    warm: IncrementalRun | None = None
    record: StateRecord | None = None
    try:
        position = 0
        for chunk in _chunks(series, sizes):
            if position in restart_at:
                stream = Stream(_fresh(strategy), series.instrument, series.timeframe)
                warm, record = None, None
            if record is None:
                record = store.load(key)
            step = advance(stream, record, chunk, warm=warm, observer=observer)
            signals = [dataclasses.replace(s, stream_id=key.id) for s in step.signals]
            record = store.commit(key, step.record, signals)
            published += signals
            warm = step.run
            position += len(chunk)
            if progress is not None:
                progress(len(chunk))
        # The outbox is what consumers see: check that, not our own list, unless it
        # was trimmed to its maximum length.
        outbox = [event for _, event in store.read_outbox(key, count=len(published) + 1)]
        return outbox if len(published) <= DEFAULT_OUTBOX_MAXLEN else published
    finally:
        store.delete([key], include_outbox=True)


def _chunks(series: CandleSeries, sizes: list[int]) -> Iterator[list[Candle]]:
    candles = iter(series)
    for size in sizes:
        yield [next(candles) for _ in range(size)]


def _fresh(strategy: Strategy) -> Strategy:
    return type(strategy)(**strategy.params)


def _compare(
    series: CandleSeries,
    full: dict[str, npt.NDArray[np.float64]],
    incremental: dict[str, npt.NDArray[np.float64]],
    full_signals: list[tuple[Any, ...]],
    incremental_signals: list[tuple[Any, ...]],
) -> tuple[int, Mismatch | None]:
    """Count differing (bar, series) values and signals; describe the earliest."""
    times = series.times()
    found: list[Mismatch] = []
    count = 0
    for name, expected in full.items():
        actual = incremental[name]
        differs = _differs_bitwise(expected, actual)
        count += int(differs.sum())
        if differs.any():
            i = int(np.argmax(differs))
            found.append(
                Mismatch(i, times[i].isoformat(), name, _show(expected[i]), _show(actual[i]))
            )
    # Grouped, not keyed, by bar time: a signal published twice is a difference too.
    full_by_time = _by_time(full_signals)
    incremental_by_time = _by_time(incremental_signals)
    for bar_time in sorted(set(full_by_time) | set(incremental_by_time)):
        a, b = full_by_time.get(bar_time, []), incremental_by_time.get(bar_time, [])
        if a != b:
            count += 1
            i = int(np.searchsorted(series.time_ns, bar_time))
            found.append(
                Mismatch(
                    i,
                    pd.Timestamp(bar_time, tz="UTC").isoformat(),
                    "signal",
                    _signal_text(a),
                    _signal_text(b),
                )
            )
    first = min(found, key=lambda m: (m.index, m.series != "signal")) if found else None
    return count, first


def _differs_bitwise(
    a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_]:
    """True where the floats differ in any bit; all NaNs count as equal (warm-up)."""
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    same_bits = a.view(np.int64) == b.view(np.int64)
    return np.asarray((nan_a != nan_b) | (~nan_a & ~nan_b & ~same_bits))


def _show(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _by_time(signals: list[tuple[Any, ...]]) -> dict[int, list[tuple[Any, ...]]]:
    grouped: dict[int, list[tuple[Any, ...]]] = {}
    for signal in signals:
        grouped.setdefault(signal[0], []).append(signal)
    return grouped


def _signal_text(signals: list[tuple[Any, ...]]) -> str | None:
    return " + ".join(f"{s[1]} at {s[2]!r}" for s in signals) or None
