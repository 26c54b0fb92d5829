"""Backtest statistics in the vocabulary traders use.

Conventions:

- **Per-bar returns** are the simple returns of the equity curve from one bar's
  close to the next (the first bar's equity is the starting cash, since no fill
  can happen before bar 1).
- **Annualization** uses the data's own bar density: ``bars_per_year = candles /
  years``, where ``years`` is the span from the first bar's open to the last
  bar's close in years of 365.25 days. Weekend and session gaps therefore count
  as they really occur (EURUSD M15 has ~25,000 bars a year, not 35,064).
- **Volatility** is the sample standard deviation (ddof=1) of per-bar returns
  times ``sqrt(bars_per_year)``; **Sharpe** is ``mean / std * sqrt(bars_per_year)``
  with a zero risk-free rate; **Sortino** is ``mean / downside * sqrt(bars_per_year)``
  with ``downside = sqrt(mean(min(r, 0) ** 2))`` over all bars.
- **Max drawdown** is a percentage ≤ 0 (``-12.5`` means equity fell 12.5 % below
  its running peak); its **duration** runs from the peak bar to the bar where
  equity is back at that peak, or to the last bar if it never gets back.
- **Buy & hold** is ``last close / first close - 1``, without costs.
- **Exposure** is the share of bars during which a position was held.
- Trade statistics use each trade's ``return_pct`` (net of commission); the
  average is arithmetic.
- A value that is undefined — win rate without trades, profit factor without a
  losing trade, Sharpe of a flat curve, CAGR too large for a float — is ``None``,
  never 0 or NaN.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from backtest._trades import utc
from backtest.simulation import Simulation, SimulationSettings
from framework.candles import CandleSeries

__all__ = ["LABELS", "Stats", "compute_stats"]

_NS_PER_YEAR = 365.25 * 86_400 * 1e9

#: Row labels of the statistics, by `Stats` field: the terminal table and the HTML
#: report both read them from here.
LABELS: dict[str, str] = {
    "start": "Start",
    "end": "End",
    "candles": "Candles",
    "return_pct": "Return [%]",
    "buy_hold_return_pct": "Buy & hold return [%]",
    "cagr_pct": "CAGR [%]",
    "volatility_pct": "Volatility (ann.) [%]",
    "sharpe": "Sharpe ratio",
    "sortino": "Sortino ratio",
    "max_drawdown_pct": "Max drawdown [%]",
    "max_drawdown_duration": "Max drawdown duration",
    "n_trades": "# Trades",
    "win_rate_pct": "Win rate [%]",
    "best_trade_pct": "Best trade [%]",
    "worst_trade_pct": "Worst trade [%]",
    "avg_trade_pct": "Avg. trade [%]",
    "profit_factor": "Profit factor",
    "exposure_pct": "Exposure [%]",
    "total_commission": "Total commission",
    "final_equity": "Final equity",
}


@dataclass(frozen=True)
class Stats:
    """The numbers a backtest reports; see the module docstring for definitions.

    Examples
    --------
    >>> from datetime import UTC
    >>> t = datetime(2020, 1, 1, tzinfo=UTC)
    >>> stats = Stats(t, t, 1, 0.0, 0.0, None, None, None, None, 0.0,
    ...               timedelta(hours=2), 0, None, None, None, None, None, 0.0, 0.0, 1.0)
    >>> d = stats.as_dict()
    >>> d["start"], d["max_drawdown_duration"], d["win_rate_pct"]
    ('2020-01-01T00:00:00+00:00', 'P0DT2H0M0S', None)
    >>> list(stats.labelled().items())[10:12]
    [('Max drawdown duration', datetime.timedelta(seconds=7200)), ('# Trades', 0)]
    """

    start: datetime
    end: datetime
    candles: int
    return_pct: float
    buy_hold_return_pct: float
    cagr_pct: float | None
    volatility_pct: float | None
    sharpe: float | None
    sortino: float | None
    max_drawdown_pct: float
    max_drawdown_duration: timedelta
    n_trades: int
    win_rate_pct: float | None
    best_trade_pct: float | None
    worst_trade_pct: float | None
    avg_trade_pct: float | None
    profit_factor: float | None
    exposure_pct: float
    total_commission: float
    final_equity: float

    def as_dict(self) -> dict[str, str | int | float | None]:
        """JSON-ready values: datetimes as ISO 8601 strings, the drawdown
        duration as an ISO 8601 duration (``"P3DT4H15M0S"``); see `Stats`."""
        values: dict[str, str | int | float | None] = {}
        for key, value in asdict(self).items():
            if isinstance(value, datetime):
                values[key] = value.isoformat()
            elif isinstance(value, timedelta):
                values[key] = pd.Timedelta(value).isoformat()
            else:
                values[key] = value
        return values

    def labelled(self) -> dict[str, object]:
        """Every statistic by its `LABELS` label, in table order, as Python values;
        `backtest._display.human` writes them for people. See `Stats`."""
        return {LABELS[field.name]: getattr(self, field.name) for field in fields(self)}


def compute_stats(
    series: CandleSeries, simulation: Simulation, settings: SimulationSettings
) -> Stats:
    """Compute `Stats` for a simulation of ``series``.

    Examples
    --------
    >>> import numpy as np
    >>> from framework import Instrument, Timeframe
    >>> from framework.engine import SignalAt
    >>> from framework.strategy import Side
    >>> from backtest.simulation import simulate
    >>> s = CandleSeries.create(
    ...     Instrument("TEST", 0), Timeframe.D1, time_ns=np.arange(4) * 86_400 * 10**9,
    ...     open=[10, 10, 12, 11], high=[10, 12, 12, 11], low=[10, 10, 11, 11],
    ...     close=[10, 12, 11, 11], volume=[0, 0, 0, 0])
    >>> settings = SimulationSettings(cash=100.0)
    >>> stats = compute_stats(s, simulate(s, [SignalAt(0, Side.BUY, 10.0)], settings), settings)
    >>> round(stats.return_pct, 6), round(stats.max_drawdown_pct, 6), stats.win_rate_pct
    (10.0, -8.333333, 100.0)
    """
    n = len(series)
    times = series.time_ns
    equity = simulation.equity
    start_cash = settings.cash
    final = float(equity[-1])
    years = (int(times[-1]) + series.timeframe.nanoseconds - int(times[0])) / _NS_PER_YEAR
    bars_per_year = n / years
    close = series.prices("close")
    returns = _returns(equity)
    volatility, sharpe, sortino = _risk(returns, bars_per_year)
    drawdown_pct, duration = _drawdown(equity, times)
    trade_returns = np.array([trade.return_pct for trade in simulation.trades])
    pnls = np.array([trade.pnl for trade in simulation.trades])
    has_trades = trade_returns.size > 0
    return Stats(
        start=utc(int(times[0])),
        end=utc(int(times[-1])),
        candles=n,
        return_pct=100.0 * (final / start_cash - 1),
        buy_hold_return_pct=100.0 * (float(close[-1]) / float(close[0]) - 1),
        cagr_pct=_cagr(final / start_cash, years),
        volatility_pct=volatility,
        sharpe=sharpe,
        sortino=sortino,
        max_drawdown_pct=drawdown_pct,
        max_drawdown_duration=duration,
        n_trades=len(simulation.trades),
        win_rate_pct=100.0 * float(np.mean(pnls > 0)) if has_trades else None,
        best_trade_pct=float(trade_returns.max()) if has_trades else None,
        worst_trade_pct=float(trade_returns.min()) if has_trades else None,
        avg_trade_pct=float(trade_returns.mean()) if has_trades else None,
        profit_factor=_profit_factor(pnls),
        exposure_pct=100.0 * simulation.bars_in_market / n,
        total_commission=float(simulation.commission),
        final_equity=final,
    )


def _returns(equity: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    # Bar 0 holds no position (the first fill is at bar 1's open), so equity[0]
    # is the starting cash and the first return is bar 1's.
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(equity[1:] / equity[:-1] - 1, dtype=np.float64)


def _risk(
    returns: npt.NDArray[np.float64], bars_per_year: float
) -> tuple[float | None, float | None, float | None]:
    """Annualized volatility %, Sharpe and Sortino; None where undefined."""
    if returns.size < 2 or not np.isfinite(returns).all():
        return None, None, None
    root = math.sqrt(bars_per_year)
    mean = float(returns.mean())
    std = float(returns.std(ddof=1))
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    sharpe = mean / std * root if std > 0 else None
    sortino = mean / downside * root if downside > 0 else None
    return 100.0 * std * root, sharpe, sortino


def _drawdown(
    equity: npt.NDArray[np.float64], times_ns: npt.NDArray[np.int64]
) -> tuple[float, timedelta]:
    """Max drawdown % (≤ 0) and the longest peak-to-recovery duration."""
    peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        drawdown = np.where(peak > 0, equity / peak - 1, 0.0)
    worst = float(drawdown.min()) if drawdown.size else 0.0
    under = equity < peak
    if not under.any():
        return 100.0 * worst, timedelta(0)
    # Runs of underwater bars: [first, last]; the peak is the bar before `first`.
    edges = np.diff(under.astype(np.int8), prepend=0, append=0)
    firsts = np.flatnonzero(edges == 1)
    lasts = np.flatnonzero(edges == -1) - 1
    recovered = np.minimum(lasts + 1, equity.size - 1)
    longest = int((times_ns[recovered] - times_ns[np.maximum(firsts - 1, 0)]).max())
    return 100.0 * worst, timedelta(microseconds=longest // 1000)


def _cagr(growth: float, years: float) -> float | None:
    if growth < 0:
        return None
    try:
        return 100.0 * (math.pow(growth, 1 / years) - 1)
    except OverflowError:
        return None


def _profit_factor(pnls: npt.NDArray[np.float64]) -> float | None:
    losses = -float(pnls[pnls < 0].sum())
    if losses == 0:
        return None
    return float(pnls[pnls > 0].sum()) / losses
