"""Shared helpers of the state-layer tests: stores, policies, records, a round-trip spy."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import fakeredis
import pytest
import redis.connection

from framework.errors import StoreError
from framework.state import (
    Commit,
    ConnectionPolicy,
    RedisStateStore,
    SignalEvent,
    StateRecord,
    StreamKey,
    fingerprint,
)

#: Fails fast and never sleeps: what tests inject instead of the production defaults.
FAST_POLICY = ConnectionPolicy(
    connect_timeout_s=0.5,
    socket_timeout_s=0.5,
    retries=2,
    backoff_base_s=0.0,
    backoff_cap_s=0.0,
    breaker_fail_max=3,
    breaker_reset_s=0.3,
)
#: A Monday 00:00 UTC in ns, aligned with every timeframe.
T0 = 1_699_833_600_000_000_000
M15_NS = 900 * 1_000_000_000


def stream(symbol: str = "EURUSD", **params: object) -> StreamKey:
    """A stream key of ``ma_unified`` on ``symbol``/M15 with ``params``."""
    params = {"fast": 50, "slow": 200, "kind": "sma", **params}
    return StreamKey("ma_unified", fingerprint("ma_unified", params), symbol, "M15")


def bar(n: int) -> int:
    """Open time in ns of the ``n``-th M15 bar after `T0`."""
    return T0 + n * M15_NS


def signal(key: StreamKey, n: int, side: str = "BUY") -> SignalEvent:
    """A signal of ``key`` at bar ``n``."""
    return SignalEvent(key.id, bar(n), side, 1.0 + n / 10_000, f"bar {n}")  # type: ignore[arg-type]


def step(record: StateRecord | None, n: int) -> StateRecord:
    """The record after processing bar ``n`` (a stand-in for real indicator updates)."""
    base = record or StateRecord()
    return dataclasses.replace(
        base,
        snapshots={"sma_50": n.to_bytes(8, "little") * 32, "sma_200": b"\x02" * 1024},
        watermark_ns=bar(n),
        last_candle_hash=n.to_bytes(16, "little"),
        bars_processed=base.bars_processed + 1,
    )


def memory_store(**kwargs: object) -> RedisStateStore:
    """A store on a private fakeredis server (unlike ``open_store("memory")``)."""
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    return RedisStateStore(client, policy=FAST_POLICY, **kwargs)  # type: ignore[arg-type]


def assert_a_wrong_typed_key_fails_alone(store: RedisStateStore, which: str) -> None:
    """A batch where one stream's ``which`` key ("state" or "outbox") is a plain string.

    That stream's commit fails with one clear error and writes nothing; the streams
    around it in the same script call commit, and no exception stops the batch.
    """
    keys = [stream(f"SYM{i}") for i in range(5)]
    bad = keys[2]
    clobbered = store.state_key(bad) if which == "state" else store.outbox_key(bad)
    store._client.set(clobbered, b"not a " + which.encode())

    results = store.commit_many([Commit(k, step(None, 1), [signal(k, 1)]) for k in keys])

    assert [r.committed for r in results] == [True, True, False, True, True]
    assert [r.error is None for r in results] == [True, True, False, True, True]
    assert re.fullmatch(
        rf"state store .+: commit of {bad.id} failed: WRONGTYPE.+", results[2].error
    )
    with pytest.raises(StoreError, match=rf"commit of {bad.id} failed: WRONGTYPE"):
        results[2].unwrap()
    assert store._client.get(clobbered) == b"not a " + which.encode()
    other = store.outbox_key(bad) if which == "state" else store.state_key(bad)
    assert store._client.exists(other) == 0
    assert [store.load(k) is not None for k in keys if k != bad] == [True] * 4
    assert store.load(bad) is None  # and a wrong-typed state key is discarded, to rebuild
    assert store._client.exists(clobbered) == (which == "outbox")


def assert_batched_commits_publish_each_streams_own_signals(store: RedisStateStore) -> None:
    """Commits with 0–3 signals each, in script calls of 3 streams, land where they belong.

    The commit script walks one flat argument list; a stream with several signals
    followed by another stream is where an off-by-one would mix them up.
    """
    keys = [stream(f"SYM{i}") for i in range(7)]
    counts = [2, 0, 3, 1, 0, 3, 2]
    sides = ("BUY", "SELL", "BUY")
    commits = [
        Commit(k, step(None, n + 1), [signal(k, j + 1, sides[j]) for j in range(n)])
        for k, n in zip(keys, counts, strict=True)
    ]

    results = store.commit_many(commits)

    assert [r.record.version if r.record else None for r in results] == [1] * len(keys)
    for key, commit in zip(keys, commits, strict=True):
        assert [event for _, event in store.read_outbox(key)] == list(commit.signals)
        assert store.load(key) == commit.record.with_version(1, commit.write_id)


def unique_prefix() -> str:
    return f"parity-test:{uuid.uuid4().hex}:"


class RoundTrips:
    """Counts requests written to any redis-py connection (one per command or pipeline)."""

    def __init__(self) -> None:
        self.count = 0

    @contextmanager
    def counting(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[RoundTrips]:
        original = redis.connection.AbstractConnection.send_packed_command

        def spy(conn: redis.connection.AbstractConnection, *args: object, **kw: object) -> None:
            self.count += 1
            original(conn, *args, **kw)  # type: ignore[arg-type]

        with monkeypatch.context() as patch:
            patch.setattr(redis.connection.AbstractConnection, "send_packed_command", spy)
            yield self


class ConnectAttempts:
    """Counts TCP connection attempts of redis-py (each retry is one attempt)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        # _connect is private and absent from the type stubs; it is the one place
        # every TCP attempt (first try and retries) goes through.
        original = redis.connection.Connection._connect  # type: ignore[attr-defined]

        def spy(conn: redis.connection.Connection) -> object:
            self.count += 1
            return original(conn)

        monkeypatch.setattr(redis.connection.Connection, "_connect", spy)
