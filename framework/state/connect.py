"""`open_store`: a `RedisStateStore` from a URL — a real server, or the embedded default."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

import fakeredis
import redis

from framework.errors import ConfigError
from framework.state.policy import ConnectionPolicy
from framework.state.redis_store import DEFAULT_BATCH_SIZE, DEFAULT_PREFIX, RedisStateStore
from framework.state.urls import redact_url, scrub, secrets_of

__all__ = ["MEMORY_URL", "open_store"]

#: The URL of the embedded store: fakeredis, shared by every store of this process.
MEMORY_URL = "memory"
_SCHEMES = ("redis", "rediss", "unix")


@functools.cache
def _memory_server() -> fakeredis.FakeServer:
    # One server per process, so two store objects see the same data, as two clients
    # of one real server would; functools.cache makes the creation thread-safe enough
    # (a lost race only creates one extra, unused server before the first store).
    return fakeredis.FakeServer()


def open_store(
    url: str | None = None,
    *,
    prefix: str = DEFAULT_PREFIX,
    policy: ConnectionPolicy | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> RedisStateStore:
    """A state store at ``url``, configured with ``policy``'s timeouts and retries.

    Parameters
    ----------
    url : str, optional
        ``None`` or ``"memory"``: the embedded fakeredis store (process-wide, no
        server). ``redis://[user:password@]host:port/db``, ``rediss://…`` (TLS; CA
        and certificates as query options, e.g. ``?ssl_ca_certs=/path/ca.pem``) or
        ``unix:///path/redis.sock?db=0``: a real server through redis-py. Options in
        the URL's query string take precedence over ``policy``.
    prefix : str
        Key prefix, to share one database between deployments or tests.
    policy : ConnectionPolicy, optional
        Timeouts, retries and breaker thresholds; defaults to `ConnectionPolicy()`.
    batch_size : int
        Streams per script call (see `RedisStateStore`).

    Returns
    -------
    RedisStateStore
        Connected lazily: the first command opens the connection. Call
        `RedisStateStore.ping` to fail early on a wrong URL or password.

    Raises
    ------
    ConfigError
        A URL with an unknown scheme or malformed options (secrets redacted).

    Examples
    --------
    >>> open_store().name
    'memory'
    >>> open_store("redis://:hunter2@127.0.0.1:6390/0").name
    'redis://:***@127.0.0.1:6390/0'
    >>> open_store("http://example.com")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    framework.errors.ConfigError: state store URL http://example.com: scheme must be memory, ...
    """
    policy = policy or ConnectionPolicy()
    if url is None or url.strip() in (MEMORY_URL, f"{MEMORY_URL}://"):
        client = fakeredis.FakeRedis(server=_memory_server())
        return RedisStateStore(
            client, prefix=prefix, policy=policy, name=MEMORY_URL, batch_size=batch_size
        )
    url = url.strip()
    shown = redact_url(url)
    scheme = urlsplit(url).scheme if "://" in url else ""
    if scheme not in _SCHEMES:
        raise ConfigError(
            f"state store URL {shown}: scheme must be memory, {', '.join(_SCHEMES[:-1])} "
            f"or {_SCHEMES[-1]}"
        )
    try:
        real: redis.Redis[bytes] = redis.Redis.from_url(
            url, decode_responses=False, **policy.client_options()
        )
    except (ValueError, TypeError) as exc:
        message = scrub(str(exc), secrets_of(url))
        raise ConfigError(f"state store URL {shown}: {message}") from None
    return RedisStateStore(real, prefix=prefix, policy=policy, name=shown, batch_size=batch_size)
