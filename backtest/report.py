"""The HTML backtest report: one self-contained file, readable offline.

The page holds the run's title, instrument, timeframe, parameters and
simulation settings, one plotly figure with four panels sharing the time axis
(price with the strategy's averages and BUY/SELL markers; ±1 series such as
crossings; equity against buy & hold; drawdown) and the statistics table.
plotly.js is embedded inline, so the file opens without a network.

Long series are downsampled for display only: each line keeps about
`MAX_POINTS` samples chosen by per-bucket min/max, so spikes and troughs
survive; signal markers are never dropped. Up to `MAX_CANDLES` bars are drawn
as candles, longer series as a close line. Plain SVG traces are used rather
than WebGL so the report renders the same on machines without a GPU.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from backtest._downsample import minmax_indices
from backtest._html import html_page, html_table
from backtest.simulation import Simulation
from backtest.stats import Stats
from framework.candles import CandleSeries
from framework.errors import ParameterError
from framework.strategy import Side

if TYPE_CHECKING:
    from framework.engine import SignalAt

__all__ = ["MAX_CANDLES", "MAX_POINTS", "write_report"]

#: Samples kept per line trace; ~5,000 keeps panning smooth in any browser.
MAX_POINTS = 5_000
#: Bars drawn as candles; beyond this a close line reads better and draws faster.
MAX_CANDLES = 1_500


def write_report(
    path: str | Path,
    series: CandleSeries,
    values: Mapping[str, npt.NDArray[np.float64]],
    signals: Sequence[SignalAt],
    simulation: Simulation,
    stats: Stats,
    title: str,
    *,
    params: Mapping[str, object] | None = None,
) -> None:
    """Write the backtest report as one self-contained HTML file.

    Parameters
    ----------
    path : str or Path
        Where to write; parent directories must exist.
    series : CandleSeries
        The bars that were backtested.
    values : mapping of str to ndarray
        The strategy's declared series (`FullRun.values`), one value per bar,
        NaN during warm-up. Series on the price's scale are drawn over the
        price; ±1/0 series (crossings) and other scales get their own panel.
    signals : sequence of SignalAt
        Every signal; each is drawn as a marker at its bar's close.
    simulation : Simulation
        The trades and equity curve.
    stats : Stats
        The statistics table.
    title : str
        The page title, typically the strategy and its parameters.
    params : mapping, optional
        Strategy parameters to list under the title.

    Raises
    ------
    ParameterError
        If a series in ``values`` does not have one value per bar.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from framework import Instrument, Timeframe
    >>> from backtest.simulation import SimulationSettings, simulate
    >>> from backtest.stats import compute_stats
    >>> s = CandleSeries.create(
    ...     Instrument("TEST", 0), Timeframe.D1, time_ns=np.arange(3) * 86_400 * 10**9,
    ...     open=[10, 11, 12], high=[11, 12, 13], low=[9, 10, 11], close=[11, 12, 13],
    ...     volume=[0, 0, 0])
    >>> settings = SimulationSettings()
    >>> run = simulate(s, [], settings)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.html"
    >>> write_report(out, s, {}, [], run, compute_stats(s, run, settings), "demo")
    >>> "<table" in out.read_text(encoding="utf-8")
    True
    """
    for name, array in values.items():
        if len(array) != len(series):
            raise ParameterError(f"series {name!r} has {len(array)} values for {len(series)} bars")
    figure = _figure(series, values, signals, simulation)
    chart = figure.to_html(
        full_html=False,
        include_plotlyjs=True,
        config={"displaylogo": False, "responsive": True},
        default_height="900px",
    )
    settings = simulation.settings
    setup = {
        "cash": settings.cash,
        "commission": settings.commission,
        "spread": settings.spread,
        "mode": settings.mode,
        "size": settings.size,
    }
    subtitle = (
        f"{series.symbol} · {series.timeframe.name} · {stats.start:%Y-%m-%d %H:%M} → "
        f"{stats.end:%Y-%m-%d %H:%M} UTC · {stats.candles:,} candles · {len(signals):,} signals"
    )
    tables = [html_table("Parameters", dict(params or {})), html_table("Simulation", setup)]
    page = html_page(title, subtitle, tables, chart, [html_table("Statistics", stats.labelled())])
    Path(path).write_text(page, encoding="utf-8")


def _figure(
    series: CandleSeries,
    values: Mapping[str, npt.NDArray[np.float64]],
    signals: Sequence[SignalAt],
    simulation: Simulation,
) -> go.Figure:
    times = series.times().tz_localize(None).to_numpy()
    close = series.prices("close")
    low, high = float(series.prices("low").min()), float(series.prices("high").max())
    overlays = {k: v for k, v in values.items() if _on_scale(v, low, high) and not _is_flag(v)}
    others = {k: v for k, v in values.items() if k not in overlays}
    rows = ["price", *(["indicators"] if others else []), "equity", "drawdown"]
    heights = {"price": 0.5, "indicators": 0.12, "equity": 0.22, "drawdown": 0.16}
    figure = make_subplots(
        rows=len(rows),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        row_heights=[heights[r] for r in rows],
    )
    row = {name: i + 1 for i, name in enumerate(rows)}
    if len(series) <= MAX_CANDLES:
        figure.add_trace(_candles(series, times), row=1, col=1)
    else:
        figure.add_trace(_line(times, close, "close", color="#52606d"), row=1, col=1)
    for name, array in overlays.items():
        figure.add_trace(_line(times, array, name), row=1, col=1)
    for side, symbol, color in (
        (Side.BUY, "triangle-up", "#2e7d32"),
        (Side.SELL, "triangle-down", "#c62828"),
    ):
        figure.add_trace(_markers(signals, side, symbol, color), row=1, col=1)
    for name, array in others.items():
        figure.add_trace(_line(times, array, name, shape="hv"), row=row["indicators"], col=1)
    equity = simulation.equity
    hold = simulation.settings.cash * close / close[0]
    figure.add_trace(_line(times, equity, "equity", color="#1565c0"), row=row["equity"], col=1)
    figure.add_trace(_line(times, hold, "buy & hold", color="#9aa5b1"), row=row["equity"], col=1)
    drawdown = 100.0 * (equity / np.maximum.accumulate(equity) - 1)
    figure.add_trace(
        _line(times, drawdown, "drawdown %", color="#c62828", fill="tozeroy"),
        row=row["drawdown"],
        col=1,
    )
    figure.update_layout(
        template="plotly_white",
        hovermode="x unified",
        margin={"l": 70, "r": 20, "t": 40, "b": 40},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "x": 0},
    )
    figure.update_xaxes(rangeslider_visible=False)
    titles = {
        "price": series.symbol,
        "indicators": "signals",
        "equity": "equity",
        "drawdown": "drawdown %",
    }
    for name, number in row.items():
        figure.update_yaxes(title_text=titles[name], row=number, col=1)
    return figure


def _line(
    times: npt.NDArray[Any], y: npt.NDArray[np.float64], name: str, **style: Any
) -> go.Scatter:
    keep = minmax_indices(np.asarray(y, dtype=np.float64), MAX_POINTS)
    color = style.pop("color", None)
    shape = style.pop("shape", "linear")
    return go.Scatter(
        x=times[keep],
        y=y[keep],
        name=name,
        mode="lines",
        line={"width": 1.2, "color": color, "shape": shape},
        **style,
    )


def _candles(series: CandleSeries, times: npt.NDArray[Any]) -> go.Candlestick:
    return go.Candlestick(
        x=times,
        open=series.prices("open"),
        high=series.prices("high"),
        low=series.prices("low"),
        close=series.prices("close"),
        name=series.symbol,
    )


def _markers(signals: Sequence[SignalAt], side: Side, symbol: str, color: str) -> go.Scatter:
    chosen = [s for s in signals if s.side is side]
    times = np.array([s.time_ns for s in chosen], dtype="datetime64[ns]")
    return go.Scatter(
        x=times,
        y=[s.price for s in chosen],
        name=side.value,
        mode="markers",
        text=[s.reason for s in chosen],
        hovertemplate="%{text}<extra>" + side.value + "</extra>",
        marker={
            "symbol": symbol,
            "size": 9,
            "color": color,
            "line": {"width": 1, "color": "white"},
        },
    )


def _is_flag(values: npt.NDArray[np.float64]) -> bool:
    finite = values[np.isfinite(values)]
    return bool(np.isin(finite, (-1.0, 0.0, 1.0)).all())


def _on_scale(values: npt.NDArray[np.float64], low: float, high: float) -> bool:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return False
    margin = high - low
    return bool(finite.min() >= low - margin and finite.max() <= high + margin)
