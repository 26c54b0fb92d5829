"""Command modules; importing this package attaches every command to the app."""

from backtest.commands import backtest, data, verify

__all__ = ["backtest", "data", "verify"]
