"""One stream's commit: what goes to the commit script and what comes back."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from framework.errors import ParameterError, StoreError
from framework.state._lua import reply_text
from framework.state.errors import CommitConflict
from framework.state.keys import StreamKey
from framework.state.record import StateRecord
from framework.state.signals import SignalEvent

__all__ = ["Commit", "CommitResult"]

#: Random bytes per commit: two writes share a write id with probability 2**-64.
WRITE_ID_BYTES = 8
_CONFLICT = 0
_WRONG_TYPE = 2


@dataclass(frozen=True, slots=True)
class Commit:
    """A step to commit: the stream's new record and the signals the step produced.

    Parameters
    ----------
    key : StreamKey
    record : StateRecord
        The new state; its ``version`` is the version that was loaded (0 if new).
    signals : Sequence[SignalEvent]
        Signals of this step, all of stream ``key``, at most one per bar.
    write_id : bytes
        Stored beside the record to tell this write from any other (see
        `StateRecord.write_id`); random by default.

    Raises
    ------
    ParameterError
        A signal of another stream, or two signals for one bar.
    """

    key: StreamKey
    record: StateRecord
    signals: Sequence[SignalEvent] = ()
    write_id: bytes = field(default_factory=lambda: os.urandom(WRITE_ID_BYTES))

    def __post_init__(self) -> None:
        bars: set[int] = set()
        for signal in self.signals:
            if signal.stream_id != self.key.id:
                raise ParameterError(
                    f"signal of stream {signal.stream_id} committed to {self.key.id}"
                )
            if signal.bar_time_ns in bars:
                raise ParameterError(f"two signals for bar {signal.bar_time_ns} of {self.key.id}")
            bars.add(signal.bar_time_ns)
        # Entry ids must rise within one commit, whatever order the caller used.
        ordered = tuple(sorted(self.signals, key=lambda s: s.bar_time_ns))
        object.__setattr__(self, "signals", ordered)

    def script_args(self) -> list[bytes | str | int]:
        """This commit's part of the commit script's ARGV (see ``framework.state._lua``)."""
        args: list[bytes | str | int] = [
            self.record.version,
            self.write_id,
            self.record.encode(),
            len(self.signals),
        ]
        for signal in self.signals:
            fields = signal.to_fields()
            args += [signal.outbox_id, len(fields)]
            for name, value in fields.items():
                args += [name, value]
        return args

    def result(self, reply: object) -> CommitResult:
        """Interpret the commit script's reply for this commit."""
        if not isinstance(reply, list) or len(reply) < 2:
            raise StoreError(f"commit of {self.key.id}: unexpected script reply {reply!r:.80}")
        status = int(reply[0])
        expected = self.record.version
        if status == _WRONG_TYPE:
            error = f"commit of {self.key.id} failed: {reply_text(reply[1])}"
            return CommitResult(self.key, expected, expected, error=error)
        version = int(reply[1])
        if status == _CONFLICT:
            return CommitResult(self.key, expected, version)
        stored = self.record.with_version(version, self.write_id)
        skipped_ids = {reply_text(entry) for entry in reply[2]} if len(reply) > 2 else set()
        skipped = tuple(s for s in self.signals if s.outbox_id in skipped_ids)
        return CommitResult(self.key, expected, version, stored, skipped)


@dataclass(frozen=True, slots=True)
class CommitResult:
    """The outcome of one stream's commit.

    Attributes
    ----------
    key : StreamKey
    expected_version : int
        The version the commit expected (the one loaded).
    found_version : int
        The record version in the store after the call.
    record : StateRecord or None
        The record as stored, with its new version; None when the commit conflicted
        or failed.
    skipped : tuple[SignalEvent, ...]
        Signals not appended because the outbox already holds an entry at or after
        their bar (published before, e.g. replayed after a rebuild).
    error : str or None
        Why the server refused this stream's commit (one of its keys holds another
        type); nothing of it was written. The other commits of the call stand.
    """

    key: StreamKey
    expected_version: int
    found_version: int
    record: StateRecord | None = None
    skipped: tuple[SignalEvent, ...] = ()
    error: str | None = None

    @property
    def committed(self) -> bool:
        """True if the record was written."""
        return self.record is not None

    def unwrap(self) -> StateRecord:
        """The stored record; `CommitConflict` if the commit lost its compare-and-set.

        Raises `StoreError` if the server refused the commit.
        """
        if self.error is not None:
            raise StoreError(self.error)
        if self.record is None:
            raise CommitConflict(
                self.key.id, expected=self.expected_version, found=self.found_version
            )
        return self.record
