"""`backtest.parity.verify`: chunking, restarts, the report, and what it must not miss."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from _backtest_testkit import REPORT_KEYS
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.parity import LIVE_CHUNK, Chunking, chunk_sizes, parse_chunking, verify
from framework.candles import CandleSeries
from framework.engine import run_full
from framework.errors import ParameterError
from framework.loading import load_candles
from framework.state import RedisStateStore, SignalEvent, StateRecord, StreamKey, open_store
from framework.stream import Stream, advance
from strategies.ma_unified import MAUnifiedStrategy

Outbox = list[tuple[str, SignalEvent]]


class SpyStore:
    """A state store that counts loads and commits and may rewrite what the outbox shows."""

    def __init__(
        self, store: RedisStateStore, outbox: Callable[[Outbox], Outbox] | None = None
    ) -> None:
        self._store = store
        self._outbox = outbox
        self.name = store.name
        self.loads = 0
        self.commits = 0
        self.keys: set[StreamKey] = set()

    def load(self, key: StreamKey) -> StateRecord | None:
        self.loads += 1
        self.keys.add(key)
        return self._store.load(key)

    def commit(
        self, key: StreamKey, record: StateRecord, signals: Sequence[SignalEvent] = ()
    ) -> StateRecord:
        self.commits += 1
        return self._store.commit(key, record, signals)

    def read_outbox(self, key: StreamKey, after_id: str = "0-0", count: int = 1000) -> Outbox:
        rows = self._store.read_outbox(key, after_id, count)
        return rows if self._outbox is None else self._outbox(rows)

    def delete(self, keys: Sequence[StreamKey], *, include_outbox: bool = False) -> int:
        return self._store.delete(keys, include_outbox=include_outbox)


def memory_store() -> RedisStateStore:
    return open_store("memory", prefix=f"parity-test-verify:{uuid.uuid4().hex}:")


def spied(outbox: Callable[[Outbox], Outbox] | None = None) -> Any:
    # Duck-typed: verify needs load, commit, read_outbox, delete and name.
    return SpyStore(memory_store(), outbox)


@pytest.fixture(scope="module")
def eurusd() -> CandleSeries:
    return load_candles("data/EURUSD_M15_2026.csv.gz").slice(0, 1500)


STRATEGY = MAUnifiedStrategy(fast=10, slow=40)


# --- chunking -----------------------------------------------------------------------------


@settings(deadline=None)
@given(
    st.integers(0, 2000),
    st.one_of(st.sampled_from(["live", "random"]), st.integers(1, 50)),
    st.integers(0, 2**32 - 1),
)
def test_chunk_sizes_cover_the_series_exactly_within_the_chunking_bounds(
    total: int, chunking: Chunking, seed: int
) -> None:
    sizes = chunk_sizes(total, chunking, np.random.default_rng(seed))

    assert sum(sizes) == total
    assert all(size >= 1 for size in sizes)
    if isinstance(chunking, int):
        low, high = chunking, chunking
    elif chunking == "live":
        low, high = LIVE_CHUNK
    else:
        low, high = 1, max(2, total // 20)
    assert all(low <= size <= high for size in sizes[:-1])
    assert not sizes or sizes[-1] <= high


def test_live_chunks_are_one_to_five_candles_as_in_production() -> None:
    sizes = chunk_sizes(10_000, "live", np.random.default_rng(0))

    assert set(sizes) == {1, 2, 3, 4, 5}


@pytest.mark.parametrize(("text", "expected"), [("live", "live"), ("random", "random"), ("7", 7)])
def test_chunking_is_parsed_from_its_cli_spelling(text: str, expected: Chunking) -> None:
    assert parse_chunking(text) == expected


@pytest.mark.parametrize("text", ["0", "-3", "1.5", "lives", "", " 5"])
def test_a_chunking_that_is_neither_live_random_nor_a_positive_count_is_refused(
    text: str,
) -> None:
    with pytest.raises(ParameterError, match="--chunks must be live, random or a positive integer"):
        parse_chunking(text)


# --- the incremental path it runs --------------------------------------------------------


@pytest.mark.parametrize("restarts", [0, 1, 5, 20])
def test_the_requested_restarts_happen_each_reloading_state_from_the_store(
    eurusd: CandleSeries, restarts: int
) -> None:
    store = spied()

    report = verify(STRATEGY, eurusd, store, chunking=25, restarts=restarts, seed=3)

    assert report.ok, report.first_mismatch
    assert report.chunks == 60
    assert report.restarts == restarts
    assert store.loads == 1 + restarts, "one load at the start, one per restart"
    assert store.commits == report.chunks, "every chunk is committed"


def test_restarts_are_capped_by_the_chunk_boundaries_there_are(eurusd: CandleSeries) -> None:
    store = spied()

    report = verify(STRATEGY, eurusd, store, chunking=500, restarts=10)

    assert (report.chunks, report.restarts, store.loads) == (3, 2, 3)


def test_negative_restarts_are_refused(eurusd: CandleSeries) -> None:
    with pytest.raises(ParameterError, match="--restarts must be ≥ 0, got -1"):
        verify(STRATEGY, eurusd, memory_store(), restarts=-1)


def test_the_same_seed_gives_the_same_chunks_and_restart_points(eurusd: CandleSeries) -> None:
    runs = [spied() for _ in range(3)]

    reports = [
        verify(STRATEGY, eurusd, store, chunking="random", restarts=3, seed=seed)
        for store, seed in zip(runs, [42, 42, 43], strict=True)
    ]

    assert reports[0].chunks == reports[1].chunks
    assert [spy.loads for spy in runs] == [4, 4, 4]
    assert reports[0].chunks != reports[2].chunks, "another seed, other random chunks"


def test_without_a_store_it_is_one_in_memory_pass(eurusd: CandleSeries) -> None:
    report = verify(STRATEGY, eurusd, None, chunking=3, restarts=5)

    assert report.ok
    assert (report.chunks, report.restarts, report.store) == (1, 0, "none (in memory)")


def test_it_never_touches_the_live_streams_state_and_leaves_no_keys(
    eurusd: CandleSeries,
) -> None:
    store = memory_store()
    live = Stream(MAUnifiedStrategy(fast=10, slow=40), eurusd.instrument, eurusd.timeframe)
    step = advance(live, None, list(eurusd)[:700])
    stored = store.commit(live.key, step.record, step.signals)
    outbox = store.read_outbox(live.key)
    spy = SpyStore(store)

    report = verify(STRATEGY, eurusd, spy, restarts=2)  # type: ignore[arg-type]

    assert report.ok
    assert live.key not in spy.keys
    assert store.load(live.key) == stored
    assert store.read_outbox(live.key) == outbox
    assert spy.keys and all(store.load(key) is None for key in spy.keys), "its own key is gone"


def test_a_full_run_already_computed_is_reused(eurusd: CandleSeries) -> None:
    full = run_full(STRATEGY, eurusd)

    report = verify(STRATEGY, eurusd, None, full=full)

    assert report.ok
    assert report.signals_full == len(full.signals)


@pytest.mark.parametrize("with_store", [False, True])
def test_progress_is_reported_for_every_candle(eurusd: CandleSeries, with_store: bool) -> None:
    advanced: list[int] = []

    verify(STRATEGY, eurusd, memory_store() if with_store else None, progress=advanced.append)

    assert sum(advanced) == len(eurusd)


# --- what it must catch -------------------------------------------------------------------


def test_a_signal_published_twice_is_a_divergence(eurusd: CandleSeries) -> None:
    def doubled(rows: Outbox) -> Outbox:
        return [rows[0], *rows]

    report = verify(STRATEGY, eurusd, spied(doubled))

    assert not report.ok
    assert report.mismatches == 1
    assert report.signals_incremental == report.signals_full + 1
    first = report.first_mismatch
    assert first is not None and first.series == "signal"
    assert first.incremental == f"{first.full} + {first.full}"


def test_a_lost_signal_is_a_divergence_at_its_bar(eurusd: CandleSeries) -> None:
    full = run_full(STRATEGY, eurusd)
    lost = full.signals[3]

    report = verify(STRATEGY, eurusd, spied(lambda rows: rows[:3] + rows[4:]))

    assert not report.ok
    assert report.mismatches == 1
    first = report.first_mismatch
    assert first is not None
    assert first.index == int(np.searchsorted(eurusd.time_ns, lost.time_ns))
    assert (first.series, first.incremental) == ("signal", None)
    assert first.full == f"{lost.side.value} at {lost.price!r}"


def test_a_signal_with_another_price_is_a_divergence(eurusd: CandleSeries) -> None:
    def repriced(rows: Outbox) -> Outbox:
        entry, event = rows[0]
        moved = SignalEvent(
            event.stream_id, event.bar_time_ns, event.side, event.price + 1e-5, event.reason
        )
        return [(entry, moved), *rows[1:]]

    report = verify(STRATEGY, eurusd, spied(repriced))

    assert not report.ok and report.mismatches == 1


# --- the report --------------------------------------------------------------------------


def test_the_report_has_every_field_issue_5_lists(eurusd: CandleSeries) -> None:
    report = verify(STRATEGY, eurusd, memory_store(), restarts=2)

    data = report.to_dict()

    assert set(data) >= REPORT_KEYS
    assert data["first_mismatch"] is None
    assert data["mismatches"] == 0
    assert data["candles"] == len(eurusd)
    assert data["store"] == "memory"
    assert data["seconds_full"] >= 0 and data["seconds_incremental"] > 0
    assert (data["strategy"], data["params"]) == ("ma_unified", STRATEGY.params)
    assert (data["symbol"], data["timeframe"]) == ("EURUSD", "M15")
