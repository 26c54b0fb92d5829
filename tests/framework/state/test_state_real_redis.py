"""RedisStateStore against a real redis-server (marker ``redis``; CI runs them).

``redis_url``/``redis_prefix`` use the shared server of PARITY_REDIS_URL;
``redis_server_factory`` starts a private, password-protected server a test may stop.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from _state_testkit import (
    FAST_POLICY,
    ConnectAttempts,
    RoundTrips,
    assert_a_wrong_typed_key_fails_alone,
    assert_batched_commits_publish_each_streams_own_signals,
    bar,
    signal,
    step,
    stream,
)

from framework.errors import StoreError
from framework.state import (
    Commit,
    CommitConflict,
    RedisStateStore,
    StateRecord,
    StoreUnavailable,
    open_store,
)

pytestmark = pytest.mark.redis

RACE_COMMITS_PER_WRITER = 200


@pytest.fixture
def store(redis_url: str, redis_prefix: str) -> RedisStateStore:
    return open_store(redis_url, prefix=redis_prefix, policy=FAST_POLICY)


def test_cas_and_outbox_behave_on_a_real_server(store: RedisStateStore) -> None:
    key = stream()
    first = store.commit(key, step(None, 1), [signal(key, 1)])
    second = store.commit(key, step(first, 2), [signal(key, 2, "SELL")])

    with pytest.raises(CommitConflict):
        store.commit(key, step(first, 3), [signal(key, 3)])

    assert store.load(key) == second
    assert [e for _, e in store.read_outbox(key)] == [signal(key, 1), signal(key, 2, "SELL")]


def test_two_racing_writers_lose_no_signal_and_publish_none_twice(
    redis_url: str, redis_prefix: str
) -> None:
    key = stream()
    won: list[list[int]] = [[], []]
    conflicts = [0, 0]
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        # One store per thread: a store's breaker serialises its own calls.
        own = open_store(redis_url, prefix=redis_prefix, policy=FAST_POLICY)
        try:
            while len(won[index]) < RACE_COMMITS_PER_WRITER:
                record = own.load(key)
                n = (record.bars_processed if record else 0) + 1
                try:
                    own.commit(key, step(record, n), [signal(key, n)])
                except CommitConflict:
                    conflicts[index] += 1
                    continue
                won[index].append(n)
        except BaseException as exc:  # surface thread failures in the test
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    total = 2 * RACE_COMMITS_PER_WRITER
    store = open_store(redis_url, prefix=redis_prefix)
    record = store.load(key)
    assert record is not None
    assert record.version == total == record.bars_processed
    assert sorted(won[0] + won[1]) == list(range(1, total + 1))  # each bar won exactly once
    published = [e.bar_time_ns for _, e in store.read_outbox(key, count=total + 10)]
    assert published == [bar(n) for n in range(1, total + 1)]
    print(f"race: {conflicts} conflicts retried for {total} commits")


def test_a_stopped_server_fails_fast_then_recovers_after_restart(
    redis_server_factory: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = redis_server_factory()
    store = open_store(server.url, prefix="parity:", policy=FAST_POLICY)
    key = stream()
    record = store.commit(key, step(None, 1), [signal(key, 1)])

    server.stop()
    attempts = ConnectAttempts(monkeypatch)
    for _ in range(FAST_POLICY.breaker_fail_max):
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as caught:
            store.commit(key, step(record, 2), [signal(key, 2)])
        assert time.monotonic() - started < FAST_POLICY.worst_case_s + 5
        assert server.password not in str(caught.value)
    assert store.breaker_state == "open"
    tried = attempts.count
    with pytest.raises(StoreUnavailable, match="circuit open"):
        store.load(key)
    assert attempts.count == tried

    server.start()  # no persistence: it comes back empty, scripts included
    time.sleep(FAST_POLICY.breaker_reset_s * 1.2)
    assert store.load(key) is None
    rebuilt = store.commit(key, step(step(None, 1), 2), [signal(key, 2)])

    assert store.breaker_state == "closed"
    assert rebuilt.version == 1
    assert [e for _, e in store.read_outbox(key)] == [signal(key, 2)]


def test_a_wrong_password_is_one_clear_line_without_secrets_and_no_retries(
    redis_server_factory: Callable[[], Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = redis_server_factory()
    wrong = "not-the-" + server.password
    store = open_store(f"redis://default:{wrong}@127.0.0.1:{server.port}/0", policy=FAST_POLICY)
    attempts = ConnectAttempts(monkeypatch)
    started = time.monotonic()

    with caplog.at_level(logging.DEBUG), pytest.raises(StoreError) as caught:
        store.ping()

    message = str(caught.value)
    assert message.startswith(
        f"state store authentication failed for redis://default:***@127.0.0.1:{server.port}/0"
    )
    assert not isinstance(caught.value, StoreUnavailable)
    assert "\n" not in message and wrong not in message and server.password not in message
    assert wrong not in caplog.text
    assert attempts.count == 1
    assert time.monotonic() - started < FAST_POLICY.worst_case_s + 5
    assert store.breaker_state == "closed"


def test_an_acl_user_authenticates_through_the_url(
    redis_server_factory: Callable[[], Any],
) -> None:
    server = redis_server_factory()
    admin = redis.Redis.from_url(server.url)
    admin.acl_setuser(
        "parity", enabled=True, passwords=["+user-pw-1"], keys=["*"], commands=["+@all"]
    )
    admin.close()
    good = open_store(f"redis://parity:user-pw-1@127.0.0.1:{server.port}/0", policy=FAST_POLICY)
    bad = open_store(f"redis://parity:user-pw-2@127.0.0.1:{server.port}/0", policy=FAST_POLICY)
    key = stream()

    assert good.commit(key, step(None, 1)).version == 1
    with pytest.raises(
        StoreError, match=r"authentication failed for redis://parity:\*\*\*@"
    ) as caught:
        bad.load(key)
    assert "user-pw" not in str(caught.value)


def test_a_corrupted_record_on_a_real_server_is_logged_and_rebuilt(
    store: RedisStateStore, redis_client: redis.Redis[bytes], caplog: pytest.LogCaptureFixture
) -> None:
    keys = [stream("EURUSD"), stream("GBPUSD")]
    for key in keys:
        store.commit(key, step(None, 1), [signal(key, 1)])
    redis_client.hset(store.state_key(keys[0]), "data", os.urandom(64))
    redis_client.set(store.state_key(keys[1]), os.urandom(64))  # the key itself clobbered

    with caplog.at_level(logging.WARNING, logger="parity.state"):
        loaded = store.load_many(keys)

    assert loaded == {keys[0]: None, keys[1]: None}
    lines = [r.getMessage() for r in caplog.records if r.name == "parity.state"]
    assert len(lines) == 2 and all("discarding state of" in line for line in lines)
    for key in keys:
        assert store.commit(key, step(None, 1), [signal(key, 1)]).version == 1
        assert len(store.read_outbox(key)) == 1  # bar 1 was not published twice


def test_batched_commits_with_several_signals_each_publish_to_their_own_outbox_on_a_real_server(
    redis_url: str, redis_prefix: str
) -> None:
    store = open_store(redis_url, prefix=redis_prefix, policy=FAST_POLICY, batch_size=3)
    assert_batched_commits_publish_each_streams_own_signals(store)


@pytest.mark.parametrize("which", ["state", "outbox"])
def test_a_wrong_typed_key_fails_only_its_own_commit_on_a_real_server(
    store: RedisStateStore, which: str
) -> None:
    assert_a_wrong_typed_key_fails_alone(store, which)


def test_a_thousand_streams_load_and_commit_in_one_round_trip_each(
    store: RedisStateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = [stream(f"SYM{i:04d}") for i in range(1000)]
    store.commit_many([Commit(k, step(None, 1)) for k in keys[:1]])  # loads the scripts
    store.load(keys[0])

    with RoundTrips().counting(monkeypatch) as trips:
        loaded = store.load_many(keys)
        after_load = trips.count
        results = store.commit_many(
            [Commit(k, step(loaded[k] or StateRecord(), 2), [signal(k, 2)]) for k in keys]
        )

    assert (after_load, trips.count) == (1, 2)
    assert sum(r.committed for r in results) == 1000
    assert store.stats().streams == 1000
    assert store.stats().outbox_signals == 1000
