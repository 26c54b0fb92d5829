"""`RedisStateStore`: stream state and signal outboxes in Redis, one round trip per batch.

Key layout, for prefix ``parity:`` and stream id ``ma_unified:11e6…:EURUSD:M15``::

    parity:{ma_unified:11e6…:EURUSD:M15}:state    HASH   v = record version, w = write id,
                                                         data = record
    parity:{ma_unified:11e6…:EURUSD:M15}:outbox   STREAM one entry per signal, id <bar ms>-<ns>

Both keys of a stream share the hash tag ``{<stream id>}``, so they live in one
Redis Cluster slot and the commit script may write both atomically. Loads and commits
go out as script calls of `batch_size` streams each, all in one pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import redis

from framework.errors import ConfigError, StoreError
from framework.state._admin import StoreAdmin
from framework.state._guard import Guard
from framework.state._lua import COMMIT, DISCARD, READ, LuaScript, reply_text
from framework.state.commits import Commit, CommitResult
from framework.state.keys import StreamKey
from framework.state.policy import ConnectionPolicy
from framework.state.record import StateRecord
from framework.state.signals import SignalEvent
from framework.state.urls import describe_client

__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_OUTBOX_MAXLEN", "DEFAULT_PREFIX", "RedisStateStore"]

log = logging.getLogger("parity.state")

T = TypeVar("T")

DEFAULT_PREFIX = "parity:"
#: Entries kept per outbox (approximately, ``XADD MAXLEN ~``): consumers read it as a
#: queue, and years of M15 crossover signals stay well below this.
DEFAULT_OUTBOX_MAXLEN = 10_000
#: Streams per script call (loads and commits): large enough that the per-call cost
#: vanishes, small enough that one call holds the server for about a millisecond.
DEFAULT_BATCH_SIZE = 100


class RedisStateStore(StoreAdmin):
    """State records and signal outboxes of many streams in one Redis database.

    Parameters
    ----------
    client : redis.Redis
        A redis-py (or fakeredis) client with ``decode_responses=False``. Use
        `open_store` to get one configured from a URL and a `ConnectionPolicy`.
    prefix : str
        Prepended to every key; must not contain braces.
    policy : ConnectionPolicy, optional
        Circuit-breaker thresholds (timeouts and retries belong to the client).
    name : str, optional
        How the store is named in messages; defaults to the client's host and port.
    outbox_maxlen : int
        Approximate length cap of each outbox; 0 keeps every entry.
    batch_size : int
        Streams per script call of `load_many` and `commit_many` (each sends all its
        calls in one round trip). Each stream's commit stands alone whatever the
        batch; a call holds the server for its whole batch, and Redis Cluster needs 1.

    Notes
    -----
    Every call runs under the store's circuit breaker, which holds a lock for the
    call's duration: one store's calls run one at a time. Batch (`load_many`,
    `commit_many`) rather than share a store between threads, or give each thread
    its own store.

    Examples
    --------
    >>> from framework.state import StateRecord, StreamKey, SignalEvent, open_store
    >>> store = open_store("memory", prefix="doctest:")
    >>> key = StreamKey("ma_unified", "11e62632cc2e4065", "EURUSD", "M15")
    >>> store.load(key) is None
    True
    >>> bar = 1_700_000_100_000_000_000
    >>> record = StateRecord({"sma_50": b"\\x01" * 8}, watermark_ns=bar, bars_processed=1)
    >>> stored = store.commit(key, record, [SignalEvent(key.id, bar, "BUY", 1.0871)])
    >>> stored.version, store.load(key) == stored
    (1, True)
    >>> other = StateRecord(watermark_ns=bar, bars_processed=1)   # a writer that also loaded v0
    >>> store.commit(key, other)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    framework.state.errors.CommitConflict: commit conflict on ...: expected version 0, store has 1
    >>> [event.side for _, event in store.read_outbox(key)]
    ['BUY']
    >>> store.delete([key], include_outbox=True)
    1
    """

    def __init__(
        self,
        client: redis.Redis[bytes],
        *,
        prefix: str = DEFAULT_PREFIX,
        policy: ConnectionPolicy | None = None,
        name: str | None = None,
        outbox_maxlen: int = DEFAULT_OUTBOX_MAXLEN,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if "{" in prefix or "}" in prefix:
            raise ConfigError(f"state key prefix {prefix!r} must not contain braces")
        if outbox_maxlen < 0:
            raise ConfigError(f"outbox_maxlen must be ≥ 0, got {outbox_maxlen}")
        if batch_size < 1:
            raise ConfigError(f"batch_size must be ≥ 1, got {batch_size}")
        options: dict[str, Any] = client.connection_pool.connection_kwargs
        if options.get("decode_responses"):
            raise ConfigError("the state store needs a client with decode_responses=False")
        self._client = client
        self._prefix = prefix
        self._outbox_maxlen = outbox_maxlen
        self._batch_size = batch_size
        self.policy = policy or ConnectionPolicy()
        self.name = name or describe_client(options)
        secrets = tuple(str(options[k]) for k in ("password",) if options.get(k))
        self._guard = Guard(self.name, self.policy, secrets)

    # --- reads ----------------------------------------------------------------------
    def load(self, key: StreamKey) -> StateRecord | None:
        """The stream's record, or None if there is none (or it was unusable)."""
        return self.load_many([key])[key]

    def load_many(
        self,
        keys: Sequence[StreamKey],
        *,
        held: Mapping[StreamKey, StateRecord] | None = None,
    ) -> dict[StreamKey, StateRecord | None]:
        """Records of many streams, in one round trip (read-script calls of `batch_size` keys).

        A record that does not decode, has an unknown schema version or a key of the
        wrong type is logged (logger ``parity.state``, one line), deleted unless a
        writer has replaced it meanwhile, and returned as None: the caller rebuilds it
        through the full path and commits it as new (version 0).

        ``held`` maps streams to records the caller already has, e.g. the ones it
        committed last cycle. Only the version and write id of those are read: a held
        record that is still the stored one is returned as it is, without moving or
        decoding its bytes. The others (replaced by another writer, or gone) are read
        in full in a second round trip.
        """
        unique = list(dict.fromkeys(keys))
        held = held or {}
        current = [key for key in unique if key in held]
        reads = [("v", batch) for batch in self._batches(current)]
        reads += [("all", batch) for batch in self._batches([k for k in unique if k not in held])]
        calls = [([self.state_key(key) for key in batch], [mode]) for mode, batch in reads]
        replies = self._evalsha_many(READ, calls) if calls else []
        records: dict[StreamKey, StateRecord | None] = dict.fromkeys(unique)
        unusable: list[tuple[StreamKey, str, str]] = []
        changed: list[StreamKey] = []
        for (mode, batch), reply in zip(reads, replies, strict=True):
            if isinstance(reply, Exception):
                raise StoreError(f"state store {self.name}: load failed: {reply}")
            for key, (found, *values) in zip(batch, reply, strict=True):
                if not found:  # a key of the wrong type
                    unusable.append((key, "", f"not a state hash ({reply_text(values[0])})"))
                elif mode == "v":
                    raw_version, write_id = values
                    if held[key].same_write(_version(raw_version), write_id or b""):
                        records[key] = held[key]
                    else:
                        changed.append(key)
                elif values != [None, None, None]:
                    raw_version, write_id, data = values
                    seen = "" if raw_version is None else raw_version.decode(errors="replace")
                    try:
                        records[key] = StateRecord.decode(
                            data or b"", version=int(seen or "0"), write_id=write_id or b""
                        )
                    except ValueError as exc:  # a StateDecodeError, or a garbled version
                        unusable.append((key, seen, str(exc)))
        if unusable:
            self._discard(unusable)
        if changed:
            records.update(self.load_many(changed))
        return records

    def read_outbox(
        self, key: StreamKey, after_id: str = "0-0", count: int = 1000
    ) -> list[tuple[str, SignalEvent]]:
        """Up to ``count`` outbox entries after entry id ``after_id``, oldest first.

        Returns ``(entry id, event)`` pairs; pass the last id back to page on.
        """

        def run() -> list[Any]:
            rows: list[Any] = self._client.xrange(
                self.outbox_key(key), min=f"({after_id}", max="+", count=count
            )
            return rows

        rows = self._guard.call("read outbox", run)
        return [
            (reply_text(entry_id), SignalEvent.from_fields(fields)) for entry_id, fields in rows
        ]

    # --- writes ---------------------------------------------------------------------
    def commit(
        self, key: StreamKey, record: StateRecord, signals: Sequence[SignalEvent] = ()
    ) -> StateRecord:
        """Write ``record`` and append ``signals`` atomically, if nobody wrote first.

        Compare-and-set on ``record.version`` (the version loaded; 0 for a new
        stream): one Lua script checks the stored version, writes the record with
        version + 1 and appends each signal to the outbox under an entry id derived
        from its bar, skipping bars the outbox already holds.

        Returns
        -------
        StateRecord
            ``record`` with its new version.

        Raises
        ------
        CommitConflict
            The stored version differs; nothing was written. Reload and retry.
        StoreUnavailable, StoreError
            The store is unreachable or refused the command.
        """
        return self.commit_many([Commit(key, record, tuple(signals))])[0].unwrap()

    def commit_many(self, commits: Sequence[Commit]) -> list[CommitResult]:
        """Commit many streams in one round trip; one result per commit, in order.

        Each commit is atomic on its own (see `commit`); a conflict on one stream, or
        a key of the wrong type, does not affect the others. Check
        `CommitResult.committed` and `CommitResult.error`.

        If the connection drops after the server ran the batch, redis-py resends it
        and the commits that had landed report a conflict with themselves: reloading
        shows their new version, and their signals were appended exactly once.
        """
        if not commits:
            return []
        batches = self._batches(commits)
        replies = self._evalsha_many(COMMIT, [self._commit_call(batch) for batch in batches])
        results: list[CommitResult] = []
        for batch, reply in zip(batches, replies, strict=True):
            try:
                if isinstance(reply, Exception):
                    raise StoreError(f"commit script failed: {reply}")
                outcomes = [c.result(r) for c, r in zip(batch, reply, strict=True)]
            except StoreError as error:
                raise StoreError(
                    f"state store {self.name}: {error}; "
                    "other commits of the batch may have landed, reload before retrying"
                ) from None
            results += [
                replace(r, error=f"state store {self.name}: {r.error}") if r.error else r
                for r in outcomes
            ]
        for result in results:
            if result.skipped:
                log.info(
                    "outbox of %s already holds bars %s; not published again",
                    result.key.id,
                    ", ".join(str(s.bar_time_ns) for s in result.skipped),
                )
        return results

    def ping(self) -> None:
        """Check the store answers; raises `StoreUnavailable` or `StoreError` if not."""
        self._guard.call("ping", self._client.ping)

    @property
    def breaker_state(self) -> str:
        """Circuit-breaker state: ``"closed"``, ``"open"`` or ``"half-open"``."""
        return self._guard.state

    def close(self) -> None:
        """Release the client's connections."""
        self._client.close()

    def __enter__(self) -> RedisStateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RedisStateStore({self.name!r}, prefix={self._prefix!r})"

    # --- internals ------------------------------------------------------------------
    def _batches(self, items: Sequence[T]) -> list[Sequence[T]]:
        """``items`` in runs of at most ``batch_size``, one script call each."""
        size = self._batch_size
        return [items[i : i + size] for i in range(0, len(items), size)]

    def _commit_call(self, batch: Sequence[Commit]) -> tuple[list[str], list[Any]]:
        """KEYS and ARGV of one commit script call (see ``framework.state._lua``)."""
        keys: list[str] = []
        args: list[Any] = [self._outbox_maxlen]
        for commit in batch:
            keys += (self.state_key(commit.key), self.outbox_key(commit.key))
            args += commit.script_args()
        return keys, args

    def _evalsha_many(
        self, script: LuaScript, calls: Sequence[tuple[list[str], Sequence[Any]]]
    ) -> list[Any]:
        return self._guard.call(script.name, lambda: script.run_many(self._client, calls))

    def _discard(self, unusable: Sequence[tuple[StreamKey, str, str]]) -> None:
        for key, _, reason in unusable:
            log.warning(
                "discarding state of %s: %s; it will be rebuilt through the full path",
                key.id,
                reason,
            )
        calls = [([self.state_key(key)], [seen]) for key, seen, _ in unusable]
        try:
            self._evalsha_many(DISCARD, calls)
        except StoreError as exc:  # the records stay unusable; the next load retries
            log.warning("could not discard unusable state records: %s", exc)


def _version(raw: bytes | None) -> int:
    """A stored version as an int; -1 (no record's version) when absent or garbled."""
    try:
        return int(raw or b"-1")
    except ValueError:
        return -1
