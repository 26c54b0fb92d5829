"""How hard the state store tries before it gives up: timeouts, retries, circuit breaker."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from redis.backoff import ExponentialBackoff
from redis.exceptions import AuthenticationError, AuthorizationError, ConnectionError, TimeoutError
from redis.retry import Retry

from framework.errors import ConfigError

__all__ = [
    "DEFAULT_BACKOFF_BASE_S",
    "DEFAULT_BACKOFF_CAP_S",
    "DEFAULT_BREAKER_FAIL_MAX",
    "DEFAULT_BREAKER_RESET_S",
    "DEFAULT_CONNECT_TIMEOUT_S",
    "DEFAULT_RETRIES",
    "DEFAULT_SOCKET_TIMEOUT_S",
    "ConnectionPolicy",
]

T = TypeVar("T")

#: Seconds to wait for a TCP/TLS connection. A live cycle targets < 500 ms; a store
#: that cannot connect in a second is better treated as down.
DEFAULT_CONNECT_TIMEOUT_S = 1.0
#: Seconds to wait for a reply once connected.
DEFAULT_SOCKET_TIMEOUT_S = 1.0
#: Retries after the first attempt, by redis-py's own `Retry`.
DEFAULT_RETRIES = 2
#: First backoff in seconds; redis-py's `ExponentialBackoff` sleeps base·2^failures…
DEFAULT_BACKOFF_BASE_S = 0.05
#: …capped at this many seconds.
DEFAULT_BACKOFF_CAP_S = 0.5
#: Consecutive failed store calls (each after its retries) that open the breaker.
DEFAULT_BREAKER_FAIL_MAX = 3
#: Seconds the breaker stays open before one trial call is let through.
DEFAULT_BREAKER_RESET_S = 10.0

# What redis-py may retry: the connection broke or timed out. Refused credentials
# are a ConnectionError subclass too, but retrying them only delays the same answer.
RETRYABLE_ERRORS: tuple[type[Exception], ...] = (ConnectionError, TimeoutError, socket.timeout)
_AUTH_ERRORS = (AuthenticationError, AuthorizationError)


@dataclass(frozen=True, slots=True)
class ConnectionPolicy:
    """Timeouts, retries and circuit-breaker thresholds of one state store.

    Parameters
    ----------
    connect_timeout_s, socket_timeout_s : float
        Seconds to connect, and to wait for a reply.
    retries : int
        Retries after the first attempt of one command (redis-py `Retry`).
    backoff_base_s, backoff_cap_s : float
        Exponential backoff between retries: ``min(cap, base · 2**failures)`` seconds.
    breaker_fail_max : int
        Consecutive failed calls that open the circuit breaker.
    breaker_reset_s : float
        Seconds the open breaker fails fast before it lets one trial call through.

    Raises
    ------
    ConfigError
        A negative time, a retry count below 0 or a breaker threshold below 1.

    Examples
    --------
    >>> policy = ConnectionPolicy()
    >>> policy.retries, policy.breaker_fail_max, policy.breaker_reset_s
    (2, 3, 10.0)
    >>> round(policy.worst_case_s, 3)   # 3 attempts × (1 s + 1 s) + 0.1 s + 0.2 s of backoff
    6.3
    >>> ConnectionPolicy(retries=-1)
    Traceback (most recent call last):
    ...
    framework.errors.ConfigError: connection policy: retries must be ≥ 0, got -1
    """

    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    socket_timeout_s: float = DEFAULT_SOCKET_TIMEOUT_S
    retries: int = DEFAULT_RETRIES
    backoff_base_s: float = DEFAULT_BACKOFF_BASE_S
    backoff_cap_s: float = DEFAULT_BACKOFF_CAP_S
    breaker_fail_max: int = DEFAULT_BREAKER_FAIL_MAX
    breaker_reset_s: float = DEFAULT_BREAKER_RESET_S

    def __post_init__(self) -> None:
        for name in ("connect_timeout_s", "socket_timeout_s"):
            if not getattr(self, name) > 0:
                self._reject(name, "> 0")
        for name in ("backoff_base_s", "backoff_cap_s", "breaker_reset_s", "retries"):
            if not getattr(self, name) >= 0:
                self._reject(name, "≥ 0")
        if not self.breaker_fail_max >= 1:
            self._reject("breaker_fail_max", "≥ 1")

    def _reject(self, name: str, bound: str) -> None:
        raise ConfigError(f"connection policy: {name} must be {bound}, got {getattr(self, name)!r}")

    def retry(self) -> Retry:
        """A fresh redis-py `Retry` with this policy's backoff and retry count.

        Authentication and authorization failures are never retried.
        """
        backoff = ExponentialBackoff(cap=self.backoff_cap_s, base=self.backoff_base_s)
        return _NoRetryOnAuth(backoff, self.retries, RETRYABLE_ERRORS)

    def backoff_s(self, failures: int) -> float:
        """Seconds redis-py sleeps after the ``failures``-th failure of one command."""
        return float(min(self.backoff_cap_s, self.backoff_base_s * 2**failures))

    @property
    def worst_case_s(self) -> float:
        """Upper bound in seconds of one store call against a silent (black-holed) host."""
        attempts = self.retries + 1
        sleeps = sum(self.backoff_s(n) for n in range(1, attempts))
        return attempts * (self.connect_timeout_s + self.socket_timeout_s) + sleeps

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for `redis.Redis` / `redis.Redis.from_url`."""
        return {
            "socket_connect_timeout": self.connect_timeout_s,
            "socket_timeout": self.socket_timeout_s,
            "retry": self.retry(),
            "retry_on_error": [ConnectionError, TimeoutError],
        }


class _NoRetryOnAuth(Retry):
    """redis-py's `Retry`, except that refused credentials fail on the first attempt."""

    def call_with_retry(
        self,
        do: Callable[[], T],
        fail: Callable[..., Any],
        is_retryable: Callable[[Exception], bool] | None = None,
        with_failure_count: bool = False,
    ) -> T:
        def retryable(error: Exception) -> bool:
            if isinstance(error, _AUTH_ERRORS):
                return False
            return is_retryable is None or is_retryable(error)

        # The installed type stubs predate these keyword arguments of redis-py ≥ 5.
        parent = cast(Any, super())
        result: T = parent.call_with_retry(
            do, fail, is_retryable=retryable, with_failure_count=with_failure_count
        )
        return result
