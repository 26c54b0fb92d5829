"""The Typer application objects that every command module attaches to."""

from __future__ import annotations

import typer

__all__ = ["app", "cache_app", "data_app"]

app = typer.Typer(
    name="parity",
    help="Incremental trading signals, proven identical to a full recalculation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Inspect and import candle data.", no_args_is_help=True)
cache_app = typer.Typer(help="Inspect and invalidate cached indicator state.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(cache_app, name="cache")
