"""Candles: one closed bar, and a validated series of bars for one (symbol, timeframe).

Prices are stored as int64 ticks at the instrument's precision; float prices are
derived from them by one correctly rounded division, so both the batch and the
incremental path see the very same numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from framework.errors import DataError, ParameterError
from framework.instruments import Instrument
from framework.timeframes import Timeframe

__all__ = ["PRICE_FIELDS", "Candle", "CandleSeries", "PriceField"]

_Scalar = TypeVar("_Scalar", bound=np.generic)

PriceField = Literal["open", "high", "low", "close", "hl2", "hlc3", "ohlc4"]
#: Price fields an indicator can read, each an integer combination of OHLC ticks.
PRICE_FIELDS: dict[str, tuple[str, ...]] = {
    "open": ("open",),
    "high": ("high",),
    "low": ("low",),
    "close": ("close",),
    "hl2": ("high", "low"),
    "hlc3": ("high", "low", "close"),
    "ohlc4": ("open", "high", "low", "close"),
}


@dataclass(frozen=True, slots=True)
class Candle:
    """One closed bar: open time (UTC, ns since epoch), OHLC in ticks, volume."""

    time_ns: int
    open: int
    high: int
    low: int
    close: int
    volume: float

    @property
    def time(self) -> datetime:
        """Bar-open time as a tz-aware UTC datetime."""
        return pd.Timestamp(self.time_ns, tz=UTC).to_pydatetime()

    def price(self, field: str) -> int:
        """The numerator of a price field in ticks; divide by ``len(PRICE_FIELDS[field])``."""
        return sum(getattr(self, name) for name in _fields(field))


_new = object.__new__
# Each field's slot setter: building a Candle through them skips the frozen dataclass's
# __init__ (six object.__setattr__ calls), for series that are already valid.
_SET_TIME, _SET_OPEN, _SET_HIGH, _SET_LOW, _SET_CLOSE, _SET_VOLUME = (
    Candle.__dict__[name].__set__ for name in ("time_ns", "open", "high", "low", "close", "volume")
)


def _candle(time_ns: int, open: int, high: int, low: int, close: int, volume: float) -> Candle:
    """The same value as ``Candle(time_ns, ...)``, built without the dataclass __init__."""
    candle: Candle = _new(Candle)
    _SET_TIME(candle, time_ns)
    _SET_OPEN(candle, open)
    _SET_HIGH(candle, high)
    _SET_LOW(candle, low)
    _SET_CLOSE(candle, close)
    _SET_VOLUME(candle, volume)
    return candle


def _fields(field: str) -> tuple[str, ...]:
    try:
        return PRICE_FIELDS[field]
    except KeyError:
        names = ", ".join(PRICE_FIELDS)
        raise ParameterError(f"unknown price field {field!r}; expected one of {names}") from None


@dataclass(frozen=True, eq=False)
class CandleSeries:
    """A validated, time-ordered series of closed bars of one (symbol, timeframe).

    Construct it with `CandleSeries.create`, which validates; the fields are
    read-only numpy arrays of equal length.

    Examples
    --------
    >>> import numpy as np
    >>> s = CandleSeries.create(
    ...     Instrument("EURUSD", 5), Timeframe.M15,
    ...     time_ns=np.array([0, 900], dtype=np.int64) * 10**9,
    ...     open=[110000, 110010], high=[110020, 110030],
    ...     low=[109990, 110000], close=[110010, 110020], volume=[1.0, 2.0])
    >>> len(s), s.prices("close").tolist()
    (2, [1.1001, 1.1002])
    """

    instrument: Instrument
    timeframe: Timeframe
    time_ns: npt.NDArray[np.int64]
    open: npt.NDArray[np.int64]
    high: npt.NDArray[np.int64]
    low: npt.NDArray[np.int64]
    close: npt.NDArray[np.int64]
    volume: npt.NDArray[np.float64]

    @classmethod
    def create(
        cls,
        instrument: Instrument,
        timeframe: Timeframe,
        *,
        time_ns: npt.ArrayLike,
        open: npt.ArrayLike,
        high: npt.ArrayLike,
        low: npt.ArrayLike,
        close: npt.ArrayLike,
        volume: npt.ArrayLike,
        source: str | None = None,
        first_row: int = 1,
    ) -> CandleSeries:
        """Build a series from tick arrays and validate it (see `validate`)."""
        arrays = {
            name: _frozen(values, np.int64)
            for name, values in (
                ("time_ns", time_ns),
                ("open", open),
                ("high", high),
                ("low", low),
                ("close", close),
            )
        }
        series = cls(instrument, timeframe, volume=_frozen(volume, np.float64), **arrays)
        series.validate(source=source, first_row=first_row)
        return series

    @property
    def symbol(self) -> str:
        """The instrument's symbol."""
        return self.instrument.symbol

    @property
    def decimals(self) -> int:
        """The instrument's price decimals."""
        return self.instrument.decimals

    def __len__(self) -> int:
        return int(self.time_ns.size)

    def validate(self, *, source: str | None = None, first_row: int = 1) -> None:
        """Raise `DataError` naming the first row that breaks a rule of contract 1.

        Rules: equal lengths, positive prices, high ≥ max(open, close),
        low ≤ min(open, close), finite non-negative volume, strictly increasing
        times on the timeframe's grid. Gaps are allowed.
        """
        n = len(self)
        for name in ("open", "high", "low", "close", "volume"):
            if getattr(self, name).size != n:
                raise DataError(
                    f"column {name} has {getattr(self, name).size} rows, expected {n}",
                    source=source,
                )
        body_high = np.maximum(self.open, self.close)
        body_low = np.minimum(self.open, self.close)
        checks: list[tuple[npt.NDArray[np.bool_], str]] = [
            (
                (self.open <= 0) | (self.high <= 0) | (self.low <= 0) | (self.close <= 0),
                "price is not positive",
            ),
            (self.high < body_high, "high < max(open, close)"),
            (self.low > body_low, "low > min(open, close)"),
            (~np.isfinite(self.volume), "volume is not finite"),
            (self.volume < 0, "volume is negative"),
            *time_order_checks(self.time_ns),
            (
                self.timeframe.misaligned(self.time_ns),
                f"time is not aligned to {self.timeframe.name} bars",
            ),
        ]
        raise_first_failure(checks, self.time_ns, source=source, first_row=first_row)

    def prices(self, field: str = "close") -> npt.NDArray[np.float64]:
        """Float prices of a field, derived from ticks deterministically."""
        ticks, scale = self.ticks(field)
        return np.asarray(ticks / scale, dtype=np.float64)

    def ticks(self, field: str = "close") -> tuple[npt.NDArray[np.int64], int]:
        """A price field as (integer numerators, scale): price = numerator / scale.

        ``hl2`` is ``(high + low, 2 * 10**decimals)``, so no rounding ever happens.
        """
        names = _fields(field)
        total = sum((getattr(self, name) for name in names[1:]), start=getattr(self, names[0]))
        return total, self.instrument.scale * len(names)

    def times(self) -> pd.DatetimeIndex:
        """Bar-open times as a UTC DatetimeIndex."""
        return pd.DatetimeIndex(pd.to_datetime(self.time_ns, unit="ns", utc=True))

    def candle(self, index: int) -> Candle:
        """The bar at ``index`` (negative counts from the end)."""
        return _candle(
            int(self.time_ns[index]),
            int(self.open[index]),
            int(self.high[index]),
            int(self.low[index]),
            int(self.close[index]),
            float(self.volume[index]),
        )

    def __iter__(self) -> Iterator[Candle]:
        columns = times, opens, highs, lows, closes, volumes = (
            self.time_ns.tolist(),
            self.open.tolist(),
            self.high.tolist(),
            self.low.tolist(),
            self.close.tolist(),
            self.volume.tolist(),
        )
        if len(times) == len(opens) == len(highs) == len(lows) == len(closes) == len(volumes):
            return map(_candle, *columns)
        # Unequal columns (a series not built by `create`): fail where zip(strict) does.
        return (_candle(*row) for row in zip(*columns, strict=True))

    def slice(self, start: int | None = None, stop: int | None = None) -> CandleSeries:
        """Bars ``start:stop`` as a new series sharing memory (already valid)."""
        part = slice(start, stop)
        # Built without the frozen __init__ (eight object.__setattr__ calls): the live
        # cycle slices every series once per cycle. Same fields, same instance dict.
        series: CandleSeries = _new(CandleSeries)
        vars(series).update(
            instrument=self.instrument,
            timeframe=self.timeframe,
            time_ns=self.time_ns[part],
            open=self.open[part],
            high=self.high[part],
            low=self.low[part],
            close=self.close[part],
            volume=self.volume[part],
        )
        return series

    def between(self, start: datetime | None = None, end: datetime | None = None) -> CandleSeries:
        """Bars whose open time is in ``[start, end]`` (either bound optional)."""
        lo = 0 if start is None else int(np.searchsorted(self.time_ns, _ns(start), "left"))
        hi = len(self) if end is None else int(np.searchsorted(self.time_ns, _ns(end), "right"))
        return self.slice(lo, hi)

    def to_frame(self) -> pd.DataFrame:
        """OHLCV with float prices, indexed by UTC bar-open time."""
        scale = self.instrument.scale
        return pd.DataFrame(
            {
                "open": self.open / scale,
                "high": self.high / scale,
                "low": self.low / scale,
                "close": self.close / scale,
                "volume": self.volume,
            },
            index=self.times().rename("time"),
        )


def _frozen(values: npt.ArrayLike, dtype: type[_Scalar]) -> npt.NDArray[_Scalar]:
    array: npt.NDArray[_Scalar] = np.array(values, dtype=dtype)
    array.flags.writeable = False
    return array


def _ns(moment: datetime) -> int:
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return int(stamp.value)


def time_order_checks(time_ns: npt.NDArray[np.int64]) -> list[tuple[npt.NDArray[np.bool_], str]]:
    """The rules on bar times alone, each with the bars that break it: (mask, rule).

    Examples
    --------
    >>> for mask, rule in time_order_checks(np.array([1, 2, 2, 1])):
    ...     print(mask.tolist(), rule)
    [False, False, True, False] duplicate time
    [False, False, False, True] time is earlier than the row before
    """
    step = np.diff(time_ns)
    return [
        (np.concatenate([[False], step == 0]), "duplicate time"),
        (np.concatenate([[False], step < 0]), "time is earlier than the row before"),
    ]


def raise_first_failure(
    checks: list[tuple[npt.NDArray[np.bool_], str]],
    time_ns: npt.NDArray[np.int64],
    *,
    source: str | None,
    first_row: int,
) -> None:
    """Raise `DataError` for the earliest bar that breaks any of ``checks``, if one does."""
    first_bad = [(int(np.argmax(bad)), rule) for bad, rule in checks if bad.any()]
    if first_bad:
        row, rule = min(first_bad, key=lambda item: item[0])
        when = pd.Timestamp(int(time_ns[row]), tz=UTC).isoformat()
        raise DataError(f"{rule} (bar {when})", source=source, row=first_row + row)
