"""HTML scaffolding of the report: the page, its tables and how values read in them."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

__all__ = ["LABELS", "html_page", "html_table"]

#: Row labels of the statistics table, by `Stats` field.
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

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 1400px;
       padding: 0 1rem; color: #1f2933; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
.sub { color: #52606d; margin-top: 0; }
.tables { display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; }
table { border-collapse: collapse; font-size: .9rem; }
th, td { padding: .25rem .75rem; border-bottom: 1px solid #e4e7eb; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: .25rem; }
"""


def html_page(
    title: str, subtitle: str, before: Sequence[str], chart: str, after: Sequence[str]
) -> str:
    """A complete page: heading, tables ``before`` the chart, the chart, tables ``after``."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
            f"<h1>{html.escape(title)}</h1>",
            f'<p class="sub">{html.escape(subtitle)}</p>',
            f'<div class="tables">{"".join(before)}</div>',
            chart,
            f'<div class="tables">{"".join(after)}</div>',
            "</body></html>",
        ]
    )


def html_table(caption: str, rows: Mapping[str, object]) -> str:
    """A two-column table: escaped labels, then values as `_cell` formats them.

    Examples
    --------
    >>> html_table("Run", {"sharpe": None})
    '<table><caption>Run</caption><tr><th>sharpe</th><td class="num">n/a</td></tr></table>'
    >>> html_table("Costs", {"commission": 0.00002}).count("0.00002")
    1
    """
    body = "".join(
        f"<tr><th>{html.escape(str(key))}</th>{_cell(value)}</tr>" for key, value in rows.items()
    )
    return f"<table><caption>{html.escape(caption)}</caption>{body}</table>"


def _cell(value: object) -> str:
    # Numbers right-aligned; two decimals unless that would show a small value as 0.00.
    if value is None:
        return '<td class="num">n/a</td>'
    if isinstance(value, bool) or not isinstance(value, int | float | datetime | timedelta):
        return f"<td>{html.escape(str(value))}</td>"
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M UTC")
    elif isinstance(value, timedelta):
        text = str(value)
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = f"{value:,.2f}" if abs(value) >= 0.01 or value == 0 else _small(value)
    return f'<td class="num">{text}</td>'


def _small(value: float) -> str:
    # 0.00002 rather than 2e-05: costs are read by people used to decimals.
    if not math.isfinite(value) or abs(value) < 1e-9:
        return f"{value:g}"
    return f"{value:.10f}".rstrip("0")
