"""Golden checks on the real candles in data/ against ../shared/data and its README."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from framework.candles import CandleSeries
from framework.loading import CandleFile, load_candles

REPO = Path(__file__).resolve().parents[2]
BUNDLED = REPO / "data"
ORIGINALS = REPO.parent / "shared" / "data"

# From ../shared/data/README.md: rows, first and last bar open (UTC), decimals.
GOLDEN = {
    "EURUSD_M15_2018-2020.csv.gz": (51_911, "2018-01-15 14:00", "2020-02-14 14:45", 5),
    "EURUSD_M15_2026.csv.gz": (11_998, "2026-01-15 14:15", "2026-07-09 21:30", 5),
    "GBPUSD_M15_2026.csv.gz": (11_998, "2026-01-15 12:45", "2026-07-09 21:30", 5),
    "USDJPY_M15_2026.csv.gz": (11_998, "2026-01-15 14:00", "2026-07-09 21:30", 3),
    "XAUUSD_M15_2026.csv.gz": (11_998, "2025-12-31 13:45", "2026-07-09 21:30", 2),
    "US30_M15_2026.csv.gz": (11_998, "2026-01-06 03:00", "2026-07-09 21:30", 1),
}
needs_originals = pytest.mark.skipif(
    not ORIGINALS.is_dir(), reason=f"the original files are not at {ORIGINALS}"
)


@cache
def bundled(name: str) -> CandleFile:
    return CandleFile.load(BUNDLED / name)


@cache
def original(name: str) -> CandleSeries:
    return load_candles(ORIGINALS / name)


def test_data_holds_exactly_the_six_datasets() -> None:
    assert sorted(path.name for path in BUNDLED.glob("*.csv.gz")) == sorted(GOLDEN)


@pytest.mark.parametrize("name", GOLDEN)
def test_each_bundled_file_matches_the_documented_rows_span_and_precision(name: str) -> None:
    rows, first, last, decimals = GOLDEN[name]

    loaded = bundled(name)
    times = loaded.series.times().strftime("%Y-%m-%d %H:%M")

    assert len(loaded.series) == rows
    assert (times[0], times[-1]) == (first, last)
    assert loaded.series.decimals == decimals
    assert loaded.series.symbol == name.split("_")[0]
    assert loaded.series.timeframe.name == "M15"
    assert (loaded.symbol_from, loaded.timeframe_from) == ("file name", "bar spacing")


@pytest.mark.parametrize("name", GOLDEN)
def test_each_bundled_file_states_its_precision_in_every_price(name: str) -> None:
    decimals = GOLDEN[name][3]
    # An unknown symbol skips the instrument table: the file's digits alone must say it.
    loaded = CandleFile.load(BUNDLED / name, symbol="UNLISTED")

    assert (loaded.series.decimals, loaded.decimals_from) == (decimals, "fixed digits")


@needs_originals
@pytest.mark.parametrize("name", GOLDEN)
def test_each_bundled_file_holds_exactly_the_original_candles(name: str) -> None:
    copy, source = bundled(name).series, original(name)

    for field in ("time_ns", "open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(copy, field), getattr(source, field)), field


@needs_originals
@pytest.mark.parametrize("name", GOLDEN)
def test_plain_pandas_sees_the_same_candles_in_original_and_copy(name: str) -> None:
    # Independent of Parity's reader: the copy's digits are the original's rounded ticks.
    decimals = GOLDEN[name][3]
    source = pd.read_csv(ORIGINALS / name).rename(columns=str.lower)
    copy = pd.read_csv(BUNDLED / name, dtype=str)

    for column in ("open", "high", "low", "close"):
        expected = np.rint(source[column].to_numpy() * 10**decimals).astype(np.int64)
        digits = copy[column].str.replace(".", "", regex=False).astype(np.int64).to_numpy()
        assert np.array_equal(digits, expected), column
    assert np.array_equal(copy["volume"].astype(float).to_numpy(), source["volume"].to_numpy())


@needs_originals
@pytest.mark.parametrize("name", GOLDEN)
def test_the_precision_inferred_from_the_original_prices_agrees_with_the_table(name: str) -> None:
    loaded = CandleFile.load(ORIGINALS / name, symbol="UNLISTED")

    assert loaded.series.decimals == GOLDEN[name][3]


@pytest.mark.parametrize("name", GOLDEN)
def test_the_data_readme_documents_each_file(name: str) -> None:
    rows = f"{GOLDEN[name][0]:,}"
    readme = (BUNDLED / "README.md").read_text()

    assert any(name in line and rows in line for line in readme.splitlines())
