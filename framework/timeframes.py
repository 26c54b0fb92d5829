"""Bar timeframes: M1 to W1, their lengths and bar-open alignment."""

from __future__ import annotations

import enum

import numpy as np
import numpy.typing as npt

from framework.errors import ParameterError

__all__ = ["Timeframe"]

_NS_PER_SECOND = 1_000_000_000
# 1970-01-01 was a Thursday; weekly bars open on Monday 00:00 UTC, four days later.
_WEEK_ORIGIN_NS = 4 * 86_400 * _NS_PER_SECOND


class Timeframe(enum.Enum):
    """A bar length. The value is the bar length in seconds.

    Bars open on multiples of their length since the Unix epoch (UTC); weekly
    bars open on Mondays at 00:00 UTC.

    Examples
    --------
    >>> Timeframe.parse("m15")
    <Timeframe.M15: 900>
    >>> Timeframe.H1.seconds
    3600
    """

    M1 = 60
    M5 = 300
    M15 = 900
    M30 = 1800
    H1 = 3600
    H4 = 14400
    D1 = 86400
    W1 = 604800

    @property
    def seconds(self) -> int:
        """Bar length in seconds."""
        return int(self.value)

    @property
    def nanoseconds(self) -> int:
        """Bar length in nanoseconds."""
        return self.seconds * _NS_PER_SECOND

    @classmethod
    def parse(cls, text: str | Timeframe) -> Timeframe:
        """Parse ``"M15"``, ``"h1"``… into a timeframe; raise `ParameterError` otherwise."""
        if isinstance(text, Timeframe):
            return text
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(tf.name for tf in cls)
            raise ParameterError(f"unknown timeframe {text!r}; expected one of {names}") from None

    @classmethod
    def from_seconds(cls, seconds: int) -> Timeframe | None:
        """The timeframe whose bars last ``seconds``, or None."""
        try:
            return cls(seconds)
        except ValueError:
            return None

    def misaligned(self, times_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Which bar-open times (ns since epoch, UTC) are not on this timeframe's grid.

        Examples
        --------
        >>> import numpy as np
        >>> t = np.array([0, 900, 901], dtype=np.int64) * 1_000_000_000
        >>> Timeframe.M15.misaligned(t).tolist()
        [False, False, True]
        """
        origin = _WEEK_ORIGIN_NS if self is Timeframe.W1 else 0
        return np.asarray((times_ns - origin) % self.nanoseconds != 0)
