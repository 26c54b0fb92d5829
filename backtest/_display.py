"""How values read to people: one format for the terminal tables and the HTML report.

JSON keeps machine formats (ISO 8601 times and durations); this is for eyes only.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

__all__ = ["MISSING", "human", "is_number"]

#: What an undefined value (a win rate without trades) reads as.
MISSING = "n/a"


def is_number(value: object) -> bool:
    """Whether ``value`` reads as a quantity (right-aligned in a table)."""
    return value is None or (
        not isinstance(value, bool) and isinstance(value, int | float | datetime | timedelta)
    )


def human(value: object) -> str:
    """``value`` as a person reads it.

    Thousands separators on every number; two decimals unless that would show a small
    value as 0.00; times in UTC to the minute; durations as days and a clock.

    Examples
    --------
    >>> from datetime import UTC
    >>> human(3976), human(1234.5678), human(0.00002), human(None)
    ('3,976', '1,234.57', '0.00002', 'n/a')
    >>> human(timedelta(days=162, hours=22)), human(datetime(2026, 1, 15, 14, 15, tzinfo=UTC))
    ('162 days, 22:00:00', '2026-01-15 14:15 UTC')
    """
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 0.01 or value == 0 else _small(value)
    return str(value)


def _small(value: float) -> str:
    # 0.00002 rather than 2e-05: costs are read by people used to decimals.
    if not math.isfinite(value) or abs(value) < 1e-9:
        return f"{value:g}"
    return f"{value:.10f}".rstrip("0")
