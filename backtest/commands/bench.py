"""``parity bench``: the performance evidence, side by side, on this machine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from backtest._app import app
from backtest._bench_table import bench_tables
from backtest._inputs import JsonOption, check_output_path, writing
from backtest.bench import QUICK_CANDLES, BenchSettings, run_bench
from framework.errors import ParameterError

__all__ = ["bench"]


@app.command("bench")
def bench(
    quick: Annotated[
        bool, typer.Option("--quick", help=f"{QUICK_CANDLES:,} candles instead of 1,000,000.")
    ] = False,
    candles: Annotated[
        int | None, typer.Option(help="Candles to bootstrap (overrides --quick).", min=1_000)
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Also write the JSON report here.")] = None,
    redis: Annotated[
        str | None,
        typer.Option(envvar="PARITY_REDIS_URL", help="Real Redis for the commit and live runs."),
    ] = None,
    mongodb: Annotated[
        str | None,
        typer.Option(envvar="PARITY_MONGODB_URI", help="MongoDB for the live-cycle run."),
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="Real candles to bootstrap from (default: bundled).")
    ] = None,
    streams: Annotated[
        int, typer.Option(help="Streams in the live-cycle comparison.", min=1, max=100_000)
    ] = BenchSettings.streams,
    as_json: JsonOption = False,
) -> None:
    """Measure indicators, strategy paths, a live cycle and memory against their anchors."""
    check_output_path(out, "--out")
    settings = BenchSettings.quick() if quick else BenchSettings()
    changes: dict[str, object] = {
        "redis_url": redis or None,
        "mongodb_uri": mongodb or None,
        "streams": streams,
    }
    if candles is not None:
        changes["candles"] = candles
    if data is not None:
        if not data.is_file():
            raise ParameterError(f"--data {data}: no such file")
        changes["source"] = data
    settings = BenchSettings(**{**settings.__dict__, **changes})
    if as_json:
        report = run_bench(settings)
    else:
        console = Console(stderr=True)
        with console.status("parity bench") as status:
            report = run_bench(settings, progress=lambda what: status.update(f"bench: {what}"))
    text = json.dumps(report)
    if out is not None:
        with writing(out, "--out"):
            out.write_text(text + "\n")
    if as_json:
        typer.echo(text)
    else:
        Console().print(bench_tables(report))
        if out is not None:
            Console().print(f"JSON written to {out}")
