"""Candle files: CSV, CSV.gz and Parquet in, Parity's format out, unreadable files refused."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from framework.candles import CandleSeries
from framework.errors import DataError, ParameterError
from framework.loading import CandleFile, load_candles, save_candles

TEXT = """time,open,high,low,close,volume
2026-01-15 14:00:00,1.1633,1.16347,1.16318,1.1634,489
2026-01-15 14:15:00,1.1634,1.1635,1.16316,1.16319,415.5
2026-01-15 14:30:00,1.16319,1.1633,1.163,1.1631,0
"""
FIRST_NS = int(pd.Timestamp("2026-01-15 14:00", tz="UTC").value)


@pytest.fixture
def series(tmp_path: Path) -> CandleSeries:
    path = tmp_path / "EURUSD_M15_source.csv"
    path.write_text(TEXT)
    return load_candles(path)


def same(first: CandleSeries, second: CandleSeries) -> bool:
    fields = ("time_ns", "open", "high", "low", "close", "volume")
    return first.instrument == second.instrument and all(
        np.array_equal(getattr(first, name), getattr(second, name)) for name in fields
    )


# --- Parity's format -----------------------------------------------------------------------


def test_saved_csv_has_iso_utc_times_and_fixed_decimals(
    tmp_path: Path, series: CandleSeries
) -> None:
    path = tmp_path / "EURUSD_M15.csv"

    save_candles(series, path)

    assert path.read_text().splitlines() == [
        "time,open,high,low,close,volume",
        "2026-01-15T14:00:00Z,1.16330,1.16347,1.16318,1.16340,489",
        "2026-01-15T14:15:00Z,1.16340,1.16350,1.16316,1.16319,415.5",
        "2026-01-15T14:30:00Z,1.16319,1.16330,1.16300,1.16310,0",
    ]


def test_saved_csv_gz_is_the_same_text_and_the_same_bytes_every_time(
    tmp_path: Path, series: CandleSeries
) -> None:
    first, second = tmp_path / "EURUSD_M15.csv.gz", tmp_path / "again" / "EURUSD_M15.csv.gz"
    second.parent.mkdir()

    save_candles(series, first)
    save_candles(series, second)

    assert gzip.decompress(first.read_bytes()).decode().startswith("time,open,high,low,close")
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("name", ["EURUSD_M15.csv", "EURUSD_M15.csv.gz", "EURUSD_M15.parquet"])
def test_every_format_reads_back_identical(tmp_path: Path, series: CandleSeries, name: str) -> None:
    save_candles(series, tmp_path / name)

    assert same(load_candles(tmp_path / name), series)


def test_parquet_keeps_symbol_timeframe_and_decimals_in_its_metadata(tmp_path: Path) -> None:
    source = tmp_path / "x.csv"
    source.write_text("time,open,high,low,close\n2026-01-15 14:00,2.5,2.5,2.5,2.5\n")
    series = load_candles(source, symbol="abcxyz", timeframe="H1", decimals=4)
    path = tmp_path / "anything.parquet"

    save_candles(series, path)
    loaded = CandleFile.load(path)

    assert same(loaded.series, series)
    assert loaded.series.timeframe.name == "H1"
    assert (loaded.symbol_from, loaded.timeframe_from, loaded.decimals_from) == (
        "file metadata",
    ) * 3


def test_an_unknown_suffix_is_a_parameter_error(tmp_path: Path, series: CandleSeries) -> None:
    with pytest.raises(ParameterError, match=r"name it \.csv, \.csv\.gz or \.parquet"):
        save_candles(series, tmp_path / "EURUSD.xlsx")


def test_a_failed_save_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, series: CandleSeries, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "EURUSD_M15.csv"
    path.write_text("old")

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("framework._files.os.replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        save_candles(series, path)

    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["EURUSD_M15.csv", "EURUSD_M15_source.csv"]


# --- other people's files -------------------------------------------------------------------


def test_gzip_is_recognized_by_content_whatever_the_name(tmp_path: Path) -> None:
    path = tmp_path / "EURUSD_M15.csv"
    path.write_bytes(gzip.compress(TEXT.encode()))

    assert len(load_candles(path)) == 3


def test_a_utf8_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "EURUSD_M15.csv"
    path.write_text("\ufeff" + TEXT, encoding="utf-8")

    assert load_candles(path).time_ns[0] == FIRST_NS


@pytest.mark.parametrize("index_name", [None, "time", "Date"])
def test_parquet_from_pandas_with_a_time_index_loads(
    tmp_path: Path, series: CandleSeries, index_name: str | None
) -> None:
    path = tmp_path / "EURUSD_M15.parquet"
    series.to_frame().rename_axis(index_name).to_parquet(path)

    assert same(load_candles(path), series)


def test_parquet_with_times_in_another_zone_is_converted_to_utc(
    tmp_path: Path, series: CandleSeries
) -> None:
    frame = series.to_frame().tz_convert("America/New_York").reset_index()
    path = tmp_path / "EURUSD_M15.parquet"
    frame.to_parquet(path)

    assert load_candles(path).time_ns[0] == FIRST_NS


def test_parquet_with_naive_times_reads_them_as_utc(tmp_path: Path, series: CandleSeries) -> None:
    path = tmp_path / "EURUSD_M15.parquet"
    series.to_frame().tz_localize(None).reset_index().to_parquet(path)

    assert load_candles(path).time_ns[0] == FIRST_NS


def test_parquet_with_epoch_milliseconds_and_float32_prices_loads(
    tmp_path: Path, series: CandleSeries
) -> None:
    frame = series.to_frame().reset_index()
    table = pa.table(
        {
            "timestamp": (frame["time"].astype("int64") // 10**6).to_numpy(),
            **{name: frame[name].to_numpy(np.float32) for name in ("open", "high", "low", "close")},
        }
    )
    path = tmp_path / "EURUSD_M15.parquet"
    pq.write_table(table, path)

    loaded = load_candles(path)

    assert loaded.time_ns.tolist() == series.time_ns.tolist()
    assert loaded.close.tolist() == series.close.tolist()


def test_parquet_with_a_missing_value_names_the_row(tmp_path: Path, series: CandleSeries) -> None:
    frame = series.to_frame().reset_index()
    frame.loc[1, "high"] = None
    path = tmp_path / "EURUSD_M15.parquet"
    frame.to_parquet(path)

    with pytest.raises(DataError) as caught:
        load_candles(path)

    assert (caught.value.row, caught.value.rule) == (2, "high is missing")
    assert str(caught.value) == f"{path}: row 2: high is missing", "Parquet has records, no lines"


def test_parquet_with_bad_parity_metadata_is_refused(tmp_path: Path, series: CandleSeries) -> None:
    table = pa.Table.from_pandas(series.to_frame().reset_index())
    path = tmp_path / "EURUSD_M15.parquet"
    pq.write_table(table.replace_schema_metadata({b"parity": b'{"decimals": "five"}'}), path)

    with pytest.raises(DataError, match="Parquet metadata 'parity' is not"):
        load_candles(path)


# --- unreadable files ------------------------------------------------------------------------


def write_bytes(tmp_path: Path, name: str, payload: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(payload)
    return path


@pytest.mark.parametrize(
    ("name", "payload", "rule"),
    [
        ("EURUSD_M15.csv", b"", "the file is empty"),
        ("EURUSD_M15.csv", b"time,open,high,low,close\n", "the file has no data rows"),
        ("EURUSD_M15.csv", b"time,open\n\xff\xfe\xfa,1\n", "the file is not UTF-8 text"),
        ("EURUSD_M15.csv.gz", gzip.compress(TEXT.encode())[:40], "cannot read the file"),
        ("EURUSD_M15.csv.gz", b"\x1f\x8b\x08 not really gzip", "cannot read the file"),
        ("EURUSD_M15.parquet", b"PAR1 not really parquet", "not a readable Parquet file"),
    ],
)
def test_unreadable_files_are_a_data_error_naming_the_file(
    tmp_path: Path, name: str, payload: bytes, rule: str
) -> None:
    path = write_bytes(tmp_path, name, payload)

    with pytest.raises(DataError, match=rule) as caught:
        load_candles(path)

    assert str(caught.value).startswith(f"{path}: ")


def test_a_path_to_no_file_is_a_parameter_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "EURUSD_M15.csv"

    with pytest.raises(ParameterError) as caught:
        load_candles(path)

    assert str(caught.value) == f"{path}: cannot read the file: No such file or directory"


def test_a_directory_is_not_a_candle_file(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="cannot read the file: Is a directory"):
        load_candles(tmp_path)
