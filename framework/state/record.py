"""The state record of one stream and its compact msgpack encoding (never pickle)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgpack

from framework.errors import ParameterError
from framework.state.errors import StateDecodeError
from framework.state.signals import SignalEvent

__all__ = ["SCHEMA_VERSION", "StateRecord"]

#: Layout of the encoded record. Bump it when the layout or the meaning of any field
#: changes; records of another version are discarded and rebuilt, never misread.
SCHEMA_VERSION = 2
_FIELDS = 8
# What msgpack encodes as fixed-width integers.
_INT64 = range(-(2**63), 2**63)
_UINT64 = range(2**64)


@dataclass(slots=True)
class StateRecord:
    """Everything a stream needs to resume: indicator snapshots and where it stopped.

    Parameters
    ----------
    snapshots : dict[str, bytes]
        Indicator name → that indicator's snapshot bytes.
    watermark_ns : int or None
        Open time of the last processed bar (ns since epoch, UTC); None before any bar.
    last_candle_hash : bytes
        Digest of the last processed candle (see `candle_digest`), to notice a
        correction of that candle.
    bars_processed : int
        Bars fed so far; a cheap check that the history is complete.
    history_checksum : int
        Sum modulo 2**64 of the digests of every bar fed (see `history_checksum`), to
        notice a source that rewrote history before the watermark.
    last_signal : SignalEvent or None
        The last signal emitted, to decide on "crossed since" without history.
    extra : bytes
        Strategy-level state beyond the indicators, opaque to the store.
    schema_version : int
        Layout version of the encoding; always `SCHEMA_VERSION` for records built here.
    version : int
        Record version for compare-and-set: the version that was loaded, 0 if new.
        Not part of the encoded bytes; the store keeps it beside them.
    write_id : bytes
        Which write stored the record (random bytes chosen per commit; empty for a
        record not read from a store). Versions start again at 0 after a record is
        deleted, so a later record may reach the same version: the write id tells
        them apart. Kept beside the bytes, like ``version``.

    Examples
    --------
    >>> r = StateRecord({"sma_50": b"\\x01" * 250}, watermark_ns=1_700_000_100_000_000_000,
    ...                 last_candle_hash=b"\\x00" * 16, bars_processed=201)
    >>> data = r.encode()
    >>> len(data)
    295
    >>> StateRecord.decode(data) == r
    True
    >>> StateRecord.decode(b"garbage")
    Traceback (most recent call last):
    ...
    framework.state.errors.StateDecodeError: undecodable state record (7 bytes): ExtraData
    """

    snapshots: dict[str, bytes] = field(default_factory=dict)
    watermark_ns: int | None = None
    last_candle_hash: bytes = b""
    bars_processed: int = 0
    history_checksum: int = 0
    last_signal: SignalEvent | None = None
    extra: bytes = b""
    schema_version: int = SCHEMA_VERSION
    version: int = 0
    write_id: bytes = b""

    def with_version(self, version: int, write_id: bytes = b"") -> StateRecord:
        """A copy carrying another store ``version`` and ``write_id``."""
        return StateRecord(
            self.snapshots,
            self.watermark_ns,
            self.last_candle_hash,
            self.bars_processed,
            self.history_checksum,
            self.last_signal,
            self.extra,
            self.schema_version,
            version,
            write_id,
        )

    def same_write(self, version: int, write_id: bytes) -> bool:
        """Whether the store's ``version`` and ``write_id`` are this record's own write."""
        return bool(self.write_id) and (self.version, self.write_id) == (version, write_id)

    def encode(self) -> bytes:
        """The record as msgpack bytes (everything but `version` and `write_id`).

        Raises
        ------
        ParameterError
            A field of the wrong type, which would not decode again.
        """
        _check(self, ParameterError)
        signal = None if self.last_signal is None else self.last_signal.to_list()
        packed: bytes = msgpack.packb(
            [
                self.schema_version,
                self.watermark_ns,
                self.last_candle_hash,
                self.bars_processed,
                self.history_checksum,
                signal,
                self.snapshots,
                self.extra,
            ],
            use_bin_type=True,
        )
        return packed

    @classmethod
    def decode(cls, data: bytes, *, version: int = 0, write_id: bytes = b"") -> StateRecord:
        """The record encoded in ``data``, carrying the store's ``version`` and ``write_id``.

        Raises
        ------
        StateDecodeError
            ``data`` is not an encoded record, or one of an unknown schema version.
        """
        try:
            items = msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True)
        except Exception as exc:  # msgpack raises a zoo of types on garbage
            raise StateDecodeError(
                f"undecodable state record ({len(data)} bytes): {type(exc).__name__}"
            ) from None
        if not isinstance(items, list) or not items:
            raise StateDecodeError(f"state record is not a msgpack array: {type(items).__name__}")
        schema = items[0]
        if schema != SCHEMA_VERSION:
            raise StateDecodeError(
                f"unknown state schema version {schema!r} (this build reads {SCHEMA_VERSION})"
            )
        if len(items) != _FIELDS:
            raise StateDecodeError(f"state record has {len(items)} fields, expected {_FIELDS}")
        _, watermark, candle_hash, bars, checksum, signal, snapshots, extra = items
        try:
            record = cls(
                snapshots=snapshots,
                watermark_ns=watermark,
                last_candle_hash=candle_hash,
                bars_processed=bars,
                history_checksum=checksum,
                last_signal=None if signal is None else SignalEvent.from_list(signal),
                extra=extra,
                schema_version=schema,
                version=version,
                write_id=write_id,
            )
        except ParameterError as exc:
            raise StateDecodeError(f"malformed state record: {exc}") from None
        _check(record, StateDecodeError)
        return record


def _check(record: StateRecord, error: type[Exception]) -> None:
    problems: list[str] = []
    snapshots: Any = record.snapshots
    if not isinstance(snapshots, dict) or not all(
        isinstance(k, str) and isinstance(v, bytes) for k, v in snapshots.items()
    ):
        problems.append("snapshots must map str to bytes")
    if record.watermark_ns is not None and not _is_int(record.watermark_ns, _INT64):
        problems.append(f"watermark_ns must be an int64 or None, got {record.watermark_ns!r:.40}")
    if not isinstance(record.last_candle_hash, bytes):
        problems.append("last_candle_hash must be bytes")
    if not _is_int(record.bars_processed, _UINT64):
        problems.append(
            f"bars_processed must be an int in [0, 2**64), got {record.bars_processed!r:.40}"
        )
    if not _is_int(record.history_checksum, _UINT64):
        problems.append(f"history_checksum must be a uint64, got {record.history_checksum!r:.40}")
    if record.last_signal is not None and not isinstance(record.last_signal, SignalEvent):
        problems.append("last_signal must be a SignalEvent or None")
    if not isinstance(record.extra, bytes):
        problems.append("extra must be bytes")
    if record.schema_version != SCHEMA_VERSION:
        problems.append(f"schema_version must be {SCHEMA_VERSION}, got {record.schema_version!r}")
    if not _is_int(record.version, _UINT64):
        problems.append(f"version must be an int in [0, 2**64), got {record.version!r:.40}")
    if problems:
        raise error("invalid state record: " + "; ".join(problems))


def _is_int(value: object, bounds: range) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in bounds
