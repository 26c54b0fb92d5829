"""Every store call goes through here: circuit breaker, error translation, redaction.

redis-py's `Retry` absorbs a blip within one call; when calls keep failing, the
pybreaker circuit opens and later calls fail at once with `StoreUnavailable` instead
of each waiting out its timeouts, so a live cycle falls back to the full path quickly.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import TypeVar

import pybreaker
from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    ConnectionError,
    RedisError,
    TimeoutError,
)

from framework.errors import StoreError
from framework.state.errors import StoreUnavailable
from framework.state.policy import ConnectionPolicy
from framework.state.urls import scrub

__all__ = ["Guard"]

T = TypeVar("T")
log = logging.getLogger("parity.state")

_AUTH_ERRORS = (AuthenticationError, AuthorizationError)
_OUTAGE_ERRORS = (ConnectionError, TimeoutError)
_CONNECTING = re.compile(r"^Error -?\d+ (?:connecting to|while writing to) \S+?\.? (.+)$")


def _not_an_outage(error: BaseException) -> bool:
    # Only an unreachable or silent server counts towards opening the breaker; refused
    # credentials, script errors or a wrong-type key are answers, not outages.
    return isinstance(error, _AUTH_ERRORS) or not isinstance(error, _OUTAGE_ERRORS)


def _reason(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    match = _CONNECTING.match(text)
    if match:
        text = match.group(1)
    return text.rstrip(".")


class Guard(pybreaker.CircuitBreakerListener):
    """Runs store operations under one circuit breaker and names failures in one line.

    pybreaker holds a lock for the duration of each call, so the calls of one guard
    (one store) run one at a time; give each thread its own store for parallel I/O.

    Parameters
    ----------
    name : str
        The store as printed in messages: a redacted URL or ``"memory"``.
    policy : ConnectionPolicy
        Breaker thresholds.
    secrets : tuple[str, ...]
        Strings that must never appear in a message (scrubbed as a last defence).
    """

    def __init__(self, name: str, policy: ConnectionPolicy, secrets: tuple[str, ...]) -> None:
        self.name = name
        self._policy = policy
        self._secrets = secrets
        self._last_reason = "no reply"
        self._opened_at = 0.0
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=policy.breaker_fail_max,
            reset_timeout=policy.breaker_reset_s,
            exclude=[_not_an_outage],
            listeners=[self],
            name=name,
        )

    @property
    def state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half-open"``."""
        state: str = self._breaker.current_state
        return state

    def call(self, operation: str, fn: Callable[[], T]) -> T:
        """``fn()`` under the breaker; redis errors become one-line `StoreError` s.

        Raises
        ------
        StoreUnavailable
            The server is unreachable or silent, or the breaker is open.
        StoreError
            Credentials refused, or the server answered with an error.
        """
        try:
            result: T = self._breaker.call(fn)
            return result
        except pybreaker.CircuitBreakerError:
            raise StoreUnavailable(self._open_message()) from None
        except _AUTH_ERRORS as exc:
            raise StoreError(
                self._clean(f"state store authentication failed for {self.name}: {_reason(exc)}")
            ) from exc
        except _OUTAGE_ERRORS as exc:
            raise StoreUnavailable(
                self._clean(f"state store {self.name} unreachable: {_reason(exc)}")
            ) from exc
        except RedisError as exc:
            raise StoreError(
                self._clean(f"state store {self.name}: {operation} failed: {_reason(exc)}")
            ) from exc

    def _open_message(self) -> str:
        left = max(0.0, self._policy.breaker_reset_s - (time.monotonic() - self._opened_at))
        return self._clean(
            f"state store {self.name} unreachable: {self._last_reason} "
            f"(circuit open, retrying in {left:.2g} s)"
        )

    def _clean(self, text: str) -> str:
        return scrub(text, self._secrets)

    # pybreaker listener hooks: remember why and when, and say so once in the log.
    def failure(self, cb: pybreaker.CircuitBreaker, exc: BaseException) -> None:
        self._last_reason = self._clean(_reason(exc))

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        if new_state.name == pybreaker.STATE_OPEN:
            self._opened_at = time.monotonic()
            log.warning(
                "state store %s unreachable: %s; circuit open, failing fast for %.3g s",
                self.name,
                self._last_reason,
                self._policy.breaker_reset_s,
            )
        elif new_state.name == pybreaker.STATE_CLOSED and old_state is not None:
            log.info("state store %s reachable again; circuit closed", self.name)
