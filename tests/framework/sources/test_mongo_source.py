"""`MongoCandleSource` against the real MongoDB-wire server (FerretDB on SQLite).

Every sorted or filtered query of that server scans its collection, so each test
imports a few hundred bars at most into a database of its own (``mongo_db``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pymongo
import pymongo.database
import pymongo.errors
import pytest
from _candles_testkit import assert_same_bars, with_close

from framework.candles import CandleSeries
from framework.errors import ConfigError, DataError, ParityError, SourceError, SourceUnavailable
from framework.loading import load_candles
from framework.sources._connection import source_error
from framework.sources.mongo import ImportResult, MongoCandleSource, MongoFields, MongoPolicy
from framework.timeframes import Timeframe

if TYPE_CHECKING:
    from conftest import MongoServer

Database = pymongo.database.Database[dict[str, Any]]

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY")
BARS = 300
M15 = Timeframe.M15
BAR_NS = M15.nanoseconds
#: Fails fast: the server is local, so anything slower than this is an outage.
QUICK = MongoPolicy(server_selection_timeout_s=0.5, connect_timeout_s=0.5, socket_timeout_s=2.0)


@pytest.fixture(scope="module")
def histories() -> dict[str, CandleSeries]:
    return {s: load_candles(f"data/{s}_M15_2026.csv.gz").slice(0, BARS) for s in SYMBOLS}


@pytest.fixture
def source(mongo_uri: str, mongo_db: Database) -> Iterator[MongoCandleSource]:
    """The production path: a source that opens its own client from a URI."""
    candles = MongoCandleSource(mongo_uri, database=mongo_db.name, policy=QUICK)
    candles.ensure_index()
    try:
        yield candles
    finally:
        candles.close()


def closed_end(series: CandleSeries, now_ns: int) -> int:
    """Number of leading bars closed at ``now_ns`` (open time + 15 min ≤ now)."""
    return int(np.searchsorted(series.time_ns + BAR_NS, now_ns, side="right"))


# --- the index and the import ------------------------------------------------------------


def test_ensure_index_creates_one_unique_bar_index_and_is_idempotent(
    source: MongoCandleSource, mongo_db: Database, histories: dict[str, CandleSeries]
) -> None:
    source.ensure_index()  # a second time: no error, still one index

    indexes = mongo_db["candles"].index_information()
    assert indexes["candle_bar"]["unique"] is True
    assert indexes["candle_bar"]["key"] == [("symbol", 1), ("timeframe", 1), ("time", 1)]
    assert sorted(indexes) == ["_id_", "candle_bar"]
    source.import_series(histories["EURUSD"].slice(0, 1))
    duplicate = dict(mongo_db["candles"].find_one({}, {"_id": 0}) or {})
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        mongo_db["candles"].insert_one(duplicate)


def test_import_counts_and_a_second_import_changes_nothing(
    source: MongoCandleSource, mongo_db: Database, histories: dict[str, CandleSeries]
) -> None:
    series = histories["EURUSD"]

    first = source.import_series(series)
    again = source.import_series(series)
    overlap = source.import_series(load_candles("data/EURUSD_M15_2026.csv.gz").slice(250, 350))

    assert first == ImportResult(inserted=BARS, updated=0, unchanged=0)
    assert again == ImportResult(inserted=0, updated=0, unchanged=BARS)
    assert overlap == ImportResult(inserted=50, updated=0, unchanged=50)
    assert mongo_db["candles"].count_documents({"symbol": "EURUSD", "timeframe": "M15"}) == 350
    assert mongo_db["candles"].count_documents({}) == 350


def test_a_changed_bar_is_the_only_update_and_is_stored(
    source: MongoCandleSource, mongo_db: Database, histories: dict[str, CandleSeries]
) -> None:
    series = histories["GBPUSD"]
    source.import_series(series)
    corrected = with_close(series, 123, +3)

    result = source.import_series(corrected)

    assert result == ImportResult(inserted=0, updated=1, unchanged=BARS - 1)
    stored = mongo_db["candles"].find_one({"symbol": "GBPUSD", "time": corrected.times()[123]})
    assert stored is not None
    assert stored["close"] == corrected.prices("close")[123] != series.prices("close")[123]
    assert source.import_series(corrected) == ImportResult(0, 0, BARS)
    assert mongo_db["candles"].count_documents({}) == BARS


def test_documents_hold_the_bar_open_time_as_a_utc_datetime_and_float_prices(
    source: MongoCandleSource, mongo_db: Database, histories: dict[str, CandleSeries]
) -> None:
    series = histories["USDJPY"]
    source.import_series(series.slice(0, 3))

    documents = list(mongo_db["candles"].find({}, {"_id": 0}).sort("time", 1))

    assert [d["time"] for d in documents] == list(series.slice(0, 3).times().to_pydatetime())
    first = documents[0]
    assert first["time"].utcoffset() == timedelta(0)
    assert (first["symbol"], first["timeframe"]) == ("USDJPY", "M15")
    assert first["close"] == series.prices("close")[0]
    assert isinstance(first["close"], float)


# --- reading back ------------------------------------------------------------------------


@pytest.mark.parametrize("tz_aware", [True, False], ids=["tz-aware-client", "naive-client"])
def test_history_reads_back_identical_ticks_and_utc_times(
    mongo_uri: str, mongo_db: Database, histories: dict[str, CandleSeries], tz_aware: bool
) -> None:
    series = histories["EURUSD"]
    # A client the user made: with or without tz_aware, times must come back the same.
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri, tz_aware=tz_aware)
    try:
        source = MongoCandleSource(client, database=mongo_db.name)
        source.import_series(series)
        after_last_close = int(series.time_ns[-1]) + BAR_NS

        back = source.history("EURUSD", M15, now_ns=after_last_close)
        tail = source.history("EURUSD", M15, now_ns=after_last_close, limit=50)
        forming = source.history("EURUSD", M15, now_ns=after_last_close - 1)
    finally:
        client.close()

    assert_same_bars(back, series)
    assert back.times().tz == UTC
    assert back.times()[0].to_pydatetime() == series.times()[0].to_pydatetime()
    assert_same_bars(tail, series.slice(BARS - 50))
    assert_same_bars(forming, series.slice(0, BARS - 1))  # the last bar has not closed


def test_history_of_a_stream_without_documents_is_empty(source: MongoCandleSource) -> None:
    empty = source.history("EURUSD", M15, now_ns=2 * 10**18)

    assert len(empty) == 0
    assert empty.symbol == "EURUSD"


def test_fetch_new_returns_the_closed_bars_after_each_watermark_in_one_query(
    source: MongoCandleSource, histories: dict[str, CandleSeries]
) -> None:
    for series in histories.values():
        source.import_series(series)
    eurusd = histories["EURUSD"]
    # Inside EURUSD's bar 280: that bar is still forming and must not be served.
    now_ns = int(eurusd.time_ns[280]) + BAR_NS // 3
    watermarks = {
        "EURUSD": None,
        "GBPUSD": int(histories["GBPUSD"].time_ns[100]),
        "USDJPY": int(histories["USDJPY"].time_ns[250]),
    }
    before = source.queries

    fetched = source.fetch_new([(s, M15, w) for s, w in watermarks.items()], now_ns=now_ns)

    assert source.queries == before + 1
    assert sorted(fetched) == [(s, M15) for s in sorted(SYMBOLS)]
    assert len(fetched["EURUSD", M15]) == 280  # bars 0..279; 280 is forming
    starts = {"EURUSD": 0, "GBPUSD": 101, "USDJPY": 251}
    for symbol, series in histories.items():
        expected = series.slice(starts[symbol], closed_end(series, now_ns))
        assert len(expected) > 0
        assert_same_bars(fetched[symbol, M15], expected)
        assert int(fetched[symbol, M15].time_ns[-1]) + BAR_NS <= now_ns


def test_fetch_new_at_the_watermark_is_empty_and_each_timeframe_costs_one_query(
    source: MongoCandleSource, histories: dict[str, CandleSeries]
) -> None:
    series = histories["EURUSD"]
    source.import_series(series)
    last = int(series.time_ns[-1])
    before = source.queries

    fetched = source.fetch_new(
        [("EURUSD", M15, last), ("EURUSD", Timeframe.M30, None), ("GBPUSD", M15, None)],
        now_ns=last + 10 * BAR_NS,
    )

    assert source.queries == before + 2  # M15 and M30
    assert len(fetched["EURUSD", M15]) == 0
    assert len(fetched["EURUSD", Timeframe.M30]) == 0
    assert len(fetched["GBPUSD", M15]) == 0


def test_a_bar_at_the_exact_close_time_is_closed(
    source: MongoCandleSource, histories: dict[str, CandleSeries]
) -> None:
    series = histories["EURUSD"].slice(0, 10)
    source.import_series(series)
    close_of_last = int(series.time_ns[-1]) + BAR_NS

    at_close = source.fetch_new([("EURUSD", M15, None)], now_ns=close_of_last)
    just_before = source.fetch_new([("EURUSD", M15, None)], now_ns=close_of_last - 1)

    assert len(at_close["EURUSD", M15]) == 10
    assert len(just_before["EURUSD", M15]) == 9


def test_configured_field_names_are_used_for_writing_and_reading(
    mongo_uri: str, mongo_db: Database, histories: dict[str, CandleSeries]
) -> None:
    fields = MongoFields("s", "tf", "t", "o", "h", "l", "c", "v")
    series = histories["USDJPY"].slice(0, 40)
    source = MongoCandleSource(mongo_uri, database=mongo_db.name, collection="bars", fields=fields)
    try:
        source.ensure_index()
        assert source.import_series(series) == ImportResult(40, 0, 0)
        now_ns = int(series.time_ns[-1]) + BAR_NS
        fetched = source.fetch_new([("USDJPY", M15, int(series.time_ns[9]))], now_ns=now_ns)
        back = source.history("USDJPY", M15, now_ns=now_ns)
    finally:
        source.close()

    document = mongo_db["bars"].find_one({}, {"_id": 0})
    assert document is not None
    assert sorted(document) == ["c", "h", "l", "o", "s", "t", "tf", "v"]
    assert mongo_db["bars"].index_information()["candle_bar"]["key"] == [
        ("s", 1),
        ("tf", 1),
        ("t", 1),
    ]
    assert_same_bars(fetched["USDJPY", M15], series.slice(10))
    assert_same_bars(back, series)


# --- bad documents -----------------------------------------------------------------------


def next_document(series: CandleSeries, **prices: float) -> dict[str, Any]:
    """A document for the bar right after ``series``, with valid prices unless overridden."""
    moment = series.times()[-1].to_pydatetime() + timedelta(minutes=15)
    price = float(series.prices("close")[-1])
    document: dict[str, Any] = {
        "symbol": series.symbol,
        "timeframe": series.timeframe.name,
        "time": moment,
        "open": price,
        "high": price,
        "low": price,
        "close": price,
        "volume": 1.0,
    }
    document.update(prices)
    return document


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"open": 1.1, "high": 1.1, "low": 1.0, "close": 1.2}, "high < max(open, close)"),
        ({"close": 1.234567}, "is not a multiple of the tick"),
        ({"low": -1.0}, "price is not positive"),
    ],
    ids=["high-below-close", "off-tick", "negative-low"],
)
def test_a_bad_document_stops_the_read_with_a_data_error_naming_the_stream(
    source: MongoCandleSource,
    mongo_db: Database,
    histories: dict[str, CandleSeries],
    change: dict[str, float],
    rule: str,
) -> None:
    series = histories["EURUSD"].slice(0, 20)
    source.import_series(series)
    mongo_db["candles"].insert_one(next_document(series, **change))
    now_ns = int(series.time_ns[-1]) + 3 * BAR_NS

    with pytest.raises(DataError) as fetched:
        source.fetch_new([("EURUSD", M15, int(series.time_ns[-1]))], now_ns=now_ns)
    with pytest.raises(ParityError) as history:
        source.history("EURUSD", M15, now_ns=now_ns)

    for error in (fetched.value, history.value):
        message = str(error)
        assert "EURUSD M15" in message
        assert f"{mongo_db.name}.candles" in message
        assert rule in message
        assert len(message.splitlines()) == 1


def test_a_document_without_a_price_field_is_a_data_error_naming_it(
    source: MongoCandleSource, mongo_db: Database, histories: dict[str, CandleSeries]
) -> None:
    series = histories["EURUSD"].slice(0, 5)
    source.import_series(series)
    document = next_document(series)
    del document["close"]
    inserted = mongo_db["candles"].insert_one(document).inserted_id

    with pytest.raises(DataError) as caught:
        source.history("EURUSD", M15, now_ns=int(series.time_ns[-1]) + 3 * BAR_NS)

    message = str(caught.value)
    assert "EURUSD M15: document time 2026-01-15T15:30:00Z" in message
    assert f"_id ObjectId('{inserted}')" in message
    assert message.endswith("close is missing or not a number")


# --- connection problems ------------------------------------------------------------------

UNREACHABLE = "mongodb://parity:s3cretPW@127.0.0.1:1/"


def test_an_unreachable_server_is_one_quick_source_error_without_the_password() -> None:
    source = MongoCandleSource(UNREACHABLE, database="parity", policy=QUICK)
    calls = {
        "fetch_new": lambda: source.fetch_new([("EURUSD", M15, None)], now_ns=10**18),
        "history": lambda: source.history("EURUSD", M15, now_ns=10**18),
        "ensure_index": source.ensure_index,
    }
    try:
        for name, call in calls.items():
            started = time.monotonic()
            with pytest.raises(SourceUnavailable) as caught:
                call()
            elapsed = time.monotonic() - started
            message = str(caught.value)
            assert elapsed < 3.0, name
            assert "***" in message, name
            assert "s3cretPW" not in message, name
            assert "127.0.0.1:1" in message, name
            assert len(message.splitlines()) == 1, name
        assert "s3cretPW" not in repr(source)
    finally:
        source.close()


def test_an_unknown_uri_option_is_a_config_error_not_a_warning(
    recwarn: pytest.WarningsRecorder,
) -> None:
    with pytest.raises(
        ConfigError,
        match=r"^candle source mongodb://h:1/\?authSource=admin&tiemoutMS=5: Unknown option",
    ):
        MongoCandleSource("mongodb://h:1/?authSource=admin&tiemoutMS=5")
    assert [str(w.message) for w in recwarn] == []


@pytest.mark.parametrize(
    "failure",
    ["The DNS operation timed out.", "The resolution lifetime expired after 20.1 seconds"],
)
def test_a_failed_srv_lookup_is_the_network_failing_not_a_bad_uri(
    monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    def lookup_fails(*args: object, **kwargs: object) -> None:
        raise pymongo.errors.ConfigurationError(failure)

    monkeypatch.setattr(pymongo, "MongoClient", lookup_fails)

    with pytest.raises(SourceUnavailable, match=r"^candle source mongodb\+srv://u:\*\*\*@db"):
        MongoCandleSource("mongodb+srv://u:pw@db.example/parity")


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (pymongo.errors.ServerSelectionTimeoutError("no server"), SourceUnavailable),
        (pymongo.errors.AutoReconnect("connection refused"), SourceUnavailable),
        (pymongo.errors.NetworkTimeout("one slow query"), SourceError),
        (pymongo.errors.NotPrimaryError("failover"), SourceError),
    ],
)
def test_only_a_server_that_cannot_be_reached_makes_the_source_unavailable(
    failure: pymongo.errors.PyMongoError, kind: type[SourceError]
) -> None:
    error = source_error(failure, "candle source", ())

    assert type(error) is kind


def test_a_malformed_uri_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError, match=r"^candle source mongodb://x:\*\*\*@host:notaport/: "):
        MongoCandleSource("mongodb://x:pw@host:notaport/")


def test_a_stopped_server_raises_source_error_and_a_restarted_one_serves_again(
    mongo_server: MongoServer, histories: dict[str, CandleSeries]
) -> None:
    series = histories["EURUSD"].slice(0, 50)
    source = MongoCandleSource(mongo_server.uri, database="parity", policy=QUICK)
    request = [("EURUSD", M15, int(series.time_ns[9]))]
    now_ns = int(series.time_ns[-1]) + BAR_NS
    try:
        source.ensure_index()
        source.import_series(series)
        assert len(source.fetch_new(request, now_ns=now_ns)["EURUSD", M15]) == 40

        mongo_server.stop()
        started = time.monotonic()
        with pytest.raises(
            SourceUnavailable, match=r"^candle source mongodb://127\.0\.0\.1:\d+/: "
        ):
            source.fetch_new(request, now_ns=now_ns)
        assert time.monotonic() - started < 3.0

        mongo_server.start()
        # The data survived the restart and the same source object reconnects.
        assert_same_bars(source.fetch_new(request, now_ns=now_ns)["EURUSD", M15], series.slice(10))
    finally:
        source.close()
