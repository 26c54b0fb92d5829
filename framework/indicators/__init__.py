"""Indicators with two independent implementations that agree bit for bit.

Every indicator is an incremental object (``update`` in O(1), ``get``, ``snapshot``,
``restore``) with a vectorized batch twin (a module function and ``batch``); the
property tests prove ``incremental == batch`` for any input, chunking and restart.
Inputs are integer ticks; ``scale`` ticks make one price unit; outputs are floats in
price units. SMA and WMA also give exact fractions, which `compare` uses to decide
crossovers exactly.

Supported inputs, ``|ticks| ≤ bound`` (``ind.limit.bound``; beyond it both twins raise
`IndicatorRangeError`), chosen so that every integer sum stays below 2**53:

=========== ====================================== ===============================
SMA, EMA    ``(2**53 - 1) // period``              SMA(200): 4.5e13 ticks
WMA         ``(2**53 - 1) // (n(n+1)/2)``          WMA(20): 4.3e13, WMA(5000): 7.2e8
RSI, ATR    ``(2**53 - 1) // (2·period)``          RSI(14): 3.2e14
StdDev      ``2**53 - 1``                          (Python ints; int64 or objects in batch)
Bollinger   as SMA
MACD        ``(2**53 - 1) // max(slow, 3·signal)``  MACD(12, 26, 9): 3.3e14
Donchian    ``(2**53 - 1) // 2``
=========== ====================================== ===============================

Periods go up to `MAX_PERIOD`, and the divisor (window weight × scale) must stay
below 2**53 too.

Examples
--------
>>> from framework.indicators import SMA, Indicator
>>> fast = SMA(2, scale=100_000)
>>> for price in (110_000, 110_010, 110_030):
...     value = fast.update(price)
>>> value, fast.get(ago=1)
(1.1002, 1.10005)
>>> Indicator.restore(fast.snapshot()).get()
1.1002
"""

from framework.indicators._base import REGISTRY as INDICATORS
from framework.indicators._base import Indicator
from framework.indicators._limits import EXACT, MAX_PERIOD, Limit
from framework.indicators.atr import ATR, atr
from framework.indicators.bollinger import Bands, Bollinger, bollinger
from framework.indicators.compare import compare, compare_arrays
from framework.indicators.donchian import Channel, Donchian, donchian
from framework.indicators.ema import EMA, ema
from framework.indicators.macd import MACD, MACDValue, macd
from framework.indicators.rsi import RSI, rsi
from framework.indicators.sma import SMA, sma, sma_exact
from framework.indicators.stddev import StdDev, stddev
from framework.indicators.wma import WMA, wma, wma_exact

__all__ = [
    "ATR",
    "EMA",
    "EXACT",
    "INDICATORS",
    "MACD",
    "MAX_PERIOD",
    "RSI",
    "SMA",
    "WMA",
    "Bands",
    "Bollinger",
    "Channel",
    "Donchian",
    "Indicator",
    "Limit",
    "MACDValue",
    "StdDev",
    "atr",
    "bollinger",
    "compare",
    "compare_arrays",
    "donchian",
    "ema",
    "macd",
    "rsi",
    "sma",
    "sma_exact",
    "stddev",
    "wma",
    "wma_exact",
]
