"""A short, stable digest of a candle, kept in the state record to spot corrections."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable

from framework.candles import Candle

__all__ = ["CANDLE_DIGEST_BYTES", "candle_digest", "history_checksum"]

#: 128 bits: collisions between a candle and its correction are not a practical concern.
CANDLE_DIGEST_BYTES = 16
# Little-endian, fixed width: the digest must not depend on the platform.
_LAYOUT = struct.Struct("<qqqqqd")


def candle_digest(candle: Candle) -> bytes:
    """blake2b-128 of the candle's time, OHLC ticks and volume.

    Any change to the bar — a price tick, the volume, the time — changes the digest,
    so a source that rewrites the last processed bar is caught before it is trusted.

    Examples
    --------
    >>> from framework.candles import Candle
    >>> bar = Candle(1_700_000_100_000_000_000, 108710, 108750, 108690, 108720, 12.0)
    >>> len(candle_digest(bar))
    16
    >>> candle_digest(bar) == candle_digest(Candle(*[1_700_000_100_000_000_000, 108710,
    ...                                                108750, 108690, 108721, 12.0]))
    False
    """
    packed = _LAYOUT.pack(
        candle.time_ns, candle.open, candle.high, candle.low, candle.close, float(candle.volume)
    )
    return hashlib.blake2b(packed, digest_size=CANDLE_DIGEST_BYTES).digest()


def history_checksum(candles: Iterable[Candle], start: int = 0) -> int:
    """Add the candles' digests to ``start``, modulo 2**64: a checksum of a history.

    The sum is kept in the state record as bars are processed; recomputing it from
    the source's history tells whether any bar before the watermark was rewritten.

    Examples
    --------
    >>> from framework.candles import Candle
    >>> bars = [Candle(900_000_000_000 * i, 10, 12, 9, 11, 1.0) for i in range(1, 4)]
    >>> history_checksum(bars[2:], history_checksum(bars[:2])) == history_checksum(bars)
    True
    """
    total = start
    for candle in candles:
        total += int.from_bytes(candle_digest(candle)[:8], "little")
    return total % 2**64
