"""Right, not only identical: both twins against TA-Lib, pandas and hand computation.

Real candles of five instruments (1 to 5 price decimals) run through both twins, which
must agree bit for bit, and then with TA-Lib and with pandas (rolling/ewm, seeded as
the indicator defines) within 1e-9 relative.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import talib
from _indicator_testkit import assert_identical, columns, run

from framework.indicators import (
    ATR,
    EMA,
    MACD,
    RSI,
    SMA,
    WMA,
    Bollinger,
    Donchian,
    Indicator,
    StdDev,
)

FloatArray = npt.NDArray[np.float64]
ROOT = Path(__file__).resolve().parents[3]
# The bundled copy first; the shared originals (same bars) if the bundle is absent.
DATA_DIRS = [ROOT / "data", ROOT.parent / "shared" / "data"]
INSTRUMENTS = {"EURUSD": 5, "GBPUSD": 5, "USDJPY": 3, "XAUUSD": 2, "US30": 1}
RTOL = 1e-9


def load(symbol: str) -> tuple[dict[str, npt.NDArray[np.int64]], int]:
    """OHLC of ``symbol`` as int64 ticks, and the scale (ticks per price unit)."""
    name = f"{symbol}_M15_2026.csv.gz"
    path = next((folder / name for folder in DATA_DIRS if (folder / name).exists()), None)
    if path is None:
        pytest.fail(f"{name} is missing from {', '.join(map(str, DATA_DIRS))}")
    scale = 10 ** INSTRUMENTS[symbol]
    frame = pd.read_csv(path)
    ticks = {
        c: np.rint(frame[c].to_numpy() * scale).astype(np.int64) for c in ("high", "low", "close")
    }
    return ticks, scale


@pytest.fixture(scope="module", params=list(INSTRUMENTS))
def market(request: pytest.FixtureRequest) -> tuple[dict[str, Any], int]:
    return load(request.param)


def twins(indicator: Indicator, ticks: dict[str, Any]) -> dict[str, FloatArray]:
    """Both twins' outputs, after checking that they are identical."""
    inputs = tuple(ticks["close" if name == "price" else name] for name in indicator.inputs)
    batch = indicator.batch(*inputs)
    fresh = type(indicator)(**indicator.params())
    _, outputs = run(fresh, inputs, range(0, inputs[0].size, 997))
    assert_identical(columns(fresh, outputs), batch, repr(indicator))
    return batch


def assert_close(actual: FloatArray, reference: Any, atol: float = 0.0) -> None:
    """Within ``RTOL`` relative (plus ``atol``), with NaN at exactly the same bars."""
    expected = np.asarray(reference, dtype=np.float64)
    assert np.array_equal(np.isnan(actual), np.isnan(expected)), "warm-up bars differ"
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=atol)


def seeded_ewm(values: pd.Series, period: int, alpha: float, start: int = 0) -> pd.Series:
    """pandas ewm(adjust=False) started at ``start + period - 1`` from the SMA of the
    first ``period`` values (the charting / TA-Lib convention)."""
    out = pd.Series(np.nan, index=values.index)
    first = start + period - 1
    seeded = values.iloc[first:].copy()
    seeded.iloc[0] = values.iloc[start : first + 1].mean()
    out.iloc[first:] = seeded.ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return out


@pytest.mark.parametrize("period", [2, 20, 200])
def test_moving_averages_match_talib_and_pandas(market: Any, period: int) -> None:
    ticks, scale = market
    close = pd.Series(ticks["close"] / scale)
    weights = np.arange(1, period + 1, dtype=np.float64)
    weighted = close.rolling(period).apply(lambda w: w @ weights / weights.sum(), raw=True)
    cases = [
        (SMA, talib.SMA(close, period), close.rolling(period).mean()),
        (EMA, talib.EMA(close, period), seeded_ewm(close, period, 2 / (period + 1))),
        (WMA, talib.WMA(close, period), weighted),
    ]
    for cls, ta_lib, pandas in cases:
        (value,) = twins(cls(period, scale=scale), ticks).values()
        assert_close(value, ta_lib)
        assert_close(value, pandas)


@pytest.mark.parametrize("period", [2, 14, 50])
def test_wilder_indicators_match_talib_and_pandas(market: Any, period: int) -> None:
    ticks, scale = market
    high, low, close = (pd.Series(ticks[c] / scale) for c in ("high", "low", "close"))
    change = close.diff()
    gain = seeded_ewm(change.clip(lower=0), period, 1 / period, start=1)
    loss = seeded_ewm(-change.clip(upper=0), period, 1 / period, start=1)
    pandas_rsi = (100 * (gain / (gain + loss))).where(gain + loss != 0, 50.0)
    (rsi,) = twins(RSI(period, scale=scale), ticks).values()
    assert_close(rsi, talib.RSI(close, period))
    assert_close(rsi, pandas_rsi)
    previous = close.shift()
    true_range = pd.concat([high - low, (high - previous).abs(), (low - previous).abs()], axis=1)
    pandas_atr = seeded_ewm(true_range.max(axis=1, skipna=False), period, 1 / period, start=1)
    (atr,) = twins(ATR(period, scale=scale), ticks).values()
    assert_close(atr, talib.ATR(high, low, close, period))
    assert_close(atr, pandas_atr)


@pytest.mark.parametrize(("period", "k"), [(2, 1.0), (20, 2.0), (50, 2.5)])
def test_deviation_and_bands_match_talib_and_pandas(market: Any, period: int, k: float) -> None:
    # Variance from running sums cancels catastrophically on raw prices (TA-Lib is off by
    # up to 3e-9, pandas' online rolling std by 6e-8, and neither gives 0 for a flat
    # window). So TA-Lib runs on ticks, where its sums are exact, and pandas applies
    # numpy's two-pass std to each window; both then agree with Parity to ~1e-11.
    ticks, scale = market
    close = pd.Series(ticks["close"] / scale)
    exact_close = ticks["close"].astype(np.float64)
    deviation = pd.Series(exact_close).rolling(period).apply(np.std, raw=True) / scale
    (std,) = twins(StdDev(period, scale=scale), ticks).values()
    assert_close(std, talib.STDDEV(exact_close, period, 1) / scale)
    assert_close(std, deviation)
    bands = twins(Bollinger(period, k, scale=scale), ticks)
    upper, middle, lower = (band / scale for band in talib.BBANDS(exact_close, period, k, k))
    mean, width = close.rolling(period).mean(), k * deviation
    for name, ta_lib, pandas in [
        ("middle", middle, mean),
        ("upper", upper, mean + width),
        ("lower", lower, mean - width),
    ]:
        assert_close(bands[name], ta_lib)
        assert_close(bands[name], pandas)


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (5, 35, 5), (2, 3, 2)])
def test_macd_matches_talib_and_pandas(market: Any, fast: int, slow: int, signal: int) -> None:
    ticks, scale = market
    close = pd.Series(ticks["close"] / scale)
    result = twins(MACD(fast, slow, signal, scale=scale), ticks)
    line = seeded_ewm(close, fast, 2 / (fast + 1), start=slow - fast) - seeded_ewm(
        close, slow, 2 / (slow + 1)
    )
    signal_line = seeded_ewm(line, signal, 2 / (signal + 1), start=slow - 1)
    first = slow + signal - 2
    pandas = {"macd": line.where(line.index >= first), "signal": signal_line}
    pandas["histogram"] = pandas["macd"] - signal_line
    names = ("macd", "signal", "histogram")
    ta_lib = dict(zip(names, talib.MACD(close, fast, slow, signal), strict=True))
    # The outputs are differences of EMAs, near 0: relative to the price level instead.
    atol = RTOL * float(close.abs().median())
    for name in ("macd", "signal", "histogram"):
        assert_close(result[name], ta_lib[name], atol)
        assert_close(result[name], pandas[name], atol)


@pytest.mark.parametrize("period", [2, 20, 55])  # TA-Lib's MAX/MIN need 2 or more
def test_donchian_matches_talib_and_pandas(market: Any, period: int) -> None:
    ticks, scale = market
    high, low = pd.Series(ticks["high"] / scale), pd.Series(ticks["low"] / scale)
    channel = twins(Donchian(period, scale=scale), ticks)
    upper, lower = high.rolling(period).max(), low.rolling(period).min()
    assert_close(channel["upper"], talib.MAX(high, period))
    assert_close(channel["lower"], talib.MIN(low, period))
    assert_close(channel["upper"], upper)
    assert_close(channel["lower"], lower)
    assert_close(channel["middle"], (upper + lower) / 2)


def test_a_median_price_with_scale_twice_the_ticks_matches_talib() -> None:
    ticks, scale = load("EURUSD")
    median = ticks["high"] + ticks["low"]  # hl2 numerators: price = (high + low) / (2·scale)
    reference = talib.MEDPRICE(ticks["high"] / scale, ticks["low"] / scale)
    (value,) = twins(SMA(50, scale=2 * scale), {"close": median}).values()
    assert_close(value, talib.SMA(reference, 50))


NAN = np.nan
HAND_CASES: list[tuple[Indicator, list[list[int]], dict[str, list[float]]]] = [
    (SMA(3), [[1, 2, 3, 4]], {"value": [NAN, NAN, 2.0, 3.0]}),
    (SMA(2, scale=100), [[150, 250, 351]], {"value": [NAN, 2.0, 3.005]}),
    (EMA(3), [[1, 2, 3, 5, 5]], {"value": [NAN, NAN, 2.0, 3.5, 4.25]}),
    (WMA(3), [[1, 2, 3, 6]], {"value": [NAN, NAN, 14 / 6, 26 / 6]}),
    (RSI(2), [[10, 12, 11, 11, 14]], {"value": [NAN, NAN, 200 / 3, 200 / 3, 1400 / 15]}),
    (RSI(3), [[7, 7, 7, 7, 8]], {"value": [NAN, NAN, NAN, 50.0, 100.0]}),
    (
        ATR(2),
        [[12, 13, 15, 14], [9, 10, 12, 13], [10, 12, 14, 13]],
        {"value": [NAN, NAN, 3.0, 2.0]},
    ),
    (StdDev(2), [[1, 3, 3, 10]], {"value": [NAN, 1.0, 0.0, 3.5]}),
    (
        Bollinger(2, 1.5),
        [[1, 3, 3]],
        {"middle": [NAN, 2.0, 3.0], "upper": [NAN, 3.5, 3.0], "lower": [NAN, 0.5, 3.0]},
    ),
    (
        MACD(1, 3, 2),
        [[10, 12, 14, 18]],
        {
            "macd": [NAN, NAN, NAN, 3.0],
            "signal": [NAN, NAN, NAN, 2.5],
            "histogram": [NAN] * 3 + [0.5],
        },
    ),
    (
        Donchian(2, scale=10),
        [[12, 13, 11], [9, 10, 8]],
        {"upper": [NAN, 1.3, 1.3], "lower": [NAN, 0.9, 0.8], "middle": [NAN, 1.1, 1.05]},
    ),
]


@pytest.mark.parametrize(
    ("indicator", "inputs", "expected"), HAND_CASES, ids=lambda x: repr(x)[:24]
)
def test_hand_computed_values(
    indicator: Indicator, inputs: list[list[int]], expected: dict[str, list[float]]
) -> None:
    # Hand values are the true fractions (200/3); a result may sit one ulp from them.
    arrays = tuple(np.array(values, dtype=np.int64) for values in inputs)
    batch = indicator.batch(*arrays)
    _, outputs = run(type(indicator)(**indicator.params()), arrays)
    assert_identical(columns(indicator, outputs), batch, indicator)
    for name, values in expected.items():
        assert np.array_equal(np.isnan(batch[name]), np.isnan(values))
        np.testing.assert_allclose(batch[name], values, rtol=1e-15)
