"""A signal as published: one BUY or SELL of one stream at one closed bar."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast

from framework.errors import ParameterError

__all__ = ["SIDES", "Side", "SignalEvent"]

Side = Literal["BUY", "SELL"]
SIDES: tuple[Side, ...] = ("BUY", "SELL")
_NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class SignalEvent:
    """One signal of one stream at one bar; at most one per (stream, bar).

    Parameters
    ----------
    stream_id : str
        `StreamKey.id` of the stream that produced it.
    bar_time_ns : int
        Open time of the closed bar that produced it (ns since epoch, UTC, > 0).
    side : {"BUY", "SELL"}
    price : float
        The bar's close, the price the decision saw.
    reason : str, optional
        Why, in words (``"fast crossed above slow"``).

    Examples
    --------
    >>> s = SignalEvent("ma_unified:11e62632cc2e4065:EURUSD:M15", 1_700_000_100_000_000_000,
    ...                 "BUY", 1.0871, "fast crossed above slow")
    >>> s.event_id
    'ma_unified:11e62632cc2e4065:EURUSD:M15@1700000100000000000'
    >>> s.outbox_id
    '1700000100000-0'
    >>> SignalEvent.from_fields(s.to_fields()) == s
    True
    """

    stream_id: str
    bar_time_ns: int
    side: Side
    price: float
    reason: str = ""

    def __post_init__(self) -> None:
        for name in ("stream_id", "reason"):
            text = getattr(self, name)
            if not isinstance(text, str):
                raise ParameterError(f"signal {name} must be text, got {text!r}")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise ParameterError(f"signal {name} is not valid Unicode: {text!r}") from None
        if self.side not in SIDES:
            raise ParameterError(f"signal side must be BUY or SELL, got {self.side!r}")
        if isinstance(self.bar_time_ns, bool) or not isinstance(self.bar_time_ns, int):
            raise ParameterError(f"signal bar_time_ns must be an int, got {self.bar_time_ns!r}")
        # Outbox entry ids are derived from the bar time and must be > 0-0.
        if self.bar_time_ns <= 0:
            raise ParameterError(f"signal bar time must be after 1970, got {self.bar_time_ns}")
        if isinstance(self.price, bool) or not isinstance(self.price, int | float):
            raise ParameterError(f"signal price must be a number, got {self.price!r}")
        if not math.isfinite(self.price):
            raise ParameterError(f"signal price must be finite, got {self.price!r}")
        # Frozen: normalise through object.__setattr__ so an int price round-trips.
        object.__setattr__(self, "price", float(self.price))
        if not self.stream_id:
            raise ParameterError("signal stream_id must not be empty")

    @property
    def event_id(self) -> str:
        """``stream_id@bar_time_ns``: the identity consumers deduplicate on."""
        return f"{self.stream_id}@{self.bar_time_ns}"

    @property
    def outbox_id(self) -> str:
        """The Redis Stream entry id: ``<ms>-<ns remainder>``, increasing with bar time.

        One bar maps to one entry id, so the outbox can refuse a second entry for a bar
        it already holds, and entries sort by bar time.
        """
        ms, rest = divmod(self.bar_time_ns, _NS_PER_MS)
        return f"{ms}-{rest}"

    def to_fields(self) -> dict[str, str]:
        """Flat string fields for a Redis Stream entry (``repr`` keeps the float exact)."""
        return {
            "stream": self.stream_id,
            "bar_time_ns": str(self.bar_time_ns),
            "side": self.side,
            "price": repr(float(self.price)),
            "reason": self.reason,
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, str] | Mapping[bytes, bytes]) -> SignalEvent:
        """The event back from `to_fields` output, as str or as bytes (redis-py replies)."""
        text = {_text(k): _text(v) for k, v in fields.items()}
        try:
            return cls(
                stream_id=text["stream"],
                bar_time_ns=int(text["bar_time_ns"]),
                side=cast(Side, text["side"]),
                price=float(text["price"]),
                reason=text.get("reason", ""),
            )
        except (KeyError, ValueError) as exc:
            raise ParameterError(f"not a signal entry: {exc!r} in {sorted(text)}") from None

    def to_list(self) -> list[object]:
        """Compact positional form, embedded in a state record."""
        return [self.stream_id, self.bar_time_ns, self.side, self.price, self.reason]

    @classmethod
    def from_list(cls, items: object) -> SignalEvent:
        """The event back from `to_list` output; `ParameterError` on any mismatch."""
        if not isinstance(items, list | tuple) or len(items) != 5:
            raise ParameterError(f"not a signal: {items!r:.80}")
        stream_id, bar_time_ns, side, price, reason = items
        if not (isinstance(stream_id, str) and isinstance(reason, str)):
            raise ParameterError(f"not a signal: {items!r:.80}")
        if not isinstance(price, float):
            raise ParameterError(f"signal price must be a float, got {price!r}")
        return cls(stream_id, cast(int, bar_time_ns), cast(Side, side), price, reason)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
