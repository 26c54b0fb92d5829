"""``parity cache``: what the state store holds, and dropping state to force a rebuild."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from backtest._app import cache_app
from backtest._inputs import JsonOption
from framework.errors import ParameterError
from framework.state import StreamKey, open_store

__all__ = ["invalidate", "stats"]

StoreOption = Annotated[
    str,
    typer.Option(
        envvar="PARITY_REDIS_URL", help="State store: memory or a redis:// / rediss:// URL."
    ),
]
PrefixOption = Annotated[str, typer.Option(help="Key prefix of Parity's keys.")]
#: Said on stderr when a command looks at the embedded store: it is always empty here.
EMBEDDED_HINT = (
    "note: the embedded 'memory' store lives inside one process, so this command sees "
    "none of another's state; pass --store redis://HOST:PORT/DB or set PARITY_REDIS_URL"
)


@cache_app.command("stats")
def stats(
    store: StoreOption = "memory", prefix: PrefixOption = "parity:", as_json: JsonOption = False
) -> None:
    """Streams with state, bytes of state, and signals waiting in the outboxes."""
    with open_store(store, prefix=prefix) as state_store:
        totals = state_store.stats()
        keys = state_store.streams()
    _hint_if_embedded(state_store.name)
    payload = {
        "store": state_store.name,
        "streams": totals.streams,
        "record_bytes": totals.record_bytes,
        "bytes_per_stream": totals.record_bytes / totals.streams if totals.streams else None,
        "outbox_signals": totals.outbox_signals,
        "stream_ids": sorted(key.id for key in keys),
    }
    if as_json:
        typer.echo(json.dumps(payload))
        return
    table = Table(title=f"state in {state_store.name}")
    table.add_column("")
    table.add_column("", justify="right")
    for label, value in (
        ("streams", f"{totals.streams:,}"),
        ("record bytes", f"{totals.record_bytes:,}"),
        ("signals in outboxes", f"{totals.outbox_signals:,}"),
    ):
        table.add_row(label, value)
    Console().print(table)


@cache_app.command("invalidate")
def invalidate(
    stream: Annotated[
        list[str] | None,
        typer.Option(help="Stream id strategy:fingerprint:SYMBOL:TF; repeatable. Default: all."),
    ] = None,
    strategy: Annotated[str | None, typer.Option(help="Only streams of this strategy.")] = None,
    symbol: Annotated[str | None, typer.Option(help="Only streams of this symbol.")] = None,
    timeframe: Annotated[str | None, typer.Option(help="Only streams of this timeframe.")] = None,
    store: StoreOption = "memory",
    prefix: PrefixOption = "parity:",
    as_json: JsonOption = False,
) -> None:
    """Delete state so the next cycle rebuilds it; published signals are kept."""
    keys = [_parse(text) for text in stream or []]
    with open_store(store, prefix=prefix) as state_store:
        if keys:
            deleted = state_store.delete(keys)
        else:
            deleted = state_store.invalidate(strategy=strategy, symbol=symbol, timeframe=timeframe)
    _hint_if_embedded(state_store.name)
    if as_json:
        typer.echo(json.dumps({"deleted": deleted}))
    else:
        Console(soft_wrap=True).print(
            f"deleted {deleted} stream record(s); they rebuild on their next cycle"
        )


def _hint_if_embedded(store_name: str) -> None:
    if store_name == "memory":
        Console(stderr=True, soft_wrap=True).print(EMBEDDED_HINT, highlight=False, markup=False)


def _parse(text: str) -> StreamKey:
    try:
        return StreamKey.parse(text)
    except (ValueError, ParameterError) as error:
        raise ParameterError(f"--stream {text!r}: {error}") from None
