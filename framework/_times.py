"""Turn a column of bar-open times, in any of the shapes files use, into UTC nanoseconds.

Accepted: datetime columns (naive means UTC, aware is converted), text (ISO 8601 and
a few common export formats; a ``+02:00`` offset is honoured, no offset means UTC),
8-digit integers as ``YYYYMMDD`` dates, and other numbers as epoch times in s, ms, µs
or ns (the unit follows from the largest magnitude). Errors name the 1-based data row.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import pandas as pd

from framework.errors import DataError

__all__ = ["is_time_of_day", "parse_times"]

# ISO 8601 comes first; pandas' ISO parser also reads 20180115 and 2018.01.15.
# Day-first dotted dates are Dukascopy's; slashed dates only year-first, as
# 01/02/2018 is ambiguous between month-first and day-first.
_TEXT_FORMATS = (
    "ISO8601",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d.%m.%Y %H:%M:%S.%f",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)
_TIME_OF_DAY = re.compile(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?")
_INTEGER = r"[+-]?\d+"
# Epoch numbers below each bound are in that unit: 1e11 s is the year 5138, so real
# second counts stay below it and real millisecond counts stay above it.
_EPOCH_UNITS_NS = ((1e11, 10**9), (1e14, 10**6), (1e17, 10**3))
_YYYYMMDD = (10_000_000, 99_999_999)
_INT64_MAX = np.iinfo(np.int64).max
_EARLIEST = pd.Timestamp.min.tz_localize("UTC")
_LATEST = pd.Timestamp.max.tz_localize("UTC")


def is_time_of_day(column: pd.Series) -> bool:
    """Whether the first value of ``column`` reads as a clock time such as ``14:00:00``.

    Examples
    --------
    >>> is_time_of_day(pd.Series(["14:00:00"])), is_time_of_day(pd.Series(["2018-01-15"]))
    (True, False)
    """
    return len(column) > 0 and _TIME_OF_DAY.fullmatch(str(column.iloc[0]).strip()) is not None


def parse_times(column: pd.Series, *, label: str, source: str) -> npt.NDArray[np.int64]:
    """Bar-open times of ``column`` as int64 nanoseconds since the epoch, UTC.

    Parameters
    ----------
    column : pandas.Series
        Times in one of the accepted shapes; its position is the 0-based data row.
    label : str
        The column's name in the file, for error messages.
    source : str
        The file, for error messages.

    Examples
    --------
    >>> parse_times(pd.Series(["2026-01-15T14:15:00+01:00"]), label="time", source="f").tolist()
    [1768482900000000000]
    >>> parse_times(pd.Series([1768486500]), label="time", source="f").tolist()
    [1768486500000000000]
    """
    missing = column.isna().to_numpy()
    if missing.any():
        raise DataError(f"{label} is missing", source=source, row=_first(missing))
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return _stamps_to_ns(pd.to_datetime(column, utc=True), label=label, source=source)
    if pd.api.types.is_integer_dtype(column.dtype):
        return _numbers_to_ns(column.to_numpy(dtype=np.int64), label=label, source=source)
    if pd.api.types.is_float_dtype(column.dtype):
        return _numbers_to_ns(column.to_numpy(dtype=np.float64), label=label, source=source)
    text = column.astype(str).str.strip()
    if text.str.fullmatch(_INTEGER).all():
        return _numbers_to_ns(
            _integers(text, label=label, source=source), label=label, source=source
        )
    return _text_to_ns(text, label=label, source=source)


def _integers(text: pd.Series, *, label: str, source: str) -> npt.NDArray[np.int64]:
    try:
        return np.asarray(text.astype(np.int64).to_numpy(), dtype=np.int64)
    except (OverflowError, ValueError):
        row = next(row for row, value in enumerate(text, start=1) if abs(int(value)) > _INT64_MAX)
        rule = f"{label} {text.iloc[row - 1]!r} is too large for an epoch time"
        raise DataError(rule, source=source, row=row) from None


def _numbers_to_ns(
    values: npt.NDArray[np.int64] | npt.NDArray[np.float64], *, label: str, source: str
) -> npt.NDArray[np.int64]:
    low, high = _YYYYMMDD
    if ((values >= low) & (values <= high)).all():
        dates = pd.Series(values.astype(np.int64).astype(str))
        return _text_to_ns(dates, label=label, source=source, formats=("%Y%m%d",))
    factor = _epoch_factor(float(np.max(np.abs(values))))
    too_far = np.abs(values) > _INT64_MAX // factor
    if too_far.any():
        row = _first(too_far)
        rule = f"{label} {values[row - 1]} is too far from 1970 for an epoch time"
        raise DataError(rule, source=source, row=row)
    if np.issubdtype(values.dtype, np.integer):
        return np.asarray(values, dtype=np.int64) * np.int64(factor)
    return np.asarray(np.rint(values * factor), dtype=np.int64)


def _epoch_factor(magnitude: float) -> int:
    return next((factor for bound, factor in _EPOCH_UNITS_NS if magnitude < bound), 1)


def _text_to_ns(
    text: pd.Series, *, label: str, source: str, formats: tuple[str, ...] = _TEXT_FORMATS
) -> npt.NDArray[np.int64]:
    empty = (text == "").to_numpy()
    if empty.any():
        raise DataError(f"{label} is missing", source=source, row=_first(empty))
    first = str(text.iloc[0])
    chosen = next((fmt for fmt in formats if _parses(first, fmt)), None)
    if chosen is None:
        rule = f"{label} {first!r} is not a date-time (write ISO 8601: 2026-01-15T14:15:00Z)"
        raise DataError(rule, source=source, row=1)
    stamps = pd.to_datetime(text, format=chosen, utc=True, errors="coerce")
    bad = stamps.isna().to_numpy()
    if bad.any():
        row = _first(bad)
        rule = f"{label} {text.iloc[row - 1]!r} is not a date-time like the first ({first!r})"
        raise DataError(rule, source=source, row=row)
    return _stamps_to_ns(stamps, label=label, source=source)


def _parses(value: str, fmt: str) -> bool:
    try:
        pd.to_datetime(pd.Series([value]), format=fmt, utc=True)
    except (ValueError, OverflowError):
        return False
    return True


def _stamps_to_ns(stamps: pd.Series, *, label: str, source: str) -> npt.NDArray[np.int64]:
    # Files may hold dates that datetime64[ns] cannot (years before 1677 or after 2262).
    outside = ((stamps < _EARLIEST) | (stamps > _LATEST)).to_numpy()
    if outside.any():
        row = _first(outside)
        rule = f"{label} {stamps.iloc[row - 1]} is outside the years 1678 to 2261"
        raise DataError(rule, source=source, row=row)
    return pd.DatetimeIndex(stamps).as_unit("ns").asi8


def _first(flags: npt.NDArray[np.bool_]) -> int:
    """1-based row of the first True."""
    return int(np.argmax(flags)) + 1
