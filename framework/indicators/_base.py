"""The one interface every indicator implements, and the mechanics they share.

An indicator is configured once (its defining parameters, ``scale`` and ``lookback``) and
then fed one bar at a time through ``update``. Everything that is not the indicator's own
arithmetic lives here: the lookback history, reads of current and previous values,
parameter and range checks, versioned snapshots and the registry that `restore` uses.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar, Self, cast

import numpy.typing as npt

from framework.errors import ParameterError, SnapshotError
from framework.indicators import _snapshot
from framework.indicators._limits import MAX_PERIOD, FloatArray, IntArray, Limit, check_int, label

__all__ = ["REGISTRY", "Indicator", "Output", "RationalIndicator", "WindowIndicator"]

#: Every indicator class by kind; `Indicator.restore` dispatches through it.
REGISTRY: dict[str, type[Indicator]] = {}

#: What ``update`` returns: a float, a tuple of floats (multi-output) or None (warm-up).
Output = float | tuple[float, ...] | None


class Indicator(ABC):
    """An incremental indicator over integer ticks, with an independent batch twin.

    Subclasses define ``kind``, ``inputs``, ``outputs``, their defining parameters
    (``_params``), ``update`` (O(1), returns None during warm-up), ``_batch`` (calls the
    module's vectorized function) and their explicit state (``_state``/``_set_state``).

    Parameters
    ----------
    scale : int
        Ticks per price unit; outputs are in price units (``value = f(ticks) / scale``).
    lookback : int
        How many previous values `get` can read besides the current one.
    bound, rule : int, str
        The supported input range ``|ticks| ≤ bound`` and why (see `Limit`).
    """

    kind: ClassVar[str]
    inputs: ClassVar[tuple[str, ...]] = ("price",)
    outputs: ClassVar[tuple[str, ...]] = ("value",)
    #: Layout version of ``_state``; bump it when the layout changes.
    version: ClassVar[int] = 1
    #: Names of the defining parameters, in display order.
    _params: ClassVar[tuple[str, ...]] = ("period",)
    #: Type of one history entry: float, int (an exact numerator) or a NamedTuple.
    _entry: ClassVar[type] = float

    __slots__ = ("_bound", "_header", "_history", "_rule", "lookback", "scale")

    #: Feed one bar's inputs (ints, ticks); O(1). Returns the new value, None in warm-up.
    update: Callable[..., Output]
    _batch: Callable[..., dict[str, FloatArray]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("kind")
        if kind is not None:
            if kind in REGISTRY:
                raise TypeError(f"indicator kind {kind!r} is taken by {REGISTRY[kind].__name__}")
            REGISTRY[kind] = cls

    def __init__(self, *, scale: int, lookback: int, bound: int, rule: str) -> None:
        owner = type(self).__name__
        self.scale = check_int(owner, "scale", scale, 1)
        self.lookback = check_int(owner, "lookback", lookback, 0, MAX_PERIOD)
        self._bound, self._rule = bound, rule
        self._history: deque[Any] = deque([None] * (lookback + 1), maxlen=lookback + 1)
        # The snapshot's bytes before the body (the parameters never change): built once.
        self._header: bytes | None = None

    @property
    def limit(self) -> Limit:
        """The supported input range: ``|ticks| ≤ limit.bound``, and why."""
        return Limit(self.name, self._bound, self._rule)

    @property
    def name(self) -> str:
        """Display name from the defining parameters, e.g. ``SMA(50)``."""
        return label(type(self).__name__, *(getattr(self, name) for name in self._params))

    def params(self) -> dict[str, int | float]:
        """Every constructor argument, ``scale`` and ``lookback`` included.

        ``type(ind)(**ind.params())`` is a fresh indicator configured like ``ind``.
        """
        own = {name: getattr(self, name) for name in self._params}
        return {**own, "scale": self.scale, "lookback": self.lookback}

    def __repr__(self) -> str:
        return f"{self.name[:-1]}, scale={self.scale}, lookback={self.lookback})"

    def get(self, ago: int = 0, output: str | None = None) -> float | None:
        """The value ``ago`` bars back (0 = current), None during warm-up.

        ``output`` names one output of a multi-output indicator (default: the first).
        """
        index = self._output_index(output)
        entry = self._history[self._position(ago)]
        return None if entry is None else self._read(entry, index)

    def exact(self, ago: int = 0) -> tuple[int, int] | None:
        """The value as an exact fraction (numerator, denominator > 0), if it has one.

        Only averages whose value is a ratio of integers (SMA, WMA) have one; the others
        return None.
        """
        self._position(ago)
        return None

    def reset(self) -> None:
        """Forget every input: the indicator equals a freshly constructed one."""
        self._load(cast(Any, type(self))(**self.params())._dump())

    def batch(self, *inputs: npt.ArrayLike) -> dict[str, FloatArray]:
        """The batch twin over whole series of ticks: output name → float64 array.

        Warm-up positions are NaN. Computed by the module's vectorized function, never
        by looping `update`.
        """
        self._arity(inputs)
        return self._batch(*inputs)

    def batch_exact(self, *inputs: npt.ArrayLike) -> tuple[IntArray, int] | None:
        """Exact batch values as (int64 numerators, common denominator), if any (see `exact`)."""
        self._arity(inputs)
        return None

    def snapshot(self) -> bytes:
        """The full state as compact, versioned bytes (msgpack; see `restore`)."""
        header = self._header
        if header is None:
            header = self._header = _snapshot.header(self.kind, self.version, self.params())
        return header + _snapshot.pack_body(self._dump())

    @classmethod
    def restore(cls, data: bytes, expected: Indicator | None = None) -> Self:
        """Rebuild an indicator from `snapshot` bytes.

        ``Indicator.restore`` accepts any kind; ``SMA.restore`` only an SMA. With
        ``expected``, the snapshot must also match that indicator's kind and every
        parameter (scale and lookback included) — the way to load state into a known
        configuration. Raises `SnapshotError` for garbage, an unknown kind or version,
        or a mismatch.
        """
        kind, version, params, body = _snapshot.unpack(data)
        target = REGISTRY.get(kind)
        if target is None:
            raise SnapshotError(f"snapshot of unknown indicator kind {kind!r}")
        if not issubclass(target, cls):
            raise SnapshotError(f"snapshot holds a {kind} indicator, not {cls.kind}")
        if version != target.version:
            raise SnapshotError(
                f"{kind} snapshot has format version {version}; this Parity reads {target.version}"
            )
        try:
            indicator: Indicator = cast(Any, target)(**params)
        except (ParameterError, TypeError) as error:
            raise SnapshotError(
                f"{kind} snapshot has invalid parameters {params}: {error}"
            ) from None
        wanted = None if expected is None else (expected.kind, expected.params())
        if wanted is not None and wanted != (kind, indicator.params()):
            raise SnapshotError(f"snapshot holds {indicator!r}, expected {expected!r}")
        indicator._load(body)
        return cast(Self, indicator)

    def restore_like(self, data: bytes) -> Self:
        """`restore` bytes that must hold an indicator configured exactly like this one.

        Returns a new indicator; ``self`` is left untouched.
        """
        return type(self).restore(data, expected=self)

    # -- mechanics shared by subclasses ---------------------------------------------------

    @abstractmethod
    def _state(self) -> list[Any]:
        """Everything but the history that `update` depends on, as msgpack-able values."""

    @abstractmethod
    def _set_state(self, state: list[Any]) -> None:
        """Check and install a ``_state`` list (raise `SnapshotError` if it is invalid)."""

    def _dump(self) -> list[Any]:
        return [list(self._history), self._state()]

    def _load(self, body: Any) -> None:
        _snapshot.require(isinstance(body, list) and len(body) == 2, "[history, state]")
        history, state = body
        size = self.lookback + 1
        _snapshot.require(isinstance(history, list) and len(history) == size, f"{size} past values")
        entries = [None if item is None else self._entry_from(item) for item in history]
        _snapshot.require(isinstance(state, list), "a state list")
        self._set_state(state)
        self._history = deque(entries, maxlen=size)

    def _entry_from(self, item: Any) -> Any:
        entry = self._entry
        if entry is float or entry is int:
            _snapshot.require(type(item) is entry, f"{entry.__name__} values in the history")
            return item
        width = len(self.outputs)
        _snapshot.require(
            isinstance(item, list) and len(item) == width and all(type(v) is float for v in item),
            f"history entries of {width} floats",
        )
        return entry(*item)

    def _read(self, entry: Any, index: int) -> float:
        return cast(float, entry[index] if len(self.outputs) > 1 else entry)

    def _position(self, ago: int) -> int:
        if type(ago) is not int or not 0 <= ago <= self.lookback:
            raise ParameterError(
                f"{self.name}: ago must be 0..{self.lookback} (lookback), got {ago!r}"
            )
        return -1 - ago

    def _output_index(self, output: str | None) -> int:
        if output is None:
            return 0
        if output not in self.outputs:
            names = ", ".join(self.outputs)
            raise ParameterError(f"{self.name} has outputs {names}; got {output!r}")
        return self.outputs.index(output)

    def _arity(self, inputs: tuple[Any, ...]) -> None:
        if len(inputs) != len(self.inputs):
            names = ", ".join(self.inputs)
            raise ParameterError(
                f"{self.name} takes {len(self.inputs)} input(s) ({names}), got {len(inputs)}"
            )


class WindowIndicator(Indicator):
    """An indicator of the last ``period`` inputs, kept in a ring buffer.

    The ring (a ``deque`` with ``maxlen``) starts full of zeros, so that running sums
    need no special case in the warm-up: an update subtracts ``window[0]`` and appends.
    Its state is the window itself, as packed int64 (8 bytes a value, restored at C
    speed); running sums are derived from it on restore.
    """

    __slots__ = ("_count", "_window", "period")
    period: int
    _window: deque[int]
    _count: int

    def _open_window(self) -> None:
        self._window = deque([0] * self.period, maxlen=self.period)
        self._count = self.period  # updates left in the warm-up
        self._derive()

    @abstractmethod
    def _derive(self) -> None:
        """Recompute the running sums from ``_window``."""

    def _state(self) -> list[Any]:
        return [self._count, _snapshot.pack_ints(self._window, self.period)]

    def _set_state(self, state: list[Any]) -> None:
        count, window = _snapshot.fields(state, 2)
        self._count = _snapshot.an_int(count, 0, self.period, "updates left in the warm-up")
        window = _snapshot.unpack_ints(window, self.period, self._bound, "a window")
        self._window = deque(window, maxlen=self.period)
        self._derive()


class RationalIndicator(WindowIndicator):
    """A window indicator whose value is an integer numerator over a fixed denominator.

    The history keeps the exact numerators; `get` divides once, exactly as ``update``
    does, and `exact` returns the fraction itself.
    """

    _entry = int
    __slots__ = ("_den_f", "denominator")
    _batch_exact: Callable[..., tuple[IntArray, int]]

    def _set_denominator(self, denominator: int) -> None:
        self.denominator = denominator
        self._den_f = float(denominator)

    def _read(self, entry: Any, index: int) -> float:
        return cast(float, entry / self._den_f)

    def exact(self, ago: int = 0) -> tuple[int, int] | None:
        entry = self._history[self._position(ago)]
        return None if entry is None else (int(entry), self.denominator)

    def batch_exact(self, *inputs: npt.ArrayLike) -> tuple[IntArray, int] | None:
        self._arity(inputs)
        return self._batch_exact(*inputs)
