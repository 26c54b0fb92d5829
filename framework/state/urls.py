"""Connection URLs without their secrets, for logs, errors and metrics labels."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["describe_client", "redact_url", "scrub", "secrets_of"]

_MASK = "***"
# Query options that may carry a credential (redis-py passes unknown ones as kwargs).
# Options whose value may be a secret; authSource and authMechanism only name things.
_SECRET_OPTION = re.compile(
    r"(?i)([?&](?!authSource=|authMechanism=)[^=&]*(?:pass|secret|token|auth|credential)[^=&]*=)"
    r"[^&#]*"
)


def redact_url(url: str) -> str:
    """``url`` with its password (and any secret query option) replaced by ``***``.

    A lone user-info part (``redis://secret@host``) is masked too: some clients
    read it as a password. Text that does not parse as a URL is masked whole rather
    than risk printing a secret.

    Examples
    --------
    >>> redact_url("redis://:hunter2@127.0.0.1:6390/0")
    'redis://:***@127.0.0.1:6390/0'
    >>> redact_url("rediss://alice:hunter2@cache.example:6380/1?ssl_cert_reqs=required")
    'rediss://alice:***@cache.example:6380/1?ssl_cert_reqs=required'
    >>> redact_url("redis://hunter2@host/0")
    'redis://***@host/0'
    >>> redact_url("unix:///run/redis.sock?db=0&password=hunter2")
    'unix:///run/redis.sock?db=0&password=***'
    >>> redact_url("redis://127.0.0.1:6379/0")
    'redis://127.0.0.1:6379/0'
    >>> redact_url("mongodb://db/?authSource=admin&authMechanismProperties=AWS_SESSION_TOKEN:x")
    'mongodb://db/?authSource=admin&authMechanismProperties=***'
    >>> redact_url("memroy")
    'memroy'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return _MASK
    if not parts.scheme and not parts.netloc:  # not a URL: a typo such as 'memroy'
        return url if "@" not in url and "?" not in url else _MASK
    netloc = parts.netloc
    userinfo, at, hostport = netloc.rpartition("@")
    if at:
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}:{_MASK}@{hostport}" if colon else f"{_MASK}@{hostport}"
    query = _SECRET_OPTION.sub(rf"\g<1>{_MASK}", f"?{parts.query}")[1:] if parts.query else ""
    text = f"{parts.scheme}://{netloc}{parts.path}"
    if query:
        text += f"?{query}"
    if parts.fragment:
        text += f"#{parts.fragment}"
    return text


def describe_client(options: Mapping[str, Any]) -> str:
    """A redis-py client's connection options as a URL without its password.

    Examples
    --------
    >>> describe_client({"host": "cache", "port": 6380, "db": 1, "password": "hunter2"})
    'redis://:***@cache:6380/1'
    """
    if options.get("path"):
        return redact_url(f"unix://{options['path']}?db={options.get('db', 0)}")
    user = options.get("username") or ""
    auth = f"{user}:***@" if options.get("password") else (f"{user}@" if user else "")
    where = f"{options.get('host', '?')}:{options.get('port', '?')}/{options.get('db', 0)}"
    return f"redis://{auth}{where}"


def secrets_of(url: str) -> tuple[str, ...]:
    """The secret strings in ``url`` (password, lone user info, secret options)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return (url,)
    found: list[str] = []
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at:
        user, colon, password = userinfo.partition(":")
        found.append(password if colon else user)
    for match in _SECRET_OPTION.finditer(f"?{parts.query}"):
        found.append(f"?{parts.query}"[match.end(1) : match.end()])
    return tuple(s for s in {*found, *(unquote(s) for s in found)} if s)


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***``.

    A last line of defence for messages built from third-party exception text.

    Examples
    --------
    >>> scrub("AUTH hunter2 failed", ("hunter2",))
    'AUTH *** failed'
    """
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    return text
