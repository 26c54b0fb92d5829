"""The snapshot envelope (msgpack, never pickle) and checks of the state inside it.

A snapshot is the msgpack array ``["parity.ind", kind, version, params, body]``:
``params`` holds every constructor argument (including ``scale`` and ``lookback``), so
the indicator can be rebuilt and checked; ``body`` is ``[history, state]``, whose layout
each indicator defines and versions. Restoring never trusts the bytes: every field is
type- and range-checked, and anything unexpected is a `SnapshotError`.
"""

from __future__ import annotations

import sys
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
    "ints",
    "maybe_int",
    "number",
    "pack",
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


def pack(kind: str, version: int, params: dict[str, Any], body: list[Any]) -> bytes:
    """Encode one indicator's snapshot."""
    data: bytes = msgpack.packb([MAGIC, kind, version, params, body], default=_builtin)
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
    """``length`` ints as little-endian int64 bytes (restored at C speed by `unpack_ints`)."""
    return np.fromiter(values, dtype="<i8", count=length).tobytes()


def unpack_ints(data: Any, length: int, bound: int, what: str) -> list[int]:
    """The ``length`` ints of `pack_ints` bytes, each within ``±bound``."""
    require(isinstance(data, bytes) and len(data) == 8 * length, f"{what} of {length} int64")
    values = np.frombuffer(data, dtype="<i8")
    inside = not length or (int(values.max()) <= bound and int(values.min()) >= -bound)
    require(inside, f"{what} of integers within ±{bound}")
    native = array("q", data)  # to Python ints faster than numpy's tolist
    if sys.byteorder == "big":
        native.byteswap()
    return native.tolist()


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
