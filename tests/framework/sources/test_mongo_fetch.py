"""Batched incremental reads, fingerprints and concurrent imports on the real wire server.

The server is FerretDB on SQLite: every filtered query scans the collection, so each
test stores a few hundred bars in a database of its own (``mongo_db``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pymongo
import pymongo.collection
import pymongo.database
import pytest
from _candles_testkit import assert_same_bars

from framework.candles import CandleSeries
from framework.errors import DataError, SourceError
from framework.loading import load_candles
from framework.sources import SeriesCandleSource
from framework.sources._queries import MAX_OR_CLAUSES
from framework.sources.mongo import ImportResult, MongoCandleSource, MongoPolicy
from framework.timeframes import Timeframe

if TYPE_CHECKING:
    from conftest import MongoServer

Database = pymongo.database.Database[dict[str, Any]]
Collection = pymongo.collection.Collection[dict[str, Any]]

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "US30")
BARS = 120
M15 = Timeframe.M15
BAR_NS = M15.nanoseconds
QUICK = MongoPolicy(server_selection_timeout_s=0.5, connect_timeout_s=0.5, socket_timeout_s=5.0)


@pytest.fixture(scope="module")
def histories() -> dict[str, CandleSeries]:
    return {s: load_candles(f"data/{s}_M15_2026.csv.gz").slice(0, BARS) for s in SYMBOLS}


@pytest.fixture
def source(
    mongo_uri: str, mongo_db: Database, histories: dict[str, CandleSeries]
) -> Iterator[MongoCandleSource]:
    """A source holding the first BARS bars of the five bundled 2026 datasets."""
    candles = MongoCandleSource(mongo_uri, database=mongo_db.name, policy=QUICK)
    candles.ensure_index()
    for series in histories.values():
        candles.import_series(series)
    try:
        yield candles
    finally:
        candles.close()


def overwrite(candles: Collection, series: CandleSeries, index: int, **fields: object) -> None:
    """Set ``fields`` of bar ``index`` of ``series`` in the stored documents, behind the source."""
    moment = series.times()[index].to_pydatetime()
    candles.update_one({"symbol": series.symbol, "time": moment}, {"$set": fields})


def after(series: CandleSeries, watermark_ns: int | None, now_ns: int) -> CandleSeries:
    """What fetch_new must return: closed bars strictly after the watermark."""
    start = 0 if watermark_ns is None else np.searchsorted(series.time_ns, watermark_ns, "right")
    end = np.searchsorted(series.time_ns + BAR_NS, now_ns, "right")
    return series.slice(int(start), int(end))


# --- fetch_new -----------------------------------------------------------------------------


def test_five_streams_with_five_watermarks_get_exactly_their_closed_bars_in_one_query(
    source: MongoCandleSource, histories: dict[str, CandleSeries]
) -> None:
    # More distinct watermarks than $or clauses: neighbours share a clause and the
    # extra bars are filtered out client-side.
    assert len(SYMBOLS) > MAX_OR_CLAUSES
    marks = {s: int(histories[s].time_ns[10 + 17 * i]) for i, s in enumerate(SYMBOLS)}
    marks["GBPUSD"] -= 1  # between bars: the bar at the watermark itself is included
    # Halfway through EURUSD's bar 110: that bar is forming and must not be served.
    now_ns = int(histories["EURUSD"].time_ns[110]) + BAR_NS // 2
    before = source.queries

    fetched = source.fetch_new([(s, M15, marks[s]) for s in SYMBOLS], now_ns=now_ns)

    assert source.queries == before + 1
    assert sorted(fetched) == sorted((s, M15) for s in SYMBOLS)
    for symbol, series in histories.items():
        expected = after(series, marks[symbol], now_ns)
        assert len(expected) > 0, symbol
        assert_same_bars(fetched[symbol, M15], expected)
        assert int(fetched[symbol, M15].time_ns[-1]) + BAR_NS <= now_ns
    assert int(fetched["EURUSD", M15].time_ns[-1]) == int(histories["EURUSD"].time_ns[109])
    assert int(fetched["GBPUSD", M15].time_ns[0]) == marks["GBPUSD"] + 1


def test_a_steady_cycle_gets_one_new_bar_per_stream_in_one_query(
    source: MongoCandleSource, histories: dict[str, CandleSeries]
) -> None:
    # Every stream has processed up to the same bar time, as in a live cycle (the
    # three FX datasets overlap in time; gold and the index start on other days).
    fx = ("EURUSD", "GBPUSD", "USDJPY")
    common = sorted(set.intersection(*(set(histories[s].time_ns.tolist()) for s in fx)))
    watermark, following = common[-3], common[-2]
    now_ns = following + BAR_NS
    before = source.queries

    fetched = source.fetch_new([(s, M15, watermark) for s in fx], now_ns=now_ns)

    assert source.queries == before + 1
    for symbol in fx:
        assert_same_bars(
            fetched[symbol, M15],
            histories[symbol].between(
                pd.Timestamp(following, tz="UTC"), pd.Timestamp(following, tz="UTC")
            ),
        )
        assert len(fetched[symbol, M15]) == 1


def test_a_stream_requested_twice_gets_the_bars_after_its_lower_watermark(
    source: MongoCandleSource, histories: dict[str, CandleSeries]
) -> None:
    series = histories["USDJPY"]
    now_ns = int(series.time_ns[-1]) + BAR_NS
    low, high = int(series.time_ns[40]), int(series.time_ns[90])

    fetched = source.fetch_new([("USDJPY", M15, high), ("USDJPY", M15, low)], now_ns=now_ns)

    assert_same_bars(fetched["USDJPY", M15], series.slice(41))


def test_a_bad_document_after_the_watermark_is_a_data_error_and_one_before_is_not_read(
    source: MongoCandleSource, mongo_db: Database, histories: dict[str, CandleSeries]
) -> None:
    series = histories["XAUUSD"]
    overwrite(mongo_db["candles"], series, 50, high=1.0)
    now_ns = int(series.time_ns[-1]) + BAR_NS

    fetched = source.fetch_new([("XAUUSD", M15, int(series.time_ns[60]))], now_ns=now_ns)
    with pytest.raises(
        DataError, match=r"XAUUSD M15: document time .*: high < max\(open, close\)$"
    ):
        source.fetch_new([("XAUUSD", M15, int(series.time_ns[40]))], now_ns=now_ns)

    assert_same_bars(fetched["XAUUSD", M15], series.slice(61))


def test_with_an_errors_dict_a_bad_stream_is_set_aside_and_the_others_are_served(
    source: MongoCandleSource, mongo_db: Database, histories: dict[str, CandleSeries]
) -> None:
    overwrite(mongo_db["candles"], histories["XAUUSD"], 50, low="?")
    now_ns = int(histories["EURUSD"].time_ns[-1]) + BAR_NS
    errors: dict[tuple[str, Timeframe], DataError] = {}

    fetched = source.fetch_new(
        [("XAUUSD", M15, None), ("EURUSD", M15, None)], now_ns=now_ns, errors=errors
    )

    assert list(fetched) == [("EURUSD", M15)]
    assert_same_bars(fetched["EURUSD", M15], histories["EURUSD"])
    assert list(errors) == [("XAUUSD", M15)]
    assert str(errors["XAUUSD", M15]).endswith("low is missing or not a number")


def test_an_equivalent_unique_index_under_another_name_is_kept(
    mongo_uri: str, mongo_db: Database
) -> None:
    keys = [("symbol", 1), ("timeframe", 1), ("time", 1)]
    mongo_db["feed"].create_index(keys, unique=True)
    with MongoCandleSource(mongo_uri, database=mongo_db.name, collection="feed") as source:
        source.ensure_index()

    assert sorted(mongo_db["feed"].index_information()) == ["_id_", "symbol_1_timeframe_1_time_1"]


# --- fingerprints and candle_at ----------------------------------------------------------------


def test_a_fingerprint_changes_when_a_past_bar_is_rewritten_and_not_when_bars_are_added(
    source: MongoCandleSource, mongo_db: Database, histories: dict[str, CandleSeries]
) -> None:
    series = histories["EURUSD"]
    upto = int(series.time_ns[99])
    before = source.fingerprint("EURUSD", M15, upto_ns=upto)
    candles = mongo_db["candles"]
    # A later bar (after upto) changes: the history up to upto is the same.
    overwrite(candles, series, 110, volume=1.0)
    unaffected = source.fingerprint("EURUSD", M15, upto_ns=upto)
    # A past close moves by one tick, high widened to keep the bar valid.
    close = float(series.prices("close")[30]) + 0.00001
    overwrite(candles, series, 30, close=close, high=max(close, float(series.prices("high")[30])))
    rewritten = source.fingerprint("EURUSD", M15, upto_ns=upto)
    candles.delete_one({"symbol": "EURUSD", "time": series.times()[5].to_pydatetime()})
    deleted = source.fingerprint("EURUSD", M15, upto_ns=upto)

    weights = {"open": 1, "high": 2, "low": 3, "close": 4}
    ticks = sum(int(getattr(series, p)[:100].sum()) * w for p, w in weights.items())
    assert before == unaffected == (100, ticks)
    # The in-memory source defines it identically, so either can stand in for the other.
    assert SeriesCandleSource([series]).fingerprint("EURUSD", M15, upto_ns=upto) == before
    assert rewritten[0] == 100
    assert rewritten[1] != before[1]
    assert deleted[0] == 99


def test_fingerprints_of_many_streams_cost_two_queries_per_distinct_upto(
    source: MongoCandleSource, histories: dict[str, CandleSeries]
) -> None:
    upto = {s: int(histories[s].time_ns[80]) for s in SYMBOLS}
    upto["US30"] = upto["EURUSD"]
    alone = {s: source.fingerprint(s, M15, upto_ns=upto[s]) for s in SYMBOLS}
    before = source.queries

    together = source.fingerprints([(s, M15, upto[s]) for s in SYMBOLS])

    assert source.queries - before == 2 * len(set(upto.values()))
    assert together == {(s, M15): alone[s] for s in SYMBOLS}
    assert source.fingerprint("EURUSD", Timeframe.H1, upto_ns=upto["EURUSD"]) == (0, 0)


def test_candle_at_returns_the_stored_bar_or_none(
    source: MongoCandleSource, histories: dict[str, CandleSeries]
) -> None:
    series = histories["GBPUSD"]

    assert source.candle_at("GBPUSD", M15, int(series.time_ns[42])) == series.candle(42)
    assert source.candle_at("GBPUSD", M15, int(series.time_ns[42]) + BAR_NS // 3) is None
    assert source.candle_at("GBPUSD", Timeframe.H4, int(series.time_ns[42])) is None


# --- imports -----------------------------------------------------------------------------------


def test_bars_another_writer_inserted_first_fall_back_to_upserts(
    source: MongoCandleSource, histories: dict[str, CandleSeries], monkeypatch: pytest.MonkeyPatch
) -> None:
    series = histories["EURUSD"]
    close = series.close.copy()
    close[7] = series.high[7]  # a valid correction of one stored bar
    corrected = CandleSeries.create(
        series.instrument,
        M15,
        time_ns=series.time_ns,
        open=series.open,
        high=series.high,
        low=series.low,
        close=close,
        volume=series.volume,
    )
    # As if every bar were written by someone else between the read and the insert.
    monkeypatch.setattr(source, "_stored", lambda series: {})

    result = source.import_series(corrected, batch_size=50)

    assert result == ImportResult(inserted=0, updated=1, unchanged=BARS - 1)
    now_ns = int(series.time_ns[-1]) + BAR_NS
    assert_same_bars(source.history("EURUSD", M15, now_ns=now_ns), corrected)


def test_small_batches_import_the_same_bars(mongo_uri: str, mongo_db: Database) -> None:
    series = load_candles("data/USDJPY_M15_2026.csv.gz").slice(0, 45)
    with MongoCandleSource(mongo_uri, database=mongo_db.name, collection="small") as source:
        assert source.import_series(series, batch_size=7) == ImportResult(45, 0, 0)
        assert source.import_series(series, batch_size=7) == ImportResult(0, 0, 45)
        back = source.history("USDJPY", M15, now_ns=int(series.time_ns[-1]) + BAR_NS)

    assert_same_bars(back, series)


def test_a_source_leaves_a_client_it_was_given_open(mongo_uri: str, mongo_db: Database) -> None:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri)
    try:
        MongoCandleSource(client, database=mongo_db.name).close()
        assert client.admin.command("ping")["ok"] == 1.0
    finally:
        client.close()


# --- outages -----------------------------------------------------------------------------------


def test_a_killed_server_is_a_quick_source_error_and_reads_resume_after_a_restart(
    mongo_server: MongoServer, histories: dict[str, CandleSeries]
) -> None:
    series = histories["EURUSD"].slice(0, 30)
    now_ns = int(series.time_ns[-1]) + BAR_NS
    with MongoCandleSource(mongo_server.uri, database="parity", policy=QUICK) as source:
        source.import_series(series)
        before = source.fingerprint("EURUSD", M15, upto_ns=now_ns)

        mongo_server.kill()
        for call in (
            lambda: source.history("EURUSD", M15, now_ns=now_ns),
            lambda: source.fingerprint("EURUSD", M15, upto_ns=now_ns),
            lambda: source.import_series(series),
        ):
            started = time.monotonic()
            with pytest.raises(SourceError) as caught:
                call()
            assert time.monotonic() - started < 3.0
            assert str(caught.value).startswith(f"candle source {mongo_server.uri}: ")
            assert len(str(caught.value).splitlines()) == 1

        mongo_server.start()
        assert_same_bars(source.history("EURUSD", M15, now_ns=now_ns), series)
        assert source.fingerprint("EURUSD", M15, upto_ns=now_ns) == before
