"""Exceptions that Parity raises for anything a user can get wrong.

Every error's ``str()`` is one readable line that says what went wrong and where;
the CLI prints it as is and exits non-zero, never with a traceback.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "IndicatorRangeError",
    "ParameterError",
    "ParityError",
    "SnapshotError",
    "SourceError",
    "SourceUnavailable",
    "StoreError",
]


class ParityError(Exception):
    """Base class of every error Parity raises on purpose."""


class DataError(ParityError):
    """Candle data that breaks a rule of contract 1 (prices, order, alignment).

    Parameters
    ----------
    rule : str
        What is wrong, in words (``"high < max(open, close)"``).
    source : str, optional
        The file, collection or stream the data came from.
    row : int, optional
        1-based data row (file) or document index, when known.
    line : int, optional
        The line of a text file an editor shows (header included); named instead of
        the row when given.

    Examples
    --------
    >>> str(DataError("high < max(open, close)", source="eurusd.csv", row=12))
    'eurusd.csv: row 12: high < max(open, close)'
    >>> str(DataError("duplicate time", source="eurusd.csv", row=300, line=301))
    'eurusd.csv: line 301: duplicate time'
    """

    def __init__(
        self,
        rule: str,
        *,
        source: str | None = None,
        row: int | None = None,
        line: int | None = None,
    ) -> None:
        self.rule = rule
        self.source = source
        self.row = row
        self.line = line
        position = f"line {line}" if line is not None else None if row is None else f"row {row}"
        super().__init__(": ".join([part for part in (source, position) if part] + [rule]))


class ParameterError(ParityError, ValueError):
    """A parameter with a bad name, type or value."""


class IndicatorRangeError(ParityError, ValueError):
    """An input outside the range an indicator can compute exactly."""


class SnapshotError(ParityError, ValueError):
    """A snapshot that cannot be restored: wrong kind, parameters, version or bytes."""


class ConfigError(ParityError):
    """A configuration file or connection URL that cannot be used."""


class StoreError(ParityError):
    """The state store failed (unreachable, refused credentials, conflicting write)."""


class SourceError(ParityError):
    """A candle source failed (unreachable database, timeout, refused credentials)."""


class SourceUnavailable(SourceError):  # noqa: N818 - reads as a state, like StoreUnavailable
    """The candle source cannot be reached at all: every request would fail alike."""
