"""``parity strategies``: the installed strategies and their parameters."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from backtest._app import app
from backtest._inputs import JsonOption
from framework.registry import available_strategies

__all__ = ["strategies"]


@app.command("strategies")
def strategies(as_json: JsonOption = False) -> None:
    """List installed strategies with their parameters, defaults and help."""
    found = available_strategies()
    listing: dict[str, dict[str, Any]] = {
        name: {
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else "",
            "params": {
                param: {
                    "default": spec.default,
                    "type": spec.kind.__name__,
                    "allowed": spec.allowed,
                    "help": spec.help,
                    "choices": list(spec.choices) if spec.choices else None,
                }
                for param, spec in cls.parameters().items()
            },
        }
        for name, cls in found.items()
    }
    if as_json:
        typer.echo(json.dumps(listing))
        return
    table = Table(title="installed strategies (use with --strategy NAME --param name=value)")
    for column in ("strategy", "parameter", "default", "allowed", "meaning"):
        table.add_column(column)
    for name, info in listing.items():
        for i, (param, spec) in enumerate(info["params"].items()):
            table.add_row(
                name if i == 0 else "", param, str(spec["default"]), spec["allowed"], spec["help"]
            )
    Console().print(table)
