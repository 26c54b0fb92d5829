"""Where published signals go besides the Redis outbox: stdout, a callback, a webhook.

Sinks receive each signal once per process: the processor hands them only signals
the outbox accepted (or, while Redis is down, signals not yet handed out). Across a
crash during a Redis outage a sink may see a signal twice; every delivery carries
the signal's ``event_id`` so receivers can drop repeats.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TextIO

from framework.state import SignalEvent

__all__ = ["CallbackSink", "JsonLinesSink", "Sink", "WebhookSink", "event_json"]

log = logging.getLogger("parity.sinks")


class Sink(Protocol):
    """Receives published signals."""

    def __call__(self, event: SignalEvent) -> None:
        """Deliver one signal; raise on failure (the processor logs and counts it)."""


def event_json(event: SignalEvent) -> dict[str, object]:
    """A signal as a JSON-ready object.

    Examples
    --------
    >>> e = SignalEvent("ma_unified:0123456789abcdef:EURUSD:M15", 1_700_000_100_000_000_000,
    ...                 "BUY", 1.0871, "fast crossed above slow")
    >>> event_json(e)["time"]
    '2023-11-14T22:15:00+00:00'
    """
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(event.bar_time_ns / 1e9, tz=UTC)
    return {
        "event_id": event.event_id,
        "stream": event.stream_id,
        "time": moment.isoformat(),
        "side": event.side,
        "price": event.price,
        "reason": event.reason,
    }


class JsonLinesSink:
    """Writes one JSON object per signal to a text stream (stdout by default)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def __call__(self, event: SignalEvent) -> None:
        out = self._stream or sys.stdout
        out.write(json.dumps(event_json(event)) + "\n")
        out.flush()


@dataclass(frozen=True)
class CallbackSink:
    """Calls a Python function with each signal."""

    callback: Callable[[SignalEvent], None]

    def __call__(self, event: SignalEvent) -> None:
        self.callback(event)


@dataclass(frozen=True)
class WebhookSink:
    """POSTs each signal as JSON, retrying with exponential backoff.

    The ``Idempotency-Key`` header carries the event id, so a receiver can drop a
    repeat delivery.
    """

    url: str
    timeout_s: float = 2.0
    retries: int = 3
    backoff_base_s: float = 0.2

    def __call__(self, event: SignalEvent) -> None:
        body = json.dumps(event_json(event)).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Idempotency-Key": event.event_id},
        )
        for attempt in range(self.retries + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    response.read()
                return
            except (urllib.error.URLError, TimeoutError) as error:
                if attempt == self.retries:
                    raise ConnectionError(f"webhook {self.url} failed: {error}") from None
                log.warning("webhook %s failed (%s); retrying", self.url, error)
                time.sleep(self.backoff_base_s * 2**attempt)
