"""Shared helpers of the backtest tests: the JSON keys issue 5 requires, the console script."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: What issue 5 requires of the statistics (``parity backtest --json``'s ``stats``), at least.
STATS_KEYS = {
    "return_pct",
    "buy_hold_return_pct",
    "cagr_pct",
    "volatility_pct",
    "sharpe",
    "sortino",
    "max_drawdown_pct",
    "n_trades",
    "win_rate_pct",
    "profit_factor",
    "exposure_pct",
}
#: What issue 5 requires of ``parity verify --json``, at least.
REPORT_KEYS = {
    "candles",
    "signals_full",
    "signals_incremental",
    "mismatches",
    "first_mismatch",
    "chunks",
    "restarts",
    "store",
    "seconds_full",
    "seconds_incremental",
}


def parity(
    *args: str, env: Mapping[str, str] | None = None, timeout_s: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """``python -m backtest`` in a subprocess: the console script's exit code and streams.

    ``env`` is added to this process's environment.
    """
    return subprocess.run(
        [sys.executable, "-m", "backtest", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=timeout_s,
        env={**os.environ, **(env or {})},
        check=False,
    )
