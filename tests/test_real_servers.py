"""Smoke tests proving the real Redis and MongoDB-wire servers are real.

They run against the servers `.ci/services.sh` starts (PARITY_REDIS_URL,
PARITY_MONGODB_URI) and against private servers the factories start, and skip
without them (fail under PARITY_REQUIRE_SERVERS=1).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import pymongo
import pymongo.database
import pymongo.errors
import pytest
import redis

if TYPE_CHECKING:
    from conftest import MongoServer, RedisServer

SYMBOL = "EURUSD"
TIMEFRAME = "M15"
T0 = datetime(2024, 1, 2, 0, 0, tzinfo=UTC)


def _candle(i: int, *, symbol: str = SYMBOL, timeframe: str = TIMEFRAME) -> dict[str, Any]:
    price = 1.1 + i * 0.0001
    return {
        "symbol": symbol,
        "timeframe": timeframe,
        "time": T0 + timedelta(minutes=15 * i),
        "open": price,
        "high": price + 0.0002,
        "low": price - 0.0002,
        "close": price + 0.0001,
        "volume": 100.0 + i,
    }


def _with_password(url: str, password: str | None) -> str:
    """The same URL with its password replaced (or removed when None)."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{host}:{parts.port}" if parts.port else host
    if password is not None:
        netloc = f"{parts.username or ''}:{password}@{netloc}"
    return urlunsplit(parts._replace(netloc=netloc))


# --- Redis ----------------------------------------------------------------------


@pytest.mark.redis
def test_redis_round_trip_with_auth(
    redis_url: str, redis_client: redis.Redis[bytes], redis_prefix: str
) -> None:
    assert urlsplit(redis_url).password, "CI's Redis must require a password"
    key = f"{redis_prefix}greeting"
    assert redis_client.set(key, b"\x00parity\xff") is True
    assert redis_client.get(key) == b"\x00parity\xff"
    assert redis_client.exists(key) == 1


@pytest.mark.redis
@pytest.mark.parametrize("password", ["definitely-wrong", None], ids=["wrong", "missing"])
def test_redis_rejects_bad_credentials(redis_url: str, password: str | None) -> None:
    if not urlsplit(redis_url).password:
        pytest.skip("the server at PARITY_REDIS_URL has no password to get wrong")
    client: redis.Redis[bytes] = redis.Redis.from_url(_with_password(redis_url, password))
    try:
        with pytest.raises(redis.AuthenticationError):
            client.set("parity-test:must-not-exist", b"x")
    finally:
        client.close()


@pytest.mark.redis
def test_redis_server_factory_stop_and_restart(
    redis_server_factory: Callable[[], RedisServer],
) -> None:
    server = redis_server_factory()
    client: redis.Redis[bytes] = redis.Redis.from_url(server.url, socket_timeout=2)
    try:
        assert client.set("k", b"v")
        server.stop()
        with pytest.raises(redis.ConnectionError):
            client.ping()
        server.start()
        assert client.ping()
        # No persistence: a restarted cache node comes back empty.
        assert client.get("k") is None
    finally:
        client.close()


# --- MongoDB wire (FerretDB) -------------------------------------------------------


@pytest.fixture
def candles(
    mongo_db: pymongo.database.Database[dict[str, Any]],
) -> pymongo.collection.Collection[dict[str, Any]]:
    """A candle collection with Parity's unique (symbol, timeframe, time) index."""
    coll = mongo_db["candles"]
    coll.create_index(
        [
            ("symbol", pymongo.ASCENDING),
            ("timeframe", pymongo.ASCENDING),
            ("time", pymongo.ASCENDING),
        ],
        unique=True,
        name="symbol_timeframe_time",
    )
    return coll


@pytest.mark.mongo
def test_mongo_unique_candle_index_rejects_duplicate(
    candles: pymongo.collection.Collection[dict[str, Any]],
) -> None:
    candles.insert_many([_candle(i) for i in range(5)])
    info = candles.index_information()["symbol_timeframe_time"]
    assert info.get("unique") is True
    assert info["key"] == [("symbol", 1), ("timeframe", 1), ("time", 1)]

    with pytest.raises(pymongo.errors.DuplicateKeyError):
        candles.insert_one(_candle(3))
    # Same time on another timeframe or symbol is a different candle.
    candles.insert_one(_candle(3, timeframe="H1"))
    candles.insert_one(_candle(3, symbol="GBPUSD"))
    assert candles.count_documents({}) == 7


@pytest.mark.mongo
def test_mongo_incremental_query_sorted_and_utc(
    candles: pymongo.collection.Collection[dict[str, Any]],
) -> None:
    docs = [_candle(i) for i in range(10)]
    # Out of order, so the sort is what's tested; copies, as pymongo adds `_id`.
    candles.insert_many([dict(doc) for doc in reversed(docs)])
    candles.insert_one(_candle(20, timeframe="H1"))

    watermark = docs[6]["time"]
    got = list(
        candles.find(
            {"symbol": SYMBOL, "timeframe": TIMEFRAME, "time": {"$gt": watermark}},
            {"_id": False},
        ).sort("time", pymongo.ASCENDING)
    )
    assert got == docs[7:]
    for doc in got:
        assert doc["time"].tzinfo is not None
        assert doc["time"].utcoffset() == timedelta(0)


@pytest.mark.mongo
def test_mongo_datetimes_round_trip_as_utc(
    mongo_db: pymongo.database.Database[dict[str, Any]],
) -> None:
    plus_two = timezone(timedelta(hours=2))
    local = datetime(2024, 3, 1, 12, 30, tzinfo=plus_two)
    mongo_db["times"].insert_one({"_id": 1, "time": local})
    back = mongo_db["times"].find_one({"_id": 1})
    assert back is not None
    assert back["time"] == local
    assert back["time"].utcoffset() == timedelta(0)
    assert back["time"] == datetime(2024, 3, 1, 10, 30, tzinfo=UTC)


@pytest.mark.mongo
@pytest.mark.parametrize("how", ["stop", "kill"])
def test_mongo_server_factory_restart_keeps_data(
    mongo_server_factory: Callable[[], MongoServer], how: str
) -> None:
    server = mongo_server_factory()
    client = server.client(serverSelectionTimeoutMS=5000)
    try:
        client["parity_restart"]["candles"].insert_one(_candle(0))
        # stop() waits up to ~3 s: FerretDB gives connected clients time to leave.
        if how == "stop":
            server.stop()
        else:
            server.kill()
        probe = server.client(serverSelectionTimeoutMS=300)
        try:
            with pytest.raises(pymongo.errors.ServerSelectionTimeoutError):
                probe.admin.command("ping")
        finally:
            probe.close()
        server.start()
        # The same client reconnects on its own, and the data is still there.
        doc = client["parity_restart"]["candles"].find_one({}, {"_id": False})
        assert doc == _candle(0)
    finally:
        client.close()
