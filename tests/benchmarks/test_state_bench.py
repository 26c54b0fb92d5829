"""State-layer benchmarks: load + update + commit, per stream and batched for 1,000 streams.

Run: ``pytest tests/benchmarks/test_state_bench.py --benchmark-only -s``; with
PARITY_REDIS_URL set, the ``redis`` cases run against that server too.

The update step restores SMA(50) and SMA(200) from their snapshots, feeds one price
and snapshots them again (real indicators when ``framework.indicators`` is
importable, otherwise snapshot bytes of the same sizes), so a record has the size of
an MA_Unified 50/200 stream's.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import fakeredis
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from framework.state import (
    Commit,
    ConnectionPolicy,
    RedisStateStore,
    SignalEvent,
    StateRecord,
    StreamKey,
    fingerprint,
    open_store,
)

STREAMS = 1000
T0 = 1_699_833_600_000_000_000  # Monday 00:00 UTC, ns
M15_NS = 900 * 1_000_000_000
SCALE = 100_000  # EURUSD: 5 decimals


@dataclass
class Indicators:
    """Restore → update → snapshot of the two averages of MA_Unified 50/200."""

    real: bool
    update: Callable[[dict[str, bytes], int], dict[str, bytes]]
    initial: dict[str, bytes]


def _indicators() -> Indicators:
    try:
        from framework.indicators.sma import SMA
    except ImportError:  # the indicator library is not there: same-size stand-ins
        fake = {"sma_50": b"\x01" * 319, "sma_200": b"\x02" * 1070}

        def fake_update(snapshots: dict[str, bytes], price: int) -> dict[str, bytes]:
            return {
                name: price.to_bytes(8, "little") + data[8:] for name, data in snapshots.items()
            }

        return Indicators(False, fake_update, fake)

    fast, slow = SMA(50, scale=SCALE, lookback=2), SMA(200, scale=SCALE, lookback=2)
    for i in range(300):
        price = 108_000 + (i * 37) % 200
        fast.update(price)
        slow.update(price)

    def real_update(snapshots: dict[str, bytes], price: int) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for name, data in snapshots.items():
            indicator = SMA.restore(data)
            indicator.update(price)
            out[name] = indicator.snapshot()
        return out

    return Indicators(True, real_update, {"sma_50": fast.snapshot(), "sma_200": slow.snapshot()})


INDICATORS = _indicators()
KEYS = [
    StreamKey(
        "ma_unified",
        fingerprint("ma_unified", {"fast": 50, "slow": 200, "kind": "sma", "price": "close"}),
        f"SYM{i:04d}",
        "M15",
    )
    for i in range(STREAMS)
]


def _initial(key: StreamKey) -> StateRecord:
    return StateRecord(
        snapshots=INDICATORS.initial,
        watermark_ns=T0,
        last_candle_hash=b"\x00" * 16,
        bars_processed=300,
        last_signal=SignalEvent(
            key.id, T0 - 40 * M15_NS, "BUY", 1.08715, "fast crossed above slow"
        ),
    )


def _advance(record: StateRecord | None, key: StreamKey) -> StateRecord:
    base = record or _initial(key)
    n = base.bars_processed + 1
    return replace(
        base,
        snapshots=INDICATORS.update(base.snapshots, 108_000 + n % 200),
        watermark_ns=(base.watermark_ns or T0) + M15_NS,
        last_candle_hash=n.to_bytes(16, "little"),
        bars_processed=n,
    )


@pytest.fixture(params=["fakeredis", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest) -> Iterator[RedisStateStore]:
    prefix = f"parity-bench:{uuid.uuid4().hex}:"
    if request.param == "redis":
        url = os.environ.get("PARITY_REDIS_URL", "").strip()
        if not url:
            pytest.skip("set PARITY_REDIS_URL to benchmark against a real Redis")
        opened = open_store(url, prefix=prefix, policy=ConnectionPolicy())
    else:
        opened = RedisStateStore(fakeredis.FakeRedis(server=fakeredis.FakeServer()), prefix=prefix)
    opened.commit_many([Commit(key, _initial(key)) for key in KEYS])
    try:
        yield opened
    finally:
        opened.invalidate(include_outbox=True)
        opened.close()


def test_record_size_of_ma_unified_50_200(benchmark: BenchmarkFixture) -> None:
    record = _initial(KEYS[0])

    data = benchmark(record.encode)

    benchmark.extra_info.update(
        record_bytes=len(data),
        snapshot_bytes={k: len(v) for k, v in record.snapshots.items()},
        real_indicators=INDICATORS.real,
    )
    print(
        f"\nrecord: {len(data)} B ({benchmark.extra_info['snapshot_bytes']}, "
        f"real indicators: {INDICATORS.real})"
    )
    assert StateRecord.decode(data) == record


def test_cycle_of_one_stream(benchmark: BenchmarkFixture, store: RedisStateStore) -> None:
    key = KEYS[0]

    def cycle() -> None:
        store.commit(key, _advance(store.load(key), key))

    benchmark(cycle)


def test_cycle_of_1000_streams_one_at_a_time(
    benchmark: BenchmarkFixture, store: RedisStateStore
) -> None:
    def cycle() -> None:
        for key in KEYS:
            store.commit(key, _advance(store.load(key), key))

    benchmark.pedantic(  # type: ignore[no-untyped-call]
        cycle, rounds=5, warmup_rounds=1
    )


def test_cycle_of_1000_streams_batched(benchmark: BenchmarkFixture, store: RedisStateStore) -> None:
    def cycle() -> None:
        loaded = store.load_many(KEYS)
        results = store.commit_many([Commit(k, _advance(loaded[k], k)) for k in KEYS])
        if not all(r.committed for r in results):
            raise RuntimeError("a benchmark commit conflicted")

    benchmark.pedantic(  # type: ignore[no-untyped-call]
        cycle, rounds=10, warmup_rounds=1
    )


def test_load_and_commit_of_1000_streams_batched_without_the_update(
    benchmark: BenchmarkFixture, store: RedisStateStore
) -> None:
    # The store's own share: the same cycle with the indicator update replaced by a
    # watermark bump, so the numbers separate I/O and encoding from indicator work.
    def cycle() -> None:
        loaded = store.load_many(KEYS)
        store.commit_many(
            [
                Commit(k, replace(r, watermark_ns=(r.watermark_ns or 0) + M15_NS))
                for k, r in loaded.items()
                if r is not None
            ]
        )

    benchmark.pedantic(  # type: ignore[no-untyped-call]
        cycle, rounds=10, warmup_rounds=1
    )
