"""`compare` decides exactly, and `compare_arrays` agrees with it on every bar."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from _indicator_testkit import MAGNITUDES, SHAPES, configurations, inputs_for, series
from hypothesis import event, given, settings
from hypothesis import strategies as st

from framework.indicators import SMA, compare, compare_arrays


def sign(value: Fraction) -> int:
    return (value > 0) - (value < 0)


@pytest.mark.parametrize("near_ties", [False, True], ids=["any-series", "near-ties"])
@settings(deadline=None)
@given(data=st.data())
def test_compare_is_exact_and_compare_arrays_agrees_on_every_bar(
    near_ties: bool, data: st.DataObject
) -> None:
    # Short windows jittering at the bound: averages of different fractions often round
    # to equal floats there, which only the exact comparison tells apart.
    kinds = ["sma", "wma"] if near_ties else ["sma", "wma", "ema"]
    windows = configurations(kinds, max_period=8 if near_ties else 40)
    a, b = data.draw(windows, label="a"), data.draw(windows, label="b")
    bound = min(a.limit.bound, b.limit.bound)
    shapes = ["jitter"] if near_ties else SHAPES
    magnitudes = [] if near_ties else MAGNITUDES
    (prices,) = inputs_for(a, data.draw(series(bound, 0, 300, shapes, magnitudes), label="series"))
    a_batch, b_batch = a.batch(prices)["value"], b.batch(prices)["value"]
    vectorized = compare_arrays(a_batch, a.batch_exact(prices), b_batch, b.batch_exact(prices))
    for bar, price in enumerate(prices.tolist()):
        a_value, b_value = a.update(price), b.update(price)
        a_exact, b_exact = a.exact(), b.exact()
        decided = compare(a_value, a_exact, b_value, b_exact)
        assert decided == vectorized[bar], bar
        if a_value is None or b_value is None:
            assert decided == 0
        elif a_exact is not None and b_exact is not None:
            assert decided == sign(Fraction(*a_exact) - Fraction(*b_exact))
            if decided and a_value == b_value:
                event("equal floats, different fractions")
        else:
            assert decided == sign(Fraction(a_value) - Fraction(b_value))


def test_equal_floats_of_different_fractions_are_told_apart() -> None:
    # SMA(3) ends at 1e15 + 1/3 and SMA(7) at 1e15 + 3/7: both round to 1e15 + 0.375.
    a = 10**15
    prices = np.array([a + 1, a, a + 1, a, a, a, a + 1], dtype=np.int64)
    fast, slow = SMA(3), SMA(7)
    for price in prices.tolist():
        fast.update(price)
        slow.update(price)
    assert fast.get() == slow.get() == 1e15 + 0.375
    assert compare(fast.get(), fast.exact(), slow.get(), slow.exact()) == -1
    assert compare(fast.get(), None, slow.get(), slow.exact()) == 0
    verdicts = compare_arrays(
        fast.batch(prices)["value"],
        fast.batch_exact(prices),
        slow.batch(prices)["value"],
        slow.batch_exact(prices),
    )
    assert verdicts.tolist() == [0, 0, 0, 0, 0, 0, -1]
    assert verdicts.dtype == np.int8


def test_ties_beyond_int64_products_are_cross_multiplied_with_python_ints() -> None:
    numerators = np.array([2**52 + 1, 2**52], dtype=np.int64)
    verdicts = compare_arrays(
        np.array([1.0, 1.0]), (numerators, 2**52), np.array([1.0, 1.0]), (numerators, 2**52 - 1)
    )
    assert verdicts.tolist() == [
        sign(Fraction(int(n), 2**52) - Fraction(int(n), 2**52 - 1)) for n in numerators
    ]
