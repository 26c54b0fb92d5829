"""``parity data import``: load a candle file into MongoDB, idempotently."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from backtest._app import data_app
from backtest._inputs import DecimalsOption, JsonOption, SymbolOption, TimeframeOption, load_series
from framework.sources.mongo import MongoCandleSource

__all__ = ["import_file"]


@data_app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(help="CSV, CSV.gz or Parquet candle file.")],
    to: Annotated[str, typer.Option("--to", envvar="PARITY_MONGODB_URI", help="mongodb:// URI.")],
    database: Annotated[str, typer.Option("--db", help="Database.")] = "parity",
    collection: Annotated[str, typer.Option(help="Collection.")] = "candles",
    symbol: SymbolOption = None,
    timeframe: TimeframeOption = None,
    decimals: DecimalsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate the whole file, then insert new bars and update changed ones.

    A bad row stops the import before anything is written; importing the same file
    twice changes nothing.
    """
    series = load_series(path, symbol=symbol, timeframe=timeframe, decimals=decimals)
    source = MongoCandleSource(
        to,
        database=database,
        collection=collection,
        instruments={series.symbol: series.instrument},
    )
    try:
        source.ensure_index()
        result = source.import_series(series)
    finally:
        source.close()
    summary = {
        "file": str(path),
        "symbol": series.symbol,
        "timeframe": series.timeframe.name,
        "to": f"{source.name} {source.where}",
        **asdict(result),
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        Console().print(
            f"{series.symbol} {series.timeframe.name} → {summary['to']}: "
            f"{result.inserted:,} inserted, {result.updated:,} updated, "
            f"{result.unchanged:,} unchanged"
        )
