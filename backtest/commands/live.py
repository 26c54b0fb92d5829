"""``parity live``: the incremental signal service."""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from backtest._app import app
from backtest._inputs import ParamOption, parse_params
from framework.errors import ParameterError, ParityError
from framework.live_config import LiveConfig, StreamGroup, build_streams, load_config
from framework.logs import configure_logging
from framework.metrics import ProcessorMetrics
from framework.processor import CycleReport, SignalProcessor, freeze_warm_state
from framework.sinks import JsonLinesSink, Sink, WebhookSink
from framework.sources import open_source
from framework.state import open_store
from framework.stream import Stream

__all__ = ["live"]

log = logging.getLogger("parity.live")

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Longest wait between cycles: a week, the longest bar (also far below what a timed
#: wait accepts).
_LONGEST_WAIT_S = 7 * 86_400


@app.command("live")
def live(
    config: Annotated[
        Path | None, typer.Option(help="TOML file with streams, source, store and sinks.")
    ] = None,
    strategy: Annotated[str | None, typer.Option(help="Strategy name or file.py:Class.")] = None,
    param: ParamOption = None,
    symbol: Annotated[list[str] | None, typer.Option(help="Symbol; repeatable.")] = None,
    timeframe: Annotated[list[str] | None, typer.Option(help="Timeframe; repeatable.")] = None,
    source: Annotated[
        str | None,
        typer.Option(envvar="PARITY_MONGODB_URI", help="mongodb:// URI or a candle file."),
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="MongoDB database (default: config, else parity).")
    ] = None,
    collection: Annotated[
        str | None, typer.Option(help="MongoDB collection (default: config, else candles).")
    ] = None,
    store: Annotated[
        str | None, typer.Option(envvar="PARITY_REDIS_URL", help="memory or a redis:// URL.")
    ] = None,
    once: Annotated[bool, typer.Option(help="Run one cycle and exit.")] = False,
    interval: Annotated[
        float | None, typer.Option(help="Seconds between cycles (default: at each bar close).")
    ] = None,
    delay: Annotated[float, typer.Option(help="Seconds after a bar closes to run.")] = 2.0,
    audit: Annotated[
        int,
        typer.Option(
            help="Streams per cycle whose history and state are re-checked against the source."
        ),
    ] = 1,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus /metrics on 127.0.0.1:PORT.")
    ] = None,
    log_json: Annotated[bool, typer.Option("--log-json", help="Log JSON lines.")] = False,
    quiet: Annotated[bool, typer.Option(help="Do not print signals to stdout.")] = False,
) -> None:
    """Serve signals: each cycle reads only new closed candles and updates O(1) state.

    Signals go to each stream's Redis outbox and, unless --quiet, to stdout as JSON
    lines. SIGINT/SIGTERM finish the current cycle and exit 0.
    """
    configure_logging(as_json=log_json)
    _check_numbers(interval, delay, audit, metrics_port)
    settings = _settings(config, strategy, param, symbol, timeframe)
    streams = build_streams(settings)
    source_url = source or settings.source_url
    if source_url is None:
        raise ParameterError("no candle source: give --source (mongodb:// URI or a file)")
    candle_source = open_source(
        source_url,
        database=database or settings.database,
        collection=collection or settings.collection,
        instruments={s.instrument.symbol: s.instrument for s in streams},
    )
    sinks: list[Sink] = [] if quiet or not settings.stdout else [JsonLinesSink()]
    sinks += [WebhookSink(url) for url in settings.webhooks]
    metrics = ProcessorMetrics()
    if metrics_port is not None:
        try:
            metrics.serve(metrics_port)
        except OSError as error:
            raise ParityError(f"metrics port {metrics_port}: {error.strerror}") from None
    stop = threading.Event()
    handlers = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in _STOP_SIGNALS}
    try:
        with open_store(store or settings.store_url) as state_store:
            processor = SignalProcessor(
                streams,
                candle_source,
                state_store,
                sinks=sinks,
                metrics=metrics,
                audit_streams=audit,
            )
            log.info("serving %d streams from %s", len(streams), candle_source)
            first = True
            while True:
                report = processor.cycle()
                _log_cycle(report)
                if once:
                    _raise_if_failed(report)
                    break
                if stop.is_set():
                    break
                if first:
                    freeze_warm_state()
                    first = False
                if stop.wait(
                    interval if interval is not None else _until_next_close(streams, delay)
                ):
                    break
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    log.info("stopped")


def _check_numbers(
    interval: float | None, delay: float, audit: int, metrics_port: int | None
) -> None:
    if interval is not None and not 0 < interval <= _LONGEST_WAIT_S:
        raise ParameterError(
            f"--interval must be > 0 and ≤ {_LONGEST_WAIT_S:,} seconds, got {interval}"
        )
    if not 0 <= delay <= _LONGEST_WAIT_S:
        raise ParameterError(f"--delay must be 0 to {_LONGEST_WAIT_S:,} seconds, got {delay}")
    if audit < 0:
        raise ParameterError(f"--audit must be ≥ 0 streams per cycle, got {audit}")
    if metrics_port is not None and not 1 <= metrics_port <= 65535:
        raise ParameterError(f"--metrics-port must be 1 to 65535, got {metrics_port}")


def _raise_if_failed(report: CycleReport) -> None:
    """With --once the cycle is the whole run: an error in it is the exit status."""
    if report.errors:
        more = f" (and {len(report.errors) - 1} more)" if len(report.errors) > 1 else ""
        raise ParityError(f"the cycle failed: {report.errors[0]}{more}")


def _settings(
    config: Path | None,
    strategy: str | None,
    param: list[str] | None,
    symbol: list[str] | None,
    timeframe: list[str] | None,
) -> LiveConfig:
    settings = load_config(config) if config is not None else LiveConfig(groups=[])
    if strategy is not None:
        if not symbol or not timeframe:
            raise ParameterError("--strategy needs at least one --symbol and one --timeframe")
        group = StreamGroup(strategy, parse_params(param), symbol, timeframe)
        settings = LiveConfig(**{**settings.__dict__, "groups": [*settings.groups, group]})
    return settings


def _until_next_close(streams: list[Stream], delay: float) -> float:
    """Seconds until the next bar of any stream closes, plus ``delay``."""
    now = time.time()
    lengths = {stream.timeframe.seconds for stream in streams}
    return min(length - now % length for length in lengths) + delay


def _log_cycle(report: CycleReport) -> None:
    summary = {
        "streams": report.streams,
        "candles": report.candles,
        "signals": len(report.signals),
        "rebuilt": len(report.rebuilt),
        "fallback": report.fallback,
        "errors": len(report.errors),
        "ms": round(report.seconds * 1000, 2),
        "phases_ms": {name: round(s * 1000, 2) for name, s in report.phases.items()},
    }
    log.info("cycle %s", json.dumps(summary))
