"""What every bench section shares: the bootstrapped candles, the machine, the clock."""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from framework.candles import CandleSeries
from framework.errors import DataError
from framework.loading import load_candles

__all__ = [
    "DEFAULT_SOURCE",
    "SEED",
    "Notes",
    "Progress",
    "best_seconds",
    "bootstrap",
    "load_source",
    "machine",
    "optional_version",
    "per_second",
]

#: The real candles whose returns are resampled (bundled with the repository).
DEFAULT_SOURCE = Path(__file__).resolve().parents[1] / "data" / "EURUSD_M15_2018-2020.csv.gz"
#: Seed of the bootstrap: every run measures the very same candles.
SEED = 20_180_102

#: Called with a short description before each measurement (progress display).
Progress = Callable[[str], None]


@dataclass
class Notes:
    """Why a figure is null or how it was measured, in the order they arose."""

    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        """Add one note (once)."""
        if line not in self.lines:
            self.lines.append(line)


def bootstrap(source: CandleSeries, candles: int, seed: int = SEED) -> CandleSeries:
    """``candles`` bars resampled from ``source``'s bars with a seeded generator.

    Each new bar is a whole source bar drawn with replacement: its close-to-close log
    return moves the close path (returns demeaned, so that a million bars do not drift
    away from the source's price level), and its open, high and low keep their ratios
    to its close, so every bar is as consistent as the real ones. Prices are rounded to
    ticks and the bar rules re-established after rounding; volume comes with the bar;
    times are a regular grid of the source's timeframe from its first bar.

    Examples
    --------
    >>> from framework.instruments import Instrument
    >>> from framework.timeframes import Timeframe
    >>> real = CandleSeries.create(
    ...     Instrument("EURUSD", 5), Timeframe.M15, time_ns=np.arange(4) * 900 * 10**9,
    ...     open=[110000, 110010, 110030, 110020], high=[110020, 110040, 110050, 110040],
    ...     low=[109990, 110000, 110010, 110000], close=[110010, 110030, 110020, 110030],
    ...     volume=[1.0, 2.0, 3.0, 4.0])
    >>> fake = bootstrap(real, 10, seed=1)
    >>> len(fake), fake.timeframe.name, fake.instrument == real.instrument
    (10, 'M15', True)
    """
    if len(source) < 2:
        raise DataError("the bootstrap needs at least two source bars", source=source.symbol)
    rng = np.random.default_rng(seed)
    closes = source.close.astype(np.float64)
    returns = np.diff(np.log(closes))
    returns -= returns.mean()
    drawn = rng.integers(1, len(source), size=candles)  # bar i's return is log(c[i]/c[i-1])
    path = closes[0] * np.exp(np.cumsum(returns[drawn - 1]))
    close = np.maximum(np.rint(path), 1)
    shape = {name: getattr(source, name)[drawn] / closes[drawn] for name in ("open", "high", "low")}
    open_ = np.maximum(np.rint(close * shape["open"]), 1)
    high = np.maximum.reduce([np.rint(close * shape["high"]), open_, close])
    low = np.maximum(np.minimum.reduce([np.rint(close * shape["low"]), open_, close]), 1)
    step = source.timeframe.nanoseconds
    return CandleSeries.create(
        source.instrument,
        source.timeframe,
        time_ns=int(source.time_ns[0]) + np.arange(candles, dtype=np.int64) * step,
        open=open_.astype(np.int64),
        high=high.astype(np.int64),
        low=low.astype(np.int64),
        close=close.astype(np.int64),
        volume=source.volume[drawn],
        source="bootstrap",
    )


def load_source(path: Path) -> CandleSeries:
    """The real candles to resample."""
    return load_candles(path)


def best_seconds(work: Callable[[], Any], repeats: int) -> float:
    """Fastest of ``repeats`` timed calls (`time.perf_counter`), in seconds."""
    best = float("inf")
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def per_second(items: int, seconds: float | None) -> float | None:
    """Items per second, None when not measured."""
    return None if seconds is None or seconds <= 0 else items / seconds


def optional_version(package: str) -> str | None:
    """The installed version of a distribution, or None."""
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "numpy": np.__version__,
        "pandas": optional_version("pandas"),
        "talipp": optional_version("talipp"),
        "backtesting": optional_version("backtesting"),
        "parity": optional_version("parity"),
    }


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Hardware", "cpu model"):
            return value.strip()
    return platform.processor() or platform.machine()
