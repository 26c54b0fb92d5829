"""Property tests: prices and ticks convert exactly, whatever the precision."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.instruments import MAX_DECIMALS, MAX_TICKS, Instrument, infer_decimals

# Deterministic: the same examples on every run and machine, nothing kept between runs.
# The number of examples comes from the active profile (tests/conftest.py).
PROPERTY = settings(derandomize=True, database=None, deadline=None)

precisions = st.integers(min_value=0, max_value=MAX_DECIMALS)
ticks = st.integers(min_value=1, max_value=MAX_TICKS)
# k ulps of noise move a price by about k * 2**-52 of itself: below 2**48 ticks,
# 4 ulps stay far inside half a tick.
noisy_ticks = st.integers(min_value=1, max_value=2**48)
ulps = st.integers(min_value=-4, max_value=4)


def nudge(value: float, steps: int) -> float:
    """``value`` moved ``steps`` ulps up (positive) or down."""
    target = np.inf if steps > 0 else -np.inf
    for _ in range(abs(steps)):
        value = float(np.nextafter(value, target))
    return value


@PROPERTY
@given(decimals=precisions, tick=ticks)
def test_ticks_to_float_to_ticks_is_exact_for_every_precision(decimals: int, tick: int) -> None:
    instrument = Instrument("X", decimals)

    price = instrument.to_prices(np.array([tick]))

    assert instrument.to_ticks(price).tolist() == [tick]


@PROPERTY
@given(decimals=precisions, tick=ticks)
def test_float_to_ticks_to_float_is_bit_identical(decimals: int, tick: int) -> None:
    # The float a CSV parser makes of the decimal text "123.45" is the correctly
    # rounded value; it must come back unchanged, bit for bit.
    instrument = Instrument("X", decimals)
    price = float(f"{tick}e-{decimals}")

    back = instrument.to_prices(instrument.to_ticks([price]))

    assert back.view(np.int64).tolist() == np.array([price]).view(np.int64).tolist()


@PROPERTY
@given(decimals=precisions, tick=noisy_ticks, steps=ulps)
def test_noisy_floats_quantize_to_the_intended_tick(decimals: int, tick: int, steps: int) -> None:
    instrument = Instrument("X", decimals)
    noisy = nudge(float(f"{tick}e-{decimals}"), steps)

    assert instrument.to_ticks([noisy]).tolist() == [tick]


@PROPERTY
@given(
    decimals=precisions,
    values=st.lists(st.integers(min_value=1, max_value=10**13), min_size=1, max_size=20),
    steps=ulps,
)
def test_inferred_precision_is_the_coarsest_grid_holding_every_price(
    decimals: int, values: list[int], steps: int
) -> None:
    prices = [nudge(float(f"{tick}e-{decimals}"), steps) for tick in values]

    inferred = infer_decimals(prices)

    assert inferred <= decimals
    # The coarser grid still holds every price exactly...
    coarse = Instrument("X", inferred).to_ticks(prices)
    assert (coarse * 10 ** (decimals - inferred)).tolist() == values
    # ...and no coarser grid would: some price uses the last inferred digit.
    if inferred > 0:
        assert any(tick % 10 ** (decimals - inferred + 1) for tick in values)
