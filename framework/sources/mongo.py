"""Candles in MongoDB (or any MongoDB-wire server): incremental, batched, validated.

Documents look like ``{symbol, timeframe, time, open, high, low, close, volume}``
(field names configurable, see `MongoFields`), prices as the feed wrote them (floats,
quantized to the instrument's ticks on read), ``time`` a UTC datetime of the bar's
open. A unique index on (symbol, timeframe, time) keeps one document per bar.

Every read is validated like a candle file; a bad document raises `DataError` naming
the collection, the stream and the document. Connection failures and timeouts raise
`SourceError`: one line, password redacted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import pymongo.errors

from framework.candles import Candle, CandleSeries
from framework.errors import DataError, ParameterError
from framework.sources._collection import CandleCollection, Instruments
from framework.sources._connection import MongoPolicy, redact_uri, source_error
from framework.sources._documents import MongoFields, bson_time, number, time_ns_of
from framework.sources._queries import (
    after_watermarks,
    checksum_expression,
    checksum_ticks,
    lowest_watermarks,
)
from framework.sources._writes import plan_import
from framework.timeframes import Timeframe

__all__ = [
    "INDEX_NAME",
    "ImportResult",
    "Instruments",
    "MongoCandleSource",
    "MongoFields",
    "MongoPolicy",
    "redact_uri",
]

#: Name of the unique (symbol, timeframe, time) index `ensure_index` creates.
INDEX_NAME = "candle_bar"
_DUPLICATE_KEY = 11000


@dataclass(frozen=True)
class ImportResult:
    """What an import did: new bars, changed bars, bars already identical."""

    inserted: int
    updated: int
    unchanged: int


class MongoCandleSource(CandleCollection):
    """Reads and writes candles of many (symbol, timeframe) streams in one collection.

    Parameters
    ----------
    client_or_uri : MongoClient or str
        A client (its owner closes it), or a ``mongodb://`` URI (`close` closes it).
    database, collection : str
        Where the candles are.
    fields : MongoFields, optional
        Document field names.
    instruments : mapping or callable, optional
        Symbol → `Instrument` (price precision); symbols it lacks come from the
        bundled instrument table.
    policy : MongoPolicy, optional
        Connection timeouts, used when a URI is given.

    Attributes
    ----------
    queries : int
        Read round trips so far (finds and aggregations), for benchmarks.

    Examples
    --------
    >>> source = MongoCandleSource("mongodb://bot:pw@127.0.0.1:27017/")
    >>> source
    MongoCandleSource(mongodb://bot:***@127.0.0.1:27017/, parity.candles)
    >>> source.close()
    """

    # -- writing ----------------------------------------------------------------------

    def ensure_index(self) -> None:
        """Create the unique (symbol, timeframe, time) index if it is missing.

        A unique index on the same keys under another name counts: asking for a second
        one would be refused by the server.
        """
        f = self.fields
        keys = [(f.symbol, 1), (f.timeframe, 1), (f.time, 1)]
        existing = self._call(self._collection.index_information)
        if any(index["key"] == keys and index.get("unique") for index in existing.values()):
            return
        self._call(partial(self._collection.create_index, keys, unique=True, name=INDEX_NAME))

    def import_series(
        self,
        series: CandleSeries,
        *,
        batch_size: int = 5000,
        progress: Callable[[int], None] | None = None,
    ) -> ImportResult:
        """Write every bar of a validated series; importing twice changes nothing.

        New bars are inserted, changed ones updated, identical ones left alone, each
        kind in batches of ``batch_size``. Deciding costs one read of the stream's
        span: an upsert per bar would cost a collection scan per bar on servers
        without index pushdown (FerretDB: ~0.3 s per bar at 5,000 documents). A bar
        inserted concurrently by another writer falls back to an upsert. ``progress``
        is called with the number of bars each step settled (for a progress bar).
        """
        if batch_size < 1:
            raise ParameterError(f"batch_size must be ≥ 1, got {batch_size}")
        advance = progress or (lambda bars: None)
        plan = plan_import(series, self.fields, self._stored(series))
        advance(plan.unchanged)
        inserted, raced = 0, list[dict[str, Any]]()
        for start in range(0, len(plan.new), batch_size):
            batch = plan.new[start : start + batch_size]
            done, late = self._insert(batch)
            inserted, raced = inserted + done, raced + late
            advance(done)
        updated = unchanged = 0
        changes = plan.changes + [plan.upsert(document) for document in raced]
        for start in range(0, len(changes), batch_size):
            batch_changes = changes[start : start + batch_size]
            result = self._call(partial(self._collection.bulk_write, batch_changes, ordered=False))
            inserted += result.upserted_count
            updated += result.modified_count
            unchanged += result.matched_count - result.modified_count
            advance(len(batch_changes))
        return ImportResult(inserted, updated, plan.unchanged + unchanged)

    def _insert(self, documents: list[dict[str, Any]]) -> tuple[int, list[dict[str, Any]]]:
        """Insert; return the count and the documents another writer inserted first."""
        try:
            self._collection.insert_many(documents, ordered=False)
        except pymongo.errors.BulkWriteError as error:
            problems = error.details.get("writeErrors", [])
            if any(problem.get("code") != _DUPLICATE_KEY for problem in problems):
                raise source_error(error, self.name, self._secrets) from None
            raced = [documents[problem["index"]] for problem in problems]
            return len(documents) - len(raced), raced
        except pymongo.errors.PyMongoError as error:
            raise source_error(error, self.name, self._secrets) from None
        return len(documents), []

    def _stored(self, series: CandleSeries) -> dict[int, tuple[float | None, ...]]:
        """Values of the stream's bars already stored in the series' span, by time (ns)."""
        if len(series) == 0:
            return {}
        f = self.fields
        span = {
            "$gte": bson_time(int(series.time_ns[0])),
            "$lte": bson_time(int(series.time_ns[-1])),
        }
        query = {f.symbol: series.symbol, f.timeframe: series.timeframe.name, f.time: span}
        keys = (f.open, f.high, f.low, f.close, f.volume)
        stored: dict[int, tuple[float | None, ...]] = {}
        for document in self._find(query):
            time_ns = time_ns_of(document.get(f.time))
            if time_ns is not None:
                stored[time_ns] = tuple(number(document.get(key)) for key in keys)
        return stored

    # -- reading ----------------------------------------------------------------------

    def fetch_new(
        self,
        requests: Sequence[tuple[str, Timeframe, int | None]],
        *,
        now_ns: int,
        errors: dict[tuple[str, Timeframe], DataError] | None = None,
    ) -> dict[tuple[str, Timeframe], CandleSeries]:
        """Closed candles after each stream's watermark, sorted: one query per timeframe.

        A bar is closed when its open time plus the timeframe is at or before
        ``now_ns``; the bar still forming is never returned. A watermark of None means
        "from the first bar". A (symbol, timeframe) requested twice gets the bars after
        the lower of its watermarks.

        A bad document raises `DataError`; with an ``errors`` dict, the error is put
        there instead, under its stream, which is left out of the result, so that one
        stream's bad data does not stop the others.
        """
        by_timeframe: dict[Timeframe, list[tuple[str, int | None]]] = {}
        for symbol, timeframe, watermark in requests:
            by_timeframe.setdefault(timeframe, []).append((symbol, watermark))
        found: dict[tuple[str, Timeframe], CandleSeries] = {}
        for timeframe, wanted in by_timeframe.items():
            lowest = lowest_watermarks(wanted)
            query = self._closed(timeframe, now_ns, after_watermarks(lowest, self.fields))
            grouped: dict[str, list[dict[str, Any]]] = {symbol: [] for symbol in lowest}
            for document in self._find(query):
                owner = document.get(self.fields.symbol)
                if owner in grouped and _after(document, self.fields.time, lowest[owner]):
                    grouped[owner].append(document)
            for symbol, documents in grouped.items():
                try:
                    found[symbol, timeframe] = self._series(symbol, timeframe, documents)
                except DataError as error:
                    if errors is None:
                        raise
                    errors[symbol, timeframe] = error
        return found

    def history(
        self, symbol: str, timeframe: Timeframe, *, now_ns: int, limit: int | None = None
    ) -> CandleSeries:
        """Every closed candle of a stream (or its last ``limit``), oldest first."""
        query = self._closed(timeframe, now_ns, [{self.fields.symbol: symbol}])
        if limit is None:
            documents = self._find(query)
        elif limit < 0:
            raise ParameterError(f"limit must be ≥ 0, got {limit}")
        else:
            documents = self._find(query, newest=limit) if limit else []
        return self._series(symbol, timeframe, documents)

    def candle_at(self, symbol: str, timeframe: Timeframe, time_ns: int) -> Candle | None:
        """The stored bar that opens at ``time_ns``, validated, or None."""
        f = self.fields
        query = {f.symbol: symbol, f.timeframe: timeframe.name, f.time: bson_time(time_ns)}
        documents = self._find(query, newest=2)
        series = self._series(symbol, timeframe, documents)
        return series.candle(0) if len(series) else None

    def fingerprint(self, symbol: str, timeframe: Timeframe, *, upto_ns: int) -> tuple[int, int]:
        """(count, checksum) of a stream's bars opening at or before ``upto_ns``.

        Two aggregations computed by the server, nothing transferred but two numbers:
        the number of bars, and the sum over bars of ``open + 2·high + 3·low + 4·close``
        in ticks. A bar inserted, deleted or with any price rewritten changes it;
        volume is not covered. See `fingerprints` for many streams at once.
        """
        return self.fingerprints([(symbol, timeframe, upto_ns)])[symbol, timeframe]

    def fingerprints(
        self, requests: Sequence[tuple[str, Timeframe, int]]
    ) -> dict[tuple[str, Timeframe], tuple[int, int]]:
        """`fingerprint` of many streams: two aggregations per distinct (timeframe, upto).

        FerretDB 1.24 computes only the first accumulator of a ``$group`` (the others
        silently come back 0), so the count and the checksum are separate queries.
        """
        groups: dict[tuple[Timeframe, int], set[str]] = {}
        for symbol, timeframe, upto_ns in requests:
            groups.setdefault((timeframe, upto_ns), set()).add(symbol)
        f = self.fields
        found: dict[tuple[str, Timeframe], tuple[int, int]] = {}
        for (timeframe, upto_ns), symbols in groups.items():
            match = {
                f.timeframe: timeframe.name,
                f.symbol: {"$in": sorted(symbols)},
                f.time: {"$lte": bson_time(upto_ns)},
            }
            counts = self._sum_by_symbol(match, 1)
            sums = self._sum_by_symbol(match, checksum_expression(f))
            for symbol in symbols:
                scale = self._instrument(symbol).scale
                found[symbol, timeframe] = (
                    int(counts.get(symbol, 0)),
                    checksum_ticks(float(sums.get(symbol, 0)), scale),
                )
        return found

    # -- helpers ----------------------------------------------------------------------

    def _closed(
        self, timeframe: Timeframe, now_ns: int, clauses: list[dict[str, Any]]
    ) -> dict[str, Any]:
        f = self.fields
        closed = {"$lte": bson_time(now_ns - timeframe.nanoseconds)}
        query: dict[str, Any] = {f.timeframe: timeframe.name}
        if len(clauses) == 1:
            # One clause needs no $or: its bounds merge with the closed-bar bound.
            (clause,) = clauses
            query[f.symbol] = clause[f.symbol]
            query[f.time] = {**clause.get(f.time, {}), **closed}
        else:
            query[f.time] = closed
            query["$or"] = clauses
        return query


def _after(document: dict[str, Any], key: str, watermark_ns: int | None) -> bool:
    if watermark_ns is None:
        return True
    time_ns = time_ns_of(document.get(key))
    # A document without a usable time is kept, so that validation names it.
    return time_ns is None or time_ns > watermark_ns
