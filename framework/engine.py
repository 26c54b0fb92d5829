"""The framework's bar loop: one strategy, two paths.

`run_full` computes every declared series with the batch twins over a whole
series and calls the decision method per bar; `IncrementalRun` updates the
incremental twins one closed candle at a time and calls the same decision
method. Both report every series and every signal, so they can be compared
bar by bar.

Both loops are the hot paths of Parity, so they are written for CPython's speed
without changing a result: the incremental loop binds every update, reader and
crossing once per state, keeps the current values in the bar itself (a dict: a
decision's ``bar[name]`` is a plain lookup) and compares two averages by their
floats, breaking only float ties with the exact fractions (`tie_breaker`, as
`compare` does); the full path turns a series into a list for `decide` only when a
decision first reads it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from framework.candles import PRICE_FIELDS, Candle, CandleSeries
from framework.crossing import CrossTracker, cross_batch
from framework.errors import ParameterError, SnapshotError
from framework.indicators import compare_arrays
from framework.indicators.compare import tie_breaker
from framework.instruments import Instrument
from framework.strategy import Crossing, Side, Signal, Strategy, Use

if TYPE_CHECKING:
    from framework.indicators import Indicator
    from framework.indicators._base import Output

__all__ = ["FullRun", "IncrementalRun", "SignalAt", "run_full"]


@dataclass(frozen=True, slots=True)
class SignalAt:
    """A signal on a bar: its open time, side, the bar's close price and the reason."""

    time_ns: int
    side: Side
    price: float
    reason: str = ""


#: Feeds one candle's inputs to an indicator and returns the value a decision reads.
_Feed = Callable[[Any], "float | None"]


def _spread(update: Callable[..., Output]) -> Callable[[tuple[int, ...]], Output]:
    return lambda inputs: update(*inputs)


def _first(update: Callable[[Any], Output]) -> _Feed:
    def first(inputs: Any) -> float | None:
        value = update(inputs)
        return None if value is None else value[0]  # type: ignore[index]

    return first


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

    def feeder(self, indicator: Indicator) -> tuple[_Feed, Callable[[Candle], Any]]:
        """``(update, read)``: ``update(read(candle))`` feeds ``indicator`` one candle and
        returns its current value (the first output of a multi-output indicator)."""
        update: Callable[..., Output] = indicator.update
        if indicator.inputs == ("price",):
            fields = PRICE_FIELDS[self.use.price]
            if len(fields) == 1:
                read: Callable[[Candle], Any] = operator.attrgetter(fields[0])
            else:
                getter = operator.attrgetter(*fields)
                read = lambda candle: sum(getter(candle))  # noqa: E731
        elif len(self.fields) == 1:
            read = operator.attrgetter(self.fields[0])
        else:
            read = operator.attrgetter(*self.fields)
            update = _spread(update)
        if len(indicator.outputs) > 1:
            return _first(update), read
        return cast(_Feed, update), read


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


class _Columns(dict[str, list[float | None]]):
    """Every series as a list with NaN turned into None, built on a decision's first read.

    A decision usually reads few of the declared series (MA_Unified reads one), so the
    others are never converted.
    """

    __slots__ = ("_arrays",)

    def __init__(self, arrays: Mapping[str, npt.NDArray[np.float64]]) -> None:
        super().__init__()
        self._arrays = arrays

    def __missing__(self, name: str) -> list[float | None]:
        array = self._arrays[name]  # KeyError for a name nobody declared
        column: list[float | None] = array.tolist()
        for position in np.flatnonzero(np.isnan(array)).tolist():
            column[position] = None
        self[name] = column
        return column


class _ArrayBar:
    """`Bar` over precomputed columns (NaN read as None)."""

    __slots__ = ("_columns", "_lookback", "_times", "index")

    def __init__(self, columns: _Columns, lookback: int, times: list[int]) -> None:
        self._columns = columns
        self._lookback = lookback
        self._times = times
        self.index = 0

    @property
    def time_ns(self) -> int:
        return self._times[self.index]

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
    built: dict[str, tuple[Indicator, list[npt.NDArray[np.int64]]]] = {}
    for item in plan.inputs:
        indicator = item.build(strategy.lookback)
        arrays = item.arrays(series)
        outputs = indicator.batch(*arrays)
        for output, array in outputs.items():
            values[item.name if len(outputs) == 1 else f"{item.name}.{output}"] = array
        first[item.name] = outputs[indicator.outputs[0]]
        built[item.name] = indicator, arrays
    exact: dict[str, tuple[npt.NDArray[np.generic], int] | None] = {}
    for name, spec in plan.crossings:
        for operand in (spec.a, spec.b):
            if operand not in exact:
                indicator, arrays = built[operand]
                exact[operand] = indicator.batch_exact(*arrays)
        a, b = first[spec.a], first[spec.b]
        comparison = compare_arrays(a, exact[spec.a], b, exact[spec.b])
        values[name] = cross_batch(comparison, ~(np.isnan(a) | np.isnan(b)))
    return FullRun(values, _decide_all(strategy, series, _Columns(first | values)))


def _decide_all(strategy: Strategy, series: CandleSeries, columns: _Columns) -> list[SignalAt]:
    times = series.time_ns.tolist()
    bar = _ArrayBar(columns, strategy.lookback, times)
    decide = strategy.decide
    signals: list[SignalAt] = []
    closes: npt.NDArray[np.float64] | None = None
    for index in range(len(times)):
        bar.index = index
        signal = decide(bar)
        if signal is not None:
            if closes is None:
                closes = series.prices("close")
            signals.append(_dated(signal, times[index], float(closes[index])))
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
        # The hot loop's callables, bound once per state (`restore` builds new objects).
        self._readers = [
            (item.name, *item.feeder(self._indicators[item.name])) for item in self._plan.inputs
        ]
        self._pairs = [
            (
                name,
                self._trackers[name].update_values,
                spec.a,
                spec.b,
                tie_breaker(self._indicators[spec.a], self._indicators[spec.b]),
            )
            for name, spec in self._plan.crossings
        ]
        self._bar = _LiveBar(self._indicators, self._trackers, self.strategy.lookback)
        self._decide = self.strategy.decide

    def step(self, candle: Candle) -> SignalAt | None:
        """Process one closed candle; return the signal it gives, if any."""
        bar = self._bar
        for name, update, read in self._readers:
            bar[name] = update(read(candle))
        for name, cross, a, b, tie in self._pairs:
            bar[name] = _AS_FLOAT[cross(bar[a], bar[b], tie)]
        bar.time_ns = candle.time_ns
        signal = self._decide(bar)
        if signal is None:
            return None
        return _dated(signal, candle.time_ns, candle.close / self._scale)

    def run(self, candles: Iterable[Candle]) -> list[SignalAt]:
        """Step through candles; return their signals."""
        # `step`'s body, inlined: a call per candle is a tenth of the work.
        bar, readers, pairs, decide = self._bar, self._readers, self._pairs, self._decide
        signals: list[SignalAt] = []
        for candle in candles:
            for name, update, read in readers:
                bar[name] = update(read(candle))
            for name, cross, a, b, tie in pairs:
                bar[name] = _AS_FLOAT[cross(bar[a], bar[b], tie)]
            bar.time_ns = candle.time_ns
            signal = decide(bar)
            if signal is not None:
                signals.append(_dated(signal, candle.time_ns, candle.close / self._scale))
        return signals

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


#: A crossing as the float a decision reads.
_AS_FLOAT: dict[int | None, float | None] = {None: None, -1: -1.0, 0: 0.0, 1: 1.0}


class _LiveBar(dict[str, float | None]):
    """`Bar` over live indicator objects.

    The current value of every declared name is an item of the bar itself, stored by
    each step from what the updates return (an update returns the value it records), so
    ``bar[name]`` is a plain dict lookup. Everything else — previous bars, the outputs of
    a multi-output indicator — `value` reads from the indicators.
    """

    __slots__ = ("_indicators", "_lookback", "_trackers", "time_ns")

    def __init__(
        self,
        indicators: Mapping[str, Indicator],
        trackers: Mapping[str, CrossTracker],
        lookback: int,
    ) -> None:
        super().__init__()
        self._indicators = indicators
        self._trackers = trackers
        self._lookback = lookback
        self.time_ns = 0
        for name in [*indicators, *trackers]:
            self[name] = self.value(name)

    def value(self, name: str, ago: int = 0) -> float | None:
        tracker = self._trackers.get(name)
        if tracker is not None:
            if ago:
                _check_ago(name, ago, self._lookback)
            crossed = tracker.get(ago)
            return None if crossed is None else float(crossed)
        base, output = _split(name)
        return self._indicators[base].get(ago, output)

    def __missing__(self, name: str) -> float | None:
        return self.value(name)  # an output of a multi-output indicator, or an error
