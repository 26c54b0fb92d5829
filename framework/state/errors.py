"""Errors of the state layer, each a one-line message that never holds a secret.

They refine `framework.errors.StoreError` and `framework.errors.SnapshotError` so a
caller can tell apart "the store is gone, compute through the full path"
(`StoreUnavailable`), "someone else wrote first, reload and retry" (`CommitConflict`)
and "this record is unusable, rebuild it" (`StateDecodeError`).
"""

from __future__ import annotations

from framework.errors import SnapshotError, StoreError

__all__ = ["CommitConflict", "StateDecodeError", "StoreUnavailable"]


class StateDecodeError(SnapshotError):
    """Stored bytes that are not a state record this build can read.

    Raised for garbage, truncated or mistyped data and for an unknown schema version.
    It is a `SnapshotError`, not a `StoreError`: the store works, the record must be
    rebuilt through the full path.
    """


class StoreUnavailable(StoreError):  # noqa: N818 - reads as a state, like TimeoutError
    """The store cannot be reached (refused, timed out, or the circuit breaker is open)."""


class CommitConflict(StoreError):  # noqa: N818 - names the outcome callers branch on
    """A compare-and-set commit lost: the stored record version is not the one loaded.

    Nothing was written. Reload the record, re-apply the step and commit again.

    Parameters
    ----------
    stream : str
        The stream id (`StreamKey.id`).
    expected : int
        The version the caller loaded.
    found : int
        The version in the store.

    Examples
    --------
    >>> str(CommitConflict("ma_unified:0123456789abcdef:EURUSD:M15", expected=3, found=4))
    'commit conflict on ma_unified:0123456789abcdef:EURUSD:M15: expected version 3, store has 4'
    """

    def __init__(self, stream: str, *, expected: int, found: int) -> None:
        self.stream = stream
        self.expected = expected
        self.found = found
        super().__init__(
            f"commit conflict on {stream}: expected version {expected}, store has {found}"
        )
