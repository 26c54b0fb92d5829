"""``parity bench``: Parity's speed, side by side with its anchors, on one machine and data.

Every section runs in this one process on the same candles — bootstrapped from the
real EURUSD M15 returns with a fixed seed — and reports plain numbers: indicator update
cost against a plain-Python loop and talipp, batch speed against pandas, strategy
throughput of every path against backtesting.py, a live cycle over many streams against
the original fetch-and-recompute method, and memory. A figure that cannot be measured
here (no server, a library not installed) is None with the reason in ``notes``.

Examples
--------
>>> report = run_bench(BenchSettings.tiny(3_000, memory=False), progress=None)
>>> report["strategy"]["candles"], report["strategy"]["incremental_signals_identical"]
(3000, True)
>>> report["live"]["original_ms"] is None  # no MongoDB here: null, and a note says why
True
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from backtest._bench_data import (
    DEFAULT_SOURCE,
    SEED,
    Notes,
    Progress,
    bootstrap,
    load_source,
    machine,
)
from backtest._bench_indicators import indicator_section
from backtest._bench_live import SourceFactory, live_section, memory_factory, mongo_factory
from backtest._bench_memory import measure_in_subprocess
from backtest._bench_strategy import strategy_section

__all__ = ["FULL_CANDLES", "QUICK_CANDLES", "BenchSettings", "goals", "run_bench"]

FULL_CANDLES = 1_000_000
QUICK_CANDLES = 100_000


@dataclass(frozen=True)
class BenchSettings:
    """What to measure and how hard.

    Parameters
    ----------
    candles : int
        Bootstrapped candles every section runs on.
    repeats : int
        Timed passes per figure (the best is kept).
    commit_candles : int
        Candles committed chunk by chunk in the store-backed runs (they are slower).
    streams, cycles : int
        Size of the live-cycle comparison.
    live_budget_s : float
        Seconds each live-cycle comparison may take before it stops (a slow server).
    redis_url, mongodb_uri : str, optional
        Real servers; sections needing one are skipped (with a note) without it.
    memory : bool
        Measure peak RSS in a child process.
    source : Path
        Real candles to bootstrap from.
    """

    candles: int = FULL_CANDLES
    repeats: int = 3
    commit_candles: int = 20_000
    streams: int = 1_000
    cycles: int = 3
    live_budget_s: float = 180.0
    redis_url: str | None = None
    mongodb_uri: str | None = None
    memory: bool = True
    source: Path = DEFAULT_SOURCE

    @classmethod
    def quick(cls, **changes: Any) -> BenchSettings:
        """The ``--quick`` settings: 100,000 candles."""
        quick = cls(candles=QUICK_CANDLES, commit_candles=10_000, live_budget_s=15.0)
        return replace(quick, **changes)

    @classmethod
    def tiny(cls, candles: int, **changes: Any) -> BenchSettings:
        """A few thousand candles, one pass: for tests and smoke runs."""
        settings = cls(
            candles=candles,
            repeats=1,
            commit_candles=min(candles, 1_000),
            streams=10,
            cycles=1,
            live_budget_s=20.0,
        )
        return replace(settings, **changes)


def run_bench(
    settings: BenchSettings,
    *,
    progress: Progress | None = None,
    live_factory: SourceFactory | None = None,
) -> dict[str, Any]:
    """Run every section; return the JSON-ready report.

    ``live_factory`` replaces the MongoDB source of the live section (tests); without a
    Redis URL it then commits to the embedded store.
    """
    started = time.perf_counter()
    report_progress: Progress = progress or (lambda _: None)
    notes = Notes()
    report_progress("bootstrapping candles")
    series = bootstrap(load_source(settings.source), settings.candles, SEED)
    indicators = indicator_section(
        series, repeats=settings.repeats, notes=notes, progress=report_progress
    )
    strategy = strategy_section(
        series,
        repeats=settings.repeats,
        commit_candles=settings.commit_candles,
        redis_url=settings.redis_url,
        notes=notes,
        progress=report_progress,
    )
    factory: SourceFactory | str | None = live_factory
    if factory is None and settings.mongodb_uri:
        factory = mongo_factory(settings.mongodb_uri)
    live = live_section(
        series,
        streams=settings.streams,
        cycles=settings.cycles,
        store_url=settings.redis_url or ("memory" if live_factory else None),
        factory=factory,
        budget_s=settings.live_budget_s,
        notes=notes,
        progress=report_progress,
    )
    report_progress("live: the same cycle with candles in memory")
    live_in_memory = live_section(
        series,
        streams=settings.streams,
        cycles=settings.cycles,
        store_url=settings.redis_url or "memory",
        factory=memory_factory,
        budget_s=settings.live_budget_s,
        notes=notes,
        progress=report_progress,
        label="live_in_memory",
    )
    live_in_memory["store"] = "redis" if settings.redis_url else "fakeredis"
    notes.add(
        f"live: {settings.streams:,} MA_Unified 50/200 streams, median of {settings.cycles} "
        "cycles with one new closed bar per stream; original = the last 200 candles of "
        "each stream fetched and recomputed through the full path; incremental = "
        "SignalProcessor.cycle (states loaded in one round trip, one batched fetch after "
        "the watermarks, O(1) updates, commits in one round trip); live_in_memory = the "
        "same with the candles in memory, so the original pays no query at all"
    )
    memory: dict[str, Any] = {"backtest_peak_rss_mb": None, "rss_before_backtest_mb": None}
    if settings.memory:
        report_progress("memory: backtest in a fresh process")
        memory = measure_in_subprocess(settings.candles, settings.source, notes)
    else:
        notes.add("backtest_peak_rss_mb: not measured (memory measurement turned off)")
    memory["state_bytes_per_stream"] = strategy.pop("state_bytes_per_stream")
    report: dict[str, Any] = {
        "machine": machine(),
        "settings": _settings(settings),
        "indicators": indicators,
        "strategy": strategy,
        "live": live,
        "live_in_memory": live_in_memory,
        "memory": memory,
    }
    report["goals"] = goals(report)
    report["notes"] = notes.lines
    report["seconds"] = time.perf_counter() - started
    return report


def goals(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The performance goals of issues 5 and 7, each with its measured value and verdict."""
    rows: list[dict[str, Any]] = []

    def goal(name: str, value: float | None, target: str, met: bool | None) -> None:
        rows.append({"goal": name, "value": value, "target": target, "met": met})

    by_name = {row["name"]: row for row in report["indicators"]}
    for name in ("SMA(20)", "SMA(200)", "SMA(2000)", "EMA(50)"):
        row = by_name.get(name)
        if row is None:
            continue
        ratio = _ratio(row["parity_ns"], row["deque_ns"])
        goal(f"{name} update / plain loop", ratio, "≤ 3", _at_most(ratio, 3.0))
        ratio = _ratio(row["parity_ns"], row["talipp_ns"])
        goal(f"{name} update / talipp", ratio, "< 1", None if ratio is None else ratio < 1)
    if "SMA(20)" in by_name and "SMA(2000)" in by_name:
        ratio = _ratio(by_name["SMA(2000)"]["parity_ns"], by_name["SMA(20)"]["parity_ns"])
        goal("SMA(2000) / SMA(20) update", ratio, "≤ 1.3", _at_most(ratio, 1.3))
    strategy = report["strategy"]
    backtest = strategy["backtest_candles_per_s"]
    per_million = None if not backtest else 1_000_000 / backtest
    goal("full-path backtest, s per 1M candles", per_million, "< 1", _below(per_million, 1.0))
    ratio = _ratio(backtest, strategy["backtesting_py_candles_per_s"])
    goal("full-path backtest / backtesting.py", ratio, "≥ 20", _at_least(ratio, 20.0))
    rate = strategy["incremental_candles_per_s"]
    goal("incremental candles/s (no store)", rate, "≥ 1,000,000", _at_least(rate, 1e6))
    for section, where in (("live", "MongoDB"), ("live_in_memory", "candles in memory")):
        live = report[section]
        ratio = _ratio(live["original_ms"], live["incremental_ms"])
        goal(f"live cycle ({where}): original / incremental", ratio, "≥ 20", _at_least(ratio, 20))
    return rows


def _settings(settings: BenchSettings) -> dict[str, Any]:
    shown = asdict(settings)
    shown["source"] = settings.source.name
    shown["seed"] = SEED
    shown["redis_url"] = settings.redis_url is not None
    shown["mongodb_uri"] = settings.mongodb_uri is not None
    return shown


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def _at_least(value: float | None, limit: float) -> bool | None:
    return None if value is None else value >= limit


def _below(value: float | None, limit: float) -> bool | None:
    return None if value is None else value < limit
