"""Trades, the account book that produces them, and the trades CSV.

`backtest.simulation` documents the fill conventions and re-exports `Trade`
and `write_trades_csv`; this module holds the per-fill arithmetic.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from framework.errors import ParameterError

__all__ = ["TRADE_COLUMNS", "Book", "Trade", "utc", "write_trades_csv"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Columns of the trades CSV and keys of `Trade.as_dict`, in order.
TRADE_COLUMNS = (
    "entry_time",
    "exit_time",
    "side",
    "entry_price",
    "exit_price",
    "size",
    "pnl",
    "return_pct",
    "commission",
    "closed_at_end",
)


@dataclass(frozen=True, slots=True)
class Trade:
    """One round trip: the entry and exit fills of one position.

    Times are tz-aware UTC: a fill's time is the open time of the bar it filled
    at; a ``closed_at_end`` exit is stamped with the last bar's close time.
    Prices are fill prices (spread included); ``size`` is in units; ``pnl`` is
    net of both commissions; ``return_pct`` is ``pnl`` over the entry value
    (``size * entry_price``), in percent.
    """

    entry_time: datetime
    exit_time: datetime
    side: Literal["long", "short"]
    entry_price: float
    exit_price: float
    size: float
    pnl: float
    return_pct: float
    commission: float
    closed_at_end: bool

    def as_dict(self) -> dict[str, str | float | bool]:
        """The trade as JSON-ready values, times as ISO 8601 strings.

        Examples
        --------
        >>> t = datetime(2020, 1, 1, tzinfo=UTC)
        >>> Trade(t, t, "long", 1.0, 1.1, 10.0, 1.0, 10.0, 0.0, False).as_dict()["entry_time"]
        '2020-01-01T00:00:00+00:00'
        """
        values: dict[str, str | float | bool] = {}
        for name in TRADE_COLUMNS:
            value = getattr(self, name)
            values[name] = value.isoformat() if isinstance(value, datetime) else value
        return values


def write_trades_csv(path: str | Path, trades: Iterable[Trade]) -> None:
    """Write trades as CSV: `TRADE_COLUMNS`, ISO 8601 times, ``true``/``false``.

    Floats are written with ``repr`` so they read back exactly.

    Examples
    --------
    >>> import tempfile
    >>> t = datetime(2020, 1, 1, tzinfo=UTC)
    >>> out = Path(tempfile.mkdtemp()) / "trades.csv"
    >>> write_trades_csv(out, [Trade(t, t, "short", 1.5, 1.25, 2.0, 0.5, 16.5, 0.0, True)])
    >>> print(out.read_text(), end="")
    entry_time,exit_time,side,entry_price,exit_price,size,pnl,return_pct,commission,closed_at_end
    2020-01-01T00:00:00+00:00,2020-01-01T00:00:00+00:00,short,1.5,1.25,2.0,0.5,16.5,0.0,true
    """
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TRADE_COLUMNS)
        for trade in trades:
            row = trade.as_dict()
            row["closed_at_end"] = "true" if trade.closed_at_end else "false"
            writer.writerow([row[name] for name in TRADE_COLUMNS])


class Book:
    """The account while signals are replayed: cash, signed units, the open entry.

    Buys fill at ``price + spread / 2`` and sells at ``price - spread / 2``; each
    fill pays ``commission`` times its traded value. Prices come in as integer
    ticks and the half spread is added in ticks before the one division by the
    scale, so a spread on the tick grid gives fills such as ``1.22445`` rather
    than ``1.2244500000000001``, and a zero spread gives exactly `CandleSeries.prices`.
    """

    def __init__(
        self,
        cash: float,
        commission: float,
        spread: float,
        size: float,
        scale: int,
        times_ns: npt.NDArray[np.int64],
    ) -> None:
        self.cash = cash
        self.fee_rate = commission
        self.spread = spread
        self.half_spread_ticks = spread * scale / 2
        self.scale = scale
        self.size = size
        self.times_ns = times_ns
        self.units = 0.0
        self.entry_price = 0.0
        self.entry_fee = 0.0
        self.entry_bar = 0
        self.commission = 0.0
        self.trades: list[Trade] = []

    def fill_price(self, ticks: int, buy: bool, bar: int) -> float:
        """The price a buy or sell at ``ticks`` on ``bar`` gets after the spread."""
        half = self.half_spread_ticks
        filled = (ticks + half if buy else ticks - half) / self.scale
        if filled <= 0:
            raise ParameterError(
                f"spread {self.spread!r} leaves a non-positive sell price at "
                f"{utc(int(self.times_ns[bar])).isoformat()} (price {ticks / self.scale!r})"
            )
        return filled

    def close(self, ticks: int, bar: int, exit_ns: int, at_end: bool = False) -> None:
        """Close the open position at a price of ``ticks`` and record its trade."""
        units = self.units
        filled = self.fill_price(ticks, units < 0, bar)
        fee = self.fee_rate * abs(units) * filled
        self.cash += units * filled - fee
        self.commission += fee
        pnl = units * (filled - self.entry_price) - self.entry_fee - fee
        self.trades.append(
            Trade(
                entry_time=utc(int(self.times_ns[self.entry_bar])),
                exit_time=utc(exit_ns),
                side="long" if units > 0 else "short",
                entry_price=self.entry_price,
                exit_price=filled,
                size=abs(units),
                pnl=pnl,
                return_pct=100.0 * pnl / (abs(units) * self.entry_price),
                commission=self.entry_fee + fee,
                closed_at_end=at_end,
            )
        )
        self.units = 0.0

    def open(self, ticks: int, bar: int, direction: int) -> None:
        """Open a position (``direction`` +1 long, -1 short) at a price of ``ticks``."""
        equity = self.cash  # only called flat, so cash is the whole equity
        if equity <= 0:
            return
        filled = self.fill_price(ticks, direction > 0, bar)
        # The entry fee is part of the committed fraction: size=1 spends all cash on a long.
        units = self.size * equity / (filled * (1 + self.fee_rate))
        fee = self.fee_rate * units * filled
        self.units = direction * units
        self.cash -= self.units * filled + fee
        self.commission += fee
        self.entry_price, self.entry_fee, self.entry_bar = filled, fee, bar


def utc(time_ns: int) -> datetime:
    """A tz-aware UTC datetime from ns since the epoch (to the microsecond)."""
    return _EPOCH + timedelta(microseconds=time_ns // 1000)
