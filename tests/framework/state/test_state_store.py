"""RedisStateStore on fakeredis (the embedded default): CAS, outbox, batches, bad records."""

from __future__ import annotations

import dataclasses
import logging
import threading

import msgpack
import pytest
from _state_testkit import (
    RoundTrips,
    assert_a_wrong_typed_key_fails_alone,
    assert_batched_commits_publish_each_streams_own_signals,
    memory_store,
    signal,
    step,
    stream,
    unique_prefix,
)
from redis.crc import key_slot

from framework.errors import ConfigError, ParameterError
from framework.state import (
    SCHEMA_VERSION,
    Commit,
    CommitConflict,
    RedisStateStore,
    StateRecord,
    StoreStats,
    open_store,
)


@pytest.fixture
def store() -> RedisStateStore:
    return memory_store()


def test_a_new_stream_commits_version_1_and_publishes_its_signal(store: RedisStateStore) -> None:
    key = stream()

    stored = store.commit(key, step(None, 1), [signal(key, 1)])

    assert stored.version == 1
    assert store.load(key) == stored
    assert [event for _, event in store.read_outbox(key)] == [signal(key, 1)]


def test_a_stale_commit_conflicts_and_writes_nothing(store: RedisStateStore) -> None:
    key = stream()
    first = store.commit(key, step(None, 1), [signal(key, 1)])
    second = store.commit(key, step(first, 2), [signal(key, 2)])

    with pytest.raises(CommitConflict, match="expected version 1, store has 2") as caught:
        store.commit(key, step(first, 3), [signal(key, 3, "SELL")])

    assert (caught.value.expected, caught.value.found) == (1, 2)
    assert store.load(key) == second
    assert [e for _, e in store.read_outbox(key)] == [signal(key, 1), signal(key, 2)]


def test_a_creator_that_lost_the_race_for_a_new_stream_conflicts(store: RedisStateStore) -> None:
    key = stream()
    store.commit(key, step(None, 1))

    with pytest.raises(CommitConflict):
        store.commit(key, step(None, 2))


def test_a_commit_replayed_after_it_landed_conflicts_and_publishes_nothing(
    store: RedisStateStore,
) -> None:
    # redis-py resends a command whose reply was lost; the script may already have run.
    key = stream()
    record = step(None, 1)
    store.commit(key, record, [signal(key, 1)])

    with pytest.raises(CommitConflict):
        store.commit(key, record, [signal(key, 1)])

    reloaded = store.load(key)
    assert reloaded is not None and reloaded.watermark_ns == record.watermark_ns
    assert len(store.read_outbox(key)) == 1


def test_a_signal_for_a_bar_already_in_the_outbox_is_not_published_again(
    store: RedisStateStore, caplog: pytest.LogCaptureFixture
) -> None:
    key = stream()
    first = store.commit(key, step(None, 5), [signal(key, 5)])

    with caplog.at_level(logging.INFO, logger="parity.state"):
        result = store.commit_many(
            [Commit(key, step(first, 6), [signal(key, 4), signal(key, 5), signal(key, 6)])]
        )[0]

    assert result.committed
    assert result.skipped == (signal(key, 4), signal(key, 5))
    assert [e for _, e in store.read_outbox(key)] == [signal(key, 5), signal(key, 6)]
    assert "not published again" in caplog.text


def test_signals_of_one_commit_are_published_in_bar_order(store: RedisStateStore) -> None:
    key = stream()

    store.commit(key, step(None, 3), [signal(key, 3), signal(key, 1), signal(key, 2)])

    assert [e for _, e in store.read_outbox(key)] == [signal(key, n) for n in (1, 2, 3)]


def test_a_commit_refuses_signals_of_another_stream_or_two_for_one_bar() -> None:
    key, other = stream(), stream("GBPUSD")

    with pytest.raises(ParameterError, match="committed to"):
        Commit(key, step(None, 1), [signal(other, 1)])
    with pytest.raises(ParameterError, match="two signals for bar"):
        Commit(key, step(None, 1), [signal(key, 1), signal(key, 1, "SELL")])


def test_read_outbox_pages_after_an_entry_id(store: RedisStateStore) -> None:
    key = stream()
    store.commit(key, step(None, 4), [signal(key, n) for n in range(1, 5)])

    first_page = store.read_outbox(key, count=2)
    second_page = store.read_outbox(key, after_id=first_page[-1][0], count=2)

    assert [e for _, e in first_page + second_page] == [signal(key, n) for n in range(1, 5)]
    assert store.read_outbox(key, after_id=second_page[-1][0]) == []


def test_load_many_returns_none_for_missing_streams_in_one_round_trip(
    store: RedisStateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = [stream(f"SYM{i}") for i in range(50)]
    store.commit(keys[7], step(None, 1))
    store.load(keys[0])  # connects and loads the read script: not part of the measurement

    with RoundTrips().counting(monkeypatch) as trips:
        loaded = store.load_many(keys)

    assert trips.count == 1
    assert [k for k, r in loaded.items() if r is not None] == [keys[7]]
    assert store.load_many([]) == {}


def test_a_held_record_still_current_is_returned_without_reading_its_bytes(
    store: RedisStateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = [stream(f"SYM{i}") for i in range(4)]
    held = {k: store.commit(k, step(None, 1)) for k in keys}
    store.load(keys[0])  # loads the read script: not part of the measurement

    with RoundTrips().counting(monkeypatch) as trips:
        loaded = store.load_many(keys, held=held)

    assert trips.count == 1
    assert all(loaded[k] is held[k] for k in keys)


def test_held_records_that_changed_or_vanished_are_read_again(store: RedisStateStore) -> None:
    current, advanced, deleted, clobbered, recreated = keys = [stream(f"SYM{i}") for i in range(5)]
    held = {k: store.commit(k, step(None, 1)) for k in keys}
    newer = store.commit(advanced, step(held[advanced], 2))  # another writer's commit
    store.delete([deleted, recreated])
    # Deleted and written again by another writer: the same version, another record.
    successor = store.commit(recreated, step(None, 7))
    assert successor.version == held[recreated].version
    store._client.delete(store.state_key(clobbered))
    store._client.set(store.state_key(clobbered), b"not a hash")

    loaded = store.load_many(keys, held=held)

    assert loaded[current] is held[current]
    assert loaded[advanced] == newer and loaded[advanced] is not held[advanced]
    assert loaded[deleted] is None and loaded[clobbered] is None
    assert loaded[recreated] == successor and loaded[recreated] != held[recreated]
    assert store._client.exists(store.state_key(clobbered)) == 0  # discarded, to rebuild


@pytest.mark.parametrize("batch_size", [1, 7, 100, 1000])
def test_commit_many_commits_each_stream_on_its_own_in_one_round_trip(
    batch_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = memory_store(batch_size=batch_size)
    keys = [stream(f"SYM{i}") for i in range(100)]
    stale = store.commit(keys[3], step(None, 1))
    store.commit(keys[3], step(stale, 2))
    commits = [Commit(k, step(stale if k == keys[3] else None, 3), [signal(k, 3)]) for k in keys]

    with RoundTrips().counting(monkeypatch) as trips:
        results = store.commit_many(commits)

    assert trips.count == 1
    assert [r.key for r in results if not r.committed] == [keys[3]]
    assert all(r.record is not None and r.record.version == 1 for r in results if r.key != keys[3])
    with pytest.raises(CommitConflict):
        results[3].unwrap()
    assert store.read_outbox(keys[3]) == []


def test_batched_commits_with_several_signals_each_publish_to_their_own_outbox() -> None:
    assert_batched_commits_publish_each_streams_own_signals(memory_store(batch_size=3))


@pytest.mark.parametrize("which", ["state", "outbox"])
def test_a_wrong_typed_key_fails_its_own_commit_and_leaves_it_unwritten(
    store: RedisStateStore, which: str
) -> None:
    assert_a_wrong_typed_key_fails_alone(store, which)


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(ConfigError, match="batch_size must be ≥ 1, got 0"):
        memory_store(batch_size=0)


def test_a_corrupted_record_is_logged_discarded_and_can_be_rebuilt(
    store: RedisStateStore, caplog: pytest.LogCaptureFixture
) -> None:
    key = stream()
    store.commit(key, step(None, 1), [signal(key, 1)])
    store._client.hset(store.state_key(key), "data", b"\xc1\x00 not msgpack \xff")

    with caplog.at_level(logging.WARNING, logger="parity.state"):
        loaded = store.load(key)

    assert loaded is None
    [line] = [r.getMessage() for r in caplog.records if r.name == "parity.state"]
    assert key.id in line and "undecodable" in line and "\n" not in line
    rebuilt = store.commit(key, step(None, 1), [signal(key, 1)])
    assert rebuilt.version == 1
    assert len(store.read_outbox(key)) == 1  # the outbox kept its memory of bar 1


def test_a_record_of_an_unknown_schema_version_is_discarded(
    store: RedisStateStore, caplog: pytest.LogCaptureFixture
) -> None:
    key = stream()
    store.commit(key, step(None, 1))
    future = msgpack.packb([SCHEMA_VERSION + 1, "a layout from the future"])
    store._client.hset(store.state_key(key), "data", future)

    with caplog.at_level(logging.WARNING, logger="parity.state"):
        assert store.load(key) is None

    assert f"unknown state schema version {SCHEMA_VERSION + 1}" in caplog.text
    assert store.commit(key, step(None, 2)).version == 1


def test_a_key_of_the_wrong_type_is_discarded(store: RedisStateStore) -> None:
    key = stream()
    store._client.set(store.state_key(key), b"random bytes where a hash should be")

    assert store.load(key) is None
    assert store.commit(key, step(None, 1)).version == 1


def test_a_discard_spares_a_record_repaired_meanwhile(store: RedisStateStore) -> None:
    key = stream()
    store.commit(key, step(None, 1))
    store._client.hset(store.state_key(key), "data", b"\xc1")
    repaired = store.commit(key, step(StateRecord(version=1), 2))

    store._discard([(key, "1", "stale observation")])

    assert store.load(key) == repaired


def test_scripts_flushed_from_the_server_are_loaded_again(store: RedisStateStore) -> None:
    key = stream()
    first = store.commit(key, step(None, 1))
    store._client.script_flush()

    assert store.commit(key, step(first, 2)).version == 2


def test_delete_keeps_the_outbox_unless_asked(store: RedisStateStore) -> None:
    key = stream()
    store.commit(key, step(None, 1), [signal(key, 1)])

    assert store.delete([key]) == 1
    assert store.load(key) is None
    assert len(store.read_outbox(key)) == 1
    assert store.delete([key], include_outbox=True) == 0
    assert store.read_outbox(key) == []


def test_invalidating_outboxes_also_removes_those_whose_record_is_gone(
    store: RedisStateStore,
) -> None:
    orphan, kept = stream("EURUSD"), stream("GBPUSD")
    for key in (orphan, kept):
        store.commit(key, step(None, 1), [signal(key, 1)])
    store.delete([orphan])  # its outbox stays, as delete keeps outboxes by default

    deleted = store.invalidate(symbol="EURUSD", include_outbox=True)

    assert deleted == 0  # records deleted: the orphan had none left
    assert store._client.exists(store.outbox_key(orphan)) == 0
    assert store.load(kept) is not None and len(store.read_outbox(kept)) == 1


def test_invalidate_deletes_the_matching_streams_only(store: RedisStateStore) -> None:
    eur, gbp, eur_fast = stream("EURUSD"), stream("GBPUSD"), stream("EURUSD", fast=20)
    for key in (eur, gbp, eur_fast):
        store.commit(key, step(None, 1), [signal(key, 1)])

    assert store.invalidate(symbol="EURUSD") == 2

    assert store.streams() == [gbp]
    assert store.load(gbp) is not None


def test_stats_count_streams_record_bytes_and_queued_signals(store: RedisStateStore) -> None:
    keys = [stream("EURUSD"), stream("GBPUSD")]
    sizes = 0
    for key in keys:
        record = step(None, 1)
        sizes += len(record.encode())
        store.commit(key, record, [signal(key, 1), signal(key, 2)])
    store._client.set(f"{store.prefix}unrelated", b"x")

    assert store.stats() == StoreStats(streams=2, record_bytes=sizes, outbox_signals=4)


def test_two_memory_stores_of_one_process_share_their_data() -> None:
    prefix = unique_prefix()
    key = stream()
    writer, reader = open_store("memory", prefix=prefix), open_store(None, prefix=prefix)

    stored = writer.commit(key, step(None, 1))

    assert reader.load(key) == stored
    assert open_store("memory", prefix=unique_prefix()).load(key) is None


def test_a_prefix_with_braces_or_a_decoding_client_is_refused() -> None:
    import fakeredis

    with pytest.raises(ConfigError, match="braces"):
        RedisStateStore(fakeredis.FakeRedis(), prefix="{parity}:")
    with pytest.raises(ConfigError, match="decode_responses"):
        RedisStateStore(fakeredis.FakeRedis(decode_responses=True))


def test_the_memory_store_is_healthy_and_its_breaker_closed() -> None:
    store = open_store("memory", prefix=unique_prefix())

    store.ping()

    assert store.breaker_state == "closed"
    assert repr(store).startswith("RedisStateStore('memory', prefix='parity-test:")


def test_racing_writers_on_fakeredis_lose_no_signal_and_double_none() -> None:
    prefix, key, per_writer = unique_prefix(), stream(), 50
    won: list[list[int]] = [[], []]

    def writer(index: int) -> None:
        own = open_store("memory", prefix=prefix)
        done = 0
        while done < per_writer:
            record = own.load(key)
            n = (record.bars_processed if record else 0) + 1
            try:
                own.commit(key, step(record, n), [signal(key, n)])
            except CommitConflict:
                continue
            won[index].append(n)
            done += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    store = open_store("memory", prefix=prefix)
    record = store.load(key)
    assert record is not None and record.version == 2 * per_writer
    assert sorted(won[0] + won[1]) == list(range(1, 2 * per_writer + 1))
    assert [e.bar_time_ns for _, e in store.read_outbox(key)] == [
        signal(key, n).bar_time_ns for n in range(1, 2 * per_writer + 1)
    ]


def test_commit_returns_a_new_record_and_leaves_the_callers_untouched(
    store: RedisStateStore,
) -> None:
    key = stream()
    record = step(None, 1)
    before = dataclasses.replace(record)

    stored = store.commit(key, record)

    assert record == before and record.version == 0
    assert stored is not record


def test_both_keys_of_a_stream_hash_to_one_cluster_slot(store: RedisStateStore) -> None:
    keys = [stream(f"SYM{i}", fast=i) for i in range(200)]

    slots = [key_slot(store.state_key(k).encode()) for k in keys]

    assert slots == [key_slot(store.outbox_key(k).encode()) for k in keys]
    assert len(set(slots)) > 150  # streams still spread over the cluster
