"""Candle sources: MongoDB in production, candle files and in-memory series otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from framework.sources.series import SeriesCandleSource

if TYPE_CHECKING:
    from framework.instruments import Instrument
    from framework.processor import CandleSource

__all__ = ["SeriesCandleSource", "open_source"]


def open_source(
    location: str,
    *,
    database: str = "parity",
    collection: str = "candles",
    instruments: Mapping[str, Instrument] | None = None,
) -> CandleSource:
    """A ``mongodb://`` URI → the MongoDB source; anything else → candle file(s).

    Several files are separated by commas.
    """
    if location.startswith(("mongodb://", "mongodb+srv://")):
        from framework.sources.mongo import MongoCandleSource

        return MongoCandleSource(
            location, database=database, collection=collection, instruments=instruments
        )
    return SeriesCandleSource.from_files(Path(part) for part in location.split(","))
