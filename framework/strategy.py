"""The strategy base class: typed parameters, declared indicators, one decision method.

A strategy never touches Redis, MongoDB or a clock: the framework owns the bar
loop and drives the same `Strategy.decide` from batch arrays (the full path) and
from live indicator state (the incremental path).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from framework.candles import PRICE_FIELDS
from framework.errors import ParameterError
from framework.params import Param, did_you_mean

if TYPE_CHECKING:
    from framework.indicators import Indicator

__all__ = [
    "Bar",
    "Crossing",
    "Side",
    "Signal",
    "Strategy",
    "Use",
    "crossing",
    "use",
]


class Side(enum.Enum):
    """Direction of a signal."""

    BUY = "BUY"
    SELL = "SELL"


@dataclass(frozen=True, slots=True)
class Signal:
    """What a decision returns: a side and, optionally, why.

    Examples
    --------
    >>> Signal.buy("fast crossed above slow")
    Signal(side=<Side.BUY: 'BUY'>, reason='fast crossed above slow')
    """

    side: Side
    reason: str = ""

    @classmethod
    def buy(cls, reason: str = "") -> Signal:
        """A BUY signal."""
        return cls(Side.BUY, reason)

    @classmethod
    def sell(cls, reason: str = "") -> Signal:
        """A SELL signal."""
        return cls(Side.SELL, reason)


@dataclass(frozen=True)
class Use:
    """An indicator a strategy declares: its class, arguments and the price it reads."""

    indicator: type[Indicator]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    price: str = "close"


def use(indicator: type[Indicator], *args: Any, price: str = "close", **kwargs: Any) -> Use:
    """Declare an indicator on a price field (``close``, ``hl2``…; see `PRICE_FIELDS`).

    Indicators that read high/low/close themselves (ATR, Donchian) ignore ``price``.
    """
    if price not in PRICE_FIELDS:
        names = ", ".join(PRICE_FIELDS)
        raise ParameterError(f"unknown price field {price!r}; expected one of {names}")
    return Use(indicator, args, dict(kwargs), price)


@dataclass(frozen=True)
class Crossing:
    """Declares the crossing of two declared series: +1 above, -1 below, 0 none.

    A cross is a change of strict side: the first bar where ``a > b`` after the
    last bar where they were not equal had ``a < b`` (and symmetrically). Equality
    is not a cross, and touching then returning to the same side is not a cross.
    The comparison is exact (integer arithmetic where the indicators allow it).
    """

    a: str
    b: str


def crossing(a: str, b: str) -> Crossing:
    """Declare the crossing of the declared series ``a`` and ``b``."""
    return Crossing(a, b)


class Bar(Protocol):
    """What a decision method reads on the bar being decided."""

    @property
    def time_ns(self) -> int:
        """Open time of the bar, ns since the epoch (UTC)."""

    def value(self, name: str, ago: int = 0) -> float | None:
        """A declared series' value ``ago`` bars back (None during warm-up)."""

    def __getitem__(self, name: str) -> float | None:
        """The current value of a declared series."""


class Strategy:
    """Base class of every strategy.

    A subclass sets `name`, declares its parameters as `Param` class attributes,
    returns its indicators from `indicators` and decides in `decide`. `lookback`
    is how many previous values `Bar.value` may read.
    """

    name: ClassVar[str] = ""
    lookback: ClassVar[int] = 1

    def __init__(self, **params: object) -> None:
        declared = self.parameters()
        for given in params:
            if given not in declared:
                hint = did_you_mean(given, declared)
                known = ", ".join(declared) or "none"
                raise ParameterError(
                    f"unknown parameter {given!r} for {self.name}{hint} (parameters: {known})"
                )
        self._params = {
            key: spec.coerce(params.get(key, spec.default), owner=self.name)
            for key, spec in declared.items()
        }
        self.check()

    @classmethod
    def parameters(cls) -> dict[str, Param[Any]]:
        """The declared parameters, in declaration order (base classes first)."""
        found: dict[str, Param[Any]] = {}
        for klass in reversed(cls.__mro__):
            found.update({k: v for k, v in vars(klass).items() if isinstance(v, Param)})
        return found

    @property
    def params(self) -> dict[str, Any]:
        """Parameter values of this instance."""
        return dict(self._params)

    def check(self) -> None:
        """Check rules that span parameters; raise `ParameterError`. Default: none."""

    def indicators(self) -> Mapping[str, Use | Crossing]:
        """The declared series, by the name `decide` reads them with."""
        raise NotImplementedError

    def decide(self, bar: Bar) -> Signal | None:
        """Decide on one closed bar: a `Signal`, or None for nothing."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self._params.items())
        return f"{self.name}({args})"
