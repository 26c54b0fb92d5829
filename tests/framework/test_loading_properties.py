"""Property tests: files round-trip exactly, and any single bad row is named correctly."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.candles import CandleSeries
from framework.errors import DataError
from framework.instruments import Instrument, known_instruments
from framework.loading import load_candles, save_candles
from framework.timeframes import Timeframe

# Deterministic: the same examples on every run and machine, nothing kept between runs.
# The number of examples comes from the active profile (tests/conftest.py).
PROPERTY = settings(derandomize=True, database=None, deadline=None)

MONDAY_NS = int(pd.Timestamp("2026-01-12", tz="UTC").value)  # on every timeframe's grid
FIELDS = ("time_ns", "open", "high", "low", "close", "volume")


@st.composite
def instruments(draw: st.DrawFn) -> Instrument:
    """A listed instrument with its own precision, or an unlisted one with any."""
    listed = st.sampled_from(sorted(known_instruments().items()))
    unlisted = st.tuples(st.just("TESTXYZ"), st.integers(min_value=0, max_value=8))
    symbol, decimals = draw(st.one_of(listed, unlisted))
    return Instrument(symbol, decimals)


@st.composite
def bar_steps(draw: st.DrawFn, n: int) -> list[int]:
    """Steps between n bars in bar lengths: mostly 1, with fewer gaps than steps of 1,
    so that the median spacing is the bar length as in real data."""
    steps = [1] * (n - 1)
    gaps = draw(
        st.lists(st.tuples(st.integers(0, 10**6), st.integers(2, 50)), max_size=max(n - 2, 0) // 2)
    )
    for position, length in gaps:
        steps[position % (n - 1)] = length
    return steps


@st.composite
def candle_series(
    draw: st.DrawFn, instrument: Instrument | None = None, timeframe: Timeframe | None = None
) -> CandleSeries:
    instrument = instrument or draw(instruments())
    timeframe = timeframe or draw(st.sampled_from(list(Timeframe)))
    n = draw(st.integers(min_value=1, max_value=25))
    first = MONDAY_NS + draw(st.integers(0, 500)) * timeframe.nanoseconds
    steps = np.array([0, *draw(bar_steps(n))], dtype=np.int64)
    ticks = st.integers(min_value=1, max_value=10**12)
    bodies = draw(st.lists(st.tuples(ticks, ticks), min_size=n, max_size=n))
    wicks = draw(
        st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), min_size=n, max_size=n)
    )
    volumes = st.one_of(
        st.integers(0, 10**9).map(float),
        st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False),
    )
    opens, closes = (np.array(column, dtype=np.int64) for column in zip(*bodies, strict=True))
    ups, downs = (np.array(column, dtype=np.int64) for column in zip(*wicks, strict=True))
    return CandleSeries.create(
        instrument,
        timeframe,
        time_ns=first + np.cumsum(steps) * timeframe.nanoseconds,
        open=opens,
        high=np.maximum(opens, closes) + ups,
        low=np.maximum(np.minimum(opens, closes) - downs, 1),
        close=closes,
        volume=draw(st.lists(volumes, min_size=n, max_size=n)),
    )


def same(first: CandleSeries, second: CandleSeries) -> bool:
    return (
        first.instrument == second.instrument
        and first.timeframe is second.timeframe
        and all(np.array_equal(getattr(first, f), getattr(second, f)) for f in FIELDS)
    )


@PROPERTY
@given(series=candle_series(), suffix=st.sampled_from([".csv", ".csv.gz", ".parquet"]))
def test_load_save_load_is_the_identity(series: CandleSeries, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        first = Path(folder) / f"{series.symbol}_{series.timeframe.name}{suffix}"
        save_candles(series, first)
        loaded = load_candles(first)
        second = Path(folder) / f"again_{first.name}"
        save_candles(loaded, second)

        assert same(loaded, series)
        assert same(load_candles(second), series)
        assert second.read_bytes() == first.read_bytes() or suffix == ".parquet"


# --- a single bad row is always reported at its own row --------------------------------

TIME, OPEN, HIGH, LOW, CLOSE, VOLUME = range(6)
Spoiler = Callable[[list[list[str]], int], None]


def set_cell(column: int, text: str) -> Spoiler:
    def spoil(rows: list[list[str]], row: int) -> None:
        rows[row][column] = text

    return spoil


def shift_time(bars: int, seconds: int = 0) -> Spoiler:
    """Row's time = previous row's time + ``bars`` M15 bars + ``seconds``."""

    def spoil(rows: list[list[str]], row: int) -> None:
        before = pd.Timestamp(rows[row - 1][TIME])
        moved = before + pd.Timedelta(minutes=15 * bars, seconds=seconds)
        rows[row][TIME] = moved.strftime("%Y-%m-%dT%H:%M:%SZ")

    return spoil


def whole_bar(open: str, high: str, low: str, close: str) -> Spoiler:
    def spoil(rows: list[list[str]], row: int) -> None:
        rows[row][OPEN : CLOSE + 1] = [open, high, low, close]

    return spoil


def extra_field(rows: list[list[str]], row: int) -> None:
    rows[row].append("1")


def short_row(rows: list[list[str]], row: int) -> None:
    del rows[row][-2:]


def price_column() -> st.SearchStrategy[int]:
    return st.sampled_from([OPEN, HIGH, LOW, CLOSE])


ANY_ROW: list[st.SearchStrategy[Spoiler]] = [
    price_column().map(lambda column: set_cell(column, "")),
    price_column().map(lambda column: set_cell(column, "n/a")),
    price_column().map(lambda column: set_cell(column, "nan")),
    price_column().map(lambda column: set_cell(column, "1.100001")),
    st.sampled_from(["0", "-1.10000"]).map(lambda text: set_cell(OPEN, text)),
    st.sampled_from(["", "x", "-3", "inf"]).map(lambda text: set_cell(VOLUME, text)),
    st.sampled_from(["", "later", "2026-13-45T00:00:00Z"]).map(lambda t: set_cell(TIME, t)),
    st.sampled_from(
        [
            whole_bar("1.50001", "1.50000", "1.49000", "1.49500"),  # high < max(open, close)
            whole_bar("1.50000", "1.60000", "1.55000", "1.52000"),  # low > min(open, close)
            extra_field,
            short_row,
        ]
    ),
]
# Order rules compare a row with the one before, so they need a row before.
AFTER_THE_FIRST: list[st.SearchStrategy[Spoiler]] = [
    st.sampled_from([shift_time(0), shift_time(-1), shift_time(-3), shift_time(1, seconds=60)]),
]


@st.composite
def spoiled_files(draw: st.DrawFn) -> tuple[list[str], int]:
    """Lines of a valid EURUSD M15 file with exactly one bad data row, and that row."""
    series = draw(candle_series(Instrument("EURUSD", 5), Timeframe.M15))
    header, *lines = saved_text(series, "source.csv").splitlines()
    rows = [line.split(",") for line in lines]
    row = draw(st.integers(min_value=1, max_value=len(rows)))
    spoilers = ANY_ROW + (AFTER_THE_FIRST if row > 1 else [])
    draw(st.one_of(*spoilers))(rows, row - 1)
    return [header, *(",".join(cells) for cells in rows)], row


def saved_text(series: CandleSeries, name: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        save_candles(series, Path(folder) / name)
        return (Path(folder) / name).read_text()


@PROPERTY
@given(spoiled=spoiled_files())
def test_a_bad_row_is_always_rejected_with_its_row_number(spoiled: tuple[list[str], int]) -> None:
    lines, row = spoiled
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "EURUSD_M15.csv"
        path.write_text("\n".join(lines) + "\n")

        try:
            load_candles(path, timeframe="M15")
        except DataError as error:
            assert error.row == row, str(error)
            assert str(error).startswith(f"{path}: line {row + 1}: ")
        else:
            raise AssertionError(f"row {row} was accepted:\n" + "\n".join(lines))
