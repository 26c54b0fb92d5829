"""Connecting to MongoDB: timeouts as a small policy object, errors as one safe line."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import pymongo
import pymongo.errors

from framework.errors import ConfigError, SourceError, SourceUnavailable
from framework.state.urls import redact_url, scrub, secrets_of

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT_S",
    "DEFAULT_SERVER_SELECTION_TIMEOUT_S",
    "DEFAULT_SOCKET_TIMEOUT_S",
    "MongoPolicy",
    "open_client",
    "redact_uri",
    "source_error",
]

#: Seconds pymongo waits for a usable server before an operation fails. A live cycle
#: is due every bar; a database that cannot be reached in 2 s is treated as down.
DEFAULT_SERVER_SELECTION_TIMEOUT_S = 2.0
#: Seconds to open one TCP (and TLS) connection.
DEFAULT_CONNECT_TIMEOUT_S = 2.0
#: Seconds to wait for one reply. Longer than the others: reading a long history is
#: legitimately slow on a server without a usable index (FerretDB scans the collection).
DEFAULT_SOCKET_TIMEOUT_S = 10.0

_MS_PER_S = 1000
_AUTH_FAILED = 18
_UNAUTHORIZED = 13


@dataclass(frozen=True, slots=True)
class MongoPolicy:
    """Timeouts of the MongoDB connection, in seconds.

    Parameters
    ----------
    server_selection_timeout_s : float
        Wait for a reachable server (``serverSelectionTimeoutMS``).
    connect_timeout_s : float
        Open one connection (``connectTimeoutMS``).
    socket_timeout_s : float
        Wait for one reply (``socketTimeoutMS``).

    Raises
    ------
    ConfigError
        A timeout that is not a positive number.

    Examples
    --------
    >>> MongoPolicy().client_options()["serverSelectionTimeoutMS"]
    2000
    >>> MongoPolicy(connect_timeout_s=0)
    Traceback (most recent call last):
    ...
    framework.errors.ConfigError: MongoDB policy: connect_timeout_s must be > 0, got 0
    """

    server_selection_timeout_s: float = DEFAULT_SERVER_SELECTION_TIMEOUT_S
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    socket_timeout_s: float = DEFAULT_SOCKET_TIMEOUT_S

    def __post_init__(self) -> None:
        for name in ("server_selection_timeout_s", "connect_timeout_s", "socket_timeout_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and value > 0):
                raise ConfigError(f"MongoDB policy: {name} must be > 0, got {value!r}")

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for `pymongo.MongoClient`: these timeouts, UTC-aware times."""
        return {
            "serverSelectionTimeoutMS": round(self.server_selection_timeout_s * _MS_PER_S),
            "connectTimeoutMS": round(self.connect_timeout_s * _MS_PER_S),
            "socketTimeoutMS": round(self.socket_timeout_s * _MS_PER_S),
            "tz_aware": True,
            "tzinfo": UTC,
        }


def redact_uri(uri: str) -> str:
    """The URI with its password (and any secret query option) replaced by ``***``.

    Examples
    --------
    >>> redact_uri("mongodb://alice:s3cret@db.example:27017/parity")
    'mongodb://alice:***@db.example:27017/parity'
    >>> redact_uri("mongodb://h1:27017,h2:27017/?replicaSet=rs0")
    'mongodb://h1:27017,h2:27017/?replicaSet=rs0'
    """
    return redact_url(uri)


def open_client(uri: str, policy: MongoPolicy) -> pymongo.MongoClient[dict[str, Any]]:
    """A client for ``uri`` with ``policy``'s timeouts; connects lazily, in the background.

    Raises
    ------
    ConfigError
        A URI pymongo cannot parse (the message shows it redacted).
    SourceUnavailable
        A ``mongodb+srv://`` URI whose DNS lookup failed.
    """
    try:
        with warnings.catch_warnings():
            # pymongo only warns about an option it does not know: most likely a typo.
            warnings.filterwarnings("error", message="Unknown option", category=UserWarning)
            return pymongo.MongoClient(uri, **policy.client_options())
    except (pymongo.errors.PyMongoError, ValueError, TypeError, UserWarning) as error:
        reason = scrub(_first_line(error), secrets_of(uri))
        # A mongodb+srv:// URI is resolved in DNS right here: a lookup that fails or times
        # out is the network's failure, not a mistake in the URI.
        dns = uri.startswith("mongodb+srv://") and any(
            word in str(error) for word in ("DNS", "resolution", "nameserver")
        )
        kind = SourceUnavailable if dns else ConfigError
        raise kind(f"candle source {redact_uri(uri)}: {reason}") from None


def source_error(
    error: pymongo.errors.PyMongoError, name: str, secrets: tuple[str, ...]
) -> SourceError:
    """One line for a failed MongoDB call: where, and why, without secrets."""
    if isinstance(error, pymongo.errors.OperationFailure) and error.code in (
        _AUTH_FAILED,
        _UNAUTHORIZED,
    ):
        reason = "authentication failed or not authorized"
    elif isinstance(error, pymongo.errors.BulkWriteError):
        problems = error.details.get("writeErrors", [])
        first = problems[0].get("errmsg", "unknown") if problems else "unknown"
        reason = f"{len(problems)} write error(s), the first: {first}"
    else:
        reason = _first_line(error)
    # No server to select, or the connection refused: every request fails alike until
    # one answers. A timeout or a failover hits one request; the next may well succeed.
    transient = (pymongo.errors.NetworkTimeout, pymongo.errors.NotPrimaryError)
    unreachable = isinstance(error, pymongo.errors.AutoReconnect) and not isinstance(
        error, transient
    )
    kind = SourceUnavailable if unreachable else SourceError
    return kind(f"candle source {name}: {scrub(reason, secrets)}")


def _first_line(error: Exception) -> str:
    # pymongo appends the timeouts and a whole topology description: noise in one line.
    text = str(error).strip()
    if not text:
        return type(error).__name__
    text = text.splitlines()[0]
    for tail in (", Timeout:", " (configured timeouts", ", full error:"):
        text = text.split(tail)[0]
    return text
