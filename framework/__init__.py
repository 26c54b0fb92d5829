"""Parity's library: candles, instruments, indicators, strategies, state, sources, live."""

from framework.candles import PRICE_FIELDS, Candle, CandleSeries
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
from framework.timeframes import Timeframe

__all__ = [
    "PRICE_FIELDS",
    "Candle",
    "CandleSeries",
    "ConfigError",
    "DataError",
    "IndicatorRangeError",
    "Instrument",
    "ParameterError",
    "ParityError",
    "SnapshotError",
    "SourceError",
    "StoreError",
    "Timeframe",
    "infer_decimals",
]
