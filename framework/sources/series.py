"""A candle source over series in memory: candle files, tests, and replays with a clock."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from framework.candles import Candle, CandleSeries
from framework.errors import SourceError
from framework.loading import load_candles
from framework.sources._queries import series_fingerprint
from framework.timeframes import Timeframe

__all__ = ["SeriesCandleSource"]


class SeriesCandleSource:
    """Serves candle series as if they were arriving live.

    A bar is served once it has closed by ``now_ns`` (open time + timeframe ≤ now), so a
    simulated clock replays history cycle by cycle.

    Examples
    --------
    >>> from framework.instruments import Instrument
    >>> bar = 900 * 10**9
    >>> s = CandleSeries.create(Instrument("EURUSD", 5), Timeframe.M15,
    ...     time_ns=[0, bar, 2 * bar], open=[1] * 3, high=[1] * 3, low=[1] * 3,
    ...     close=[1] * 3, volume=[0] * 3)
    >>> source = SeriesCandleSource([s])
    >>> new = source.fetch_new([("EURUSD", Timeframe.M15, 0)], now_ns=3 * bar - 1)
    >>> len(new["EURUSD", Timeframe.M15])
    1
    """

    def __init__(self, series: Iterable[CandleSeries]) -> None:
        self._series = {(s.symbol, s.timeframe): s for s in series}
        self.queries = 0

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> SeriesCandleSource:
        """Load candle files (symbol and timeframe from their names or contents)."""
        return cls(load_candles(path) for path in paths)

    def replace(self, series: CandleSeries) -> None:
        """Swap in a new version of one stream's candles (e.g. a corrected bar)."""
        self._series[series.symbol, series.timeframe] = series

    def fetch_new(
        self, requests: Sequence[tuple[str, Timeframe, int | None]], *, now_ns: int
    ) -> dict[tuple[str, Timeframe], CandleSeries]:
        """Closed candles after each watermark (None: from the first bar)."""
        self.queries += len({timeframe for _, timeframe, _ in requests})
        found = {}
        for symbol, timeframe, watermark in requests:
            series = self._get(symbol, timeframe)
            start = 0 if watermark is None else _after(series, watermark)
            found[symbol, timeframe] = series.slice(start, _closed_end(series, now_ns))
        return found

    def history(
        self, symbol: str, timeframe: Timeframe, *, now_ns: int, limit: int | None = None
    ) -> CandleSeries:
        """Every closed candle (or the last ``limit``), oldest first."""
        self.queries += 1
        series = self._get(symbol, timeframe)
        end = _closed_end(series, now_ns)
        return series.slice(0 if limit is None else max(0, end - limit), end)

    def candle_at(self, symbol: str, timeframe: Timeframe, time_ns: int) -> Candle | None:
        """The bar that opens at ``time_ns``, or None."""
        self.queries += 1
        series = self._get(symbol, timeframe)
        at = int(np.searchsorted(series.time_ns, time_ns))
        found = at < len(series) and int(series.time_ns[at]) == time_ns
        return series.candle(at) if found else None

    def fingerprint(self, symbol: str, timeframe: Timeframe, *, upto_ns: int) -> tuple[int, int]:
        """(count, checksum) of the bars up to ``upto_ns``, as `MongoCandleSource` defines it."""
        return self.fingerprints([(symbol, timeframe, upto_ns)])[symbol, timeframe]

    def fingerprints(
        self, requests: Sequence[tuple[str, Timeframe, int]]
    ) -> dict[tuple[str, Timeframe], tuple[int, int]]:
        """`fingerprint` of many streams."""
        self.queries += 2 * len({(timeframe, upto) for _, timeframe, upto in requests})
        return {
            (symbol, timeframe): series_fingerprint(self._get(symbol, timeframe), upto)
            for symbol, timeframe, upto in requests
        }

    def _get(self, symbol: str, timeframe: Timeframe) -> CandleSeries:
        try:
            return self._series[symbol, timeframe]
        except KeyError:
            raise SourceError(f"no candles for {symbol} {timeframe.name}") from None

    def __repr__(self) -> str:
        streams = ", ".join(f"{s} {tf.name}" for s, tf in self._series)
        return f"SeriesCandleSource({streams})"


def _after(series: CandleSeries, watermark_ns: int) -> int:
    return int(np.searchsorted(series.time_ns, watermark_ns, side="right"))


def _closed_end(series: CandleSeries, now_ns: int) -> int:
    # A bar has closed when open + timeframe ≤ now, i.e. open ≤ now - timeframe.
    return int(np.searchsorted(series.time_ns, now_ns - series.timeframe.nanoseconds, "right"))
