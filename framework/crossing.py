"""The crossing of two series, incrementally and in batch, decided exactly.

Both twins follow one rule: a bar whose exact comparison of ``a`` and ``b`` has a
strict side (``a > b`` or ``a < b``) crosses when the last earlier bar with a strict
side had the other one. Equal values neither cross nor change the remembered side,
so a touch followed by a return is not a cross. Bars where either series is still
warming up are skipped: they neither cross nor change the side.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

import msgpack
import numpy as np
import numpy.typing as npt

from framework.errors import SnapshotError

__all__ = ["CrossTracker", "cross_batch"]

_FORMAT = 1


class _Packers(threading.local):
    # One reusable Packer per thread: building one per snapshot costs more than packing.
    def __init__(self) -> None:
        self.packer = msgpack.Packer()


_PACKERS = _Packers()


class CrossTracker:
    """Incremental crossing detector; its state is the last strict side and a short history.

    Examples
    --------
    >>> tracker = CrossTracker(lookback=1)
    >>> [tracker.update(side) for side in (None, -1, 0, 1, 1, 0, 1, -1)]
    [None, 0, 0, 1, 0, 0, 0, -1]
    """

    __slots__ = ("_history", "_side")

    def __init__(self, lookback: int = 1) -> None:
        self._side = 0
        self._history: deque[int | None] = deque([None] * (lookback + 1), maxlen=lookback + 1)

    def update(self, comparison: int | None) -> int | None:
        """Feed one bar's comparison (-1, 0, 1; None in warm-up); return the crossing."""
        if comparison is None:
            crossed = None
        elif comparison and self._side and comparison != self._side:
            crossed = comparison
        else:
            crossed = 0
        if comparison:
            self._side = comparison
        self._history.append(crossed)
        return crossed

    def update_values(self, a: float | None, b: float | None, tie: Callable[[], int]) -> int | None:
        """`update` with the comparison of two current values (None: warming up).

        Equal floats are ordered by ``tie`` (see `framework.indicators.compare.tie_breaker`),
        so the comparison is `compare`'s, exactly.

        Examples
        --------
        >>> tracker = CrossTracker()
        >>> [tracker.update_values(a, 1.0, lambda: 0) for a in (None, 0.5, 1.0, 1.5)]
        [None, 0, 0, 1]
        """
        if a is None or b is None:
            comparison = None
            crossed = None
        else:
            comparison = 1 if a > b else -1 if a < b else tie()
            side = self._side
            crossed = comparison if comparison and side and comparison != side else 0
            if comparison:
                self._side = comparison
        self._history.append(crossed)
        return crossed

    def get(self, ago: int = 0) -> int | None:
        """The crossing ``ago`` bars back."""
        return self._history[-1 - ago]

    def snapshot(self) -> bytes:
        """Versioned bytes of the state."""
        data: bytes = _PACKERS.packer.pack([_FORMAT, self._side, list(self._history)])
        return data

    @classmethod
    def restore(cls, data: bytes, lookback: int = 1) -> CrossTracker:
        """Rebuild a tracker from `snapshot` bytes."""
        try:
            version, side, history = msgpack.unpackb(data)
        except (ValueError, TypeError, msgpack.UnpackException) as error:
            raise SnapshotError(
                f"crossing snapshot is not readable ({type(error).__name__}: {error})"
            ) from None
        if not (
            version == _FORMAT
            and _is_side(side)
            and isinstance(history, list)
            and len(history) == lookback + 1
            and all(entry is None or _is_side(entry) for entry in history)
        ):
            raise SnapshotError("crossing snapshot has another format or lookback")
        tracker = cls(lookback)
        tracker._side = side
        tracker._history.extend(history)
        return tracker


def _is_side(value: object) -> bool:
    return type(value) is int and -1 <= value <= 1


def cross_batch(
    comparison: npt.NDArray[np.int8], valid: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    """Crossings of a whole series: +1, -1, 0, and NaN where ``valid`` is False.

    Examples
    --------
    >>> c = np.array([0, -1, 0, 1, 1, 0, 1, -1], dtype=np.int8)
    >>> v = np.array([False] + [True] * 7)
    >>> cross_batch(c, v).tolist()
    [nan, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, -1.0]
    """
    side = np.where(valid, comparison, 0).astype(np.int8)
    if side.size == 0:
        return np.empty(0, dtype=np.float64)
    positions = np.arange(side.size)
    last_strict = np.maximum.accumulate(np.where(side != 0, positions, -1))
    before = np.concatenate(([-1], last_strict[:-1]))
    previous_side = np.where(before >= 0, side[np.maximum(before, 0)], 0)
    crossed = (side != 0) & (previous_side != 0) & (side != previous_side)
    return np.where(valid, np.where(crossed, side, 0), np.nan).astype(np.float64)
