"""The state layer: one cache record per stream, committed atomically with its signals.

A stream is (strategy, parameter fingerprint, symbol, timeframe) — `StreamKey`. Its
`StateRecord` holds every indicator snapshot, the watermark and the last signal;
`RedisStateStore` loads many records in one round trip and commits each with a
compare-and-set on the record version, appending the step's `SignalEvent` s to the
stream's outbox in the same Lua script. `open_store` gives the embedded fakeredis
store (``"memory"``, the default) or a real Redis from a URL, behind redis-py's
`Retry` and a pybreaker circuit breaker configured by a `ConnectionPolicy`.
"""

from framework.state.commits import Commit, CommitResult
from framework.state.connect import MEMORY_URL, open_store
from framework.state.digest import candle_digest, history_checksum
from framework.state.errors import CommitConflict, StateDecodeError, StoreUnavailable
from framework.state.keys import StreamKey, fingerprint, stream_pattern
from framework.state.policy import ConnectionPolicy
from framework.state.record import SCHEMA_VERSION, StateRecord
from framework.state.redis_store import DEFAULT_OUTBOX_MAXLEN, DEFAULT_PREFIX, RedisStateStore
from framework.state.signals import SignalEvent
from framework.state.stats import StoreStats
from framework.state.urls import redact_url

__all__ = [
    "DEFAULT_OUTBOX_MAXLEN",
    "DEFAULT_PREFIX",
    "MEMORY_URL",
    "SCHEMA_VERSION",
    "Commit",
    "CommitConflict",
    "CommitResult",
    "ConnectionPolicy",
    "RedisStateStore",
    "SignalEvent",
    "StateDecodeError",
    "StateRecord",
    "StoreStats",
    "StoreUnavailable",
    "StreamKey",
    "candle_digest",
    "fingerprint",
    "history_checksum",
    "open_store",
    "redact_url",
    "stream_pattern",
]
