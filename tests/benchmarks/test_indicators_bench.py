"""Indicator benchmarks: incremental updates, batch throughput, snapshot and restore.

Run::

    python -m pytest tests/benchmarks/test_indicators_bench.py --benchmark-only \\
        --benchmark-columns=mean,median,ops -q

Groups put the comparisons side by side:

- ``update``: ns per incremental update (``extra_info["ns_per_update"]``) of every
  indicator, of a plain-Python deque + running-sum loop (the floor for pure Python) and
  of talipp's SMA/EMA, all over the same 10,000 real EURUSD closes. Goals: SMA and EMA
  within 3× of the floor and faster than talipp; SMA(2000) / SMA(20) ≤ 1.3.
- ``batch <kind>``: the batch twin vs pandas (and TA-Lib) on 1,000,000 values
  (``extra_info["values_per_s"]``). Goal: SMA and EMA at least as fast as pandas.
- ``snapshot``: snapshot and restore of an SMA(200) (goal: < 20 µs, < 2 KiB).

With ``--benchmark-disable`` (CI) every body runs once, in a few seconds in all.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import talib
from pytest_benchmark.fixture import BenchmarkFixture

from framework.indicators import INDICATORS, SMA, Indicator

SCALE = 100_000
UPDATES = 10_000
BATCH = 1_000_000
DATA = Path(__file__).resolve().parents[2] / "data" / "EURUSD_M15_2026.csv.gz"
CLOSES = np.rint(pd.read_csv(DATA)["close"].to_numpy()[:UPDATES] * SCALE).astype(np.int64)
CLOSE_LIST = CLOSES.tolist()
HIGH_LIST = (CLOSES + 12).tolist()
LOW_LIST = (CLOSES - 9).tolist()

UPDATE_CASES: list[tuple[str, dict[str, Any]]] = [
    ("sma", {"period": 20}),
    ("sma", {"period": 2000}),
    ("ema", {"period": 20}),
    ("wma", {"period": 20}),
    ("rsi", {"period": 14}),
    ("atr", {"period": 14}),
    ("stddev", {"period": 20}),
    ("bollinger", {"period": 20, "k": 2.0}),
    ("macd", {"fast": 12, "slow": 26, "signal": 9}),
    ("donchian", {"period": 20}),
]


def per_item(benchmark: BenchmarkFixture, items: int, key: str, scale: float) -> None:
    """Record ``mean / items × scale`` (or its inverse for rates) in ``extra_info``."""
    if benchmark.stats is None:  # --benchmark-disable
        return
    mean = benchmark.stats.stats.mean
    benchmark.extra_info[key] = mean / items * scale if key.startswith("ns") else items / mean


def feed(indicator: Indicator) -> None:
    update = indicator.update
    if len(indicator.inputs) == 1:
        for price in CLOSE_LIST:
            update(price)
    elif len(indicator.inputs) == 2:
        for high, low in zip(HIGH_LIST, LOW_LIST, strict=True):
            update(high, low)
    else:
        for high, low, close in zip(HIGH_LIST, LOW_LIST, CLOSE_LIST, strict=True):
            update(high, low, close)


@pytest.mark.benchmark(group="update")
@pytest.mark.parametrize(("kind", "params"), UPDATE_CASES, ids=lambda v: str(v))
def test_update(benchmark: BenchmarkFixture, kind: str, params: dict[str, Any]) -> None:
    benchmark(lambda: feed(INDICATORS[kind](**params, scale=SCALE)))
    per_item(benchmark, UPDATES, "ns_per_update", 1e9)


@pytest.mark.benchmark(group="update")
def test_update_floor_plain_python_deque_running_sum(benchmark: BenchmarkFixture) -> None:
    def floor(period: int = 20) -> None:
        window: deque[int] = deque()
        total = 0
        for price in CLOSE_LIST:
            window.append(price)
            total += price
            if len(window) > period:
                total -= window.popleft()
            _ = total / (period * SCALE) if len(window) == period else None

    benchmark(floor)
    per_item(benchmark, UPDATES, "ns_per_update", 1e9)


@pytest.mark.benchmark(group="update")
@pytest.mark.parametrize("name", ["SMA", "EMA"])
def test_update_talipp(benchmark: BenchmarkFixture, name: str) -> None:
    talipp = pytest.importorskip("talipp.indicators")
    prices = (CLOSES / SCALE).tolist()

    def run() -> None:
        indicator = getattr(talipp, name)(20)
        for price in prices:
            indicator.add(price)

    benchmark(run)
    per_item(benchmark, UPDATES, "ns_per_update", 1e9)


def walk(seed: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    return 110_000 + np.cumsum(np.random.default_rng(seed).integers(-40, 41, BATCH))


MILLION = {"close": walk(1)}
MILLION["high"] = MILLION["close"] + 12
MILLION["low"] = MILLION["close"] - 9
PRICES = {name: pd.Series(values / SCALE) for name, values in MILLION.items()}
FLOATS = {name: values / SCALE for name, values in MILLION.items()}


def pandas_wilder(values: pd.Series, period: int) -> pd.Series:
    return values.ewm(alpha=1 / period, adjust=False).mean()


def pandas_rsi(close: pd.Series, period: int = 14) -> pd.Series:
    change = close.diff()
    gain = pandas_wilder(change.clip(lower=0), period)
    return 100 * gain / (gain + pandas_wilder(-change.clip(upper=0), period))


def pandas_atr(high: pd.Series, low: pd.Series, close: pd.Series, period: int = 14) -> pd.Series:
    previous = close.shift()
    true_range = pd.concat([high - low, (high - previous).abs(), (low - previous).abs()], axis=1)
    return pandas_wilder(true_range.max(axis=1), period)


def pandas_macd(close: pd.Series) -> pd.Series:
    line = close.ewm(span=12, adjust=False).mean() - close.ewm(span=26, adjust=False).mean()
    return line - line.ewm(span=9, adjust=False).mean()


c, h, lo = PRICES["close"], PRICES["high"], PRICES["low"]
fc, fh, fl = FLOATS["close"], FLOATS["high"], FLOATS["low"]
REFERENCES: dict[str, dict[str, Callable[[], object]]] = {
    "sma": {"pandas": lambda: c.rolling(20).mean(), "talib": lambda: talib.SMA(fc, 20)},
    "ema": {
        "pandas": lambda: c.ewm(span=20, adjust=False).mean(),
        "talib": lambda: talib.EMA(fc, 20),
    },
    "wma": {"talib": lambda: talib.WMA(fc, 20)},  # pandas has no linear weights
    "rsi": {"pandas": lambda: pandas_rsi(c), "talib": lambda: talib.RSI(fc, 14)},
    "atr": {"pandas": lambda: pandas_atr(h, lo, c), "talib": lambda: talib.ATR(fh, fl, fc, 14)},
    "stddev": {"pandas": lambda: c.rolling(20).std(ddof=0), "talib": lambda: talib.STDDEV(fc, 20)},
    "bollinger": {
        "pandas": lambda: (c.rolling(20).mean(), c.rolling(20).std(ddof=0)),
        "talib": lambda: talib.BBANDS(fc, 20, 2.0, 2.0),
    },
    "macd": {"pandas": lambda: pandas_macd(c), "talib": lambda: talib.MACD(fc)},
    "donchian": {
        "pandas": lambda: (h.rolling(20).max(), lo.rolling(20).min()),
        "talib": lambda: (talib.MAX(fh, 20), talib.MIN(fl, 20)),
    },
}
BATCH_CASES = [
    (kind, params, source)
    for kind, params in UPDATE_CASES
    if params.get("period") != 2000
    for source in ["parity", *REFERENCES[kind]]
]


@pytest.mark.parametrize(("kind", "params", "source"), BATCH_CASES, ids=lambda v: str(v))
def test_batch(benchmark: BenchmarkFixture, kind: str, params: dict[str, Any], source: str) -> None:
    benchmark.group = f"batch {kind}"
    if source == "parity":
        indicator = INDICATORS[kind](**params, scale=SCALE)
        arrays = [MILLION["close" if name == "price" else name] for name in indicator.inputs]
        benchmark(indicator.batch, *arrays)
    else:
        benchmark(REFERENCES[kind][source])
    per_item(benchmark, BATCH, "values_per_s", 1.0)


@pytest.mark.benchmark(group="snapshot")
def test_snapshot_sma_200(benchmark: BenchmarkFixture) -> None:
    sma = SMA(200, scale=SCALE)
    feed(sma)
    data = benchmark(sma.snapshot)
    benchmark.extra_info["bytes"] = len(data)
    assert len(data) < 2048


@pytest.mark.benchmark(group="snapshot")
def test_restore_sma_200(benchmark: BenchmarkFixture) -> None:
    sma = SMA(200, scale=SCALE)
    feed(sma)
    data = sma.snapshot()
    restored = benchmark(sma.restore_like, data)
    assert restored.snapshot() == data
