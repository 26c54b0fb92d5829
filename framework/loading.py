"""Load and save candle files: CSV, gzip-compressed CSV and Parquet.

Errors name the file and where in it: in a CSV file the **line** an editor shows (line 1
is the header, so the first candle is line 2); in Parquet the 1-based **row** (record).
`DataError.row` is the data row either way: row 1 is the first candle.
Values are checked before rules: a cell that is missing or not a number, or a price
off the tick grid, is reported before the candle rules of `CandleSeries.validate`.

Parity's own format, the one `save_candles` writes and ``data/`` holds, is CSV
(gzip-compressed for ``.csv.gz``) with the header ``time,open,high,low,close,volume``:
``time`` in ISO 8601 UTC (``2026-01-15T14:15:00Z``), prices with exactly the
instrument's decimals, volume as the shortest text that reads back to the same float.
It is readable by anything, diffs line by line, and every price states its precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from framework._columns import PRICE_ROLES, CandleColumns, extract
from framework._files import HEADER, encode, is_parquet, read_table, write_atomically
from framework._inference import median_spacing_seconds, symbol_from_name, timeframe_from_name
from framework.candles import CandleSeries, raise_first_failure, time_order_checks
from framework.errors import DataError, ParameterError
from framework.instruments import Instrument, infer_decimals
from framework.timeframes import Timeframe

__all__ = ["HEADER", "CandleFile", "load_candles", "save_candles"]


@dataclass(frozen=True)
class CandleFile:
    """A loaded candle file: its series and where symbol, timeframe and decimals came from.

    Each ``*_from`` is one of ``"argument"``, ``"file metadata"``, ``"file name"``,
    ``"bar spacing"``, ``"instrument table"``, ``"fixed digits"`` (every price in the
    file has the same number of decimals) or ``"prices"`` (`infer_decimals`).
    """

    path: Path
    series: CandleSeries
    symbol_from: str
    timeframe_from: str
    decimals_from: str

    @classmethod
    def load(
        cls,
        path: str | PathLike[str],
        *,
        symbol: str | None = None,
        timeframe: str | Timeframe | None = None,
        decimals: int | None = None,
    ) -> CandleFile:
        """Read, map, quantize and validate a candle file; see `load_candles`."""
        path = Path(path)
        try:
            return cls._load(path, symbol=symbol, timeframe=timeframe, decimals=decimals)
        except DataError as error:
            if error.row is None or is_parquet(path):
                raise
            # A text file's reader finds its line, the header being line 1.
            line = error.row + 1
            raise DataError(error.rule, source=error.source, row=error.row, line=line) from None

    @classmethod
    def _load(
        cls,
        path: Path,
        *,
        symbol: str | None,
        timeframe: str | Timeframe | None,
        decimals: int | None,
    ) -> CandleFile:
        source = str(path)
        frame, hints = read_table(path, source=source)
        columns = extract(frame, source=source)
        name, symbol_from = _symbol(symbol, hints, path)
        bars, timeframe_from = _timeframe(timeframe, hints, columns.time_ns, path)
        instrument, decimals_from = _instrument(name, decimals, hints, columns, source=source)
        ticks = _quantize(instrument, columns.prices, decimals_from, source=source)
        series = CandleSeries.create(
            instrument,
            bars,
            time_ns=columns.time_ns,
            open=ticks["open"],
            high=ticks["high"],
            low=ticks["low"],
            close=ticks["close"],
            volume=columns.volume,
            source=source,
        )
        return cls(path, series, symbol_from, timeframe_from, decimals_from)


def load_candles(
    path: str | PathLike[str],
    *,
    symbol: str | None = None,
    timeframe: str | Timeframe | None = None,
    decimals: int | None = None,
) -> CandleSeries:
    """Load a CSV, CSV.gz or Parquet candle file into a validated `CandleSeries`.

    Parameters
    ----------
    path : str or path-like
        The file; Parquet and gzip are recognized by content, not only by name.
    symbol : str, optional
        Default: the file's metadata, else its name (``EURUSD_M15_2026.csv.gz``).
    timeframe : str or Timeframe, optional
        Default: the file's metadata, else the median bar spacing, else the name.
    decimals : int, optional
        Price precision. Default: the file's metadata, else the bundled instrument
        table, else the digits the file's prices share, else `infer_decimals`.

    Raises
    ------
    DataError
        Unreadable file, missing column, bad value or broken rule; names the CSV line
        (``DataError.line``) or the Parquet row.
    ParameterError
        A bad argument, or a symbol or timeframe that can neither be read nor inferred.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "eurusd-m15.csv"
    >>> _ = path.write_text("Date,Timestamp,Open,High,Low,Close\\n"
    ...                     "20180115,14:00:00,1.2283,1.22905,1.22773,1.2290500000000001\\n")
    >>> series = load_candles(path)
    >>> series.symbol, series.timeframe.name, series.decimals, series.close.tolist()
    ('EURUSD', 'M15', 5, [122905])
    """
    return CandleFile.load(path, symbol=symbol, timeframe=timeframe, decimals=decimals).series


def save_candles(series: CandleSeries, path: str | PathLike[str]) -> None:
    """Write ``series`` in Parity's format: ``.csv``, ``.csv.gz`` or ``.parquet``.

    The file is replaced atomically, and gzip output carries no timestamp, so the
    same series always gives the same bytes.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from framework.instruments import Instrument
    >>> series = CandleSeries.create(
    ...     Instrument("EURUSD", 5), Timeframe.M15, time_ns=[1768486500 * 10**9],
    ...     open=[116330], high=[116347], low=[116318], close=[116340], volume=[489.0])
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "EURUSD_M15.csv"
    >>> save_candles(series, path)
    >>> print(path.read_text(), end="")
    time,open,high,low,close,volume
    2026-01-15T14:15:00Z,1.16330,1.16347,1.16318,1.16340,489
    """
    path = Path(path)
    write_atomically(path, encode(series, path))


def _symbol(given: str | None, hints: dict[str, Any], path: Path) -> tuple[str, str]:
    if given is not None:
        if not given.strip():
            raise ParameterError("the symbol must not be empty")
        return given.strip().upper(), "argument"
    if "symbol" in hints:
        return str(hints["symbol"]).upper(), "file metadata"
    from_name = symbol_from_name(path)
    if from_name is None:
        raise ParameterError(f"{path}: cannot tell the symbol from the file name; pass --symbol")
    return from_name, "file name"


def _timeframe(
    given: str | Timeframe | None,
    hints: dict[str, Any],
    time_ns: npt.NDArray[np.int64],
    path: Path,
) -> tuple[Timeframe, str]:
    if given is not None:
        return Timeframe.parse(given), "argument"
    if "timeframe" in hints:
        return Timeframe.parse(str(hints["timeframe"])), "file metadata"
    spacing = median_spacing_seconds(time_ns)
    named = timeframe_from_name(path)
    found = None if spacing is None else Timeframe.from_seconds(spacing)
    if found is not None and named in (None, found):
        return found, "bar spacing"
    if spacing is None and named is not None:
        return named, "file name"
    # No timeframe to infer: bars out of order or duplicated are the likelier cause,
    # and passing --timeframe would not help with them.
    raise_first_failure(time_order_checks(time_ns), time_ns, source=str(path), first_row=1)
    if found is not None and named is not None:
        # Two guesses that disagree (a misnamed file, or bars too sparse for their
        # spacing to tell) must not silently pick one.
        rule = f"the file name says {named.name} but the bars are spaced {found.name}"
    elif spacing is None:
        rule = "one bar has no spacing to infer a timeframe from"
    else:
        names = ", ".join(tf.name for tf in Timeframe)
        rule = f"the median bar spacing, {spacing} s, is none of {names}"
    raise ParameterError(f"{path}: {rule}; pass --timeframe")


def _instrument(
    symbol: str, given: int | None, hints: dict[str, Any], columns: CandleColumns, *, source: str
) -> tuple[Instrument, str]:
    if given is not None:
        return Instrument(symbol, given), "argument"
    if "decimals" in hints:
        return Instrument(symbol, int(hints["decimals"])), "file metadata"
    known = Instrument.lookup(symbol)
    if known is not None:
        return known, "instrument table"
    if columns.fixed_decimals is not None:
        return Instrument(symbol, columns.fixed_decimals), "fixed digits"
    return Instrument(symbol, _inferred_decimals(columns.prices, source=source)), "prices"


def _inferred_decimals(prices: dict[str, npt.NDArray[np.float64]], *, source: str) -> int:
    # Row-major stacking keeps the first bad price in row order; map it back to its row.
    stacked = np.column_stack([prices[role] for role in PRICE_ROLES])
    try:
        return infer_decimals(stacked, source=source)
    except DataError as error:
        row = None if error.row is None else (error.row - 1) // len(PRICE_ROLES) + 1
        raise DataError(error.rule, source=source, row=row) from None


def _quantize(
    instrument: Instrument,
    prices: dict[str, npt.NDArray[np.float64]],
    decimals_from: str,
    *,
    source: str,
) -> dict[str, npt.NDArray[np.int64]]:
    """Ticks of every price column; the error of the earliest bad row wins."""
    hint = ""
    if decimals_from != "argument":
        hint = f" ({instrument.decimals} decimals from the {decimals_from}; pass --decimals)"
    ticks: dict[str, npt.NDArray[np.int64]] = {}
    errors: list[DataError] = []
    for role, values in prices.items():
        try:
            ticks[role] = instrument.to_ticks(values, source=source)
        except DataError as error:
            errors.append(DataError(f"{role} {error.rule}{hint}", source=source, row=error.row))
    if errors:
        raise min(errors, key=lambda error: error.row or 0)
    return ticks
