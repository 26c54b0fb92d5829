"""The supported input range: documented, enforced with a clear error, never overflowing."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
from _indicator_testkit import (
    ALL_EXAMPLES,
    EXAMPLES,
    assert_identical,
    columns,
    example_id,
    inputs_for,
    run,
)

from framework.errors import IndicatorRangeError
from framework.indicators import EXACT, INDICATORS, SMA, WMA, Indicator, StdDev

examples = pytest.mark.parametrize("case", ALL_EXAMPLES, ids=example_id)


def test_the_error_names_the_indicator_the_value_and_the_limit() -> None:
    sma = SMA(3)
    with pytest.raises(IndicatorRangeError) as error:
        sma.update(EXACT // 3 + 1)
    assert str(error.value) == (
        "SMA(3): input 3002399751580331 ticks is outside ±3002399751580330 ticks supported "
        "exactly (period × |ticks| < 2**53)"
    )
    with pytest.raises(
        IndicatorRangeError, match=r"SMA\(3\): input -3002399751580331 ticks \(index 1\)"
    ):
        sma.batch([1, -(EXACT // 3 + 1), 2])


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_typical_configurations_support_1_to_10_to_the_12_ticks(kind: str) -> None:
    indicator = INDICATORS[kind](**EXAMPLES[kind][-1])
    assert indicator.limit.bound >= 10**12
    for level in (1, 10**6, 10**12):
        walk = level + np.cumsum(np.random.default_rng(level).integers(-3, 4, 300))
        inputs = inputs_for(indicator, np.clip(walk, -(10**12), 10**12))
        _, outputs = run(type(indicator)(**indicator.params()), inputs, range(0, 300, 7))
        assert_identical(columns(indicator, outputs), indicator.batch(*inputs), (kind, level))


@examples
def test_inputs_at_the_bound_work_and_beyond_it_raise_in_both_twins(
    case: tuple[str, dict[str, Any]],
) -> None:
    kind, params = case
    indicator = INDICATORS[kind](**params, scale=100)
    bound = indicator.limit.bound
    edge = np.array([bound, -bound, bound, bound - 1, -bound] * 12, dtype=np.int64)
    inputs = inputs_for(indicator, edge)
    _, outputs = run(type(indicator)(**indicator.params()), inputs)
    assert_identical(columns(indicator, outputs), indicator.batch(*inputs))
    for beyond in (bound + 1, -bound - 1):
        before = indicator.snapshot()
        with pytest.raises(
            IndicatorRangeError, match=re.escape(f"{indicator.name}: input {beyond} ")
        ):
            indicator.update(*([beyond] * len(indicator.inputs)))
        assert indicator.snapshot() == before, "a rejected input must leave the state untouched"
        bad = tuple(np.append(column, beyond) for column in inputs)
        with pytest.raises(IndicatorRangeError, match=f"index {edge.size}"):
            indicator.batch(*bad)


def test_a_long_wma_has_a_smaller_bound_and_enforces_it() -> None:
    wma = WMA(5_000)
    assert wma.limit.bound == EXACT // (5_000 * 5_001 // 2) < 10**12
    with pytest.raises(IndicatorRangeError, match=r"n\(n\+1\)/2 × \|ticks\| < 2\*\*53"):
        wma.update(10**12)
    prices = np.full(5_100, wma.limit.bound, dtype=np.int64)
    prices[::3] -= 7
    _, outputs = run(WMA(5_000), (prices,), [4_999, 5_050])
    assert_identical(columns(wma, outputs), wma.batch(prices))


def test_stddev_is_exact_up_to_2_to_the_53_ticks_through_python_ints() -> None:
    std = StdDev(20)
    assert std.limit.bound == EXACT
    prices = np.array([EXACT, -EXACT, 10**12, 1] * 10, dtype=np.int64)
    _, outputs = run(StdDev(20), (prices,))
    assert_identical(columns(std, outputs), std.batch(prices))
    with pytest.raises(IndicatorRangeError):
        std.update(EXACT + 1)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_inputs_are_out_of_range(value: float) -> None:
    for kind in ("ema", "sma"):
        indicator: Indicator = INDICATORS[kind](3)
        with pytest.raises(IndicatorRangeError):
            indicator.update(value)
