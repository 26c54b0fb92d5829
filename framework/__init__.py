"""Parity's library: candles, instruments, indicators, strategies, state, sources, live."""

from framework.candles import PRICE_FIELDS, Candle, CandleSeries
from framework.engine import FullRun, IncrementalRun, SignalAt, run_full
from framework.errors import (
    ConfigError,
    DataError,
    IndicatorRangeError,
    ParameterError,
    ParityError,
    SnapshotError,
    SourceError,
    StoreError,
)
from framework.instruments import Instrument, infer_decimals
from framework.loading import load_candles, save_candles
from framework.params import Param
from framework.registry import available_strategies, load_strategy
from framework.strategy import Bar, Crossing, Side, Signal, Strategy, Use, crossing, use
from framework.timeframes import Timeframe

__all__ = [
    "PRICE_FIELDS",
    "Bar",
    "Candle",
    "CandleSeries",
    "ConfigError",
    "Crossing",
    "DataError",
    "FullRun",
    "IncrementalRun",
    "IndicatorRangeError",
    "Instrument",
    "Param",
    "ParameterError",
    "ParityError",
    "Side",
    "Signal",
    "SignalAt",
    "SnapshotError",
    "SourceError",
    "StoreError",
    "Strategy",
    "Timeframe",
    "Use",
    "available_strategies",
    "crossing",
    "infer_decimals",
    "load_candles",
    "load_strategy",
    "run_full",
    "save_candles",
    "use",
]
