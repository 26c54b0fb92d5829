"""Instruments and their price precision: floats in, exact integer ticks out."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import numpy.typing as npt

from framework.errors import DataError, ParameterError

__all__ = ["MAX_DECIMALS", "MAX_TICKS", "Instrument", "infer_decimals", "known_instruments"]

MAX_DECIMALS = 8
#: Largest price magnitude in ticks. Below 2**51 the price ``ticks / 10**decimals``
#: (one rounding) times ``10**decimals`` (another) stays within half a tick of
#: ``ticks``, so float -> ticks -> float round-trips exactly; 2**51 ticks at 8
#: decimals is a price of 22 million.
MAX_TICKS = 2**51 - 1
# A float parsed from text carries a few ulps of noise (1.1791800000000001 is one), and
# noise is relative to the value: allow 64 ulps (2**-46) off the grid before calling
# it a real digit. Looser would hide the 8th decimal of 100000.12345678, or call
# 0.00000001 a whole number.
_NOISE_RELATIVE = 2.0**-46


@dataclass(frozen=True)
class Instrument:
    """A tradable symbol and its price precision.

    Parameters
    ----------
    symbol : str
        Upper-case symbol such as ``"EURUSD"``.
    decimals : int
        Price decimals, 0 to 8; the tick is ``10 ** -decimals``.

    Examples
    --------
    >>> eurusd = Instrument("EURUSD", 5)
    >>> eurusd.to_ticks([1.1791800000000001, 1.17919]).tolist()
    [117918, 117919]
    >>> eurusd.to_prices(eurusd.to_ticks([1.1791800000000001])).tolist()
    [1.17918]
    """

    symbol: str
    decimals: int

    def __post_init__(self) -> None:
        if not 0 <= self.decimals <= MAX_DECIMALS:
            raise ParameterError(
                f"{self.symbol}: price decimals must be 0..{MAX_DECIMALS}, got {self.decimals}"
            )

    @property
    def scale(self) -> int:
        """Ticks per price unit, ``10 ** decimals``."""
        return int(10**self.decimals)

    @property
    def tick(self) -> float:
        """The smallest price step."""
        return 1 / self.scale

    @classmethod
    def lookup(cls, symbol: str) -> Instrument | None:
        """The bundled instrument for ``symbol`` (case-insensitive), or None."""
        decimals = known_instruments().get(symbol.upper())
        return None if decimals is None else cls(symbol.upper(), decimals)

    def to_ticks(
        self, prices: npt.ArrayLike, *, source: str | None = None
    ) -> npt.NDArray[np.int64]:
        """Quantize prices to integer ticks; raise `DataError` naming the first bad row.

        A price must be finite and lie on the tick grid up to float noise.
        """
        values = np.asarray(prices, dtype=np.float64)
        scaled = values * self.scale
        with np.errstate(invalid="ignore"):
            ticks = np.rint(scaled)
            off_grid = ~(np.abs(scaled - ticks) <= _tolerance(ticks))
            too_large = np.abs(ticks) > MAX_TICKS
        bad = off_grid | too_large
        if bad.any():
            row = int(np.argmax(bad))
            value = float(values.flat[row])
            if not np.isfinite(value):
                rule = f"price {value} is not finite"
            elif too_large.flat[row]:
                rule = f"price {value} exceeds {MAX_TICKS} ticks at {self.decimals} decimals"
            else:
                rule = (
                    f"price {value!r} is not a multiple of the tick {self.tick:.{self.decimals}f}"
                )
            raise DataError(rule, source=source, row=row + 1)
        return ticks.astype(np.int64)

    def to_prices(self, ticks: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Convert ticks to the nearest float prices (one correctly rounded division)."""
        return np.asarray(ticks / self.scale, dtype=np.float64)


def _tolerance(ticks: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.maximum(np.abs(ticks), 1.0) * _NOISE_RELATIVE


def infer_decimals(prices: npt.ArrayLike, *, source: str | None = None) -> int:
    """The smallest precision (0..8 decimals) on whose tick grid every price lies.

    Float noise from text exports does not count as digits.

    Examples
    --------
    >>> infer_decimals([1.1791800000000001, 1.1792, 1.17921])
    5
    >>> infer_decimals([2650.5, 2651.25])
    2
    """
    values = np.asarray(prices, dtype=np.float64).ravel()
    if not np.isfinite(values).all():
        row = int(np.argmax(~np.isfinite(values)))
        raise DataError(f"price {values[row]} is not finite", source=source, row=row + 1)
    remaining = values
    offsets = np.arange(values.size)
    for decimals in range(MAX_DECIMALS + 1):
        scaled = remaining * 10**decimals
        fits = np.abs(scaled - np.rint(scaled)) <= _tolerance(np.rint(scaled))
        if fits.all():
            return decimals
        # Rows that fit a coarser grid fit every finer one: keep only the others.
        remaining, offsets = remaining[~fits], offsets[~fits]
    raise DataError(
        f"price {float(remaining[0])!r} fits no precision of {MAX_DECIMALS} decimals or fewer",
        source=source,
        row=int(offsets[0]) + 1,
    )


@cache
def known_instruments() -> dict[str, int]:
    """Symbol → decimals from the bundled table ``framework/instruments.toml``."""
    text = resources.files("framework").joinpath("instruments.toml").read_text("utf-8")
    table = tomllib.loads(text)
    return {symbol: int(dec) for group in table.values() for symbol, dec in group.items()}
