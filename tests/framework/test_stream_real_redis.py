"""Restart resume against the real Redis server (marker ``redis``; CI runs them).

Half of a real dataset goes through the live step with a commit to Redis every one to
five candles; then every object is dropped (in one test, the whole process exits), a new
store is opened from the URL, the record is loaded and the rest is processed. Values and
signals must equal one uninterrupted run and the full path, bit for bit.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
import redis

from backtest.parity import verify
from framework.candles import Candle, CandleSeries
from framework.engine import IncrementalRun, run_full
from framework.loading import load_candles
from framework.state import RedisStateStore, SignalEvent, StateRecord, open_store
from framework.stream import Stream, advance
from strategies.ma_unified import MAUnifiedStrategy

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "EURUSD_M15_2026.csv.gz"

Row = dict[str, int | None]


@pytest.fixture(scope="module")
def eurusd() -> CandleSeries:
    return load_candles(DATA)


def bits(value: float | None) -> int | None:
    if value is None or value != value:
        return None
    return int(struct.unpack("<q", struct.pack("<d", value))[0])


def live_chunks(candles: list[Candle], seed: int) -> Iterator[list[Candle]]:
    """Chunks of one to five candles, as a live service sees them."""
    rng = np.random.default_rng(seed)
    position = 0
    while position < len(candles):
        size = int(rng.integers(1, 6))
        yield candles[position : position + size]
        position += size


def process(
    store: RedisStateStore, stream: Stream, candles: list[Candle], seed: int, rows: list[Row]
) -> StateRecord:
    """The live loop: load once, then advance and commit chunk after chunk."""
    record = store.load(stream.key)
    warm: IncrementalRun | None = None
    for chunk in live_chunks(candles, seed):
        step = advance(
            stream,
            record,
            chunk,
            warm=warm,
            observer=lambda c, run: rows.append({k: bits(v) for k, v in run.values().items()}),
        )
        record = store.commit(stream.key, step.record, step.signals)
        warm = step.run
    assert record is not None
    return record


def uninterrupted(params: dict[str, Any], series: CandleSeries) -> tuple[list[Row], list[Any]]:
    run = IncrementalRun(MAUnifiedStrategy(**params), series.instrument)
    rows, signals = [], []
    for candle in series:
        signal = run.step(candle)
        if signal is not None:
            signals.append((signal.time_ns, signal.side.value, signal.price, signal.reason))
        rows.append({k: bits(v) for k, v in run.values().items()})
    return rows, signals


def full_rows(params: dict[str, Any], series: CandleSeries) -> tuple[list[Row], list[Any]]:
    full = run_full(MAUnifiedStrategy(**params), series)
    rows = [
        {name: bits(float(column[i])) for name, column in full.values.items()}
        for i in range(len(series))
    ]
    signals = [(s.time_ns, s.side.value, s.price, s.reason) for s in full.signals]
    return rows, signals


def outbox(store: RedisStateStore, stream: Stream) -> list[Any]:
    events: list[SignalEvent] = [e for _, e in store.read_outbox(stream.key, count=100_000)]
    return [(e.bar_time_ns, e.side, e.price, e.reason) for e in events]


@pytest.mark.parametrize(
    "params",
    [
        {"fast": 50, "slow": 200},
        {"fast": 12, "slow": 40, "kind": "ema", "price": "hlc3"},
        {"fast": 9, "slow": 30, "kind": "wma", "price": "hl2"},
    ],
    ids=["sma-50-200", "ema-hlc3", "wma-hl2"],
)
def test_a_restarted_process_resumes_from_redis_exactly_where_it_stopped(
    redis_url: str, redis_prefix: str, eurusd: CandleSeries, params: dict[str, Any]
) -> None:
    candles = list(eurusd)
    half = len(candles) // 2
    rows: list[Row] = []

    # First process: half of the data, committed every 1-5 candles.
    store = open_store(redis_url, prefix=redis_prefix)
    stream = Stream(MAUnifiedStrategy(**params), eurusd.instrument, eurusd.timeframe)
    stopped = process(store, stream, candles[:half], seed=1, rows=rows)
    key = stream.key
    store.close()
    del store, stream  # nothing of the first process survives but what Redis holds

    # Second process: a new store from the URL, the record loaded, the rest processed.
    store = open_store(redis_url, prefix=redis_prefix)
    stream = Stream(MAUnifiedStrategy(**params), eurusd.instrument, eurusd.timeframe)
    loaded = store.load(stream.key)
    assert stream.key == key
    assert loaded is not None and loaded == stopped
    assert loaded.watermark_ns == candles[half - 1].time_ns
    assert loaded.bars_processed == half
    finished = process(store, stream, candles[half:], seed=2, rows=rows)

    one_run_rows, one_run_signals = uninterrupted(params, eurusd)
    full_path_rows, full_path_signals = full_rows(params, eurusd)
    published = outbox(store, stream)
    assert len(published) > 5
    assert published == one_run_signals == full_path_signals
    assert rows == one_run_rows
    assert rows == full_path_rows
    assert finished.bars_processed == len(candles)
    straight = IncrementalRun(MAUnifiedStrategy(**params), eurusd.instrument)
    straight.run(eurusd)
    assert finished.snapshots == straight.snapshot()
    store.delete([key], include_outbox=True)
    store.close()


FIRST_PROCESS = """
import json, struct, sys
import numpy as np
from framework.loading import load_candles
from framework.state import open_store
from framework.stream import Stream, advance
from strategies.ma_unified import MAUnifiedStrategy

url, prefix, data, half = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
series = load_candles(data)
candles = list(series)[:half]
store = open_store(url, prefix=prefix)
stream = Stream(MAUnifiedStrategy(), series.instrument, series.timeframe)
rows = []
bits = lambda v: None if v is None else struct.unpack("<q", struct.pack("<d", v))[0]
record, warm, rng, position = store.load(stream.key), None, np.random.default_rng(3), 0
while position < len(candles):
    chunk = candles[position : position + int(rng.integers(1, 6))]
    observe = lambda c, run: rows.append({k: bits(v) for k, v in run.values().items()})
    step = advance(stream, record, chunk, warm=warm, observer=observe)
    record, warm = store.commit(stream.key, step.record, step.signals), step.run
    position += len(chunk)
print(json.dumps(rows))
"""


def test_a_new_process_resumes_from_the_state_a_finished_process_left_in_redis(
    redis_url: str, redis_prefix: str, eurusd: CandleSeries
) -> None:
    candles = list(eurusd)
    half = len(candles) // 2
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    first = subprocess.run(
        [sys.executable, "-c", FIRST_PROCESS, redis_url, redis_prefix, str(DATA), str(half)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert first.returncode == 0, first.stderr
    rows: list[Row] = json.loads(first.stdout)

    store = open_store(redis_url, prefix=redis_prefix)
    stream = Stream(MAUnifiedStrategy(), eurusd.instrument, eurusd.timeframe)
    assert store.load(stream.key) is not None
    process(store, stream, candles[half:], seed=4, rows=rows)

    full_path_rows, full_path_signals = full_rows({}, eurusd)
    assert outbox(store, stream) == full_path_signals
    assert rows == full_path_rows
    store.delete([stream.key], include_outbox=True)
    store.close()


def test_parity_verify_with_the_real_redis_store_live_chunks_and_five_restarts_is_ok(
    redis_url: str,
    redis_prefix: str,
    redis_client: redis.Redis[bytes],
    eurusd: CandleSeries,
) -> None:
    store = open_store(redis_url, prefix=redis_prefix)

    report = verify(MAUnifiedStrategy(), eurusd, store, chunking="live", restarts=5, seed=11)

    assert report.ok, report.first_mismatch
    assert report.restarts == 5
    assert report.candles == len(eurusd)
    assert report.signals_full == report.signals_incremental > 5
    assert report.store == store.name
    password = urlsplit(redis_url).password
    assert not password or password not in report.store, "the password never shows"
    assert list(redis_client.scan_iter(match=f"{redis_prefix}*")) == [], "verify cleans up"
    store.close()
