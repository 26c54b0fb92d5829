"""Timeouts, retries, the circuit breaker and secret redaction — no Redis server needed.

An outage is emulated by fakeredis (``FakeServer.connected = False``) or by a closed
local port, where the kernel refuses connections at once.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import time

import fakeredis
import pytest
from _state_testkit import FAST_POLICY, ConnectAttempts, signal, step, stream

from framework.errors import ConfigError, StoreError
from framework.state import (
    ConnectionPolicy,
    RedisStateStore,
    StoreUnavailable,
    open_store,
    redact_url,
)

SECRET = "s3cr3t-Pa55"
# Port 1 (tcpmux) is closed on any sane host: connections are refused immediately.
REFUSED_URL = f"redis://alice:{SECRET}@127.0.0.1:1/0"


def emulated(
    policy: ConnectionPolicy = FAST_POLICY,
) -> tuple[fakeredis.FakeServer, RedisStateStore]:
    server = fakeredis.FakeServer()
    client = fakeredis.FakeRedis(server=server, **policy.client_options())
    return server, RedisStateStore(client, policy=policy, name="emulated")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"redis://:{SECRET}@127.0.0.1:6390/0", "redis://:***@127.0.0.1:6390/0"),
        (f"rediss://alice:{SECRET}@cache:6380/1", "rediss://alice:***@cache:6380/1"),
        (f"redis://{SECRET}@cache/0", "redis://***@cache/0"),
        ("redis://alice:p%40ss%3Aword@cache/0", "redis://alice:***@cache/0"),
        (
            f"unix:///run/redis.sock?db=2&password={SECRET}",
            "unix:///run/redis.sock?db=2&password=***",
        ),
        (
            f"rediss://h/0?ssl_password={SECRET}&ssl_cert_reqs=none",
            "rediss://h/0?ssl_password=***&ssl_cert_reqs=none",
        ),
        ("redis://cache:6379/0", "redis://cache:6379/0"),
    ],
)
def test_redact_url_masks_every_secret_and_keeps_the_rest(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_an_unknown_scheme_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        open_store(f"http://alice:{SECRET}@example.com")

    assert SECRET not in str(caught.value)
    assert "http://alice:***@example.com" in str(caught.value)


def test_a_malformed_url_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        open_store(f"redis://alice:{SECRET}@127.0.0.1:notaport/0")

    assert SECRET not in str(caught.value)


def test_open_store_configures_redis_py_with_the_policy() -> None:
    store = open_store(REFUSED_URL, policy=FAST_POLICY)

    options = store._client.connection_pool.connection_kwargs
    assert options["socket_connect_timeout"] == FAST_POLICY.connect_timeout_s
    assert options["socket_timeout"] == FAST_POLICY.socket_timeout_s
    assert options["retry"].get_retries() == FAST_POLICY.retries
    assert SECRET not in repr(store) and SECRET not in store.name


def test_an_unreachable_host_fails_in_one_line_after_the_configured_attempts(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    attempts = ConnectAttempts(monkeypatch)
    store = open_store(REFUSED_URL, policy=FAST_POLICY)
    started = time.monotonic()

    with caplog.at_level(logging.DEBUG), pytest.raises(StoreUnavailable) as caught:
        store.load(stream())

    elapsed = time.monotonic() - started
    message = str(caught.value)
    assert message == "state store redis://alice:***@127.0.0.1:1/0 unreachable: Connection refused"
    assert attempts.count == FAST_POLICY.retries + 1
    assert elapsed < FAST_POLICY.worst_case_s + 5  # catches redis-py's long default loop only
    assert SECRET not in caplog.text


def test_a_silent_server_times_out_after_the_configured_attempts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    policy = dataclasses.replace(FAST_POLICY, connect_timeout_s=0.2, socket_timeout_s=0.2)
    attempts = ConnectAttempts(monkeypatch)
    # A socket that listens but never reads: the kernel completes the TCP handshake,
    # then nothing ever answers — a hung server or a black-holing proxy.
    with socket.create_server(("127.0.0.1", 0), backlog=16) as silent:
        port = silent.getsockname()[1]
        store = open_store(f"redis://:{SECRET}@127.0.0.1:{port}/0", policy=policy)
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="unreachable: Timeout") as caught:
            store.ping()
        elapsed = time.monotonic() - started

    assert attempts.count == policy.retries + 1
    assert policy.socket_timeout_s * attempts.count <= elapsed < policy.worst_case_s + 5
    assert SECRET not in str(caught.value)


def test_repeated_failures_open_the_breaker_and_later_calls_fail_fast(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    attempts = ConnectAttempts(monkeypatch)
    store = open_store(REFUSED_URL, policy=FAST_POLICY)
    key = stream()

    with caplog.at_level(logging.WARNING, logger="parity.state"):
        for _ in range(FAST_POLICY.breaker_fail_max):
            with pytest.raises(StoreUnavailable):
                store.commit(key, step(None, 1), [signal(key, 1)])
    tried = attempts.count
    with pytest.raises(StoreUnavailable, match=r"circuit open, retrying in [0-9.]+ s\)$") as caught:
        store.load(key)

    assert store.breaker_state == "open"
    assert attempts.count == tried  # failing fast: no connection attempted
    assert "\n" not in str(caught.value) and SECRET not in str(caught.value)
    assert "circuit open" in caplog.text and SECRET not in caplog.text


def test_the_breaker_closes_once_the_store_answers_again() -> None:
    server, store = emulated()
    key = stream()
    first = store.commit(key, step(None, 1))
    server.connected = False
    for _ in range(FAST_POLICY.breaker_fail_max + 2):
        with pytest.raises(StoreUnavailable):
            store.load(key)
    assert store.breaker_state == "open"

    server.connected = True
    time.sleep(FAST_POLICY.breaker_reset_s * 1.2)
    second = store.commit(key, step(first, 2))

    assert store.breaker_state == "closed"
    assert second.version == 2


def test_a_failed_trial_call_reopens_the_breaker() -> None:
    server, store = emulated()
    server.connected = False
    for _ in range(FAST_POLICY.breaker_fail_max):
        with pytest.raises(StoreUnavailable):
            store.ping()

    time.sleep(FAST_POLICY.breaker_reset_s * 1.2)
    with pytest.raises(StoreUnavailable, match="circuit open"):
        store.ping()

    assert store.breaker_state == "open"


def test_a_server_error_is_a_store_error_that_does_not_open_the_breaker() -> None:
    _, store = emulated()
    key = stream()
    store._client.set(store.state_key(key), b"not a hash")

    for _ in range(FAST_POLICY.breaker_fail_max + 1):
        with pytest.raises(StoreError, match="WRONGTYPE") as caught:
            store.commit(key, step(None, 1))
        assert not isinstance(caught.value, StoreUnavailable)

    assert store.breaker_state == "closed"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("retries", -1, "retries must be ≥ 0"),
        ("connect_timeout_s", 0, "connect_timeout_s must be > 0"),
        ("breaker_fail_max", 0, "breaker_fail_max must be ≥ 1"),
        ("backoff_base_s", -0.1, "backoff_base_s must be ≥ 0"),
    ],
)
def test_a_policy_with_impossible_values_is_refused(field: str, value: float, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ConnectionPolicy(**{field: value})  # type: ignore[arg-type]


def test_the_default_backoff_grows_exponentially_up_to_its_cap() -> None:
    policy = ConnectionPolicy()

    assert [policy.backoff_s(n) for n in range(1, 6)] == [0.1, 0.2, 0.4, 0.5, 0.5]
