"""Guess what a candle file does not say: symbol and timeframe from its name and its bars."""

from __future__ import annotations

import re
from itertools import pairwise
from os import PathLike
from pathlib import Path

import numpy as np
import numpy.typing as npt

from framework.instruments import Instrument
from framework.timeframes import Timeframe

__all__ = ["median_spacing_seconds", "symbol_from_name", "timeframe_from_name"]

_EXTENSIONS = re.compile(r"(\.(csv|txt|parquet|pq|gz|bz2|xz|zip|zst))+$", re.IGNORECASE)
# An unknown symbol is accepted only right before a timeframe (ABCXYZ_M15.csv), so
# that "candles.csv" is not read as the symbol CANDLES.
_SYMBOL = re.compile(r"[A-Z][A-Z0-9]{2,11}")


def _tokens(path: str | PathLike[str]) -> list[str]:
    stem = _EXTENSIONS.sub("", Path(path).name)
    return [token for token in re.split(r"[_\-\s.]+", stem.upper()) if token]


def symbol_from_name(path: str | PathLike[str]) -> str | None:
    """The symbol a file name states, or None.

    A symbol of the bundled instrument table is found anywhere in the name (also
    split, as in ``EUR_USD``); another one only right before a timeframe.

    Examples
    --------
    >>> symbol_from_name("data/EURUSD_M15_2026.csv.gz"), symbol_from_name("eurusd-m15.parquet")
    ('EURUSD', 'EURUSD')
    >>> symbol_from_name("EUR_USD_H1.csv"), symbol_from_name("export_BTCEUR_M5.csv")
    ('EURUSD', 'BTCEUR')
    >>> symbol_from_name("candles.csv") is None
    True
    """
    tokens = _tokens(path)
    pairs = [first + second for first, second in pairwise(tokens)]
    known = next((token for token in pairs + tokens if Instrument.lookup(token)), None)
    if known is not None:
        return known
    before_timeframe = next(
        (first for first, second in pairwise(tokens) if second in Timeframe.__members__), None
    )
    if before_timeframe is not None and _SYMBOL.fullmatch(before_timeframe):
        return before_timeframe
    return None


def timeframe_from_name(path: str | PathLike[str]) -> Timeframe | None:
    """The timeframe a file name states, or None.

    Examples
    --------
    >>> timeframe_from_name("EURUSD_M15_2026.csv.gz"), timeframe_from_name("prices.csv")
    (<Timeframe.M15: 900>, None)
    """
    return _timeframe_in(_tokens(path))


def _timeframe_in(tokens: list[str]) -> Timeframe | None:
    return next((Timeframe[token] for token in tokens if token in Timeframe.__members__), None)


def median_spacing_seconds(time_ns: npt.NDArray[np.int64]) -> int | None:
    """The median spacing of consecutive bars in whole seconds, or None below two bars.

    Weekend and session gaps are a minority of the steps, so the median is the bar
    length. Steps count by their size whatever their direction, so a file sorted
    newest first still tells its timeframe and validation then reports its order
    with a row; equal times (no step) are left out.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([0, 900, 1800, 180_000, 180_900], dtype=np.int64) * 10**9
    >>> median_spacing_seconds(t), median_spacing_seconds(t[::-1])
    (900, 900)
    """
    steps = np.abs(np.diff(time_ns))
    moved = steps[steps > 0]
    if moved.size == 0:
        return None
    return int(np.median(moved)) // 1_000_000_000
