"""The snapshot envelope (msgpack, never pickle) and checks of the state inside it.

A snapshot is the msgpack array ``["parity.ind", kind, version, params, body]``:
``params`` holds every constructor argument (including ``scale`` and ``lookback``), so
the indicator can be rebuilt and checked; ``body`` is ``[history, state]``, whose layout
each indicator defines and versions. Restoring never trusts the bytes: every field is
type- and range-checked, and anything unexpected is a `SnapshotError`.
"""

from __future__ import annotations

import struct
import sys
import threading
from array import array
from collections.abc import Iterable
from typing import Any

import msgpack
import numpy as np

from framework.errors import SnapshotError

__all__ = [
    "MAGIC",
    "an_int",
    "fields",
    "header",
    "ints",
    "maybe_int",
    "number",
    "pack",
    "pack_body",
    "pack_ints",
    "require",
    "unpack",
    "unpack_ints",
]

MAGIC = "parity.ind"


def _builtin(value: object) -> object:
    # Inputs may arrive as numpy scalars; store them as plain numbers.
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a snapshot")


class _Packers(threading.local):
    # A Packer is reused (building one per call costs more than packing a small body),
    # but never shared between threads: ``default`` runs Python code mid-pack.
    def __init__(self) -> None:
        self.packer = msgpack.Packer(default=_builtin)


_PACKERS = _Packers()


def pack(kind: str, version: int, params: dict[str, Any], body: list[Any]) -> bytes:
    """Encode one indicator's snapshot.

    The plain definition; ``header(kind, version, params) + pack_body(body)`` gives the
    same bytes and is what indicators use, with the header computed once.
    """
    data: bytes = msgpack.packb([MAGIC, kind, version, params, body], default=_builtin)
    return data


def header(kind: str, version: int, params: dict[str, Any]) -> bytes:
    """The envelope's bytes before the body: a 5-array header and its first four items.

    A msgpack array is its header followed by its items, each encoded on its own, so
    ``header(...) + pack_body(body) == pack(..., body)`` byte for byte.
    """
    packer = msgpack.Packer(default=_builtin)
    items = (packer.pack(item) for item in (MAGIC, kind, version, params))
    return b"".join((packer.pack_array_header(5), *items))


def pack_body(body: list[Any]) -> bytes:
    """The body's bytes, which follow `header` in a snapshot."""
    data: bytes = _PACKERS.packer.pack(body)
    return data


def unpack(data: bytes) -> tuple[str, int, dict[str, Any], list[Any]]:
    """Decode the envelope: (kind, version, params, body); raise `SnapshotError` on garbage."""
    try:
        payload = msgpack.unpackb(data)
    except Exception as error:  # msgpack raises many types for malformed input
        raise SnapshotError(
            f"not an indicator snapshot ({type(error).__name__}: {error})"
        ) from None
    if not (isinstance(payload, list) and len(payload) == 5 and payload[0] == MAGIC):
        raise SnapshotError("not an indicator snapshot (missing the parity.ind header)")
    _, kind, version, params, body = payload
    require(isinstance(kind, str) and type(version) is int, "a kind and a version")
    require(isinstance(params, dict) and isinstance(body, list), "parameters and a body")
    return kind, version, params, body


def require(condition: bool, what: str) -> None:
    """Raise `SnapshotError` saying the snapshot lacks a valid ``what``."""
    if not condition:
        raise SnapshotError(f"corrupt indicator snapshot: expected {what}")


def fields(state: list[Any], count: int) -> list[Any]:
    """The ``count`` fields of a state list."""
    require(len(state) == count, f"a state of {count} fields")
    return state


def an_int(value: Any, low: int, high: int, what: str) -> int:
    """An int in ``[low, high]``."""
    require(type(value) is int and low <= value <= high, f"{what} in {low}..{high}")
    return int(value)


def maybe_int(value: Any, bound: int, what: str) -> int | None:
    """None, or an int within ``±bound``."""
    return None if value is None else an_int(value, -bound, bound, what)


def number(value: Any, what: str) -> float:
    """An int (an exact sum of ticks) or a float."""
    require(type(value) in (int, float), what)
    return value  # type: ignore[no-any-return]


def pack_ints(values: Iterable[int], length: int) -> bytes:
    """``length`` ints as little-endian int64 bytes (restored at C speed by `unpack_ints`).

    Raises ValueError unless ``values`` holds exactly ``length`` integers within int64.
    """
    try:
        # `struct` converts at C speed, faster than numpy for windows of any length.
        return struct.pack(f"<{length}q", *values)
    except struct.error as error:
        raise ValueError(f"expected {length} int64 values to pack: {error}") from None


#: Above this many ints, numpy finds the extremes faster than `min` and `max`: its
#: reductions cost about a microsecond each whatever the length, builtins ~15 ns an int.
_NUMPY_EXTREMES = 96


def unpack_ints(data: Any, length: int, bound: int, what: str) -> list[int]:
    """The ``length`` ints of `pack_ints` bytes, each within ``±bound``."""
    require(isinstance(data, bytes) and len(data) == 8 * length, f"{what} of {length} int64")
    native = array("q", data)  # to Python ints faster than numpy's tolist
    if sys.byteorder == "big":
        native.byteswap()
    values = native.tolist()
    if length > _NUMPY_EXTREMES:
        extremes = np.frombuffer(data, dtype="<i8")
        low, high = int(extremes.min()), int(extremes.max())
    else:
        low, high = (min(values), max(values)) if values else (0, 0)
    require(-bound <= low and high <= bound, f"{what} of integers within ±{bound}")
    return values


def ints(value: Any, length: int, bound: int, what: str) -> list[int]:
    """A list of ``length`` ints within ``±bound`` (checked at C speed through `array`)."""
    require(isinstance(value, list) and len(value) == length, f"{what} of {length} integers")
    try:
        packed = array("q", value)
    except (TypeError, OverflowError):
        packed = None
    require(
        packed is not None and (not packed or (max(packed) <= bound and min(packed) >= -bound)),
        f"{what} of integers within ±{bound}",
    )
    return packed.tolist()  # type: ignore[union-attr]
