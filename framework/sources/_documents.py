"""Candle documents: field names, BSON times, and validation of what a collection holds.

A document is ``{symbol, timeframe, time, open, high, low, close, volume}``: prices as
floats (as feeds write them), ``time`` a BSON datetime of the bar's open (UTC,
milliseconds). Reading quantizes prices to the instrument's ticks and validates like a
file does; a bad document is a `DataError` naming the stream and the document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
from bson.datetime_ms import DatetimeMS
from bson.decimal128 import Decimal128

from framework.candles import CandleSeries
from framework.errors import DataError, ParameterError
from framework.instruments import Instrument
from framework.timeframes import Timeframe

__all__ = ["PRICES", "MongoFields", "bson_time", "documents_of", "series_of", "time_ns_of"]

_NS_PER_MS = 1_000_000
#: Price columns in the order a document's values are compared and written.
PRICES = ("open", "high", "low", "close")


@dataclass(frozen=True)
class MongoFields:
    """Names of the document fields, for collections written by another feed.

    Examples
    --------
    >>> MongoFields(time="t").time, MongoFields().close
    ('t', 'close')
    >>> MongoFields(open="price", close="price")
    Traceback (most recent call last):
    ...
    framework.errors.ParameterError: MongoDB field names must be distinct: 'price' is used twice
    """

    symbol: str = "symbol"
    timeframe: str = "timeframe"
    time: str = "time"
    open: str = "open"
    high: str = "high"
    low: str = "low"
    close: str = "close"
    volume: str = "volume"

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for role in fields(self):
            name = getattr(self, role.name)
            # '$' starts an operator, '.' a path into a sub-document, and _id is the key.
            if not isinstance(name, str) or not name or name[0] == "$" or "." in name:
                raise ParameterError(f"MongoDB field for {role.name} is not a plain name: {name!r}")
            if name == "_id":
                raise ParameterError(f"MongoDB field for {role.name} cannot be _id")
            if name in seen:
                raise ParameterError(
                    f"MongoDB field names must be distinct: {name!r} is used twice"
                )
            seen.add(name)

    def projection(self) -> dict[str, int]:
        """The fields a read needs (``_id`` comes too, to name a bad document)."""
        return {getattr(self, role.name): 1 for role in fields(self)}


def bson_time(time_ns: int) -> DatetimeMS:
    """A bar-open time as a BSON datetime; bars open on whole minutes, so nothing is lost.

    Examples
    --------
    >>> int(bson_time(1_768_486_500_000_000_000))
    1768486500000
    """
    return DatetimeMS(time_ns // _NS_PER_MS)


def time_ns_of(value: Any) -> int | None:
    """ns since the epoch of a BSON datetime as read back, or None if ``value`` is not one."""
    if isinstance(value, DatetimeMS):
        return int(value) * _NS_PER_MS
    return None


def documents_of(series: CandleSeries, names: MongoFields) -> list[dict[str, Any]]:
    """One document per bar, prices as the floats nearest to their ticks."""
    columns = [series.prices(price).tolist() for price in PRICES]
    rows = zip(series.time_ns.tolist(), *columns, series.volume.tolist(), strict=True)
    keys = (names.open, names.high, names.low, names.close, names.volume)
    return [
        {
            names.symbol: series.symbol,
            names.timeframe: series.timeframe.name,
            names.time: bson_time(time_ns),
            **dict(zip(keys, values, strict=True)),
        }
        for time_ns, *values in rows
    ]


def number(value: Any) -> float | None:
    """A stored price or volume as a float, or None if it is not a number."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, Decimal128):
        return float(value.to_decimal())
    if isinstance(value, Decimal):
        return float(value)
    return None


def series_of(
    documents: Sequence[dict[str, Any]],
    instrument: Instrument,
    timeframe: Timeframe,
    names: MongoFields,
    *,
    where: str,
) -> CandleSeries:
    """Validate stored documents of one stream into a series sorted by time.

    ``where`` names the collection and stream in errors. A missing or non-numeric
    price, a price off the tick grid, or a broken candle rule raises `DataError`
    naming the document's time and ``_id``.
    """
    times = np.empty(len(documents), dtype=np.int64)
    values = np.empty((len(documents), len(PRICES) + 1), dtype=np.float64)
    keys = (names.open, names.high, names.low, names.close, names.volume)
    for row, document in enumerate(documents):
        time_ns = time_ns_of(document.get(names.time))
        if time_ns is None:
            raise _bad(document, f"{names.time} is not a date", names, where)
        times[row] = time_ns
        for column, key in enumerate(keys):
            found = number(document.get(key))
            if found is None:
                # No volume at all is common in price-only feeds; files read it as 0 too.
                if key == names.volume and key not in document:
                    found = 0.0
                else:
                    raise _bad(document, f"{key} is missing or not a number", names, where)
            values[row, column] = found
    # Sorted here, not by the server: an unindexed server sort is slow, and a big one
    # may exceed its memory limit.
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    ordered = [documents[int(i)] for i in order]
    ticks = [_ticks(instrument, values[:, c], keys[c], ordered, names, where) for c in range(4)]
    try:
        return CandleSeries.create(
            instrument,
            timeframe,
            time_ns=times,
            open=ticks[0],
            high=ticks[1],
            low=ticks[2],
            close=ticks[3],
            volume=values[:, 4],
        )
    except DataError as error:
        if error.row is None:
            raise DataError(error.rule, source=where) from None
        # The rule names the bar's time already; the document adds its _id.
        rule = error.rule.split(" (bar ")[0]
        raise _bad(ordered[error.row - 1], rule, names, where) from None


def _ticks(
    instrument: Instrument,
    prices: npt.NDArray[np.float64],
    key: str,
    documents: Sequence[dict[str, Any]],
    names: MongoFields,
    where: str,
) -> npt.NDArray[np.int64]:
    try:
        return instrument.to_ticks(prices)
    except DataError as error:
        row = 1 if error.row is None else error.row
        raise _bad(documents[row - 1], f"{key} {error.rule}", names, where) from None


def _bad(document: dict[str, Any], rule: str, names: MongoFields, where: str) -> DataError:
    time_ns = time_ns_of(document.get(names.time))
    when = "" if time_ns is None else f"time {_iso(time_ns)}, "
    return DataError(f"document {when}_id {document.get('_id')!r}: {rule}", source=where)


def _iso(time_ns: int) -> str:
    return str(np.datetime64(time_ns, "ns").astype("datetime64[s]")) + "Z"
