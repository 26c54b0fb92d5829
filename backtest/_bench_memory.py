"""Bench section 4: peak RSS of a backtest, measured in a fresh process.

Run as ``python -m backtest._bench_memory CANDLES SOURCE``: it bootstraps the candles,
runs the full-path backtest (signals, simulation, stats) and prints one JSON object.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from backtest._bench_data import Notes, bootstrap, load_source

__all__ = ["measure_in_subprocess"]

_TIMEOUT_S = 600


def measure_in_subprocess(candles: int, source: Path, notes: Notes) -> dict[str, Any]:
    """Peak and pre-backtest RSS (MB) of a ``candles``-bar backtest in a child process."""
    command = [sys.executable, "-m", "backtest._bench_memory", str(candles), str(source)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=_TIMEOUT_S, check=True
        )
        measured: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, OSError, ValueError, IndexError) as error:
        notes.add(f"backtest_peak_rss_mb: the measuring process failed ({error})")
        return {"backtest_peak_rss_mb": None, "rss_before_backtest_mb": None}
    if measured.get("backtest_peak_rss_mb") is None:
        notes.add("backtest_peak_rss_mb: this platform reports no peak RSS (no resource module)")
    if measured.get("rss_before_backtest_mb") is None:
        notes.add("rss_before_backtest_mb: psutil not installed (parity[bench])")
    notes.add(
        f"memory: peak RSS of a fresh process that bootstraps {candles:,} candles and runs "
        "run_full + simulate + stats (the backtest without its parity check); "
        "rss_before_backtest_mb is its RSS once the candles are built"
    )
    return measured


def _rss_now_mb() -> float | None:
    try:
        psutil = importlib.import_module("psutil")
    except ImportError:
        return None
    return float(psutil.Process().memory_info().rss) / 2**20


def _peak_rss_mb() -> float | None:
    # Linux keeps getrusage's ru_maxrss across execve, so a child started by a big
    # parent would report the parent's size; VmHWM belongs to this process image alone.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**10  # kB
    except OSError:
        pass
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB


def _main(argv: list[str]) -> None:
    from backtest.simulation import SimulationSettings, simulate
    from backtest.stats import compute_stats
    from framework.engine import run_full
    from strategies.ma_unified import MAUnifiedStrategy

    candles, source = int(argv[0]), Path(argv[1])
    series = bootstrap(load_source(source), candles)
    before = _rss_now_mb()
    settings = SimulationSettings()
    full = run_full(MAUnifiedStrategy(fast=50, slow=200), series)
    compute_stats(series, simulate(series, full.signals, settings), settings)
    print(json.dumps({"backtest_peak_rss_mb": _peak_rss_mb(), "rss_before_backtest_mb": before}))


if __name__ == "__main__":
    _main(sys.argv[1:])
