"""Command modules; importing this package attaches every command to the app."""

from backtest.commands import data

__all__ = ["data"]
