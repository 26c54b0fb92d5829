"""Parity's backtest harness: replay, parity verification, trade simulation, reports, CLI."""
