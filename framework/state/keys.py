"""Stream identity: which strategy, with which parameters, on which symbol and timeframe.

A stream owns one state record. Its parameters enter the identity only through a
fingerprint, so changing any parameter yields a new stream and stale state is never
reused (DESIGN.md contract 4).
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from framework.errors import ParameterError
from framework.timeframes import Timeframe

__all__ = ["FINGERPRINT_HEX_CHARS", "StreamKey", "fingerprint", "stream_pattern"]

#: Hex characters kept from the sha256 digest: 64 bits, ample for a handful of
#: parameter sets per strategy, short enough to read in a key.
FINGERPRINT_HEX_CHARS = 16

# Separators of the id and of Redis key syntax (hash tag braces, glob characters) are
# refused in components, so an id parses back unambiguously and a glob over ids
# matches exactly what was asked for.
_FORBIDDEN = frozenset(":{}*?[]\\") | frozenset(" \t\r\n")


def _canonical(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def fingerprint(strategy: str, params: Mapping[str, object]) -> str:
    """A stable short hash of a strategy name and its parameter values.

    Canonical JSON (sorted keys, no whitespace, enums by value) of the name and the
    parameters, hashed with sha256, first 16 hex characters. ``1``, ``1.0`` and
    ``True`` differ on purpose: they are different parameter values.

    Parameters
    ----------
    strategy : str
        The strategy's registered name.
    params : Mapping[str, object]
        Every parameter, defaults included (JSON values or enums).

    Returns
    -------
    str
        16 lowercase hex characters.

    Raises
    ------
    ParameterError
        A parameter value that has no canonical JSON form (an object, NaN, infinity).

    Examples
    --------
    >>> fingerprint("ma_unified", {"fast": 50, "slow": 200, "kind": "sma"})
    '11e62632cc2e4065'
    >>> fingerprint("ma_unified", {"slow": 200, "kind": "sma", "fast": 50})
    '11e62632cc2e4065'
    >>> fingerprint("ma_unified", {"fast": 20, "slow": 200, "kind": "sma"})
    '2043141850c8e5a5'
    """
    try:
        text = json.dumps(
            [strategy, dict(params)],
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=True,
            allow_nan=False,
            default=_canonical,
        )
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{strategy}: parameters cannot be fingerprinted: {exc}") from None
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:FINGERPRINT_HEX_CHARS]


@dataclass(frozen=True, slots=True)
class StreamKey:
    """The identity of one stream: strategy, parameter fingerprint, symbol, timeframe.

    Parameters
    ----------
    strategy : str
        Registered strategy name (``"ma_unified"``).
    fingerprint : str
        `fingerprint` of the strategy's parameters.
    symbol : str
        Instrument symbol (``"EURUSD"``).
    timeframe : str
        Timeframe name; normalised to upper case (``"m15"`` → ``"M15"``).

    Raises
    ------
    ParameterError
        An empty component, an unknown timeframe, or a component holding ``:``,
        braces, glob characters or whitespace.

    Examples
    --------
    >>> key = StreamKey("ma_unified", "11e62632cc2e4065", "EURUSD", "m15")
    >>> key.id
    'ma_unified:11e62632cc2e4065:EURUSD:M15'
    >>> StreamKey.parse(key.id) == key
    True
    """

    strategy: str
    fingerprint: str
    symbol: str
    timeframe: str

    def __post_init__(self) -> None:
        for name in ("strategy", "fingerprint", "symbol"):
            _check_component(name, getattr(self, name))
        # Frozen: normalise through object.__setattr__, the documented escape hatch.
        object.__setattr__(self, "timeframe", Timeframe.parse(self.timeframe).name)

    @classmethod
    def for_params(
        cls, strategy: str, params: Mapping[str, object], symbol: str, timeframe: str
    ) -> StreamKey:
        """The key of ``strategy`` run with ``params`` on ``symbol``/``timeframe``.

        Examples
        --------
        >>> StreamKey.for_params("ma_unified", {"fast": 50}, "EURUSD", "H1").fingerprint
        'b352212e46d2e2e7'
        """
        return cls(strategy, fingerprint(strategy, params), symbol, timeframe)

    @property
    def id(self) -> str:
        """``strategy:fingerprint:symbol:timeframe`` — unique, parseable, Redis-safe."""
        return f"{self.strategy}:{self.fingerprint}:{self.symbol}:{self.timeframe}"

    @classmethod
    def parse(cls, stream_id: str) -> StreamKey:
        """The key whose `id` is ``stream_id``; `ParameterError` if it is not one."""
        parts = stream_id.split(":")
        if len(parts) != 4:
            raise ParameterError(
                f"stream id {stream_id!r} is not strategy:fingerprint:symbol:timeframe"
            )
        return cls(*parts)

    def __str__(self) -> str:
        return self.id


def stream_pattern(
    *,
    strategy: str | None = None,
    fingerprint: str | None = None,
    symbol: str | None = None,
    timeframe: str | None = None,
) -> str:
    """A glob over stream ids: the given parts exactly, ``*`` for the others.

    Examples
    --------
    >>> stream_pattern(symbol="EURUSD", timeframe="m15")
    '*:*:EURUSD:M15'
    """
    parts = {"strategy": strategy, "fingerprint": fingerprint, "symbol": symbol}
    for name, value in parts.items():
        if value is not None:
            _check_component(name, value)
    tf = None if timeframe is None else Timeframe.parse(timeframe).name
    return ":".join("*" if part is None else part for part in [*parts.values(), tf])


def _check_component(name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ParameterError(f"stream key {name} must be a non-empty string, got {value!r}")
    bad = sorted(set(value) & _FORBIDDEN)
    if bad:
        raise ParameterError(
            f"stream key {name} {value!r} contains {''.join(bad)!r}; "
            "':', braces, glob characters and whitespace are reserved"
        )
