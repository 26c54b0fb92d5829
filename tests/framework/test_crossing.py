"""The crossing rule, incrementally (`CrossTracker`) and in batch (`cross_batch`).

Both twins are checked against a plain model written from the rule's wording: a bar
whose comparison is strict crosses when the last earlier valid strict comparison had the
opposite sign; equal bars and warm-up bars (None) neither cross nor change the side.
"""

from __future__ import annotations

import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.crossing import CrossTracker, cross_batch
from framework.errors import SnapshotError

Comparison = int | None


def model(comparisons: list[Comparison]) -> list[Comparison]:
    """The rule, by looking back for the last strict side (quadratic, obviously right)."""
    crossings: list[Comparison] = []
    for i, now in enumerate(comparisons):
        if now is None:
            crossings.append(None)
            continue
        earlier = [c for c in comparisons[:i] if c]  # None and 0 are skipped alike
        crossings.append(now if now and earlier and earlier[-1] == -now else 0)
    return crossings


def tracked(comparisons: list[Comparison], lookback: int = 1) -> list[Comparison]:
    tracker = CrossTracker(lookback)
    return [tracker.update(c) for c in comparisons]


def batched(comparisons: list[Comparison]) -> list[Comparison]:
    values = np.array([0 if c is None else c for c in comparisons], dtype=np.int8)
    valid = np.array([c is not None for c in comparisons], dtype=np.bool_)
    out = cross_batch(values, valid)
    return [None if np.isnan(x) else int(x) for x in out]


#: Comparison sequences with runs: warm-up (None) runs anywhere, ties, sides.
runs = st.lists(
    st.tuples(st.sampled_from([None, -1, 0, 1]), st.integers(1, 4)), min_size=0, max_size=25
)


def flatten(pieces: list[tuple[Comparison, int]]) -> list[Comparison]:
    return [value for value, count in pieces for _ in range(count)]


# --- the rule, case by case ------------------------------------------------------------


def test_below_then_equal_then_above_is_one_cross_on_the_above_bar() -> None:
    assert tracked([-1, 0, 1]) == [0, 0, 1]
    assert batched([-1, 0, 1]) == [0, 0, 1]


def test_above_then_equal_then_below_is_one_cross_on_the_below_bar() -> None:
    assert tracked([1, 0, 0, 0, -1]) == [0, 0, 0, 0, -1]
    assert batched([1, 0, 0, 0, -1]) == [0, 0, 0, 0, -1]


def test_a_touch_and_return_to_the_same_side_is_not_a_cross() -> None:
    assert tracked([1, 0, 1, -1, 0, 0, -1]) == [0, 0, 0, -1, 0, 0, 0]
    assert batched([1, 0, 1, -1, 0, 0, -1]) == [0, 0, 0, -1, 0, 0, 0]


def test_the_first_side_after_warm_up_is_not_a_cross() -> None:
    assert tracked([None, None, 1, -1]) == [None, None, 0, -1]
    assert batched([None, None, 1, -1]) == [None, None, 0, -1]


def test_equality_right_after_warm_up_remembers_no_side() -> None:
    assert tracked([None, 0, 0, 1, 1, -1]) == [None, 0, 0, 0, 0, -1]
    assert batched([None, 0, 0, 1, 1, -1]) == [None, 0, 0, 0, 0, -1]


def test_warm_up_bars_in_the_middle_neither_cross_nor_forget_the_side() -> None:
    assert tracked([1, None, None, -1]) == [0, None, None, -1]
    assert batched([1, None, None, -1]) == [0, None, None, -1]


def test_batch_ignores_comparisons_at_invalid_positions() -> None:
    values = np.array([1, -1, 1, -1], dtype=np.int8)
    valid = np.array([True, False, False, True])

    out = cross_batch(values, valid)

    assert np.isnan(out[1:3]).all()
    assert out[3] == -1


def test_batch_of_an_empty_series_is_empty() -> None:
    out = cross_batch(np.array([], dtype=np.int8), np.array([], dtype=np.bool_))

    assert out.shape == (0,)
    assert out.dtype == np.float64


def test_a_sign_flip_every_bar_crosses_every_bar() -> None:
    assert tracked([1, -1, 1, -1]) == [0, -1, 1, -1]
    assert batched([1, -1, 1, -1]) == [0, -1, 1, -1]


# --- twins and model agree on any sequence ---------------------------------------------


@settings(deadline=None)
@given(runs)
def test_tracker_batch_and_model_agree_on_any_comparison_sequence(
    pieces: list[tuple[Comparison, int]],
) -> None:
    comparisons = flatten(pieces)
    expected = model(comparisons)

    assert tracked(comparisons) == expected
    assert batched(comparisons) == expected


@settings(deadline=None)
@given(runs, st.integers(0, 3), st.data())
def test_a_tracker_restored_at_any_point_continues_exactly_like_the_original(
    pieces: list[tuple[Comparison, int]], lookback: int, data: st.DataObject
) -> None:
    comparisons = flatten(pieces)
    cut = data.draw(st.integers(0, len(comparisons)), label="cut")
    original = CrossTracker(lookback)
    for c in comparisons[:cut]:
        original.update(c)

    restored = CrossTracker.restore(original.snapshot(), lookback)

    assert restored.snapshot() == original.snapshot()
    assert [restored.get(ago) for ago in range(lookback + 1)] == [
        original.get(ago) for ago in range(lookback + 1)
    ]
    rest = comparisons[cut:]
    assert [restored.update(c) for c in rest] == [original.update(c) for c in rest]
    assert restored.snapshot() == original.snapshot()


@settings(deadline=None)
@given(runs, st.integers(0, 3))
def test_get_reads_the_crossing_ago_bars_back_and_none_before_the_start(
    pieces: list[tuple[Comparison, int]], lookback: int
) -> None:
    comparisons = flatten(pieces)
    expected = model(comparisons)
    tracker = CrossTracker(lookback)
    for i, c in enumerate(comparisons):
        tracker.update(c)
        for ago in range(lookback + 1):
            assert tracker.get(ago) == (expected[i - ago] if i - ago >= 0 else None)


# --- snapshots that do not fit ----------------------------------------------------------


def test_a_snapshot_of_another_lookback_is_refused() -> None:
    snapshot = CrossTracker(lookback=2).snapshot()

    with pytest.raises(SnapshotError, match="another format or lookback"):
        CrossTracker.restore(snapshot, lookback=1)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc1",
        b"garbage!",
        msgpack.packb(5),
        msgpack.packb([1, 0]),
        msgpack.packb([2, 0, [None, None]]),  # an unknown format version
        msgpack.packb([1, 2, [None, None]]),  # a side that is not -1, 0 or 1
        msgpack.packb([1, True, [None, None]]),
        msgpack.packb([1, 0, 7]),
        msgpack.packb([1, 0, [None, "x"]]),
        msgpack.packb([1, 0, [None, 3]]),
        msgpack.packb([1, 0, [None, 1.0]]),
        msgpack.packb(["parity.ind", "sma", 1, {}, []]),  # an indicator's snapshot
    ],
)
def test_unreadable_or_invalid_snapshot_bytes_raise_snapshot_error(data: bytes) -> None:
    with pytest.raises(SnapshotError):
        CrossTracker.restore(data, lookback=1)
