"""Trade simulation: from a strategy's signals to fills, trades and an equity curve.

Conventions (contract 7):

- A signal on bar ``t`` fills at the **open of bar t+1**; a signal on the last
  bar never fills and is counted in `Simulation.unfilled`.
- **Spread** is the quoted bid/ask spread in price units and the candles are
  taken as mid prices: a buy fills at ``open + spread/2``, a sell at
  ``open - spread/2``. Every fill pays half the spread, so a round trip of one
  unit costs exactly ``spread``, which is what a trader means by "a spread of
  1.5 pips".
- **Commission** is a fraction of the traded value (``units * fill price``),
  paid on every fill, entries and exits alike.
- **Size** is the fraction of current equity a new position commits, entry
  commission included: ``units = size * equity / (fill * (1 + commission))``,
  so ``size=1`` spends exactly the cash on a long. Above 1 is leverage.
- ``long-short`` reverses on each opposite signal (close, then open the other
  way); ``long-only`` opens on BUY and closes on SELL. A signal in the direction
  of the position already held (or a SELL while flat in ``long-only``) changes
  nothing and is counted in `Simulation.ignored`.
- A position still open after the last bar is closed at the last bar's
  **close**, paying spread and commission, and its trade has
  ``closed_at_end=True`` and ``exit_time`` = that bar's close time.
- An account whose equity is not positive opens no new position.

Equity is marked to market at each bar's close (``cash + position * close``).
Fills are sparse, so the loop runs over signals and the per-bar arrays are
built by repeating each state until the next fill: O(bars) numpy work plus
O(signals) Python work.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np
import numpy.typing as npt

from backtest._trades import Book, Trade, utc, write_trades_csv
from framework.candles import CandleSeries
from framework.errors import DataError, ParameterError
from framework.params import did_you_mean
from framework.strategy import Side

if TYPE_CHECKING:
    from framework.engine import SignalAt

__all__ = ["Mode", "Simulation", "SimulationSettings", "Trade", "simulate", "write_trades_csv"]

Mode = Literal["long-short", "long-only"]
_MODES: tuple[str, ...] = get_args(Mode)


@dataclass(frozen=True)
class SimulationSettings:
    """How signals become trades; validated on construction.

    Parameters
    ----------
    cash : float
        Starting equity, in the instrument's quote currency; > 0.
    commission : float
        Fraction of the traded value paid on every fill, in ``[0, 1)``
        (``0.0002`` is 2 basis points).
    spread : float
        Quoted bid/ask spread in price units, ≥ 0; each fill pays half of it.
    mode : {"long-short", "long-only"}
        Reverse on opposite signals, or only go long and go flat.
    size : float
        Fraction of current equity committed to each new position, > 0.

    Examples
    --------
    >>> SimulationSettings(commission=0.0002, spread=0.00015, mode="long-only").mode
    'long-only'
    >>> SimulationSettings(mode="long_only")
    Traceback (most recent call last):
    ...
    framework.errors.ParameterError: unknown mode 'long_only'; did you mean 'long-only'?
    """

    cash: float = 10_000.0
    commission: float = 0.0
    spread: float = 0.0
    mode: Mode = "long-short"
    size: float = 1.0

    def __post_init__(self) -> None:
        cash = _number("cash", self.cash)
        commission = _number("commission", self.commission)
        spread = _number("spread", self.spread)
        size = _number("size", self.size)
        if cash <= 0:
            raise ParameterError(f"cash must be positive, got {self.cash!r}")
        if not 0 <= commission < 1:
            raise ParameterError(
                f"commission is a fraction of traded value in [0, 1), got {self.commission!r}"
            )
        if spread < 0:
            raise ParameterError(f"spread must be zero or positive (price units), got {spread!r}")
        if size <= 0:
            raise ParameterError(f"size is a positive fraction of equity, got {self.size!r}")
        if self.mode not in _MODES:
            hint = did_you_mean(str(self.mode), list(_MODES)) or f"; expected {' or '.join(_MODES)}"
            raise ParameterError(f"unknown mode {self.mode!r}{hint}")
        # Plain floats from here on (numpy scalars and ints in), so settings print and
        # serialize the same whatever the caller passed.
        for name, value in (
            ("cash", cash),
            ("commission", commission),
            ("spread", spread),
            ("size", size),
        ):
            object.__setattr__(self, name, value)


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ParameterError(f"{name} must be finite, got {value!r}")
    return number


@dataclass(frozen=True, eq=False)
class Simulation:
    """The result of `simulate`; per-bar arrays are the state at each bar's close.

    Attributes
    ----------
    settings : SimulationSettings
        The settings it ran with.
    trades : list of Trade
        Closed round trips in time order (the last may be ``closed_at_end``).
    equity, cash, position : ndarray
        Per bar: ``equity == cash + position * close``; ``position`` is signed
        units. After a final ``closed_at_end`` the last bar is flat.
    commission : float
        Total commission paid.
    unfilled : int
        Signals on the last bar, which have no next open to fill at.
    ignored : int
        Signals that did not change the position.
    bars_in_market : int
        Bars during which a position was held (for exposure).
    fills : int
        Number of fills (entries and exits).
    """

    settings: SimulationSettings
    trades: list[Trade]
    equity: npt.NDArray[np.float64]
    cash: npt.NDArray[np.float64]
    position: npt.NDArray[np.float64]
    commission: float
    unfilled: int = 0
    ignored: int = 0
    bars_in_market: int = 0
    fills: int = 0

    @property
    def final_equity(self) -> float:
        """Equity after the last bar, every position closed."""
        return float(self.equity[-1])


def simulate(
    series: CandleSeries, signals: Sequence[SignalAt], settings: SimulationSettings
) -> Simulation:
    """Trade ``signals`` on ``series`` under ``settings`` (conventions: module docstring).

    Parameters
    ----------
    series : CandleSeries
        The bars the signals were computed on.
    signals : sequence of SignalAt
        Signals stamped with the open time of the bar they were decided on.
    settings : SimulationSettings
        Cash, costs, mode and size.

    Returns
    -------
    Simulation
        Trades, per-bar equity/cash/position and counters.

    Raises
    ------
    DataError
        If the series is empty or a signal's time is not a bar of the series.

    Examples
    --------
    >>> import numpy as np
    >>> from framework import Instrument, Timeframe
    >>> from framework.engine import SignalAt
    >>> from framework.strategy import Side
    >>> s = CandleSeries.create(
    ...     Instrument("TEST", 0), Timeframe.D1, time_ns=np.arange(4) * 86_400 * 10**9,
    ...     open=[10, 10, 12, 11], high=[10, 12, 12, 11], low=[10, 10, 11, 11],
    ...     close=[10, 12, 11, 11], volume=[0, 0, 0, 0])
    >>> run = simulate(s, [SignalAt(0, Side.BUY, 10.0)], SimulationSettings(cash=100.0))
    >>> run.trades[0].entry_price, run.trades[0].exit_price, run.trades[0].closed_at_end
    (10.0, 11.0, True)
    >>> run.equity.tolist()
    [100.0, 120.0, 110.0, 110.0]
    """
    n = len(series)
    if n == 0:
        raise DataError("cannot simulate an empty series", source=series.symbol)
    opens = series.open
    close = series.prices("close")
    bars, sides = _signal_bars(series, signals)
    book = Book(
        settings.cash,
        settings.commission,
        settings.spread,
        settings.size,
        series.instrument.scale,
        series.time_ns,
    )
    long_only = settings.mode == "long-only"
    # State changes: (first bar it holds at the close, cash, units); bar 0 starts flat.
    changes: list[tuple[int, float, float]] = [(0, settings.cash, 0.0)]
    unfilled = ignored = fills = 0
    for bar, buy in zip(bars.tolist(), sides, strict=True):
        if bar == n - 1:
            unfilled += 1
            continue
        want = 1 if buy else -1
        held = (book.units > 0) - (book.units < 0)
        if held == want or (long_only and not buy and held == 0):
            ignored += 1
            continue
        fill = bar + 1
        if held:
            book.close(int(opens[fill]), fill, int(series.time_ns[fill]))
            fills += 1
        if buy or not long_only:
            book.open(int(opens[fill]), fill, want)
            fills += book.units != 0
        changes.append((fill, book.cash, book.units))
    starts = np.array([change[0] for change in changes] + [n], dtype=np.int64)
    cash = np.repeat(np.array([c[1] for c in changes]), np.diff(starts))
    position = np.repeat(np.array([c[2] for c in changes]), np.diff(starts))
    equity = cash + position * close
    in_market = int(np.count_nonzero(position))
    if book.units:
        end_ns = int(series.time_ns[-1]) + series.timeframe.nanoseconds
        book.close(int(series.close[-1]), n - 1, end_ns, at_end=True)
        fills += 1
        cash[-1], position[-1], equity[-1] = book.cash, 0.0, book.cash
    for array in (equity, cash, position):
        array.flags.writeable = False
    return Simulation(
        settings=settings,
        trades=book.trades,
        equity=equity,
        cash=cash,
        position=position,
        commission=book.commission,
        unfilled=unfilled,
        ignored=ignored,
        bars_in_market=in_market,
        fills=fills,
    )


def _signal_bars(
    series: CandleSeries, signals: Sequence[SignalAt]
) -> tuple[npt.NDArray[np.int64], list[bool]]:
    """Bar index of each signal (in time order) and whether it is a BUY."""
    times = np.fromiter((signal.time_ns for signal in signals), np.int64, len(signals))
    order = np.argsort(times, kind="stable")
    times = times[order]
    bars = np.searchsorted(series.time_ns, times)
    found = bars < len(series)
    found[found] = series.time_ns[bars[found]] == times[found]
    if not found.all():
        stray = int(times[int(np.argmin(found))])
        raise DataError(
            f"signal at {utc(stray).isoformat()} is not a bar of the series",
            source=f"{series.symbol} {series.timeframe.name}",
        )
    sides = [signals[i].side is Side.BUY for i in order.tolist()]
    return bars.astype(np.int64), sides
