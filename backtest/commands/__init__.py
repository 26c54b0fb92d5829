"""Command modules; importing this package attaches every command to the app."""

from backtest.commands import backtest, cache, data, data_import, live, strategies, verify

__all__ = ["backtest", "cache", "data", "data_import", "live", "strategies", "verify"]
