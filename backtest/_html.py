"""HTML scaffolding of the report: the page and its tables."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from backtest._display import human, is_number

__all__ = ["html_page", "html_table"]

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
    """A two-column table: escaped labels, then values as `human` writes them.

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
    # Quantities right-aligned; every value reads as in the terminal (`human`).
    text = html.escape(human(value))
    return f'<td class="num">{text}</td>' if is_number(value) else f"<td>{text}</td>"
