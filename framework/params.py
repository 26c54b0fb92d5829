"""Typed strategy parameters: declared once, validated at construction, settable by name."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from framework.errors import ParameterError

__all__ = ["Param", "did_you_mean"]

T = TypeVar("T", int, float, str, bool)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class Param(Generic[T]):
    """A strategy parameter: a class attribute with a default, a type and bounds.

    The type is the default's type. Values given as text (from the CLI or a
    config file) are converted; anything that does not fit raises `ParameterError`.

    Examples
    --------
    >>> class Demo:
    ...     period = Param(20, "window length", minimum=2)
    >>> Demo.period.coerce("50", owner="demo")
    50
    >>> Demo.period.coerce("1", owner="demo")
    Traceback (most recent call last):
    ...
    framework.errors.ParameterError: demo: period must be ≥ 2, got 1

    Text choices match regardless of case when no two of them differ only in case:

    >>> Param("sma", choices=("sma", "ema")).coerce("EMA", owner="demo")
    'ema'
    """

    default: T
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[T, ...] | None = None
    name: str = ""

    def __set_name__(self, owner: type, name: str) -> None:
        object.__setattr__(self, "name", name)

    @overload
    def __get__(self, instance: None, owner: type) -> Param[T]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> T: ...
    def __get__(self, instance: object | None, owner: type) -> Param[T] | T:
        if instance is None:
            return self
        value: T = instance.__dict__["_params"][self.name]
        return value

    @property
    def kind(self) -> type:
        """The Python type of the parameter's values."""
        return type(self.default)

    def coerce(self, value: object, *, owner: str) -> T:
        """Convert and check ``value``; raise `ParameterError` naming ``owner`` and the rule."""
        converted = self._canonical(self._convert(value, owner))
        if isinstance(converted, float) and not math.isfinite(converted):
            # NaN would pass every bound check below (all comparisons are False).
            raise ParameterError(f"{owner}: {self.name} must be a finite number, got {value!r}")
        if self.choices is not None and converted not in self.choices:
            options = ", ".join(str(choice) for choice in self.choices)
            hint = did_you_mean(str(converted), [str(choice) for choice in self.choices])
            raise ParameterError(
                f"{owner}: {self.name} must be one of {options}, got {value!r}{hint}"
            )
        if self.minimum is not None and converted < self.minimum:  # type: ignore[operator]
            raise ParameterError(f"{owner}: {self.name} must be ≥ {self.minimum}, got {converted}")
        if self.maximum is not None and converted > self.maximum:  # type: ignore[operator]
            raise ParameterError(f"{owner}: {self.name} must be ≤ {self.maximum}, got {converted}")
        return converted

    @property
    def allowed(self) -> str:
        """The values this parameter accepts, in words.

        Examples
        --------
        >>> Param(50, minimum=1).allowed, Param(0.5, minimum=0, maximum=1).allowed
        ('int ≥ 1', 'float from 0 to 1')
        >>> Param("sma", choices=("sma", "ema")).allowed, Param(True).allowed
        ('sma, ema', 'bool')
        """
        if self.choices is not None:
            return ", ".join(str(choice) for choice in self.choices)
        low, high = (_number(bound) for bound in (self.minimum, self.maximum))
        if low and high:
            return f"{self.kind.__name__} from {low} to {high}"
        bound = f" ≥ {low}" if low else f" ≤ {high}" if high else ""
        return f"{self.kind.__name__}{bound}"

    def _canonical(self, value: T) -> T:
        """The choice ``value`` names up to case, when the choices allow; else ``value``."""
        if not isinstance(value, str) or self.choices is None or value in self.choices:
            return value
        folded = {str(choice).casefold(): choice for choice in self.choices}
        if len(folded) < len(self.choices):  # two choices differ only in case
            return value
        return folded.get(value.casefold(), value)

    def _convert(self, value: object, owner: str) -> T:
        kind = self.kind
        wrong = ParameterError(f"{owner}: {self.name} must be {kind.__name__}, got {value!r}")
        if isinstance(value, str) and kind is not str:
            text = value.strip().lower()
            if kind is bool:
                if text not in _TRUE | _FALSE:
                    raise wrong
                return text in _TRUE  # type: ignore[return-value]
            try:
                return kind(text)  # type: ignore[no-any-return]
            except ValueError:
                raise wrong from None
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)  # type: ignore[return-value]
        if type(value) is not kind:
            raise wrong
        return value  # type: ignore[return-value]


def did_you_mean(name: str, known: Mapping[str, Any] | list[str]) -> str:
    """A ``"; did you mean 'x'?"`` hint for a misspelt name, or an empty string.

    Examples
    --------
    Case is ignored in the comparison, and the hint spells the name as it is known.

    >>> did_you_mean("fsat", ["fast", "slow"]), did_you_mean("HMA", ["sma", "ema", "wma"])
    ("; did you mean 'fast'?", "; did you mean 'wma'?")
    """
    by_folded = {str(candidate).casefold(): str(candidate) for candidate in known}
    close = difflib.get_close_matches(name.casefold(), list(by_folded), n=1, cutoff=0.6)
    return f"; did you mean {by_folded[close[0]]!r}?" if close else ""


def _number(bound: float | None) -> str:
    """A bound as written: ``1`` rather than ``1.0``; empty when there is none."""
    if bound is None:
        return ""
    return str(int(bound)) if float(bound).is_integer() else str(bound)
