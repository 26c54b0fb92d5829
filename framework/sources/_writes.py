"""Planning an idempotent import: which bars are new, which changed, which are identical."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo import UpdateOne

from framework.candles import CandleSeries
from framework.sources._documents import MongoFields, documents_of, time_ns_of

__all__ = ["ImportPlan", "plan_import"]

Stored = Mapping[int, tuple[float | None, ...]]


@dataclass
class ImportPlan:
    """Documents to insert, updates to apply, and how many bars are already stored as is."""

    names: MongoFields
    new: list[dict[str, Any]] = field(default_factory=list)
    changes: list[UpdateOne] = field(default_factory=list)
    unchanged: int = 0

    def key(self, document: dict[str, Any]) -> dict[str, Any]:
        """The (symbol, timeframe, time) filter of a document's bar."""
        f = self.names
        return {name: document[name] for name in (f.symbol, f.timeframe, f.time)}

    def values(self, document: dict[str, Any]) -> dict[str, Any]:
        """A document's prices and volume."""
        f = self.names
        return {name: document[name] for name in (f.open, f.high, f.low, f.close, f.volume)}

    def update(self, document: dict[str, Any]) -> UpdateOne:
        """Overwrite the stored bar's values with the document's."""
        return UpdateOne(self.key(document), {"$set": self.values(document)})

    def upsert(self, document: dict[str, Any]) -> UpdateOne:
        """Like `update`, inserting the bar if it is missing."""
        return UpdateOne(self.key(document), {"$set": self.values(document)}, upsert=True)


def plan_import(series: CandleSeries, names: MongoFields, stored: Stored) -> ImportPlan:
    """Compare a series with what is stored (time ns → values, None if not a number).

    A stored bar is unchanged when each value is exactly the float the import would
    write (the nearest float to the tick). A feed's noisy ``1.1791800000000001`` is
    therefore rewritten once as ``1.17918``; importing again then changes nothing.

    Examples
    --------
    >>> from framework.instruments import Instrument
    >>> from framework.timeframes import Timeframe
    >>> s = CandleSeries.create(Instrument("EURUSD", 5), Timeframe.M15,
    ...     time_ns=[0, 900 * 10**9, 1800 * 10**9], open=[117918] * 3, high=[117920] * 3,
    ...     low=[117910] * 3, close=[117919] * 3, volume=[1.0] * 3)
    >>> same = (1.17918, 1.1792, 1.1791, 1.17919, 1.0)
    >>> plan = plan_import(s, MongoFields(), {0: same, 900 * 10**9: (1.1791800000000001,
    ...     *same[1:])})
    >>> len(plan.new), len(plan.changes), plan.unchanged
    (1, 1, 1)
    """
    plan = ImportPlan(names)
    keys = (names.open, names.high, names.low, names.close, names.volume)
    for document in documents_of(series, names):
        time_ns = time_ns_of(document[names.time])
        current = None if time_ns is None else stored.get(time_ns)
        if current is None:
            plan.new.append(document)
        elif current != tuple(document[key] for key in keys):
            plan.changes.append(plan.update(document))
        else:
            plan.unchanged += 1
    return plan
