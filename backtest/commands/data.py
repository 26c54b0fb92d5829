"""``parity data``: inspect and import candle files."""

from __future__ import annotations
