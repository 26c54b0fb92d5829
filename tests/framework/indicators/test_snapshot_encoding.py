"""Snapshot bytes stay exactly what the plain msgpack envelope gives, however they are built.

Indicators keep their envelope header (everything before the body) from their first
snapshot, reuse a msgpack Packer per thread and pack windows with `struct`. These tests
pin the result to the straightforward encoding and to digests of the bytes the original
encoder produced, so that state already stored in Redis keeps restoring.
"""

from __future__ import annotations

import hashlib
import struct
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgpack
import numpy as np
import pytest
from _indicator_testkit import ALL_EXAMPLES, EXAMPLES, example_id
from hypothesis import given
from hypothesis import strategies as st

from framework.crossing import CrossTracker
from framework.errors import SnapshotError
from framework.indicators import INDICATORS, SMA, Indicator
from framework.indicators import _snapshot as snap

WALK = 110_000 + np.cumsum(np.random.default_rng(11).integers(-40, 41, 60))
INT64 = st.integers(-(2**63), 2**63 - 1)
LARGEST = 2**63 - 1

#: sha256 (first 32 hex digits) of the snapshots after every bar of `feed`, for the second
#: example of each kind at scale 100_000 and lookback 2, as the numpy/msgpack.packb encoder
#: of format version 1 wrote them. A change here means stored state no longer matches.
DIGESTS = {
    "sma": "fab39038e2a4608e4417ba4e3a94ed74",
    "ema": "6e1ecc289d08ba5d1a74894d806d97c7",
    "wma": "7517eac00170ef5a5d6d3408061b1b5e",
    "rsi": "3710df3244e137286a3ed7c4e198496d",
    "atr": "3126dfecbf3c7c7d35b9ab9b5ada0e52",
    "stddev": "0a7920243d2d96d03c23d1e3bc495079",
    "bollinger": "319c1e0489816820975549d3b359c0e2",
    "macd": "32c09825da2ffa25b29381fb3edcd61a",
    "donchian": "879fb7bf580f6aa5f62a3b4c3e78e5fd",
}


def feed(indicator: Indicator) -> list[bytes]:
    """Update with a fixed walk (highs above, lows below); the snapshot after every bar."""
    columns = {"price": WALK, "close": WALK, "high": WALK + 15, "low": WALK - 12}
    rows = zip(*(columns[name].tolist() for name in indicator.inputs), strict=True)
    snapshots = [indicator.snapshot()]
    for row in rows:
        indicator.update(*row)
        snapshots.append(indicator.snapshot())
    return snapshots


def plain(indicator: Indicator) -> bytes:
    """The straightforward encoding of the envelope, built from scratch."""
    envelope = [snap.MAGIC, indicator.kind, indicator.version, indicator.params()]
    data: bytes = msgpack.packb([*envelope, indicator._dump()], default=snap._builtin)
    return data


@pytest.mark.parametrize("case", ALL_EXAMPLES, ids=example_id)
@pytest.mark.parametrize(("scale", "lookback"), [(1, 0), (100_000, 1), (7, 3)])
def test_snapshots_equal_the_plain_envelope_at_every_bar(
    case: tuple[str, dict[str, Any]], scale: int, lookback: int
) -> None:
    kind, params = case
    indicator = INDICATORS[kind](**params, scale=scale, lookback=lookback)
    columns = {"price": WALK, "close": WALK, "high": WALK + 15, "low": WALK - 12}
    for row in zip(*(columns[name].tolist() for name in indicator.inputs), strict=True):
        assert indicator.snapshot() == plain(indicator)
        indicator.update(*row)
        restored = Indicator.restore(indicator.snapshot())
        assert restored.snapshot() == plain(restored) == plain(indicator)


def test_every_registered_kind_has_a_digest() -> None:
    assert set(DIGESTS) == set(INDICATORS) == set(EXAMPLES)


@pytest.mark.parametrize("kind", sorted(DIGESTS))
def test_snapshot_bytes_match_those_of_the_original_encoder(kind: str) -> None:
    indicator = INDICATORS[kind](**EXAMPLES[kind][1], scale=100_000, lookback=2)
    digest = hashlib.sha256(b"".join(feed(indicator))).hexdigest()[:32]
    assert digest == DIGESTS[kind]


def feed_numpy(indicator: Indicator) -> list[bytes]:
    """`feed` with numpy scalars: the history then holds numpy values, which the packer
    hands to Python (its ``default``) mid-pack, where another thread may run."""
    snapshots = [indicator.snapshot()]
    for price in WALK:
        indicator.update(price)
        snapshots.append(indicator.snapshot())
    return snapshots


def test_snapshots_taken_in_many_threads_are_identical() -> None:
    periods = (1, 3, 50, 200)
    expected = [feed_numpy(SMA(period, scale=100, lookback=8)) for period in periods]
    fresh = [SMA(period, scale=100, lookback=8) for _ in range(50) for period in periods]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(feed_numpy, fresh))
    assert results == expected * 50


@given(st.lists(INT64, max_size=300))
def test_pack_ints_writes_little_endian_int64_like_numpy(values: list[int]) -> None:
    window = deque(values)
    data = snap.pack_ints(window, len(values))
    assert data == np.array(values, dtype="<i8").tobytes()
    if min(values, default=0) >= -LARGEST:
        assert snap.unpack_ints(data, len(values), LARGEST, "ints") == values
    else:  # -2**63 is beyond every bound ±b
        with pytest.raises(SnapshotError):
            snap.unpack_ints(data, len(values), LARGEST, "ints")


@pytest.mark.parametrize("given_length", [0, 2, 4])
def test_pack_ints_refuses_another_length(given_length: int) -> None:
    with pytest.raises(ValueError, match="expected 3 int64 values"):
        snap.pack_ints([1] * given_length, 3)


def test_pack_ints_refuses_values_outside_int64() -> None:
    with pytest.raises(ValueError, match="int64"):
        snap.pack_ints([2**63], 1)


@pytest.mark.parametrize("length", [1, 5, 96, 97, 300])
@pytest.mark.parametrize("position", [0, -1])
@pytest.mark.parametrize("sign", [1, -1])
def test_unpack_ints_refuses_a_value_beyond_the_bound(
    length: int, position: int, sign: int
) -> None:
    bound = 1_000
    values = [bound * sign] * length
    assert snap.unpack_ints(struct.pack(f"<{length}q", *values), length, bound, "w") == values
    values[position] = (bound + 1) * sign
    with pytest.raises(SnapshotError, match="within ±1000"):
        snap.unpack_ints(struct.pack(f"<{length}q", *values), length, bound, "w")


def test_crossing_snapshots_equal_the_plain_encoding() -> None:
    tracker = CrossTracker(lookback=3)
    for side in (None, -1, 0, 1, 1, -1, None, 0):
        tracker.update(side)
        plain_bytes = msgpack.packb([1, tracker._side, list(tracker._history)])
        assert tracker.snapshot() == plain_bytes
        assert CrossTracker.restore(plain_bytes, 3).snapshot() == plain_bytes
