"""Bench section 2: MA_Unified 50/200 throughput, every path, and backtesting.py's SMA cross."""

from __future__ import annotations

import time
import uuid
import warnings
from typing import Any

import numpy as np
import pandas as pd

from backtest._bench_data import Notes, Progress, best_seconds, per_second
from backtest.parity import chunk_sizes
from backtest.simulation import SimulationSettings, simulate
from backtest.stats import compute_stats
from framework.candles import Candle, CandleSeries
from framework.engine import IncrementalRun, run_full
from framework.errors import StoreError
from framework.state import RedisStateStore, StateRecord, open_store
from framework.stream import Stream, advance
from strategies.ma_unified import MAUnifiedStrategy

__all__ = ["FAST", "SLOW", "commit_run", "strategy_section"]

FAST, SLOW = 50, 200


def strategy_section(
    series: CandleSeries,
    *,
    repeats: int,
    commit_candles: int,
    redis_url: str | None,
    notes: Notes,
    progress: Progress,
) -> dict[str, Any]:
    """Candles per second of every path over the same series."""
    strategy = MAUnifiedStrategy(fast=FAST, slow=SLOW)
    n = len(series)
    # These passes take a second or less: more of them, so that the best one is a pass
    # the machine's other work did not disturb.
    passes = max(repeats, 5)
    progress("strategy: full path")
    full = run_full(strategy, series)
    full_seconds = best_seconds(lambda: run_full(strategy, series), passes)
    settings = SimulationSettings()

    def backtest() -> None:
        run = run_full(strategy, series)
        compute_stats(series, simulate(series, run.signals, settings), settings)

    backtest_seconds = best_seconds(backtest, passes)

    progress("strategy: incremental path")
    started = time.perf_counter()
    candles = list(series)
    candle_seconds = time.perf_counter() - started
    signals: list[Any] = []

    def incremental() -> None:
        signals[:] = IncrementalRun(strategy, series.instrument).run(candles)

    incremental_seconds = best_seconds(incremental, passes)
    identical = signals == full.signals

    stored = candles[: min(n, commit_candles)]
    progress("strategy: incremental + fakeredis commits")
    fakeredis_seconds, record = _committed(strategy, series, stored, "memory", notes)
    redis_seconds = None
    if redis_url:
        progress("strategy: incremental + Redis commits")
        redis_seconds, _ = _committed(strategy, series, stored, redis_url, notes)
    else:
        notes.add("redis_candles_per_s: PARITY_REDIS_URL is not set (no Redis server measured)")
    if len(stored) < n:
        notes.add(
            f"fakeredis/redis_candles_per_s: measured over the first {len(stored):,} candles, "
            "committed in chunks of 1-5 (seeded), as the live service commits"
        )

    progress("strategy: backtesting.py")
    bt_seconds, bt_trades = _backtesting_py(series, max(1, repeats - 1), notes)
    result: dict[str, Any] = {
        "strategy": repr(strategy),
        "candles": n,
        "signals": len(full.signals),
        "incremental_signals_identical": identical,
        "full_candles_per_s": per_second(n, full_seconds),
        "backtest_candles_per_s": per_second(n, backtest_seconds),
        "incremental_candles_per_s": per_second(n, incremental_seconds),
        "candle_objects_per_s": per_second(n, candle_seconds),
        "commit_candles": len(stored),
        "fakeredis_candles_per_s": per_second(len(stored), fakeredis_seconds),
        "redis_candles_per_s": per_second(len(stored), redis_seconds),
        "backtesting_py_candles_per_s": per_second(n, bt_seconds),
        "backtesting_py_trades": bt_trades,
        "full_vs_backtesting_py": None if bt_seconds is None else bt_seconds / full_seconds,
        "backtest_vs_backtesting_py": (
            None if bt_seconds is None else bt_seconds / backtest_seconds
        ),
        "full_seconds": full_seconds,
        "backtest_seconds": backtest_seconds,
        "incremental_seconds": incremental_seconds,
        "backtesting_py_seconds": bt_seconds,
        "state_bytes_per_stream": None if record is None else len(record.encode()),
    }
    notes.add(
        "strategy: full = run_full (batch indicators + decide per bar); backtest = run_full + "
        "simulate + stats (parity backtest --no-verify after loading); incremental = "
        "IncrementalRun.run over Candle objects built beforehand (candle_objects_per_s)"
    )
    return result


def commit_run(
    strategy: MAUnifiedStrategy,
    series: CandleSeries,
    candles: list[Candle],
    store: RedisStateStore,
    seed: int = 0,
) -> tuple[float, StateRecord | None]:
    """Seconds to advance and commit ``candles`` in live-sized chunks; the last record."""
    stream = Stream(strategy, series.instrument, series.timeframe)
    key = stream.key
    sizes = chunk_sizes(len(candles), "live", np.random.default_rng(seed))
    record: StateRecord | None = None
    warm: IncrementalRun | None = None
    position = 0
    try:
        started = time.perf_counter()
        for size in sizes:
            step = advance(stream, record, candles[position : position + size], warm=warm)
            record = store.commit(key, step.record, step.signals)
            warm = step.run
            position += size
        return time.perf_counter() - started, record
    finally:
        store.delete([key], include_outbox=True)


def _committed(
    strategy: MAUnifiedStrategy,
    series: CandleSeries,
    candles: list[Candle],
    url: str,
    notes: Notes,
) -> tuple[float | None, StateRecord | None]:
    # A prefix of the bench's own: a real server may hold live streams.
    prefix = f"parity-bench-{uuid.uuid4().hex[:12]}:"
    try:
        with open_store(url, prefix=prefix) as store:
            store.ping()
            return commit_run(strategy, series, candles, store)
    except StoreError as error:
        notes.add(f"store {url if url == 'memory' else 'PARITY_REDIS_URL'} failed: {error}")
        return None, None


def _backtesting_py(
    series: CandleSeries, repeats: int, notes: Notes
) -> tuple[float | None, int | None]:
    """backtesting.py's own SMA crossover example (50/200, reversing) on the same bars."""
    try:
        from backtesting import Backtest, Strategy
        from backtesting.lib import crossover
    except ImportError:
        notes.add(
            "backtesting_py_candles_per_s and the ratios to it: backtesting.py not installed "
            "(pip install 'parity[bench]')"
        )
        return None, None

    def sma(values: Any, period: int) -> Any:
        return pd.Series(values).rolling(period).mean()

    class SmaCross(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            self.fast = self.I(sma, self.data.Close, FAST)
            self.slow = self.I(sma, self.data.Close, SLOW)

        def next(self) -> None:
            if crossover(self.fast, self.slow):
                self.buy()
            elif crossover(self.slow, self.fast):
                self.sell()

    frame = series.to_frame().rename(columns=str.capitalize)
    frame.index = pd.DatetimeIndex(frame.index).tz_localize(None)
    results: list[Any] = []

    def run() -> None:
        bt = Backtest(frame, SmaCross, cash=100_000, commission=0.0, exclusive_orders=True)
        results.append(bt.run())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seconds = best_seconds(run, repeats)
    notes.add(
        "backtesting_py: its SmaCross example (SMA 50/200 of Close, exclusive orders) over the "
        f"same bars, best of {repeats} run(s) including its stats; its crossover() treats ties "
        "differently, so its trade count may differ slightly from Parity's signals"
    )
    return seconds, int(results[-1]["# Trades"])
