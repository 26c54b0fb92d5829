"""Loading candle files: column mapping, time formats, and an error with a row for each rule."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from framework.errors import DataError
from framework.loading import load_candles

HEADER = "time,open,high,low,close,volume"
ROWS = [
    "2026-01-15 14:00:00,1.16330,1.16347,1.16318,1.16340,489",
    "2026-01-15 14:15:00,1.16340,1.16350,1.16316,1.16319,415",
    "2026-01-15 14:30:00,1.16319,1.16330,1.16300,1.16310,380",
    "2026-01-15 14:45:00,1.16310,1.16360,1.16305,1.16355,512",
    "2026-01-15 15:00:00,1.16355,1.16370,1.16340,1.16365,430",
]
FIRST_NS = int(pd.Timestamp("2026-01-15 14:00", tz="UTC").value)


def write(tmp_path: Path, lines: list[str], name: str = "EURUSD_M15.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def spoil(row: int, column: int, value: str) -> list[str]:
    """The good file with one cell of 1-based data ``row`` replaced."""
    rows = [line.split(",") for line in ROWS]
    rows[row - 1][column] = value
    return [HEADER, *(",".join(cells) for cells in rows)]


def load_error(path: Path) -> DataError:
    with pytest.raises(DataError) as caught:
        load_candles(path)
    return caught.value


def test_a_good_file_loads_with_ticks_times_and_volume(tmp_path: Path) -> None:
    series = load_candles(write(tmp_path, [HEADER, *ROWS]))

    assert len(series) == 5
    assert series.time_ns[0] == FIRST_NS
    assert series.open.tolist()[:2] == [116330, 116340]
    assert series.volume.tolist() == [489, 415, 380, 512, 430]


# --- every rule, with its row -------------------------------------------------------

TIME, OPEN, HIGH, LOW, CLOSE, VOLUME = range(6)


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        (OPEN, "0", "price is not positive"),
        (LOW, "-1.16300", "price is not positive"),
        (OPEN, "nan", "open price nan is not finite"),
        (CLOSE, "inf", "close price inf is not finite"),
        (HIGH, "1.16315", "high < max(open, close)"),
        (LOW, "1.16315", "low > min(open, close)"),
        (VOLUME, "-1", "volume is negative"),
        (VOLUME, "nan", "volume is not finite"),
        (TIME, "2026-01-15 14:15:00", "duplicate time"),
        (TIME, "2026-01-15 14:00:00", "time is earlier than the row before"),
        (TIME, "2026-01-15 14:31:00", "time is not aligned to M15 bars"),
        (OPEN, "1.163191", "open price 1.163191 is not a multiple of the tick 0.00001"),
        (OPEN, "", "open is missing"),
        (CLOSE, "1.2.3", "close '1.2.3' is not a number"),
        (VOLUME, "many", "volume 'many' is not a number"),
        (TIME, "", "time is missing"),
        (TIME, "yesterday", "time 'yesterday' is not a date-time like the first"),
    ],
)
def test_each_rule_names_the_file_and_the_line_an_editor_shows(
    tmp_path: Path, column: int, value: str, rule: str
) -> None:
    path = write(tmp_path, spoil(3, column, value))

    error = load_error(path)

    assert error.row == 3, "the data row"
    assert str(error).startswith(f"{path}: line 4: {rule}"), "line 1 is the header"


def test_an_off_grid_price_says_where_the_precision_came_from(tmp_path: Path) -> None:
    error = load_error(write(tmp_path, spoil(2, OPEN, "1.163401")))

    assert str(error).endswith("(5 decimals from the instrument table; pass --decimals)")


def test_a_row_with_too_many_fields_is_named(tmp_path: Path) -> None:
    lines = [HEADER, *ROWS]
    lines[4] += ",7"  # data row 4

    error = load_error(write(tmp_path, lines))

    assert (error.row, error.line, error.rule) == (4, 5, "Expected 6 fields, saw 7")
    assert str(error).endswith(": line 5: Expected 6 fields, saw 7")


def test_an_extra_field_in_the_first_row_is_an_error_not_an_index(tmp_path: Path) -> None:
    lines = [HEADER, *ROWS]
    lines[1] += ","  # pandas would take the times for an index and shift every column

    error = load_error(write(tmp_path, lines))

    assert (error.row, error.line, error.rule) == (1, 2, "Expected 6 fields, saw 7")


def test_a_blank_line_inside_the_data_counts_as_a_row(tmp_path: Path) -> None:
    error = load_error(write(tmp_path, [HEADER, ROWS[0], "", *ROWS[1:]]))

    assert (error.row, error.rule) == (2, "time is missing")


def test_trailing_blank_lines_are_ignored(tmp_path: Path) -> None:
    assert len(load_candles(write(tmp_path, [HEADER, *ROWS, "", ""]))) == 5


def test_a_short_row_is_missing_its_last_cells(tmp_path: Path) -> None:
    lines = [HEADER, *ROWS]
    lines[2] = lines[2].rsplit(",", 2)[0]  # data row 2 loses close and volume

    error = load_error(write(tmp_path, lines))

    assert (error.row, error.rule) == (2, "close is missing")


def test_value_errors_come_before_rule_errors(tmp_path: Path) -> None:
    lines = spoil(4, OPEN, "abc")
    lines[2] = lines[2].replace("1.16350", "1.16000")  # row 2 breaks high >= max(open, close)

    assert load_error(write(tmp_path, lines)).row == 4


# --- column names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "time,open,high,low,close,volume",
        "Time,Open,High,Low,Close,Volume",
        "DATETIME,OPEN,HIGH,LOW,CLOSE,VOL",
        "date,o,h,l,c,tick_volume",
        "timestamp,open,high,low,close,tickvol",
        "time_utc,open,high,low,close,volume",
        "Gmt time,Open,High,Low,Close,Volume",
        " time , open , high , low , close , volume ",
        "<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<TICKVOL>",
    ],
)
def test_column_names_are_mapped_case_insensitively(tmp_path: Path, header: str) -> None:
    series = load_candles(write(tmp_path, [header, *ROWS]))

    assert series.time_ns[0] == FIRST_NS
    assert series.close[0] == 116340
    assert series.volume[0] == 489


def test_volume_is_optional_and_then_zero(tmp_path: Path) -> None:
    lines = ["time,open,high,low,close", *(row.rsplit(",", 1)[0] for row in ROWS)]

    assert load_candles(write(tmp_path, lines)).volume.tolist() == [0.0] * 5


def test_the_first_alias_present_wins(tmp_path: Path) -> None:
    lines = [f"{HEADER},vol", *(f"{row},1" for row in ROWS)]

    assert load_candles(write(tmp_path, lines)).volume[0] == 489


def test_extra_columns_are_ignored(tmp_path: Path) -> None:
    lines = [f"symbol,{HEADER},spread", *(f"EURUSD,{row},3" for row in ROWS)]

    assert len(load_candles(write(tmp_path, lines))) == 5


def test_a_split_date_and_timestamp_pair_is_one_time(tmp_path: Path) -> None:
    lines = [
        "Date,Timestamp,Open,High,Low,Close,Volume",
        "20180115,14:00:00,1.2283,1.22905,1.22773,1.22905,3702.80000150204",
        "20180115,14:15:00,1.22908,1.22908,1.22763,1.22787,2588.39000606537",
    ]

    series = load_candles(write(tmp_path, lines))

    assert series.times().strftime("%Y-%m-%d %H:%M").tolist() == [
        "2018-01-15 14:00",
        "2018-01-15 14:15",
    ]
    assert series.volume.tolist() == [3702.80000150204, 2588.39000606537]


def test_a_metatrader_export_with_tabs_and_a_date_time_pair_loads(tmp_path: Path) -> None:
    lines = [
        "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>",
        "2026.01.15\t14:00:00\t1.16330\t1.16347\t1.16318\t1.16340\t489\t0\t3",
        "2026.01.15\t14:15:00\t1.16340\t1.16350\t1.16316\t1.16319\t415\t0\t3",
    ]

    series = load_candles(write(tmp_path, lines))

    assert series.time_ns[0] == FIRST_NS
    assert series.volume.tolist() == [489, 415]


def test_a_semicolon_separated_file_loads(tmp_path: Path) -> None:
    lines = [HEADER.replace(",", ";"), *(row.replace(",", ";") for row in ROWS)]

    assert len(load_candles(write(tmp_path, lines))) == 5


def test_a_missing_split_part_names_its_column_and_row(tmp_path: Path) -> None:
    lines = [
        "Date,Time,Open,High,Low,Close",
        "20180115,14:00,1.2,1.3,1.1,1.2",
        ",14:15,1.2,1.3,1.1,1.2",
    ]

    error = load_error(write(tmp_path, lines))

    assert (error.row, error.rule) == (2, "Date is missing")


def test_an_unnamed_first_column_as_pandas_writes_it_is_the_time(tmp_path: Path) -> None:
    frame = load_candles(write(tmp_path, [HEADER, *ROWS])).to_frame()
    path = tmp_path / "EURUSD_M15_pandas.csv"
    frame.rename_axis(None).to_csv(path)

    assert path.read_text().startswith(",open,high")
    assert load_candles(path).time_ns[0] == FIRST_NS


@pytest.mark.parametrize(
    ("header", "rule"),
    [
        ("time,open,high,low,volume", "no close column (close or c); the columns are time, open"),
        ("when,open,high,low,close", "no time column (time_utc, time, datetime"),
        ("time,Close,open,high,low,close", "columns 'Close' and 'close' both mean close"),
    ],
)
def test_missing_or_ambiguous_columns_are_named(tmp_path: Path, header: str, rule: str) -> None:
    lines = [header, ",".join("1" for _ in header.split(","))]

    error = load_error(write(tmp_path, lines))

    assert error.row is None
    assert rule in error.rule


def test_a_file_without_a_header_line_is_told_so(tmp_path: Path) -> None:
    error = load_error(write(tmp_path, [row.replace("-", ".") for row in ROWS]))

    assert "holds no column names" in error.rule


# --- times ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("2026-01-15T14:00:00Z", "2026-01-15T14:15:00Z"),
        ("2026-01-15 14:00", "2026-01-15 14:15"),
        ("2026-01-15T16:00:00+02:00", "2026-01-15T16:15:00+02:00"),
        ("2026-01-15T09:00:00-05:00", "2026-01-15T14:15:00+00:00"),
        ("2026.01.15 14:00", "2026.01.15 14:15"),
        ("2026/01/15 14:00:00", "2026/01/15 14:15:00"),
        ("15.01.2026 14:00:00.000", "15.01.2026 14:15:00.000"),
        ("1768485600", "1768486500"),
        ("1768485600000", "1768486500000"),
        ("1768485600000000", "1768486500000000"),
        ("1768485600000000000", "1768486500000000000"),
    ],
)
def test_time_formats_and_zones_all_become_utc(tmp_path: Path, first: str, second: str) -> None:
    lines = [HEADER, f"{first},1.1,1.2,1.0,1.1,1", f"{second},1.1,1.2,1.0,1.1,1"]

    series = load_candles(write(tmp_path, lines))

    assert series.time_ns.tolist() == [FIRST_NS, FIRST_NS + 900 * 10**9]


def test_yyyymmdd_numbers_are_dates(tmp_path: Path) -> None:
    lines = ["date,open,high,low,close", "20260115,1.1,1.2,1.0,1.1", "20260116,1.1,1.2,1.0,1.1"]

    series = load_candles(write(tmp_path, lines, "EURUSD_D1.csv"))

    assert series.timeframe.name == "D1"
    assert str(series.times()[0]) == "2026-01-15 00:00:00+00:00"


def test_a_change_of_utc_offset_inside_a_file_is_honoured(tmp_path: Path) -> None:
    # Europe switches to summer time at 01:00 UTC on 2026-03-29.
    lines = [
        HEADER,
        "2026-03-29T01:45:00+01:00,1.1,1.2,1.0,1.1,1",
        "2026-03-29T03:00:00+02:00,1.1,1.2,1.0,1.1,1",
    ]

    series = load_candles(write(tmp_path, lines))

    assert series.times().strftime("%H:%M").tolist() == ["00:45", "01:00"]


def test_a_time_beyond_the_datetime_range_is_named(tmp_path: Path) -> None:
    error = load_error(write(tmp_path, spoil(2, TIME, "2300-01-01 00:00:00")))

    assert error.row == 2
    assert "outside the years 1678 to 2261" in error.rule


def test_an_epoch_time_too_large_for_any_unit_is_named(tmp_path: Path) -> None:
    lines = [HEADER, "1768485600,1.1,1.2,1.0,1.1,1", "99999999999999999999,1.1,1.2,1.0,1.1,1"]

    assert load_error(write(tmp_path, lines)).row == 2
