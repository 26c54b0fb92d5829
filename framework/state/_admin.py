"""Key layout and administration of a store's streams: list, delete, invalidate, measure.

Split from `RedisStateStore` so that the hot path (load, commit) reads on its own;
these are the operations behind ``parity cache stats|invalidate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis

from framework.state._guard import Guard
from framework.state.keys import StreamKey, stream_pattern
from framework.state.stats import OUTBOX_SUFFIX, STATE_SUFFIX, StoreStats, scan_streams

__all__ = ["StoreAdmin"]

# Streams deleted per pipeline by `invalidate`.
_BATCH = 1000


class StoreAdmin:
    """Base of `RedisStateStore`: where a stream's keys are, and bulk maintenance."""

    _client: redis.Redis[bytes]
    _guard: Guard
    _prefix: str

    # --- keys -----------------------------------------------------------------------
    @property
    def prefix(self) -> str:
        """The key prefix of this store."""
        return self._prefix

    def state_key(self, key: StreamKey) -> str:
        """Redis key of the stream's state hash."""
        return f"{self._prefix}{{{key.id}}}:state"

    def outbox_key(self, key: StreamKey) -> str:
        """Redis key of the stream's signal outbox (a Redis Stream)."""
        return f"{self._prefix}{{{key.id}}}:outbox"

    def delete(self, keys: Sequence[StreamKey], *, include_outbox: bool = False) -> int:
        """Delete the records of ``keys`` (and their outboxes); the number of records deleted.

        Outboxes are kept by default: they remember which bars were published, so a
        rebuilt stream does not publish them again.
        """
        if not keys:
            return 0

        def run() -> list[Any]:
            pipe = self._client.pipeline(transaction=False)
            for key in keys:
                pipe.delete(self.state_key(key))
                if include_outbox:
                    pipe.delete(self.outbox_key(key))
            return pipe.execute()

        replies = self._guard.call("delete", run)
        step = 2 if include_outbox else 1
        return sum(int(n) for n in replies[::step])

    def invalidate(
        self,
        *,
        strategy: str | None = None,
        fingerprint: str | None = None,
        symbol: str | None = None,
        timeframe: str | None = None,
        include_outbox: bool = False,
    ) -> int:
        """Delete every record matching the given key parts (None matches all).

        With ``include_outbox``, every matching outbox goes too, also one whose record
        was already deleted. Returns the number of records deleted; they are rebuilt on
        next use.
        """
        pattern = stream_pattern(
            strategy=strategy, fingerprint=fingerprint, symbol=symbol, timeframe=timeframe
        )
        suffixes = (STATE_SUFFIX, OUTBOX_SUFFIX) if include_outbox else (STATE_SUFFIX,)
        keys = self._guard.call(
            "scan", lambda: scan_streams(self._client, self._prefix, pattern, suffixes)
        )
        return sum(
            self.delete(keys[i : i + _BATCH], include_outbox=include_outbox)
            for i in range(0, len(keys), _BATCH)
        )

    def streams(
        self,
        *,
        strategy: str | None = None,
        fingerprint: str | None = None,
        symbol: str | None = None,
        timeframe: str | None = None,
    ) -> list[StreamKey]:
        """Keys of the streams with a record in this store, filtered by key parts."""
        pattern = stream_pattern(
            strategy=strategy, fingerprint=fingerprint, symbol=symbol, timeframe=timeframe
        )
        return self._guard.call("scan", lambda: scan_streams(self._client, self._prefix, pattern))

    def stats(self) -> StoreStats:
        """Counts and sizes for ``parity cache stats``; scans every stream of the prefix."""
        keys = self.streams()

        def run() -> StoreStats:
            return StoreStats.measure(self._client, keys, self.state_key, self.outbox_key)

        return self._guard.call("stats", run)
