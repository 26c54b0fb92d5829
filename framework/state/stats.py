"""What a state store holds: streams, record bytes, queued signals (``parity cache stats``)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from framework.errors import ParameterError
from framework.state.keys import StreamKey

__all__ = ["OUTBOX_SUFFIX", "STATE_SUFFIX", "StoreStats", "scan_streams"]

log = logging.getLogger("parity.state")

# Keys measured per pipeline: large enough to amortise the round trip, small enough
# that one reply stays a few tens of kB.
_BATCH = 1000
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")
#: What follows a stream id (after the hash tag's closing brace) in its two keys.
STATE_SUFFIX = "}:state"
OUTBOX_SUFFIX = "}:outbox"


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Totals over the streams of one store prefix.

    Attributes
    ----------
    streams : int
        Streams with a state record.
    record_bytes : int
        Sum of the encoded record sizes (the ``data`` fields), in bytes.
    outbox_signals : int
        Signal entries held in the outboxes of those streams.
    """

    streams: int
    record_bytes: int
    outbox_signals: int

    @classmethod
    def measure(
        cls,
        client: Any,
        keys: Sequence[StreamKey],
        state_key: Callable[[StreamKey], str],
        outbox_key: Callable[[StreamKey], str],
    ) -> StoreStats:
        """Measure ``keys`` with HSTRLEN and XLEN, one pipeline per 1,000 streams."""
        record_bytes = outbox_signals = 0
        for start in range(0, len(keys), _BATCH):
            pipe = client.pipeline(transaction=False)
            for key in keys[start : start + _BATCH]:
                pipe.hstrlen(state_key(key), "data")
                pipe.xlen(outbox_key(key))
            replies = pipe.execute()
            record_bytes += sum(int(n) for n in replies[0::2])
            outbox_signals += sum(int(n) for n in replies[1::2])
        return cls(len(keys), record_bytes, outbox_signals)


def scan_streams(
    client: Any, prefix: str, pattern: str, suffixes: Sequence[str] = (STATE_SUFFIX,)
) -> list[StreamKey]:
    """Keys of the streams whose id matches the glob ``pattern`` (SCAN, never KEYS).

    A stream counts if it has a key with one of ``suffixes`` (by default its state
    record; `OUTBOX_SUFFIX` finds outboxes whose record is gone). Keys under the prefix
    that are not Parity keys are ignored.
    """
    start = len(prefix) + 1
    found: list[StreamKey] = []
    escaped = _GLOB_SPECIAL.sub(r"\\\1", prefix)
    for suffix in suffixes:
        for raw in client.scan_iter(match=f"{escaped}{{{pattern}{suffix}", count=_BATCH):
            name = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
            try:
                found.append(StreamKey.parse(name[start : -len(suffix)]))
            except ParameterError:
                log.debug("ignoring key %r: not a Parity key", name)
    return sorted(set(found), key=lambda k: k.id)
