"""``parity backtest``: signals, trades and statistics on a dataset, parity-checked."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from backtest._app import app
from backtest._display import human
from backtest._inputs import (
    DataOption,
    DecimalsOption,
    JsonOption,
    ParamOption,
    StrategyOption,
    SymbolOption,
    TimeframeOption,
    build_strategy,
    check_output_path,
    load_series,
    progress_bar,
    writing,
)
from backtest.commands.verify import EXIT_DIVERGED, report_table
from backtest.parity import VerifyReport, verify
from backtest.report import write_report
from backtest.simulation import (
    Mode,
    Simulation,
    SimulationSettings,
    simulate,
    write_trades_csv,
)
from backtest.stats import Stats, compute_stats
from framework.candles import CandleSeries
from framework.engine import run_full
from framework.strategy import Strategy

__all__ = ["backtest_command"]


@app.command("backtest")
def backtest_command(
    strategy: StrategyOption,
    data: DataOption,
    symbol: SymbolOption = None,
    timeframe: TimeframeOption = None,
    decimals: DecimalsOption = None,
    param: ParamOption = None,
    cash: Annotated[float, typer.Option(help="Starting equity.")] = 10_000.0,
    commission: Annotated[
        float, typer.Option(help="Fraction of traded value paid per fill (0.0002 = 2 bp).")
    ] = 0.0,
    spread: Annotated[
        float, typer.Option(help="Bid/ask spread in price units; each fill pays half.")
    ] = 0.0,
    mode: Annotated[str, typer.Option(help="long-short (reverse) or long-only.")] = "long-short",
    size: Annotated[float, typer.Option(help="Fraction of equity per position.")] = 1.0,
    start: Annotated[
        datetime | None, typer.Option("--from", help="First bar time (UTC) to include.")
    ] = None,
    end: Annotated[
        datetime | None, typer.Option("--to", help="Last bar time (UTC) to include.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write a self-contained HTML report here.")
    ] = None,
    trades: Annotated[Path | None, typer.Option(help="Write the trades as CSV here.")] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--verify/--no-verify", help="Check the incremental path gives the same signals."
        ),
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Backtest a strategy: signals from the full path, trades filled at the next open."""
    check_output_path(report, "--report")
    check_output_path(trades, "--trades")
    settings = SimulationSettings(
        cash=cash, commission=commission, spread=spread, mode=cast(Mode, mode), size=size
    )
    chosen = build_strategy(strategy, param)
    series = load_series(
        data, symbol=symbol, timeframe=timeframe, decimals=decimals, start=start, end=end
    )
    full = run_full(chosen, series)
    parity = None
    if check:
        with progress_bar("checking parity", len(series), quiet=as_json) as advance:
            parity = verify(
                chosen,
                series,
                None,
                full=full,
                progress=advance,
            )
    simulation = simulate(series, full.signals, settings)
    stats = compute_stats(series, simulation, settings)
    if trades is not None:
        with writing(trades, "--trades"):
            write_trades_csv(trades, simulation.trades)
    if report is not None:
        title = f"{chosen!r} on {series.symbol} {series.timeframe.name}"
        with writing(report, "--report"):
            write_report(
                report,
                series,
                full.values,
                full.signals,
                simulation,
                stats,
                title,
                params=chosen.params,
            )
    if as_json:
        typer.echo(
            json.dumps(_as_json(chosen, series, simulation, stats, len(full.signals), parity))
        )
    else:
        _print(chosen, series, stats, len(full.signals), parity, report, trades)
    if parity is not None and not parity.ok:
        raise typer.Exit(EXIT_DIVERGED)


def _as_json(
    strategy: Strategy,
    series: CandleSeries,
    simulation: Simulation,
    stats: Stats,
    signals: int,
    parity: VerifyReport | None,
) -> dict[str, Any]:
    return {
        "strategy": strategy.name,
        "params": strategy.params,
        "symbol": series.symbol,
        "timeframe": series.timeframe.name,
        "candles": len(series),
        "signals": signals,
        "settings": {
            key: getattr(simulation.settings, key)
            for key in ("cash", "commission", "spread", "mode", "size")
        },
        "stats": stats.as_dict(),
        "trades": [trade.as_dict() for trade in simulation.trades],
        "parity": None if parity is None else parity.to_dict(),
    }


def _print(
    strategy: Strategy,
    series: CandleSeries,
    stats: Stats,
    signals: int,
    parity: VerifyReport | None,
    report: Path | None,
    trades: Path | None,
) -> None:
    console = Console()
    table = Table(title=f"{strategy!r} on {series.symbol} {series.timeframe.name}")
    table.add_column("statistic")
    table.add_column("value", justify="right")
    for label, value in stats.labelled().items():
        table.add_row(label, human(value))
    table.add_row("Signals", human(signals))
    console.print(table)
    if parity is None:
        console.print("parity check skipped (--no-verify)", soft_wrap=True)
    elif parity.ok:
        console.print(
            f"[green]parity: incremental path identical to full path[/] on {parity.candles:,} "
            f"bars ({parity.signals_full} signals, every indicator value bit for bit)",
            soft_wrap=True,
        )
    else:
        console.print(report_table(parity))
    for path, what in ((report, "report"), (trades, "trades")):
        if path is not None:
            console.print(f"{what} written to {path}", soft_wrap=True)
