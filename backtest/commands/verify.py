"""``parity verify``: prove the incremental path equals the full path on a dataset."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from backtest._app import app
from backtest._inputs import (
    DataOption,
    DecimalsOption,
    JsonOption,
    ParamOption,
    StrategyOption,
    SymbolOption,
    TimeframeOption,
    build_strategy,
    load_series,
    progress_bar,
)
from backtest.parity import VerifyReport, parse_chunking, verify
from framework.state import open_store

__all__ = ["verify_command"]

EXIT_DIVERGED = 1


@app.command("verify")
def verify_command(
    strategy: StrategyOption,
    data: DataOption,
    symbol: SymbolOption = None,
    timeframe: TimeframeOption = None,
    decimals: DecimalsOption = None,
    param: ParamOption = None,
    chunks: Annotated[
        str,
        typer.Option(help="Candles per cycle: live (1-5, as in production), random, or N."),
    ] = "live",
    restarts: Annotated[
        int, typer.Option(help="Restarts at random points: all memory dropped, state reloaded.")
    ] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the chunking and restart points.")] = 0,
    store: Annotated[
        str,
        typer.Option(
            envvar="PARITY_REDIS_URL",
            help="State store: memory (embedded) or a redis:// / rediss:// URL.",
        ),
    ] = "memory",
    as_json: JsonOption = False,
) -> None:
    """Replay the data through the full and the incremental path and compare every bar.

    Exits 1 at the first difference in any indicator value or signal.
    """
    chunking = parse_chunking(chunks)
    chosen = build_strategy(strategy, param)
    series = load_series(data, symbol=symbol, timeframe=timeframe, decimals=decimals)
    with (
        open_store(store) as state_store,
        progress_bar("verifying", len(series), quiet=as_json) as advance,
    ):
        report = verify(
            chosen,
            series,
            state_store,
            chunking=chunking,
            restarts=restarts,
            seed=seed,
            progress=advance,
        )
    if report.restarts < restarts:
        # Restart points are the boundaries between chunks: one fewer than the chunks.
        Console(stderr=True, soft_wrap=True).print(
            f"note: --restarts {restarts:,} capped to {report.restarts:,}, one at each "
            f"boundary between the {report.chunks:,} chunks",
            highlight=False,
        )
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
    else:
        Console().print(report_table(report))
    if not report.ok:
        raise typer.Exit(EXIT_DIVERGED)


def report_table(report: VerifyReport) -> Table:
    """The verification as a Rich table, with the first divergence if any."""
    verdict = "[bold green]IDENTICAL[/]" if report.ok else "[bold red]DIVERGED[/]"
    table = Table(title=f"parity verify: {report.strategy} on {report.symbol} {report.timeframe}")
    table.add_column("check")
    table.add_column("result", justify="right")
    rows = [
        ("candles", f"{report.candles:,}"),
        (
            "signals (full / incremental)",
            f"{report.signals_full:,} / {report.signals_incremental:,}",
        ),
        ("chunks / restarts", f"{report.chunks:,} / {report.restarts:,}"),
        ("store", report.store),
        (
            "seconds (full / incremental)",
            f"{report.seconds_full:.3f} / {report.seconds_incremental:.3f}",
        ),
        ("differing values and signals", f"{report.mismatches:,}"),
        ("verdict", verdict),
    ]
    first = report.first_mismatch
    if first is not None:
        rows.append(
            (
                "first difference",
                f"bar {first.index} ({first.time}) {first.series}: "
                f"full={first.full!r} incremental={first.incremental!r}",
            )
        )
    for row in rows:
        table.add_row(*row)
    return table
