"""Query shapes that stay fast on MongoDB and on the MongoDB-wire test server (FerretDB).

Measured on FerretDB 1.24 (SQLite backend), which filters every query by scanning the
whole collection: an ``$or`` costs about one extra scan per 15 clauses, so one clause
per stream is out of the question (100 clauses over 10,000 documents: 6 s; 1,000
clauses: over two minutes), while ``symbol: {$in: [1,000 symbols]}`` costs about one
scan. Streams are therefore grouped by watermark — in a steady live cycle every stream
of a timeframe has the same one — into at most `MAX_OR_CLAUSES` clauses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from framework.candles import CandleSeries
from framework.sources._documents import MongoFields, bson_time

__all__ = [
    "CHECKSUM_WEIGHTS",
    "MAX_OR_CLAUSES",
    "after_watermarks",
    "checksum_expression",
    "checksum_ticks",
    "lowest_watermarks",
    "series_fingerprint",
]

#: Upper bound on ``$or`` clauses per query. When streams have more distinct watermarks,
#: neighbouring ones share a clause at the lowest of them and the extra bars are
#: dropped client-side.
MAX_OR_CLAUSES = 4
#: Weight of each price in the checksum, so that opposite changes to two prices of one
#: bar (high up a tick, low down a tick) do not cancel.
CHECKSUM_WEIGHTS = {"open": 1, "high": 2, "low": 3, "close": 4}


def lowest_watermarks(wanted: Sequence[tuple[str, int | None]]) -> dict[str, int | None]:
    """Each symbol's lowest watermark (None, "from the first bar", is the lowest).

    Examples
    --------
    >>> lowest_watermarks([("A", 5), ("B", None), ("A", 3), ("B", 7)])
    {'A': 3, 'B': None}
    """
    lowest: dict[str, int | None] = {}
    for symbol, watermark in wanted:
        if symbol not in lowest:
            lowest[symbol] = watermark
        else:
            current = lowest[symbol]
            lowest[symbol] = (
                None if current is None or watermark is None else min(current, watermark)
            )
    return lowest


def after_watermarks(
    lowest: dict[str, int | None], names: MongoFields, *, max_clauses: int = MAX_OR_CLAUSES
) -> list[dict[str, Any]]:
    """Clauses that select, at least, each symbol's documents after its watermark.

    Examples
    --------
    >>> after_watermarks({"A": 10**9, "B": 10**9, "C": None}, MongoFields())
    [{'symbol': {'$in': ['C']}}, {'symbol': {'$in': ['A', 'B']}, 'time': {'$gt': DatetimeMS(1000)}}]
    >>> len(after_watermarks({str(i): i * 10**6 for i in range(100)}, MongoFields()))
    4
    """
    by_mark: dict[int, list[str]] = {}
    clauses: list[dict[str, Any]] = []
    unbounded = sorted(symbol for symbol, mark in lowest.items() if mark is None)
    if unbounded:
        clauses.append({names.symbol: {"$in": unbounded}})
    for symbol, mark in lowest.items():
        if mark is not None:
            by_mark.setdefault(mark, []).append(symbol)
    if not by_mark:
        return clauses
    budget = max(1, max_clauses - len(clauses))
    for chunk in np.array_split(np.array(sorted(by_mark), dtype=np.int64), budget):
        if chunk.size:
            symbols = sorted(symbol for mark in chunk.tolist() for symbol in by_mark[mark])
            # $gt on the millisecond floor is exact: stored times are whole milliseconds.
            floor = bson_time(int(chunk[0]))
            clauses.append({names.symbol: {"$in": symbols}, names.time: {"$gt": floor}})
    return clauses


def checksum_expression(names: MongoFields) -> dict[str, Any]:
    """Per document, ``open + 2·high + 3·low + 4·close``, with the operators FerretDB has.

    FerretDB 1.24 lacks ``$multiply`` and ``$add``; ``$sum`` over an array of field
    references is both, so each weight is a repetition.
    """
    terms = [
        f"${getattr(names, price)}"
        for price, weight in CHECKSUM_WEIGHTS.items()
        for _ in range(weight)
    ]
    return {"$sum": terms}


def checksum_ticks(total: float, scale: int) -> int:
    """The server's float checksum in ticks.

    Rounding to ticks makes the result independent of the order in which the server
    summed, as long as the accumulated float error stays under half a tick — about
    ``(10·n)² · 2⁻⁵³ · price · 10^decimals`` in the worst case: 0.2 ticks for 12,000
    EURUSD bars; realistic errors are orders of magnitude smaller. Beyond that bound a
    server that changes its summation order could change the checksum of unchanged
    data, which costs a rebuild, never a missed change.

    Examples
    --------
    >>> checksum_ticks(0.1 + 0.2, 10**5)
    30000
    """
    return round(total * scale)


def series_fingerprint(series: CandleSeries, upto_ns: int) -> tuple[int, int]:
    """(count, checksum) of the bars opening at or before ``upto_ns``, computed locally.

    The same definition as `MongoCandleSource.fingerprint`, exact in integers.

    Examples
    --------
    >>> from framework.instruments import Instrument
    >>> from framework.timeframes import Timeframe
    >>> s = CandleSeries.create(Instrument("EURUSD", 5), Timeframe.M15,
    ...     time_ns=[0, 900 * 10**9], open=[10, 20], high=[12, 22], low=[9, 19],
    ...     close=[11, 21], volume=[0, 0])
    >>> series_fingerprint(s, upto_ns=0)
    (1, 105)
    """
    end = int(np.searchsorted(series.time_ns, upto_ns, side="right"))
    checksum = sum(
        int(getattr(series, price)[:end].sum()) * weight
        for price, weight in CHECKSUM_WEIGHTS.items()
    )
    return end, checksum
