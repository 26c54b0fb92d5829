"""The configuration of a live service: streams, source, store, sinks (TOML or flags).

Example file::

    [source]
    url = "mongodb://127.0.0.1:27017/"   # or a candle file path
    database = "parity"
    collection = "candles"

    [store]
    url = "redis://:password@127.0.0.1:6379/0"   # or "memory"

    [[streams]]
    strategy = "ma_unified"
    params = { fast = 50, slow = 200, kind = "sma" }
    symbols = ["EURUSD", "GBPUSD"]
    timeframes = ["M15"]

    [instruments]        # decimals of symbols missing from the bundled table
    BTCUSD = 2

    [sinks]
    stdout = true
    webhook = "https://example.invalid/hook"
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framework.errors import ConfigError, ParameterError
from framework.instruments import Instrument
from framework.registry import load_strategy
from framework.stream import Stream
from framework.timeframes import Timeframe

__all__ = ["LiveConfig", "StreamGroup", "build_streams", "load_config"]


@dataclass(frozen=True)
class StreamGroup:
    """One strategy with one parameter set, over symbols × timeframes."""

    strategy: str
    params: Mapping[str, Any]
    symbols: Sequence[str]
    timeframes: Sequence[str]


@dataclass(frozen=True)
class LiveConfig:
    """Everything ``parity live`` needs."""

    groups: list[StreamGroup]
    source_url: str | None = None
    database: str = "parity"
    collection: str = "candles"
    store_url: str | None = None
    instruments: Mapping[str, int] = field(default_factory=dict)
    stdout: bool = True
    webhooks: Sequence[str] = ()


def load_config(path: Path) -> LiveConfig:
    """Read a TOML configuration; raise `ConfigError` naming the file and the problem."""
    try:
        table = tomllib.loads(path.read_text("utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    try:
        source = _table(table, "source")
        sinks = _table(table, "sinks")
        instruments = _table(table, "instruments")
        streams = table.get("streams", [])
        if not isinstance(streams, list):
            raise ConfigError("streams must be [[streams]] tables")
        return LiveConfig(
            groups=[_group(entry, number) for number, entry in enumerate(streams, 1)],
            source_url=_text(source, "url", "[source]"),
            database=_text(source, "database", "[source]") or "parity",
            collection=_text(source, "collection", "[source]") or "candles",
            store_url=_text(_table(table, "store"), "url", "[store]"),
            instruments={str(k).upper(): _decimals(k, v) for k, v in instruments.items()},
            stdout=bool(sinks.get("stdout", True)),
            webhooks=_texts(sinks, "webhook", "[sinks]"),
        )
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{path}: invalid configuration: {error}") from None


def _group(entry: Any, number: int) -> StreamGroup:
    """One ``[[streams]]`` table; a missing key is named with the table's position."""
    where = f"[[streams]] #{number}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} is not a table")
    missing = [key for key in ("strategy", "symbols", "timeframes") if key not in entry]
    if missing:
        raise ConfigError(f"{where} lacks {', '.join(map(repr, missing))}")
    return StreamGroup(
        strategy=str(entry["strategy"]),
        params=_table(entry, "params", where),
        symbols=_texts(entry, "symbols", where),
        timeframes=_texts(entry, "timeframes", where),
    )


def _table(parent: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
    value = parent.get(key, {})
    if not isinstance(value, dict):
        inside = f"{where}: " if where else ""
        raise ConfigError(f"{inside}{key} must be a table, got {value!r:.40}")
    return value


def _decimals(symbol: str, value: Any) -> int:
    if type(value) is not int:
        raise ConfigError(f"[instruments]: {symbol} must be a count of decimals, got {value!r:.40}")
    return value


def _text(parent: dict[str, Any], key: str, where: str) -> str | None:
    value = parent.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string, got {value!r:.40}")
    return value


def _texts(parent: dict[str, Any], key: str, where: str) -> list[str]:
    """A string or a list of strings, as a list."""
    value = parent.get(key, [])
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{where}: {key} must be a string or a list of strings")
    return values


def build_streams(config: LiveConfig) -> list[Stream]:
    """Every (strategy, params, symbol, timeframe) stream of the configuration."""
    if not config.groups:
        raise ConfigError("no streams configured: give --strategy and --symbol, or [[streams]]")
    streams = []
    for group in config.groups:
        strategy_class = load_strategy(group.strategy)
        for symbol in group.symbols:
            instrument = instrument_for(symbol, config.instruments)
            for timeframe in group.timeframes:
                streams.append(
                    Stream(strategy_class(**group.params), instrument, Timeframe.parse(timeframe))
                )
    return streams


def instrument_for(symbol: str, decimals: Mapping[str, int]) -> Instrument:
    """The instrument of ``symbol`` from the configuration or the bundled table."""
    symbol = symbol.upper()
    if symbol in decimals:
        return Instrument(symbol, decimals[symbol])
    known = Instrument.lookup(symbol)
    if known is None:
        raise ParameterError(
            f"price decimals of {symbol} unknown: add it under [instruments] (e.g. {symbol} = 5)"
        )
    return known
