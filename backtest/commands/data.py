"""``parity data``: inspect and import candle files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from backtest._app import data_app
from framework.candles import CandleSeries
from framework.errors import DataError
from framework.loading import CandleFile

__all__ = ["Gaps", "find_gaps", "info", "summarize"]

_NS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True)
class Gaps:
    """Stretches without bars: a gap is a step between bar opens longer than one bar.

    ``largest_seconds`` runs from the close of the bar before the gap (``largest_from``)
    to the open of the bar after it (``largest_to``); both are ns since the epoch.
    """

    count: int
    largest_seconds: int
    largest_from: int | None
    largest_to: int | None


def find_gaps(series: CandleSeries) -> Gaps:
    """Count the gaps of ``series`` and find the largest.

    Examples
    --------
    >>> from framework.instruments import Instrument
    >>> from framework.timeframes import Timeframe
    >>> minute = 60 * 10**9
    >>> s = CandleSeries.create(Instrument("EURUSD", 5), Timeframe.M1,
    ...     time_ns=[0, minute, 5 * minute], open=[1] * 3, high=[1] * 3, low=[1] * 3,
    ...     close=[1] * 3, volume=[0] * 3)
    >>> find_gaps(s)
    Gaps(count=1, largest_seconds=180, largest_from=120000000000, largest_to=300000000000)
    """
    bar = series.timeframe.nanoseconds
    steps = np.diff(series.time_ns)
    count = int(np.count_nonzero(steps > bar))
    if count == 0:
        return Gaps(0, 0, None, None)
    at = int(np.argmax(steps))
    start = int(series.time_ns[at]) + bar
    end = int(series.time_ns[at + 1])
    return Gaps(count, (end - start) // _NS_PER_SECOND, start, end)


@data_app.command("info")
def info(
    path: Annotated[Path, typer.Argument(help="CSV, CSV.gz or Parquet candle file.")],
    symbol: Annotated[
        str | None, typer.Option(help="Symbol; default from the file's name.")
    ] = None,
    timeframe: Annotated[
        str | None, typer.Option(help="M1 M5 M15 M30 H1 H4 D1 W1; default from bar spacing.")
    ] = None,
    decimals: Annotated[
        int | None,
        typer.Option(help="Price decimals; default from the instrument table or the prices."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
) -> None:
    """Rows, symbol, timeframe, decimals, first and last bar, gaps, and validation."""
    try:
        loaded = CandleFile.load(path, symbol=symbol, timeframe=timeframe, decimals=decimals)
    except DataError as error:
        if as_json:
            typer.echo(json.dumps(_invalid(path, error)))
        raise
    summary = summarize(loaded)
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        Console().print(_table(summary))


def summarize(loaded: CandleFile) -> dict[str, Any]:
    """The facts ``parity data info`` reports, as JSON-ready values."""
    series = loaded.series
    gaps = find_gaps(series)
    return {
        "file": str(loaded.path),
        "valid": True,
        "rows": len(series),
        "symbol": series.symbol,
        "symbol_from": loaded.symbol_from,
        "timeframe": series.timeframe.name,
        "timeframe_from": loaded.timeframe_from,
        "decimals": series.decimals,
        "decimals_from": loaded.decimals_from,
        "start": _iso(int(series.time_ns[0])),
        "end": _iso(int(series.time_ns[-1])),
        "gaps": {
            "count": gaps.count,
            "largest_seconds": gaps.largest_seconds,
            "largest_from": None if gaps.largest_from is None else _iso(gaps.largest_from),
            "largest_to": None if gaps.largest_to is None else _iso(gaps.largest_to),
        },
    }


def _invalid(path: Path, error: DataError) -> dict[str, Any]:
    return {
        "file": str(path),
        "valid": False,
        "error": {
            "row": error.row,
            "line": error.line,
            "rule": error.rule,
            "message": str(error),
        },
    }


def _iso(time_ns: int) -> str:
    return pd.Timestamp(time_ns, tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _table(summary: dict[str, Any]) -> Table:
    gaps = summary["gaps"]
    largest = "none"
    if gaps["count"]:
        span = timedelta(seconds=gaps["largest_seconds"])
        largest = f"{span} ({gaps['largest_from']} → {gaps['largest_to']})"
    # Text, not markup: a path or a symbol may hold brackets.
    table = Table(title=Text(summary["file"]), show_header=False)
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("rows", f"{summary['rows']:,}"),
        ("symbol", f"{summary['symbol']} (from {summary['symbol_from']})"),
        ("timeframe", f"{summary['timeframe']} (from {summary['timeframe_from']})"),
        ("decimals", f"{summary['decimals']} (from {summary['decimals_from']})"),
        ("first bar", summary["start"]),
        ("last bar", summary["end"]),
        ("gaps", f"{gaps['count']:,}"),
        ("largest gap", largest),
    ]
    for name, value in rows:
        table.add_row(name, Text(value))
    table.add_row("validation", Text("valid", style="green"))
    return table
