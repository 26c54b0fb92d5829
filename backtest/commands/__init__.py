"""Command modules; importing this package attaches every command to the app."""

from backtest.commands import backtest, bench, cache, data, data_import, live, strategies, verify

__all__ = ["backtest", "bench", "cache", "data", "data_import", "live", "strategies", "verify"]
