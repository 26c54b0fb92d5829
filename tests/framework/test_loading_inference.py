"""Loading candle files: symbol, timeframe and decimals, given or inferred."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.errors import DataError, ParameterError
from framework.loading import CandleFile, load_candles
from framework.timeframes import Timeframe

HEADER = "time,open,high,low,close,volume"


def bars(times: list[str], price: str = "1.16330") -> list[str]:
    return [HEADER, *(f"{time},{price},{price},{price},{price},1" for time in times)]


M15 = ["2026-01-15 14:00", "2026-01-15 14:15", "2026-01-15 14:30"]


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


# --- symbol -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "symbol"),
    [
        ("EURUSD_M15_2026.csv", "EURUSD"),
        ("eurusd-m15.csv", "EURUSD"),
        ("usdjpy.csv", "USDJPY"),
        ("EUR_USD_M15.csv", "EURUSD"),
        ("history_XAUUSD_2026.csv", "XAUUSD"),
        ("ABCXYZ_M15.csv", "ABCXYZ"),
        ("btceur m15 export.txt", "BTCEUR"),
    ],
)
def test_the_symbol_comes_from_the_file_name(tmp_path: Path, name: str, symbol: str) -> None:
    lines = bars(M15, price="1.5")

    loaded = CandleFile.load(write(tmp_path, name, lines))

    assert (loaded.series.symbol, loaded.symbol_from) == (symbol, "file name")


def test_a_parquet_name_gives_its_symbol_too(tmp_path: Path) -> None:
    source = load_candles(write(tmp_path, "x.csv", bars(M15)), symbol="EURUSD")
    frame = source.to_frame()
    path = tmp_path / "eurusd-m15.parquet"
    frame.to_parquet(path)

    assert load_candles(path).symbol == "EURUSD"


@pytest.mark.parametrize("name", ["candles.csv", "data_2026.csv", "ABCXYZ.csv"])
def test_without_a_symbol_in_name_or_argument_the_error_says_what_to_pass(
    tmp_path: Path, name: str
) -> None:
    path = write(tmp_path, name, bars(M15))

    with pytest.raises(
        ParameterError, match="cannot tell the symbol from the file name; pass --symbol"
    ):
        load_candles(path)


def test_a_given_symbol_wins_over_the_name(tmp_path: Path) -> None:
    loaded = CandleFile.load(write(tmp_path, "EURUSD_M15.csv", bars(M15)), symbol=" gbpusd ")

    assert (loaded.series.symbol, loaded.symbol_from) == ("GBPUSD", "argument")


def test_an_empty_symbol_is_a_parameter_error(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="must not be empty"):
        load_candles(write(tmp_path, "EURUSD_M15.csv", bars(M15)), symbol="  ")


# --- timeframe ------------------------------------------------------------------------------


def test_the_timeframe_is_the_median_bar_spacing_despite_weekend_gaps(tmp_path: Path) -> None:
    times = ["2026-01-16 21:15", "2026-01-16 21:30", "2026-01-16 21:45", "2026-01-18 22:00"]

    loaded = CandleFile.load(write(tmp_path, "EURUSD_M15.csv", bars(times)))

    assert (loaded.series.timeframe, loaded.timeframe_from) == (Timeframe.M15, "bar spacing")


def test_a_name_and_a_spacing_that_disagree_ask_for_the_timeframe(tmp_path: Path) -> None:
    path = write(tmp_path, "EURUSD_H1.csv", bars(M15))

    with pytest.raises(ParameterError, match="file name says H1 but the bars are spaced M15"):
        load_candles(path)
    assert load_candles(path, timeframe="M15").timeframe is Timeframe.M15


@pytest.mark.parametrize("timeframe", list(Timeframe))
def test_every_timeframe_is_inferred_from_its_spacing(tmp_path: Path, timeframe: Timeframe) -> None:
    # Three bars on the grid of the timeframe, starting on a Monday.
    start = 1_768_176_000  # 2026-01-12 00:00 UTC, a Monday
    times = [str(start + i * timeframe.seconds) for i in range(3)]

    assert load_candles(write(tmp_path, "EURUSD.csv", bars(times))).timeframe is timeframe


def test_one_bar_takes_its_timeframe_from_the_name(tmp_path: Path) -> None:
    loaded = CandleFile.load(write(tmp_path, "EURUSD_H4.csv", bars(["2026-01-15 16:00"])))

    assert (loaded.series.timeframe, loaded.timeframe_from) == (Timeframe.H4, "file name")


def test_one_bar_without_a_timeframe_in_its_name_is_a_parameter_error(tmp_path: Path) -> None:
    path = write(tmp_path, "EURUSD.csv", bars(["2026-01-15 16:00"]))

    with pytest.raises(
        ParameterError, match="one bar has no spacing to infer a timeframe from; pass --timeframe"
    ):
        load_candles(path)


@pytest.mark.parametrize(
    ("times", "row", "rule"),
    [
        (M15[::-1], 2, "time is earlier than the row before (bar 2026-01-15T14:15:00+00:00)"),
        (["2026-01-15 14:00"] * 3, 2, "duplicate time (bar 2026-01-15T14:00:00+00:00)"),
        (
            ["2026-01-15 14:00", "2026-01-15 14:40", "2026-01-15 14:10"],
            3,
            "time is earlier than the row before (bar 2026-01-15T14:10:00+00:00)",
        ),
    ],
    ids=["newest-first", "all-duplicates", "shuffled"],
)
def test_bars_out_of_order_are_reported_before_any_timeframe_guess(
    tmp_path: Path, times: list[str], row: int, rule: str
) -> None:
    path = write(tmp_path, "EURUSD.csv", bars(times))

    with pytest.raises(DataError) as caught:
        load_candles(path)

    assert caught.value.row == row
    assert str(caught.value) == f"{path}: line {row + 1}: {rule}"


def test_a_spacing_that_is_no_timeframe_is_a_parameter_error(tmp_path: Path) -> None:
    times = ["2026-01-15 14:00", "2026-01-15 14:10", "2026-01-15 14:20"]

    with pytest.raises(ParameterError, match="median bar spacing, 600 s, is none of M1, M5"):
        load_candles(write(tmp_path, "EURUSD.csv", bars(times)))


def test_a_given_timeframe_wins_and_its_grid_is_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "EURUSD.csv", bars(M15))

    assert load_candles(path, timeframe="m5").timeframe is Timeframe.M5
    with pytest.raises(DataError, match="not aligned to H1") as caught:
        load_candles(path, timeframe=Timeframe.H1)
    assert caught.value.row == 2


def test_an_unknown_timeframe_argument_is_a_parameter_error(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="unknown timeframe 'M2'"):
        load_candles(write(tmp_path, "EURUSD.csv", bars(M15)), timeframe="M2")


# --- decimals ---------------------------------------------------------------------------------


def test_decimals_come_from_the_instrument_table_first(tmp_path: Path) -> None:
    loaded = CandleFile.load(write(tmp_path, "USDJPY.csv", bars(M15, "158.5")))

    assert (loaded.series.decimals, loaded.decimals_from) == (3, "instrument table")
    assert loaded.series.close[0] == 158_500


def test_shared_fraction_digits_give_the_decimals_of_an_unknown_symbol(tmp_path: Path) -> None:
    loaded = CandleFile.load(write(tmp_path, "ABCXYZ_M15.csv", bars(M15, "2.5000")))

    assert (loaded.series.decimals, loaded.decimals_from) == (4, "fixed digits")


def test_otherwise_decimals_are_inferred_from_the_prices_despite_noise(tmp_path: Path) -> None:
    lines = [
        HEADER,
        "2026-01-15 14:00,1.1791800000000001,1.17919,1.179,1.1791,1",
        "2026-01-15 14:15,1.1791,1.1792,1.17905,1.1792,1",
    ]

    loaded = CandleFile.load(write(tmp_path, "ABCXYZ_M15.csv", lines))

    assert (loaded.series.decimals, loaded.decimals_from) == (5, "prices")
    assert loaded.series.open[0] == 117918


def test_a_price_fitting_no_precision_up_to_8_names_its_row(tmp_path: Path) -> None:
    lines = [
        HEADER,
        "2026-01-15 14:00,1.1,1.2,1.0,1.1,1",
        "2026-01-15 14:15,1.1,1.2,1.0,1.1,1",
        "2026-01-15 14:30,1.1,1.2,1.0,1.123456789,1",
    ]

    with pytest.raises(DataError, match=r"price 1\.123456789 fits no precision") as caught:
        load_candles(write(tmp_path, "ABCXYZ_M15.csv", lines))

    assert caught.value.row == 3


def test_given_decimals_win_over_the_table(tmp_path: Path) -> None:
    loaded = CandleFile.load(write(tmp_path, "EURUSD.csv", bars(M15)), decimals=6)

    assert (loaded.series.decimals, loaded.decimals_from) == (6, "argument")
    assert loaded.series.close[0] == 1_163_300


def test_given_decimals_coarser_than_the_prices_are_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"not a multiple of the tick 0\.001") as caught:
        load_candles(write(tmp_path, "EURUSD.csv", bars(M15)), decimals=3)

    assert caught.value.row == 1
    assert "--decimals" not in str(caught.value)


def test_decimals_outside_0_to_8_are_a_parameter_error(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"decimals must be 0\.\.8"):
        load_candles(write(tmp_path, "EURUSD.csv", bars(M15)), decimals=9)
