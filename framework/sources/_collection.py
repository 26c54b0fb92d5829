"""The collection behind `MongoCandleSource`: connection, reads, validation, errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC
from typing import Any, TypeVar

import pymongo
import pymongo.errors
from bson.codec_options import CodecOptions, DatetimeConversion

from framework.candles import CandleSeries
from framework.errors import ParameterError
from framework.instruments import Instrument
from framework.sources._connection import MongoPolicy, open_client, redact_uri, source_error
from framework.sources._documents import MongoFields, series_of
from framework.state.urls import secrets_of
from framework.timeframes import Timeframe

__all__ = ["CandleCollection", "Instruments"]

T = TypeVar("T")
#: Symbol → instrument, as a mapping or a function (None: not known, use the table).
Instruments = Mapping[str, Instrument] | Callable[[str], Instrument | None]
# Times come back as integer milliseconds: exact, whatever the caller's client does
# with datetimes, and cheaper to convert than datetime objects.
_CODEC: CodecOptions[dict[str, Any]] = CodecOptions(
    tz_aware=True, tzinfo=UTC, datetime_conversion=DatetimeConversion.DATETIME_MS
)


class CandleCollection:
    """A candle collection: counted reads, validated series, one-line errors."""

    def __init__(
        self,
        client_or_uri: pymongo.MongoClient[dict[str, Any]] | str,
        *,
        database: str = "parity",
        collection: str = "candles",
        fields: MongoFields | None = None,
        instruments: Instruments | None = None,
        policy: MongoPolicy | None = None,
    ) -> None:
        if isinstance(client_or_uri, str):
            self.name = redact_uri(client_or_uri)
            self._secrets = secrets_of(client_or_uri)
            self._client = open_client(client_or_uri, policy or MongoPolicy())
            self._owned = True
        else:
            self._client, self._owned = client_or_uri, False
            self.name, self._secrets = "mongodb", ()
        raw = self._client[database][collection]
        self._collection = raw.with_options(codec_options=_CODEC)
        self.where = f"{database}.{collection}"
        self.fields = fields or MongoFields()
        self._given = instruments or {}
        self._instruments: dict[str, Instrument] = {}
        self.queries = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name}, {self.where})"

    def close(self) -> None:
        """Close the client if this source opened it."""
        if self._owned:
            self._client.close()

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _find(self, query: dict[str, Any], *, newest: int = 0) -> list[dict[str, Any]]:
        """Documents matching ``query``; with ``newest``, only the latest that many."""
        self.queries += 1

        def run() -> list[dict[str, Any]]:
            cursor = self._collection.find(query, self.fields.projection())
            if newest:
                cursor = cursor.sort(self.fields.time, pymongo.DESCENDING).limit(newest)
            return list(cursor)

        return self._call(run)

    def _sum_by_symbol(self, match: dict[str, Any], value: Any) -> dict[str, Any]:
        self.queries += 1
        pipeline = [
            {"$match": match},
            {"$group": {"_id": f"${self.fields.symbol}", "value": {"$sum": value}}},
        ]
        rows = self._call(lambda: list(self._collection.aggregate(pipeline)))
        return {row["_id"]: row["value"] for row in rows}

    def _series(
        self, symbol: str, timeframe: Timeframe, documents: Iterable[dict[str, Any]]
    ) -> CandleSeries:
        where = f"{self.name} {self.where} {symbol} {timeframe.name}"
        instrument = self._instrument(symbol)
        return series_of(list(documents), instrument, timeframe, self.fields, where=where)

    def _instrument(self, symbol: str) -> Instrument:
        known = self._instruments.get(symbol)
        if known is not None:
            return known
        given = self._given
        found = given.get(symbol) if isinstance(given, Mapping) else given(symbol)
        found = found or Instrument.lookup(symbol)
        if found is None:
            raise ParameterError(f"price decimals of {symbol} unknown: configure the instrument")
        self._instruments[symbol] = found
        return found

    def _call(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except pymongo.errors.PyMongoError as error:
            raise source_error(error, self.name, self._secrets) from None
