"""Candles in MongoDB (or any MongoDB-wire server): incremental, batched, validated.

Documents look like ``{symbol, timeframe, time, open, high, low, close, volume}``
(field names configurable), prices as the feed wrote them (floats, quantized to the
instrument's ticks on read), ``time`` a UTC datetime of the bar's open. A unique index
on (symbol, timeframe, time) keeps one document per bar.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import numpy as np
import pymongo
import pymongo.errors
from pymongo import UpdateOne

from framework.candles import CandleSeries
from framework.errors import ParameterError, SourceError
from framework.instruments import Instrument
from framework.timeframes import Timeframe

__all__ = ["ImportResult", "MongoCandleSource", "MongoFields", "MongoPolicy", "redact_uri"]

_NS_PER_MS = 1_000_000
T = TypeVar("T")


@dataclass(frozen=True)
class MongoFields:
    """Names of the document fields, for collections written by another feed."""

    symbol: str = "symbol"
    timeframe: str = "timeframe"
    time: str = "time"
    open: str = "open"
    high: str = "high"
    low: str = "low"
    close: str = "close"
    volume: str = "volume"


@dataclass(frozen=True)
class MongoPolicy:
    """Timeouts of the MongoDB connection, in seconds."""

    server_selection_timeout_s: float = 2.0
    connect_timeout_s: float = 2.0
    socket_timeout_s: float = 10.0


@dataclass(frozen=True)
class ImportResult:
    """What an import did: new bars, changed bars, bars already identical."""

    inserted: int
    updated: int
    unchanged: int


def redact_uri(uri: str) -> str:
    """The URI with any password replaced by ``***``.

    Examples
    --------
    >>> redact_uri("mongodb://alice:s3cret@db.example:27017/parity")
    'mongodb://alice:***@db.example:27017/parity'
    """
    return re.sub(r"^(mongodb(?:\+srv)?://[^:/@]*):[^@/]*@", r"\1:***@", uri)


class MongoCandleSource:
    """Reads and writes candles of many (symbol, timeframe) streams in one collection.

    Parameters
    ----------
    client_or_uri : MongoClient or str
        A connected client, or a ``mongodb://`` URI.
    database, collection : str
        Where the candles are.
    fields : MongoFields
        Document field names.
    instruments : mapping of symbol to Instrument, optional
        Price precision per symbol; symbols not given come from the bundled table.
    policy : MongoPolicy
        Connection timeouts.
    """

    def __init__(
        self,
        client_or_uri: pymongo.MongoClient[dict[str, Any]] | str,
        *,
        database: str = "parity",
        collection: str = "candles",
        fields: MongoFields | None = None,
        instruments: Mapping[str, Instrument] | None = None,
        policy: MongoPolicy | None = None,
    ) -> None:
        policy = policy or MongoPolicy()
        if isinstance(client_or_uri, str):
            self.name = redact_uri(client_or_uri)
            try:
                self._client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
                    client_or_uri,
                    tz_aware=True,
                    tzinfo=UTC,
                    serverSelectionTimeoutMS=int(policy.server_selection_timeout_s * 1000),
                    connectTimeoutMS=int(policy.connect_timeout_s * 1000),
                    socketTimeoutMS=int(policy.socket_timeout_s * 1000),
                )
            except (pymongo.errors.PyMongoError, ValueError) as error:
                raise SourceError(f"candle source {self.name}: {_first_line(error)}") from None
        else:
            self._client = client_or_uri
            self.name = "mongodb"
        self._collection = self._client[database][collection]
        self.where = f"{database}.{collection}"
        self.fields = fields or MongoFields()
        self._instruments = dict(instruments or {})
        self.queries = 0

    def __repr__(self) -> str:
        return f"MongoCandleSource({self.name}, {self.where})"

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()

    def ensure_index(self) -> None:
        """Create the unique (symbol, timeframe, time) index if it is missing."""
        f = self.fields
        keys = [(f.symbol, 1), (f.timeframe, 1), (f.time, 1)]
        self._call(lambda: self._collection.create_index(keys, unique=True, name="candle_bar"))

    def import_series(self, series: CandleSeries, *, batch_size: int = 5000) -> ImportResult:
        """Write every bar of a validated series; importing twice changes nothing.

        Bars already stored with the same values are left alone, changed ones are
        updated, new ones inserted — each kind in batched requests, so a re-import of
        a large file costs one read and no writes.
        """
        f = self.fields
        symbol, timeframe = series.symbol, series.timeframe.name
        names = [f.open, f.high, f.low, f.close, f.volume]
        values = [series.prices(name).tolist() for name in ("open", "high", "low", "close")]
        rows = list(
            zip(
                series.times().to_pydatetime().tolist(),
                *values,
                series.volume.tolist(),
                strict=True,
            )
        )
        stored = self._stored(symbol, timeframe, series)
        documents: list[dict[str, Any]] = []
        changes: list[UpdateOne] = []
        for moment, *prices in rows:
            current = stored.get(_ns(moment))
            fields = dict(zip(names, prices, strict=True))
            if current is None:
                documents.append(
                    {f.symbol: symbol, f.timeframe: timeframe, f.time: moment, **fields}
                )
            elif current != tuple(prices):
                key = {f.symbol: symbol, f.timeframe: timeframe, f.time: moment}
                changes.append(UpdateOne(key, {"$set": fields}))
        for start in range(0, len(documents), batch_size):
            inserts = documents[start : start + batch_size]
            self._call(partial(self._collection.insert_many, inserts, ordered=False))
        for start in range(0, len(changes), batch_size):
            updates = changes[start : start + batch_size]
            self._call(partial(self._collection.bulk_write, updates, ordered=False))
        return ImportResult(len(documents), len(changes), len(rows) - len(documents) - len(changes))

    def _stored(
        self, symbol: str, timeframe: str, series: CandleSeries
    ) -> dict[int, tuple[float, ...]]:
        """Bars of the stream already stored within the series' span: time ns → values."""
        if len(series) == 0:
            return {}
        f = self.fields
        span = {
            "$gte": _datetime(int(series.time_ns[0])),
            "$lte": _datetime(int(series.time_ns[-1])),
        }
        query = {f.symbol: symbol, f.timeframe: timeframe, f.time: span}
        names = (f.open, f.high, f.low, f.close, f.volume)
        return {
            _ns(document[f.time]): tuple(float(document.get(name, 0.0)) for name in names)
            for document in self._find(query)
        }

    def fetch_new(
        self, requests: Sequence[tuple[str, Timeframe, int | None]], *, now_ns: int
    ) -> dict[tuple[str, Timeframe], CandleSeries]:
        """Closed candles after each stream's watermark: one query per timeframe.

        A bar is closed when its open time plus the timeframe is at or before ``now_ns``.
        """
        f = self.fields
        by_timeframe: dict[Timeframe, list[tuple[str, int | None]]] = {}
        for symbol, timeframe, watermark in requests:
            by_timeframe.setdefault(timeframe, []).append((symbol, watermark))
        found: dict[tuple[str, Timeframe], CandleSeries] = {}
        for timeframe, wanted in by_timeframe.items():
            clauses = [
                {f.symbol: symbol}
                if watermark is None
                else {f.symbol: symbol, f.time: {"$gt": _datetime(watermark)}}
                for symbol, watermark in wanted
            ]
            query = {
                f.timeframe: timeframe.name,
                f.time: {"$lte": _datetime(now_ns - timeframe.nanoseconds)},
                "$or": clauses,
            }
            documents = self._find(query)
            grouped: dict[str, list[dict[str, Any]]] = {symbol: [] for symbol, _ in wanted}
            for document in documents:
                grouped.setdefault(document[f.symbol], []).append(document)
            for symbol, _ in wanted:
                found[symbol, timeframe] = self._series(symbol, timeframe, grouped[symbol])
        return found

    def history(
        self, symbol: str, timeframe: Timeframe, *, now_ns: int, limit: int | None = None
    ) -> CandleSeries:
        """Every closed candle of a stream (or its last ``limit``), oldest first."""
        f = self.fields
        query = {
            f.symbol: symbol,
            f.timeframe: timeframe.name,
            f.time: {"$lte": _datetime(now_ns - timeframe.nanoseconds)},
        }
        if limit is None:
            documents = self._find(query)
        else:
            documents = self._find(query, descending=True, limit=limit)[::-1]
        return self._series(symbol, timeframe, documents)

    def _find(
        self, query: dict[str, Any], *, descending: bool = False, limit: int = 0
    ) -> list[dict[str, Any]]:
        f = self.fields
        order = pymongo.DESCENDING if descending else pymongo.ASCENDING
        projection = {
            "_id": 0,
            f.symbol: 1,
            f.time: 1,
            f.open: 1,
            f.high: 1,
            f.low: 1,
            f.close: 1,
            f.volume: 1,
        }
        self.queries += 1
        return self._call(
            lambda: list(self._collection.find(query, projection).sort(f.time, order).limit(limit))
        )

    def _series(
        self, symbol: str, timeframe: Timeframe, documents: list[dict[str, Any]]
    ) -> CandleSeries:
        f = self.fields
        instrument = self._instrument(symbol)
        where = f"{self.name} {self.where} {symbol} {timeframe.name}"
        try:
            times = [_ns(document[f.time]) for document in documents]
            columns = {
                name: [document[getattr(f, name)] for document in documents]
                for name in ("open", "high", "low", "close")
            }
            volume = [document.get(f.volume, 0.0) for document in documents]
        except (KeyError, TypeError, AttributeError) as error:
            raise SourceError(
                f"{where}: a document lacks a field or has a bad time: {error}"
            ) from None
        ticks = [
            instrument.to_ticks(np.asarray(columns[name], dtype=np.float64), source=where)
            for name in ("open", "high", "low", "close")
        ]
        return CandleSeries.create(
            instrument,
            timeframe,
            time_ns=np.asarray(times, dtype=np.int64),
            open=ticks[0],
            high=ticks[1],
            low=ticks[2],
            close=ticks[3],
            volume=volume,
            source=where,
        )

    def _instrument(self, symbol: str) -> Instrument:
        if symbol in self._instruments:
            return self._instruments[symbol]
        known = Instrument.lookup(symbol)
        if known is None:
            raise ParameterError(f"price decimals of {symbol} unknown: configure the instrument")
        self._instruments[symbol] = known
        return known

    def _call(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except pymongo.errors.PyMongoError as error:
            raise SourceError(f"candle source {self.name}: {_first_line(error)}") from None


def _datetime(time_ns: int) -> datetime:
    # BSON datetimes hold milliseconds; bar times are whole minutes, so nothing is lost.
    return datetime.fromtimestamp(time_ns // _NS_PER_MS / 1000, tz=UTC)


def _ns(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000) * _NS_PER_MS


def _first_line(error: Exception) -> str:
    if isinstance(error, pymongo.errors.BulkWriteError):
        problems = error.details.get("writeErrors", [])
        first = problems[0]["errmsg"] if problems else "unknown"
        return f"{len(problems)} write error(s), first: {first}"
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text.split(" (configured timeouts")[0].split(", Timeout:")[0]
