"""Candle sources: MongoDB in production, candle files and in-memory series otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from framework.errors import ConfigError
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
    """A ``mongodb://`` URI → the MongoDB source; a path → candle file(s).

    Several files are separated by commas. Any other ``scheme://`` is a `ConfigError`
    (a misspelt scheme, not a file to look for).
    """
    scheme, separator, _ = location.partition("://")
    if separator and scheme not in ("mongodb", "mongodb+srv"):
        raise ConfigError(
            f"candle source {scheme}://…: scheme must be mongodb or mongodb+srv "
            "(or give a candle file's path)"
        )
    if location.startswith(("mongodb://", "mongodb+srv://")):
        from framework.sources.mongo import MongoCandleSource

        return MongoCandleSource(
            location, database=database, collection=collection, instruments=instruments
        )
    return SeriesCandleSource.from_files(Path(part) for part in location.split(","))
