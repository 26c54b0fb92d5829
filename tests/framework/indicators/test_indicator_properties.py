"""Property tests of the parity contract: incremental == batch, bit for bit.

For random tick series (walks, noise, constant runs, alternating ties, extremes at the
supported bound, from 1 tick up), random configurations, and snapshot → bytes → restore
into a fresh object at random bars, the incremental outputs equal the batch outputs with
``==`` and NaN/None at the same bars.
"""

from __future__ import annotations

from fractions import Fraction

import msgpack
import numpy as np
import pytest
from _indicator_testkit import (
    EXAMPLES,
    assert_identical,
    columns,
    configurations,
    inputs_for,
    run,
    series,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.errors import SnapshotError
from framework.indicators import INDICATORS, Indicator


def restore_points(size: int, every: bool = True) -> st.SearchStrategy[range | set[int]]:
    """Bars before which to snapshot and restore: none, a few, or (``every``) each one."""
    some = st.sets(st.integers(0, max(size - 1, 0)), max_size=12)
    return st.one_of(st.just(range(size)), some) if every else some


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
@settings(deadline=None)
@given(data=st.data())
def test_incremental_equals_batch_under_any_chunking(kind: str, data: st.DataObject) -> None:
    indicator = data.draw(configurations([kind]), label="indicator")
    base = data.draw(series(indicator.limit.bound), label="series")
    inputs = inputs_for(indicator, base, seed=data.draw(st.integers(0, 2**16), label="seed"))
    points = data.draw(restore_points(base.size), label="restore before")
    twin = INDICATORS[kind](**indicator.params())
    _, outputs = run(indicator, inputs, points)
    assert_identical(columns(twin, outputs), twin.batch(*inputs), repr(twin))


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
@settings(deadline=None)
@given(data=st.data())
def test_batch_never_looks_ahead(kind: str, data: st.DataObject) -> None:
    indicator = data.draw(configurations([kind]), label="indicator")
    inputs = inputs_for(indicator, data.draw(series(indicator.limit.bound), label="series"))
    cut = data.draw(st.integers(0, inputs[0].size), label="cut")
    whole = indicator.batch(*inputs)
    prefix = {name: values[:cut] for name, values in whole.items()}
    assert_identical(indicator.batch(*(column[:cut] for column in inputs)), prefix)


@settings(deadline=None)
@given(data=st.data())
def test_long_windows_stay_identical(data: st.DataObject) -> None:
    indicator = data.draw(configurations(min_period=5_000, max_period=6_000), label="indicator")
    periods = [
        indicator.params()[name]
        for name in ("period", "slow", "signal")
        if name in indicator.params()
    ]
    warm_up = int(sum(periods))
    base = data.draw(series(indicator.limit.bound, warm_up, warm_up + 300), label="series")
    inputs = inputs_for(indicator, base)
    twin = type(indicator)(**indicator.params())
    points = data.draw(restore_points(base.size, every=False), label="restore before")
    _, outputs = run(indicator, inputs, points)
    assert_identical(columns(twin, outputs), twin.batch(*inputs), repr(twin))


def oracle(kind: str, window: list[int], scale: int) -> Fraction:
    """The true value of an average, from the window alone (Python Fractions)."""
    n = len(window)
    if kind == "sma":
        return Fraction(sum(window), n * scale)
    weighted = sum(weight * x for weight, x in enumerate(window, start=1))
    return Fraction(weighted, n * (n + 1) // 2 * scale)


@pytest.mark.parametrize("kind", ["sma", "wma"])
@settings(deadline=None)
@given(data=st.data())
def test_averages_are_their_exact_fractions_correctly_rounded(
    kind: str, data: st.DataObject
) -> None:
    indicator = data.draw(configurations([kind]), label="indicator")
    (prices,) = inputs_for(indicator, data.draw(series(indicator.limit.bound), label="series"))
    numerators, denominator = indicator.batch_exact(prices) or ((), 0)
    period, scale, history = indicator.params()["period"], indicator.scale, prices.tolist()
    for bar, price in enumerate(history):
        value = indicator.update(price)
        if bar + 1 < period:
            assert value is None and indicator.exact() is None
            continue
        truth = oracle(kind, history[bar + 1 - period : bar + 1], int(scale))
        assert Fraction(*indicator.exact()) == truth == Fraction(int(numerators[bar]), denominator)  # type: ignore[misc]
        assert value == float(truth)  # float(Fraction) rounds correctly


@settings(deadline=None)
@given(data=st.data())
def test_restoring_damaged_bytes_raises_only_snapshot_errors(data: st.DataObject) -> None:
    indicator = data.draw(configurations(), label="indicator")
    run(indicator, inputs_for(indicator, data.draw(series(indicator.limit.bound, 0, 60))))
    damaged = bytearray(indicator.snapshot())
    for _ in range(data.draw(st.integers(1, 4), label="flips")):
        position = data.draw(st.integers(0, len(damaged) - 1), label="position")
        damaged[position] = data.draw(st.integers(0, 255), label="byte")
    cut = data.draw(st.integers(0, len(damaged)), label="cut")
    try:
        restored = Indicator.restore(bytes(damaged[:cut]))
    except SnapshotError:
        return
    # Flips that decode to another valid state must still give a working indicator.
    assert Indicator.restore(restored.snapshot()).snapshot() == restored.snapshot()
    run(restored, inputs_for(restored, np.zeros(3, dtype=np.int64)))


@settings(deadline=None)
@given(data=st.data())
def test_restoring_reshaped_state_raises_only_snapshot_errors(data: st.DataObject) -> None:
    indicator = data.draw(configurations(), label="indicator")
    run(indicator, inputs_for(indicator, data.draw(series(indicator.limit.bound, 0, 60))))
    envelope = msgpack.unpackb(indicator.snapshot())
    junk = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**64 - 1),
        st.floats(),
        st.text(max_size=3),
        st.lists(st.integers(-5, 5), max_size=3),
    )
    node, path = envelope, []
    while isinstance(node, list) and node and data.draw(st.booleans(), label="descend"):
        index = data.draw(st.integers(0, len(node) - 1), label="index")
        path.append(index)
        node = node[index]
    parent = envelope
    for index in path[:-1]:
        parent = parent[index]
    if path:
        parent[path[-1]] = data.draw(junk, label="junk")
    try:
        restored = Indicator.restore(msgpack.packb(envelope))
    except SnapshotError:
        return
    run(restored, inputs_for(restored, np.zeros(3, dtype=np.int64)))  # and it still works
