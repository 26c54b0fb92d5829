"""Two writers, batched commits, deletes and held loads against a plain model of the store.

The model is what the state layer promises: a commit lands if and only if it expected
the stored version; a landed commit stores its record and appends exactly the signals
after the outbox's last bar; a held record comes back as the same object only while it
is the stored write. Every step is checked against it, on fakeredis and on a real
redis-server (the Lua scripts run for real there).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _state_testkit import FAST_POLICY, memory_store, signal, step, stream
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from framework.state import Commit, RedisStateStore, StateRecord, StreamKey, open_store

KEYS = [stream(f"SYM{i}") for i in range(3)]
WRITERS = st.integers(0, 1)


class TwoWriters(RuleBasedStateMachine):
    """Writers 0 and 1 share a store; each keeps the records it last loaded or committed."""

    def __init__(self, open_empty_store: Callable[[], RedisStateStore]) -> None:
        super().__init__()
        self.store = open_empty_store()
        self.held: list[dict[StreamKey, StateRecord]] = [{}, {}]
        self.stored: dict[StreamKey, StateRecord] = {}
        self.outbox: dict[StreamKey, list[int]] = {key: [] for key in KEYS}
        self.bars = 0  # every record and signal gets bars of its own

    @rule(writer=WRITERS, data=st.data())
    def commit_a_batch(self, writer: int, data: st.DataObject) -> None:
        keys = data.draw(st.lists(st.sampled_from(KEYS), min_size=1, unique=True), label="keys")
        commits = []
        for key in keys:
            self.bars += 4
            base = self.held[writer].get(key)
            # Signal bars at or below the outbox's last are published already: skipped.
            bars = data.draw(st.sets(st.integers(1, self.bars), max_size=3), label="signals")
            commits.append(
                Commit(key, step(base, self.bars), [signal(key, n) for n in sorted(bars)])
            )

        results = self.store.commit_many(commits)

        for commit, result in zip(commits, results, strict=True):
            key = commit.key
            found = self.stored[key].version if key in self.stored else 0
            assert result.error is None
            assert result.committed == (commit.record.version == found)
            if not result.committed:
                assert result.found_version == found
                continue
            self.stored[key] = commit.record.with_version(found + 1, commit.write_id)
            self.held[writer][key] = self.stored[key]
            last = self.outbox[key][-1] if self.outbox[key] else -1
            fresh = [s.bar_time_ns for s in commit.signals if s.bar_time_ns > last]
            assert [s.bar_time_ns for s in result.skipped] == [
                s.bar_time_ns for s in commit.signals if s.bar_time_ns <= last
            ]
            self.outbox[key] += fresh
            assert result.record == self.stored[key]

    @rule(writer=WRITERS, use_held=st.booleans())
    def load(self, writer: int, use_held: bool) -> None:
        held = self.held[writer] if use_held else None
        loaded = self.store.load_many(KEYS, held=held)

        for key in KEYS:
            assert loaded[key] == self.stored.get(key)
            mine = self.held[writer].get(key)
            if use_held and mine is not None:
                still_stored = key in self.stored and self.stored[key].write_id == mine.write_id
                assert (loaded[key] is mine) == still_stored
        self.held[writer] = {key: record for key, record in loaded.items() if record}

    @rule(key=st.sampled_from(KEYS), include_outbox=st.booleans())
    def delete(self, key: StreamKey, include_outbox: bool) -> None:
        self.store.delete([key], include_outbox=include_outbox)
        self.stored.pop(key, None)
        if include_outbox:
            self.outbox[key] = []

    @invariant()
    def the_store_holds_the_models_records_and_outboxes(self) -> None:
        for key in KEYS:
            assert self.store.load(key) == self.stored.get(key)
            entries = self.store.read_outbox(key, count=10**4)
            assert [event.bar_time_ns for _, event in entries] == self.outbox[key]


def test_batched_commits_of_two_writers_behave_as_the_model() -> None:
    run_state_machine_as_test(
        lambda: TwoWriters(lambda: memory_store(batch_size=2)),
        settings=settings(stateful_step_count=30),
    )


@pytest.mark.redis
def test_batched_commits_of_two_writers_behave_as_the_model_on_a_real_server(
    redis_url: str, redis_prefix: str
) -> None:
    def open_empty_store() -> RedisStateStore:
        store = open_store(redis_url, prefix=redis_prefix, policy=FAST_POLICY, batch_size=2)
        store.invalidate(include_outbox=True)
        return store

    run_state_machine_as_test(
        lambda: TwoWriters(open_empty_store),
        settings=settings(stateful_step_count=30, max_examples=50),
    )
