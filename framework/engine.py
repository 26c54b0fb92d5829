"""The framework's bar loop: one strategy, two paths.

`run_full` computes every declared series with the batch twins over a whole
series and calls the decision method per bar; `IncrementalRun` updates the
incremental twins one closed candle at a time and calls the same decision
method. Both report every series and every signal, so they can be compared
bar by bar.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from framework.candles import PRICE_FIELDS, Candle, CandleSeries
from framework.crossing import CrossTracker, cross_batch
from framework.errors import ParameterError, SnapshotError
from framework.indicators import compare, compare_arrays
from framework.instruments import Instrument
from framework.strategy import Crossing, Side, Signal, Strategy, Use

if TYPE_CHECKING:
    from framework.indicators import Indicator

__all__ = ["FullRun", "IncrementalRun", "SignalAt", "run_full"]


@dataclass(frozen=True, slots=True)
class SignalAt:
    """A signal on a bar: its open time, side, the bar's close price and the reason."""

    time_ns: int
    side: Side
    price: float
    reason: str = ""


@dataclass(frozen=True)
class _Input:
    """A declared indicator, compiled for one instrument."""

    name: str
    use: Use
    scale: int
    fields: tuple[str, ...]

    def build(self, lookback: int) -> Indicator:
        return self.use.indicator(
            *self.use.args, scale=self.scale, lookback=lookback, **self.use.kwargs
        )

    def arrays(self, series: CandleSeries) -> list[npt.NDArray[np.int64]]:
        if self.use.indicator.inputs == ("price",):
            return [series.ticks(self.use.price)[0]]
        return [getattr(series, name) for name in self.fields]

    def reader(self) -> Callable[[Candle], tuple[int, ...]]:
        if self.use.indicator.inputs == ("price",):
            fields = PRICE_FIELDS[self.use.price]
            if len(fields) == 1:
                field = operator.attrgetter(fields[0])
                return lambda candle: (field(candle),)
            getter = operator.attrgetter(*fields)
            return lambda candle: (sum(getter(candle)),)
        return operator.attrgetter(*self.fields)


class _Plan:
    """A strategy's declarations resolved against an instrument."""

    def __init__(self, strategy: Strategy, instrument: Instrument) -> None:
        self.strategy = strategy
        self.inputs: list[_Input] = []
        self.crossings: list[tuple[str, Crossing]] = []
        declared = strategy.indicators()
        for name, spec in declared.items():
            if isinstance(spec, Use):
                inputs = spec.indicator.inputs
                if inputs == ("price",):
                    scale = instrument.scale * len(PRICE_FIELDS[spec.price])
                    self.inputs.append(_Input(name, spec, scale, ("price",)))
                else:
                    self.inputs.append(_Input(name, spec, instrument.scale, inputs))
            elif isinstance(spec, Crossing):
                for operand in (spec.a, spec.b):
                    if operand not in declared or not isinstance(declared[operand], Use):
                        raise ParameterError(
                            f"{strategy.name}: crossing {name!r} refers to {operand!r}, "
                            "which is not a declared indicator"
                        )
                self.crossings.append((name, spec))
            else:
                raise ParameterError(f"{strategy.name}: {name!r} is not a Use or a Crossing")

    def series_names(self, built: Mapping[str, Indicator]) -> list[str]:
        names: list[str] = []
        for item in self.inputs:
            outputs = built[item.name].outputs
            names += [item.name] if len(outputs) == 1 else [f"{item.name}.{o}" for o in outputs]
        return names + [name for name, _ in self.crossings]


def _split(name: str) -> tuple[str, str | None]:
    base, _, output = name.partition(".")
    return base, output or None


def _check_ago(name: str, ago: int, lookback: int) -> None:
    # Both bars check alike, so a read the live path rejects (or a negative ``ago``, a
    # look into the future in the full path) fails the same way in both paths.
    if type(ago) is not int or not 0 <= ago <= lookback:
        raise ParameterError(
            f"{name}: ago must be 0..{lookback} (the strategy's lookback), got {ago!r}"
        )


@dataclass
class FullRun:
    """The full path's result: every declared series as an array, and the signals."""

    values: dict[str, npt.NDArray[np.float64]]
    signals: list[SignalAt]


class _ArrayBar:
    """`Bar` over precomputed lists (NaN already turned into None)."""

    __slots__ = ("_columns", "_lookback", "index", "time_ns")

    def __init__(self, columns: dict[str, list[float | None]], lookback: int) -> None:
        self._columns = columns
        self._lookback = lookback
        self.index = 0
        self.time_ns = 0

    def value(self, name: str, ago: int = 0) -> float | None:
        if ago:
            _check_ago(name, ago, self._lookback)
        position = self.index - ago
        return self._columns[name][position] if position >= 0 else None

    def __getitem__(self, name: str) -> float | None:
        return self._columns[name][self.index]


def run_full(strategy: Strategy, series: CandleSeries) -> FullRun:
    """Run the full path: batch twins over the whole series, then decide per bar."""
    plan = _Plan(strategy, series.instrument)
    values: dict[str, npt.NDArray[np.float64]] = {}
    # A multi-output indicator's bare name reads its first output (as `_LiveBar` does):
    # an alias for decide() and crossings, not a series of its own in `values`.
    first: dict[str, npt.NDArray[np.float64]] = {}
    exact: dict[str, tuple[npt.NDArray[np.generic], int] | None] = {}
    for item in plan.inputs:
        indicator = item.build(strategy.lookback)
        arrays = item.arrays(series)
        outputs = indicator.batch(*arrays)
        for output, array in outputs.items():
            values[item.name if len(outputs) == 1 else f"{item.name}.{output}"] = array
        first[item.name] = outputs[indicator.outputs[0]]
        exact[item.name] = indicator.batch_exact(*arrays)
    for name, spec in plan.crossings:
        a, b = first[spec.a], first[spec.b]
        comparison = compare_arrays(a, exact[spec.a], b, exact[spec.b])
        values[name] = cross_batch(comparison, ~(np.isnan(a) | np.isnan(b)))
    columns = {
        name: [None if v != v else v for v in array.tolist()]
        for name, array in (first | values).items()
    }
    return FullRun(values, _decide_all(strategy, series, columns))


def _decide_all(
    strategy: Strategy, series: CandleSeries, columns: dict[str, list[float | None]]
) -> list[SignalAt]:
    bar = _ArrayBar(columns, strategy.lookback)
    closes = series.prices("close").tolist()
    signals: list[SignalAt] = []
    decide = strategy.decide
    for index, time_ns in enumerate(series.time_ns.tolist()):
        bar.index, bar.time_ns = index, time_ns
        signal = decide(bar)
        if signal is not None:
            signals.append(_dated(signal, time_ns, closes[index]))
    return signals


def _dated(signal: Signal, time_ns: int, price: float) -> SignalAt:
    if not isinstance(signal, Signal):
        raise TypeError(f"decide() must return a Signal or None, not {type(signal).__name__}")
    return SignalAt(time_ns, signal.side, price, signal.reason)


class IncrementalRun:
    """The incremental path for one stream: O(1) work per closed candle.

    Its whole state is `snapshot` (bytes per declared series), which `restore`
    (or the ``state`` argument) accepts in a fresh process.
    """

    def __init__(
        self,
        strategy: Strategy,
        instrument: Instrument,
        state: Mapping[str, bytes] | None = None,
    ) -> None:
        self.strategy = strategy
        self.instrument = instrument
        self._plan = _Plan(strategy, instrument)
        self._scale = instrument.scale
        lookback = strategy.lookback
        self._indicators = {item.name: item.build(lookback) for item in self._plan.inputs}
        self._trackers = {name: CrossTracker(lookback) for name, _ in self._plan.crossings}
        self.series_names = self._plan.series_names(self._indicators)
        if state is not None:
            self.restore(state)
        else:
            self._wire()

    def _wire(self) -> None:
        self._readers = [
            (self._indicators[item.name].update, item.reader()) for item in self._plan.inputs
        ]
        self._pairs = [
            (self._trackers[name], self._indicators[spec.a], self._indicators[spec.b])
            for name, spec in self._plan.crossings
        ]
        self._bar = _LiveBar(self._indicators, self._trackers, self.strategy.lookback)

    def step(self, candle: Candle) -> SignalAt | None:
        """Process one closed candle; return the signal it gives, if any."""
        for update, read in self._readers:
            update(*read(candle))
        for tracker, a, b in self._pairs:
            a_value, b_value = a.get(), b.get()
            if a_value is None or b_value is None:
                tracker.update(None)
            else:
                tracker.update(compare(a_value, a.exact(), b_value, b.exact()))
        self._bar.time_ns = candle.time_ns
        signal = self.strategy.decide(self._bar)
        if signal is None:
            return None
        return _dated(signal, candle.time_ns, candle.close / self._scale)

    def run(self, candles: Iterable[Candle]) -> list[SignalAt]:
        """Step through candles; return their signals."""
        return [signal for candle in candles if (signal := self.step(candle)) is not None]

    def values(self) -> dict[str, float | None]:
        """Current value of every declared series (multi-output as ``name.output``)."""
        return {name: self._bar.value(name) for name in self.series_names}

    def snapshot(self) -> dict[str, bytes]:
        """Every series' state as bytes."""
        state = {name: indicator.snapshot() for name, indicator in self._indicators.items()}
        state.update({name: tracker.snapshot() for name, tracker in self._trackers.items()})
        return state

    def restore(self, state: Mapping[str, bytes]) -> None:
        """Replace the state with `snapshot` bytes; raise `SnapshotError` if they don't fit."""
        declared = set(self._indicators) | set(self._trackers)
        if set(state) != declared:
            raise SnapshotError(
                f"state holds {sorted(state)}, strategy declares {sorted(declared)}"
            )
        indicators = {
            name: expected.restore_like(state[name]) for name, expected in self._indicators.items()
        }
        lookback = self.strategy.lookback
        self._trackers = {
            name: CrossTracker.restore(state[name], lookback) for name in self._trackers
        }
        self._indicators = indicators
        self._wire()


class _LiveBar:
    """`Bar` over live indicator objects."""

    __slots__ = ("_indicators", "_lookback", "_trackers", "time_ns")

    def __init__(
        self,
        indicators: Mapping[str, Indicator],
        trackers: Mapping[str, CrossTracker],
        lookback: int,
    ) -> None:
        self._indicators = indicators
        self._trackers = trackers
        self._lookback = lookback
        self.time_ns = 0

    def value(self, name: str, ago: int = 0) -> float | None:
        tracker = self._trackers.get(name)
        if tracker is not None:
            if ago:
                _check_ago(name, ago, self._lookback)
            crossed = tracker.get(ago)
            return None if crossed is None else float(crossed)
        base, output = _split(name)
        return self._indicators[base].get(ago, output)

    def __getitem__(self, name: str) -> float | None:
        return self.value(name)
