"""``parity data import``: load a candle file into MongoDB, idempotently."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from backtest._app import data_app
from backtest._inputs import (
    DecimalsOption,
    JsonOption,
    SymbolOption,
    TimeframeOption,
    load_series,
    progress_bar,
)
from framework.candles import CandleSeries
from framework.sources.mongo import ImportResult, MongoCandleSource

__all__ = ["import_file"]

#: Environment variable holding the default ``--to`` URI.
URI_ENV = "PARITY_MONGODB_URI"


@data_app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(help="CSV, CSV.gz or Parquet candle file.")],
    to: Annotated[
        str,
        typer.Option(
            "--to",
            envvar=URI_ENV,
            show_envvar=True,
            help="mongodb:// URI (user:password@host:port, options as query parameters).",
        ),
    ],
    database: Annotated[
        str, typer.Option("--database", "--db", help="Database (as in `parity live`).")
    ] = "parity",
    collection: Annotated[str, typer.Option(help="Collection.")] = "candles",
    symbol: SymbolOption = None,
    timeframe: TimeframeOption = None,
    decimals: DecimalsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate the whole file, then insert new bars and update changed ones.

    A bad row stops the import before anything is written; importing the same file
    twice changes nothing. Creates the unique (symbol, timeframe, time) index.
    """
    series = load_series(path, symbol=symbol, timeframe=timeframe, decimals=decimals)
    source = MongoCandleSource(
        to, database=database, collection=collection, instruments={series.symbol: series.instrument}
    )
    with source:
        source.ensure_index()
        result = _write(source, series, quiet=as_json)
    summary = _summary(path, series, source, result)
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        Console(soft_wrap=True).print(
            f"{series.symbol} {series.timeframe.name} → {summary['to']}: "
            f"{result.inserted:,} inserted, {result.updated:,} updated, "
            f"{result.unchanged:,} unchanged",
            highlight=False,
        )


def _write(source: MongoCandleSource, series: CandleSeries, *, quiet: bool) -> ImportResult:
    with progress_bar(f"importing {series.symbol}", len(series), quiet=quiet) as advance:
        return source.import_series(series, progress=advance)


def _summary(
    path: Path, series: CandleSeries, source: MongoCandleSource, result: ImportResult
) -> dict[str, Any]:
    return {
        "file": str(path),
        "symbol": series.symbol,
        "timeframe": series.timeframe.name,
        "to": f"{source.name} {source.where}",
        **asdict(result),
    }
