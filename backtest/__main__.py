"""``python -m backtest`` runs the ``parity`` CLI."""

from backtest.cli import run

run()
