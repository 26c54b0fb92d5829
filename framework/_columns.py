"""Find time, OHLC and volume among a table's columns, whatever the file calls them.

Names match case-insensitively after trimming spaces and MetaTrader's angle brackets
(``<CLOSE>``); for each role the first alias present wins. Row ``i`` of the table is
data row ``i + 1`` in every error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from framework._times import is_time_of_day, parse_times
from framework.errors import DataError
from framework.instruments import MAX_DECIMALS

__all__ = ["ALIASES", "PRICE_ROLES", "CandleColumns", "extract", "normalize"]

PRICE_ROLES = ("open", "high", "low", "close")
#: Column names each role accepts, in order of preference.
ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time_utc", "time", "datetime", "date_time", "timestamp", "gmt_time", "date"),
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c"),
    # Tick volume before "vol": MetaTrader's <VOL> is exchange volume, 0 for most FX.
    "volume": ("volume", "tick_volume", "tickvol", "vol"),
}
# A date column beside a clock column (20180115 beside 14:00:00) is one split time.
_SPLIT_DATE = "date"
_SPLIT_CLOCK = ("time", "timestamp")
# How pandas names an unnamed index once it is written out (CSV, Parquet).
_UNNAMED = re.compile(r"unnamed:_\d+|index|__index_level_0__|")


@dataclass(frozen=True)
class CandleColumns:
    """A table's candle columns as arrays; element ``i`` is data row ``i + 1``.

    ``fixed_decimals`` is the number of fraction digits every price cell of a text
    table shares (``1.16330`` and ``1.16347``: 5), or None when they differ.
    """

    time_ns: npt.NDArray[np.int64]
    prices: dict[str, npt.NDArray[np.float64]]
    volume: npt.NDArray[np.float64]
    fixed_decimals: int | None


def normalize(name: object) -> str:
    """The matching key of a column name.

    Examples
    --------
    >>> normalize("<TICKVOL>"), normalize(" Gmt time "), normalize("Close")
    ('tickvol', 'gmt_time', 'close')
    """
    return re.sub(r"[\s\-]+", "_", str(name).strip().strip("<>").strip().lower())


def extract(frame: pd.DataFrame, *, source: str) -> CandleColumns:
    """Map and convert the candle columns of ``frame``; raise `DataError` naming the row.

    Examples
    --------
    >>> frame = pd.DataFrame({"Date": ["20180115"], "Timestamp": ["14:00:00"],
    ...                       "O": ["1.2283"], "H": ["1.22905"], "L": ["1.22773"],
    ...                       "C": ["1.22905"]})
    >>> columns = extract(frame, source="f.csv")
    >>> columns.time_ns.tolist(), columns.prices["high"].tolist(), columns.volume.tolist()
    ([1516024800000000000], [1.22905], [0.0])
    """
    names = _names(frame, source=source)
    if frame.empty:
        raise DataError("the file has no data rows", source=source)
    prices = {role: frame[_column(names, role, source=source)] for role in PRICE_ROLES}
    volume = _find(names, "volume")
    return CandleColumns(
        time_ns=_times(frame, names, source=source),
        prices={role: _numbers(column, source=source) for role, column in prices.items()},
        volume=np.zeros(len(frame)) if volume is None else _numbers(frame[volume], source=source),
        fixed_decimals=_fixed_decimals(list(prices.values())),
    )


def _names(frame: pd.DataFrame, *, source: str) -> dict[str, str]:
    """Normalized name → the file's name, refusing two columns with one meaning."""
    if not any(re.search(r"[A-Za-z]", str(name)) for name in frame.columns):
        rule = "the first line holds no column names; add a header such as time,open,high,low,close"
        raise DataError(rule, source=source)
    known = {alias for aliases in ALIASES.values() for alias in aliases}
    names: dict[str, str] = {}
    for name in map(str, frame.columns):
        key = normalize(name)
        if key in names and key in known:
            raise DataError(f"columns {names[key]!r} and {name!r} both mean {key}", source=source)
        names.setdefault(key, name)
    return names


def _find(names: dict[str, str], role: str) -> str | None:
    return next((names[alias] for alias in ALIASES[role] if alias in names), None)


def _column(names: dict[str, str], role: str, *, source: str) -> str:
    found = _find(names, role)
    if found is None:
        accepted = " or ".join(ALIASES[role])
        present = ", ".join(names.values())
        raise DataError(f"no {role} column ({accepted}); the columns are {present}", source=source)
    return found


def _times(frame: pd.DataFrame, names: dict[str, str], *, source: str) -> npt.NDArray[np.int64]:
    date = names.get(_SPLIT_DATE)
    clock = next((names[key] for key in _SPLIT_CLOCK if key in names), None)
    if date is not None and clock is not None and is_time_of_day(frame[clock]):
        joined = _text(frame[date], source=source) + " " + _text(frame[clock], source=source)
        return parse_times(joined, label=f"{date}+{clock}", source=source)
    name = _find(names, "time")
    first = str(frame.columns[0])
    if name is None and _UNNAMED.fullmatch(normalize(first)):
        name = first
    if name is None:
        accepted = ", ".join(ALIASES["time"])
        present = ", ".join(names.values())
        rule = f"no time column ({accepted}, or date plus time); the columns are {present}"
        raise DataError(rule, source=source)
    return parse_times(frame[name], label=name, source=source)


def _text(column: pd.Series, *, source: str) -> pd.Series:
    """A date or clock column as stripped text, refusing empty cells."""
    dated = pd.api.types.is_datetime64_any_dtype(column.dtype)
    text: pd.Series = (column.dt.strftime("%Y-%m-%d") if dated else column.astype(str)).str.strip()
    empty = (column.isna() | (text == "")).to_numpy()
    if empty.any():
        raise DataError(f"{column.name} is missing", source=source, row=int(np.argmax(empty)) + 1)
    return text


def _numbers(column: pd.Series, *, source: str) -> npt.NDArray[np.float64]:
    missing = column.isna().to_numpy()
    if missing.any():
        raise DataError(f"{column.name} is missing", source=source, row=int(np.argmax(missing)) + 1)
    if column.dtype in (np.float32, np.float16):
        # 1.17918 stored as float32 is 1.1791800260543823 in float64; its shortest
        # decimal form is the price that was meant.
        column = column.astype(str)
    elif pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column):
        return np.asarray(column.to_numpy(dtype=np.float64), dtype=np.float64)
    strings = column.astype(str).str.strip().to_numpy(dtype=str)
    try:
        return np.asarray(strings.astype(np.float64), dtype=np.float64)
    except ValueError:
        raise _not_a_number(strings, str(column.name), source=source) from None


def _not_a_number(strings: npt.NDArray[np.str_], label: str, *, source: str) -> DataError:
    """The error for the first cell that failed the vectorized conversion."""
    row, text = next(
        (row, text) for row, text in enumerate(strings.tolist(), start=1) if not _is_number(text)
    )
    rule = f"{label} is missing" if text == "" else f"{label} {text!r} is not a number"
    return DataError(rule, source=source, row=row)


def _is_number(text: str) -> bool:
    try:
        np.asarray([text]).astype(np.float64)
    except ValueError:
        return False
    return True


def _fixed_decimals(columns: list[pd.Series]) -> int | None:
    if not all(pd.api.types.is_string_dtype(column.dtype) for column in columns):
        return None
    texts = [column.astype(str).str.strip() for column in columns]
    _, dot, fraction = str(texts[0].iloc[0]).partition(".")
    digits = len(fraction) if dot else 0
    pattern = rf"[+-]?\d+\.\d{{{digits}}}" if digits else r"[+-]?\d+"
    if digits > MAX_DECIMALS or not all(text.str.fullmatch(pattern).all() for text in texts):
        return None
    return digits
