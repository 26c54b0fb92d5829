"""CandleSeries: the validation rules of contract 1 (with row numbers) and derived views."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from framework.candles import Candle, CandleSeries
from framework.errors import DataError, ParameterError
from framework.instruments import Instrument
from framework.timeframes import Timeframe

BAR_NS = Timeframe.M15.nanoseconds
START_NS = 1_768_485_600 * 1_000_000_000  # 2026-01-15 14:00 UTC
EURUSD = Instrument("EURUSD", 5)


def columns(n: int = 5) -> dict[str, Any]:
    """n valid M15 bars as plain lists, ready to be spoiled one cell at a time."""
    return {
        "time_ns": [START_NS + i * BAR_NS for i in range(n)],
        "open": [110_000 + 10 * i for i in range(n)],
        "high": [110_050 + 10 * i for i in range(n)],
        "low": [109_950 + 10 * i for i in range(n)],
        "close": [110_020 + 10 * i for i in range(n)],
        "volume": [100.0] * n,
    }


def create(data: dict[str, Any], **kwargs: Any) -> CandleSeries:
    return CandleSeries.create(EURUSD, Timeframe.M15, **data, **kwargs)


def test_valid_columns_make_a_series_with_read_only_arrays() -> None:
    series = create(columns())

    assert len(series) == 5
    assert series.symbol == "EURUSD" and series.decimals == 5
    with pytest.raises(ValueError, match="read-only"):
        series.close[0] = 1


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("open", 0, "price is not positive"),
        ("low", -5, "price is not positive"),
        ("high", 110_000, "high < max(open, close)"),
        ("low", 110_030, "low > min(open, close)"),
        ("volume", -1.0, "volume is negative"),
        ("volume", float("nan"), "volume is not finite"),
        ("volume", float("inf"), "volume is not finite"),
        ("time_ns", START_NS + 1 * BAR_NS, "duplicate time"),
        ("time_ns", START_NS, "time is earlier than the row before"),
        ("time_ns", START_NS + 2 * BAR_NS + 60 * 10**9, "time is not aligned to M15 bars"),
    ],
)
def test_each_rule_rejects_the_first_bad_row(field: str, value: Any, rule: str) -> None:
    data = columns()
    data[field][2] = value  # the third row

    with pytest.raises(DataError) as caught:
        create(data, source="eurusd.csv")

    assert caught.value.row == 3
    assert caught.value.rule.startswith(rule)
    assert str(caught.value).startswith(f"eurusd.csv: row 3: {rule}")


def test_the_error_names_the_bar_time() -> None:
    data = columns()
    data["high"][1] = 100_000

    with pytest.raises(DataError, match=r"\(bar 2026-01-15T14:15:00\+00:00\)"):
        create(data)


def test_the_earliest_row_wins_across_rules() -> None:
    data = columns()
    data["volume"][3] = -1.0
    data["high"][1] = 100_000

    with pytest.raises(DataError) as caught:
        create(data)

    assert caught.value.row == 2


def test_first_row_offsets_the_reported_row_for_chunks() -> None:
    data = columns()
    data["open"][0] = 0

    with pytest.raises(DataError) as caught:
        create(data, first_row=101)

    assert caught.value.row == 101


def test_gaps_are_not_errors() -> None:
    data = columns()
    data["time_ns"] = [START_NS + i * 200 * BAR_NS for i in range(5)]

    assert len(create(data)) == 5


def test_columns_of_different_lengths_are_rejected() -> None:
    data = columns()
    data["close"] = data["close"][:-1]

    with pytest.raises(DataError, match="column close has 4 rows, expected 5"):
        create(data)


def test_float_prices_come_from_ticks_by_one_division() -> None:
    series = create(columns(2))

    assert series.prices("close").tolist() == [1.1002, 1.1003]
    assert series.prices("open").tolist() == [110_000 / 100_000, 110_010 / 100_000]


def test_composite_price_fields_are_exact_integer_numerators() -> None:
    series = create(columns(1))

    assert series.ticks("hl2") == (np.array([220_000]), 200_000)
    assert series.ticks("ohlc4")[1] == 400_000
    assert series.prices("hlc3").tolist() == [(110_050 + 109_950 + 110_020) / 300_000]


def test_an_unknown_price_field_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="unknown price field 'mid'"):
        create(columns(1)).prices("mid")


def test_candles_iterate_with_utc_times() -> None:
    series = create(columns(3))

    candles = list(series)

    assert candles[0] == Candle(START_NS, 110_000, 110_050, 109_950, 110_020, 100.0)
    assert series.candle(-1) == candles[-1]
    assert candles[1].time == datetime(2026, 1, 15, 14, 15, tzinfo=UTC)
    assert candles[0].price("hl2") == 220_000


def test_iterated_and_indexed_candles_are_the_values_the_constructor_builds() -> None:
    series = create(columns(4))
    built = [
        Candle(*row)
        for row in zip(
            *(getattr(series, name).tolist() for name in Candle.__dataclass_fields__),
            strict=True,
        )
    ]

    for candles in (list(series), [series.candle(i) for i in range(4)]):
        assert candles == built
        assert [hash(c) for c in candles] == [hash(c) for c in built]
        assert [repr(c) for c in candles] == [repr(c) for c in built]
        assert all(type(c.time_ns) is int and type(c.volume) is float for c in candles)
    with pytest.raises(dataclasses.FrozenInstanceError):
        next(iter(series)).close = 1  # type: ignore[misc]
    assert list(series.slice(4)) == [] and list(series.slice(1, 2)) == built[1:2]


def test_iterating_columns_of_different_lengths_fails_like_a_strict_zip() -> None:
    series = create(columns(3))
    broken = dataclasses.replace(series, volume=series.volume[:2])

    with pytest.raises(ValueError, match="shorter"):
        list(broken)


def test_a_slice_is_a_series_sharing_the_read_only_arrays() -> None:
    series = create(columns(5))

    part = series.slice(1, 3)

    assert type(part) is CandleSeries
    assert (part.instrument, part.timeframe) == (series.instrument, series.timeframe)
    for name in ("time_ns", "open", "high", "low", "close", "volume"):
        column = getattr(part, name)
        assert column.tolist() == getattr(series, name)[1:3].tolist()
        assert np.shares_memory(column, getattr(series, name)) and not column.flags.writeable
    with pytest.raises(dataclasses.FrozenInstanceError):
        part.close = series.close  # type: ignore[misc]
    assert dataclasses.replace(part).close is part.close
    part.validate()


def test_slice_and_between_select_bars_by_position_and_time() -> None:
    series = create(columns(5))

    assert series.slice(1, 3).time_ns.tolist() == series.time_ns[1:3].tolist()
    chosen = series.between(
        datetime(2026, 1, 15, 14, 15), datetime(2026, 1, 15, 14, 45, tzinfo=UTC)
    )
    assert len(chosen) == 3


def test_to_frame_gives_float_prices_on_a_utc_index() -> None:
    frame = create(columns(2)).to_frame()

    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert str(frame.index.tz) == "UTC" and frame.index.name == "time"
    assert frame["close"].tolist() == [1.1002, 1.1003]
