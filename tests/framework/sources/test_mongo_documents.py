"""The MongoDB source's pure parts: documents, validation, query shapes, policy, errors.

No server: documents are built as pymongo returns them (times as `DatetimeMS`).
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import numpy as np
import pymongo.errors
import pytest
from bson.datetime_ms import DatetimeMS
from bson.decimal128 import Decimal128
from bson.objectid import ObjectId
from hypothesis import given
from hypothesis import strategies as st
from pymongo import UpdateOne

from framework.candles import CandleSeries
from framework.errors import ConfigError, DataError, ParameterError
from framework.instruments import Instrument
from framework.sources._connection import source_error
from framework.sources._documents import documents_of, series_of
from framework.sources._queries import (
    MAX_OR_CLAUSES,
    after_watermarks,
    checksum_expression,
    checksum_ticks,
    lowest_watermarks,
)
from framework.sources._writes import plan_import
from framework.sources.mongo import MongoFields, MongoPolicy, redact_uri
from framework.timeframes import Timeframe

EURUSD = Instrument("EURUSD", 5)
M15 = Timeframe.M15
BAR_MS = 900_000
T0_MS = 1_768_486_500_000  # 2026-01-15T14:15:00Z
WHERE = "db.candles EURUSD M15"


def document(i: int, **values: Any) -> dict[str, Any]:
    """Bar ``i`` after T0 as pymongo returns it, valid unless ``values`` says otherwise."""
    found: dict[str, Any] = {
        "_id": ObjectId(f"{i:024x}"),
        "symbol": "EURUSD",
        "timeframe": "M15",
        "time": DatetimeMS(T0_MS + i * BAR_MS),
        "open": 1.1633,
        "high": 1.16347,
        "low": 1.16318,
        "close": 1.1634,
        "volume": 489.0,
    }
    found.update(values)
    return found


def read(documents: list[dict[str, Any]], names: MongoFields | None = None) -> CandleSeries:
    return series_of(documents, EURUSD, M15, names or MongoFields(), where=WHERE)


# --- reading documents ----------------------------------------------------------------------


def test_documents_become_a_series_of_ticks_sorted_by_time() -> None:
    series = read([document(2, close=1.16341), document(0), document(1)])

    assert series.time_ns.tolist() == [(T0_MS + i * BAR_MS) * 10**6 for i in range(3)]
    assert series.close.tolist() == [116340, 116340, 116341]
    assert series.volume.tolist() == [489.0] * 3
    assert series.times().tz is not None


def test_noisy_floats_ints_and_decimals_are_quantized_to_the_same_ticks() -> None:
    series = read(
        [
            document(0, close=1.1634000000000001),
            document(1, volume=7),
            document(2, open=Decimal128("1.16330"), close=Decimal("1.16340")),
        ]
    )

    assert series.close.tolist() == [116340] * 3
    assert series.open.tolist() == [116330] * 3
    assert series.volume.tolist() == [489.0, 7.0, 489.0]


def test_a_missing_volume_reads_as_zero_like_a_file_without_one() -> None:
    bare = document(0)
    del bare["volume"]

    assert read([bare]).volume.tolist() == [0.0]


@pytest.mark.parametrize(
    ("values", "rule"),
    [
        ({"close": "1.1634"}, "close is missing or not a number"),
        ({"high": None}, "high is missing or not a number"),
        ({"open": True}, "open is missing or not a number"),
        ({"volume": "many"}, "volume is missing or not a number"),
        ({"close": 1.163405}, "close price 1.163405 is not a multiple of the tick 0.00001"),
        ({"close": float("nan")}, "close price nan is not finite"),
        ({"close": 1.1635}, "high < max(open, close)"),
        ({"low": 1.1634, "open": 1.1633}, "low > min(open, close)"),
        ({"low": -1.0}, "price is not positive"),
        ({"volume": -1.0}, "volume is negative"),
        ({"time": DatetimeMS(T0_MS + 2 * BAR_MS + 60_000)}, "time is not aligned to M15 bars"),
    ],
)
def test_a_bad_document_is_a_data_error_naming_the_stream_its_time_and_id(
    values: dict[str, Any], rule: str
) -> None:
    bad = document(2, **values)
    when = "2026-01-15T14:46:00Z" if "time" in values else "2026-01-15T14:45:00Z"

    with pytest.raises(DataError) as caught:
        read([document(0), document(1), bad, document(3)])

    assert str(caught.value) == f"{WHERE}: document time {when}, _id {bad['_id']!r}: {rule}"


def test_a_time_that_is_not_a_date_and_a_duplicate_bar_are_data_errors() -> None:
    with pytest.raises(DataError, match=r"_id ObjectId\('0+1'\): time is not a date$"):
        read([document(0), document(1, time="2026-01-15T14:30:00Z")])
    with pytest.raises(DataError, match=r"document time 2026-01-15T14:30:00Z, .*: duplicate time$"):
        read([document(0), document(1), document(1, _id="copy")])


def test_configured_names_are_read_and_written() -> None:
    names = MongoFields("s", "tf", "t", "o", "h", "l", "c", "v")
    rename = dict(zip(MongoFields().projection(), names.projection(), strict=True))
    stored = {rename[key]: value for key, value in document(0).items() if key != "_id"}

    series = read([stored], names)
    written = documents_of(series, names)

    assert written == [stored]
    assert series.close.tolist() == [116340]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"open": "price", "close": "price"}, "'price' is used twice"),
        ({"time": "$time"}, "not a plain name"),
        ({"high": "bar.high"}, "not a plain name"),
        ({"low": ""}, "not a plain name"),
        ({"symbol": "_id"}, "cannot be _id"),
    ],
)
def test_field_names_must_be_plain_and_distinct(change: dict[str, str], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        MongoFields(**change)


# --- planning an import -----------------------------------------------------------------------


def test_an_import_plan_inserts_new_bars_updates_changed_ones_and_skips_the_rest() -> None:
    series = read([document(i) for i in range(4)])
    stored_values = (1.1633, 1.16347, 1.16318, 1.1634, 489.0)
    stored = {
        int(series.time_ns[0]): stored_values,
        int(series.time_ns[1]): (*stored_values[:3], 1.16339, 489.0),
        int(series.time_ns[2]): (*stored_values[:4], None),
    }

    plan = plan_import(series, MongoFields(), stored)

    written = documents_of(series, MongoFields())
    assert plan.new == written[3:]
    assert plan.changes == [plan.update(written[1]), plan.update(written[2])]
    assert plan.changes[0] == UpdateOne(
        {"symbol": "EURUSD", "timeframe": "M15", "time": DatetimeMS(T0_MS + BAR_MS)},
        {"$set": {"open": 1.1633, "high": 1.16347, "low": 1.16318, "close": 1.1634,
                  "volume": 489.0}},
    )  # fmt: skip
    assert plan.unchanged == 1


# --- query shapes ------------------------------------------------------------------------------


def test_streams_sharing_a_watermark_share_one_clause() -> None:
    lowest = lowest_watermarks([("A", 7), ("B", 7), ("C", None), ("A", 9)])

    clauses = after_watermarks(lowest, MongoFields())

    assert lowest == {"A": 7, "B": 7, "C": None}
    assert clauses == [
        {"symbol": {"$in": ["C"]}},
        {"symbol": {"$in": ["A", "B"]}, "time": {"$gt": DatetimeMS(0)}},
    ]


@given(
    st.dictionaries(
        st.text("ABCDEFGH", min_size=1, max_size=3),
        st.none() | st.integers(0, 10**6).map(lambda ms: ms * 10**6 + 1),
        min_size=1,
        max_size=60,
    )
)
def test_clauses_are_few_and_cover_every_symbol_from_at_or_before_its_watermark(
    lowest: dict[str, int | None],
) -> None:
    clauses = after_watermarks(lowest, MongoFields())

    assert 1 <= len(clauses) <= MAX_OR_CLAUSES
    owners = [symbol for clause in clauses for symbol in clause["symbol"]["$in"]]
    assert sorted(owners) == sorted(lowest)  # each symbol in exactly one clause
    for clause in clauses:
        for symbol in clause["symbol"]["$in"]:
            mark = lowest[symbol]
            if mark is None:
                assert "time" not in clause
            else:
                assert int(clause["time"]["$gt"]) * 10**6 <= mark


def test_the_checksum_weights_prices_by_repeating_their_fields() -> None:
    expression = checksum_expression(MongoFields(high="h"))

    assert expression == {"$sum": ["$open", "$h", "$h", *["$low"] * 3, *["$close"] * 4]}


@given(st.lists(st.integers(1, 2_000_000), min_size=1, max_size=500), st.randoms())
def test_the_checksum_in_ticks_does_not_depend_on_the_summation_order(
    ticks: list[int], shuffle: random.Random
) -> None:
    prices = [t / 10**5 for t in ticks]
    shuffled = prices[:]
    shuffle.shuffle(shuffled)

    assert checksum_ticks(sum(prices), 10**5) == checksum_ticks(sum(shuffled), 10**5) == sum(ticks)


# --- connection policy and errors ------------------------------------------------------------


def test_the_policy_turns_seconds_into_pymongo_milliseconds_and_rejects_nonsense() -> None:
    options = MongoPolicy(server_selection_timeout_s=0.25, socket_timeout_s=30).client_options()

    assert options["serverSelectionTimeoutMS"] == 250
    assert options["connectTimeoutMS"] == 2000
    assert options["socketTimeoutMS"] == 30_000
    assert options["tz_aware"] is True
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ConfigError, match="socket_timeout_s must be > 0"):
            MongoPolicy(socket_timeout_s=bad)


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("mongodb://bot:pw@db:27017/parity", "mongodb://bot:***@db:27017/parity"),
        ("mongodb+srv://bot:p%40ss@cluster.example/", "mongodb+srv://bot:***@cluster.example/"),
        ("mongodb://a:pw@h1,h2/?replicaSet=rs", "mongodb://a:***@h1,h2/?replicaSet=rs"),
        ("mongodb://h/?tlsCertificateKeyFilePassword=pw", "mongodb://h/?tlsCertificateKeyFilePassword=***"),
    ],
)  # fmt: skip
def test_uris_are_shown_without_secrets(uri: str, shown: str) -> None:
    assert redact_uri(uri) == shown


def test_a_server_selection_timeout_is_one_short_line_without_secrets() -> None:
    error = pymongo.errors.ServerSelectionTimeoutError(
        "127.0.0.1:1: [Errno 111] Connection refused (configured timeouts: socketTimeoutMS: "
        "2000.0ms, connectTimeoutMS: 2000.0ms), Timeout: 2.0s, Topology Description: "
        "<TopologyDescription id: 1, topology_type: Unknown, servers: [...]> hunter2"
    )

    message = str(source_error(error, "mongodb://bot:***@127.0.0.1:1/", ("hunter2",)))

    assert message == (
        "candle source mongodb://bot:***@127.0.0.1:1/: 127.0.0.1:1: [Errno 111] Connection refused"
    )


def test_refused_credentials_and_write_errors_are_named() -> None:
    refused = pymongo.errors.OperationFailure("Authentication failed.", code=18)
    writes = pymongo.errors.BulkWriteError(
        {"writeErrors": [{"index": 0, "code": 121, "errmsg": "Document failed validation"}] * 2}
    )

    assert str(source_error(refused, "m", ())) == (
        "candle source m: authentication failed or not authorized"
    )
    assert str(source_error(writes, "m", ())) == (
        "candle source m: 2 write error(s), the first: Document failed validation"
    )


def test_documents_of_a_series_round_trip_through_reading() -> None:
    series = read([document(i, close=1.1634 + i / 10**5, high=1.1640) for i in range(5)])

    again = read([{"_id": i, **d} for i, d in enumerate(documents_of(series, MongoFields()))])

    for name in ("time_ns", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(again, name), getattr(series, name))
