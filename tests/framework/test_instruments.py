"""Instruments: the bundled table, quantizing prices to ticks, inferring the precision."""

from __future__ import annotations

import numpy as np
import pytest

from framework.errors import DataError, ParameterError
from framework.instruments import (
    MAX_DECIMALS,
    MAX_TICKS,
    Instrument,
    infer_decimals,
    known_instruments,
)

BUNDLED = {"EURUSD": 5, "GBPUSD": 5, "USDJPY": 3, "XAUUSD": 2, "US30": 1}


@pytest.mark.parametrize(("symbol", "decimals"), BUNDLED.items())
def test_the_table_knows_every_bundled_symbol(symbol: str, decimals: int) -> None:
    assert Instrument.lookup(symbol) == Instrument(symbol, decimals)


def test_the_table_covers_fx_majors_jpy_pairs_metals_and_indices() -> None:
    table = known_instruments()

    assert {"AUDUSD", "USDCHF", "USDCAD", "NZDUSD", "EURJPY", "XAGUSD", "US500"} <= set(table)
    assert all(0 <= decimals <= MAX_DECIMALS for decimals in table.values())


def test_lookup_ignores_case_and_returns_none_for_unknown_symbols() -> None:
    assert Instrument.lookup("eurusd") == Instrument("EURUSD", 5)
    assert Instrument.lookup("NOPE") is None


@pytest.mark.parametrize("decimals", [-1, 9])
def test_decimals_outside_0_to_8_are_a_parameter_error(decimals: int) -> None:
    with pytest.raises(ParameterError, match=r"price decimals must be 0\.\.8"):
        Instrument("X", decimals)


def test_scale_and_tick_follow_the_decimals() -> None:
    assert (Instrument("X", 3).scale, Instrument("X", 3).tick) == (1000, 0.001)
    assert Instrument("X", 0).tick == 1.0


def test_float_noise_quantizes_to_the_intended_tick() -> None:
    eurusd = Instrument("EURUSD", 5)

    ticks = eurusd.to_ticks([1.1791800000000001, 1.17918, 1.1791799999999999])

    assert ticks.tolist() == [117918] * 3
    assert eurusd.to_prices(ticks).tolist() == [1.17918] * 3


def test_a_price_off_the_tick_grid_is_rejected_with_its_row() -> None:
    with pytest.raises(DataError) as caught:
        Instrument("XAUUSD", 2).to_ticks([4312.68, 4312.685], source="gold.csv")

    assert caught.value.row == 2
    assert str(caught.value) == "gold.csv: row 2: price 4312.685 is not a multiple of the tick 0.01"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_a_non_finite_price_is_rejected_with_its_row(value: float) -> None:
    with pytest.raises(DataError, match="is not finite") as caught:
        Instrument("X", 2).to_ticks([1.0, 2.0, value])

    assert caught.value.row == 3


def test_a_price_beyond_max_ticks_is_rejected() -> None:
    too_large = (MAX_TICKS + 1) / 10**8

    with pytest.raises(DataError, match="exceeds"):
        Instrument("X", 8).to_ticks([too_large])


def test_infer_decimals_ignores_float_noise() -> None:
    assert infer_decimals([1.1791800000000001, 1.1792, 1.17921]) == 5


@pytest.mark.parametrize(
    ("prices", "decimals"),
    [
        ([48960.6, 48982.6], 1),
        ([4312.68, 4316.4], 2),
        ([158.569, 158.5], 3),
        ([100.0, 250.0], 0),
        ([0.00000001], 8),
    ],
)
def test_infer_decimals_finds_the_smallest_grid(prices: list[float], decimals: int) -> None:
    assert infer_decimals(prices) == decimals


def test_a_value_that_fits_no_precision_up_to_8_is_an_error_naming_its_row() -> None:
    with pytest.raises(DataError) as caught:
        infer_decimals([1.1, 1.12, 1.123456789, 1.2], source="odd.csv")

    assert caught.value.row == 3
    assert "fits no precision of 8 decimals or fewer" in str(caught.value)
    assert str(caught.value).startswith("odd.csv: row 3: price 1.123456789")


def test_a_large_price_keeps_its_eighth_decimal() -> None:
    # A tolerance relative to the magnitude must not swallow a real digit.
    assert infer_decimals([100000.12345678]) == 8


def test_infer_decimals_rejects_non_finite_prices_with_their_row() -> None:
    with pytest.raises(DataError, match="not finite") as caught:
        infer_decimals(np.array([1.5, np.nan]))

    assert caught.value.row == 2
