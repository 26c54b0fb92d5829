"""Shared pytest configuration and fixtures for Parity's test suite."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pymongo
import pymongo.database
import pymongo.errors
import pytest
import redis
from hypothesis import settings

# ===========================================================================
# Hypothesis profiles, chosen with PARITY_HYPOTHESIS_PROFILE (CI sets "ci"):
#   ci        hundreds of examples per property, no deadline (CI machines are noisy)
#   dev       quick local runs
#   thorough  thousands of examples, for a long local hunt
# Without it, "default": Hypothesis' 100 examples, no deadline.
# ===========================================================================
settings.register_profile("default", deadline=None)
settings.register_profile("ci", max_examples=300, deadline=None)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile("thorough", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("PARITY_HYPOTHESIS_PROFILE", "default"))

# ===========================================================================
# Real servers: Redis and a MongoDB-wire server (FerretDB + SQLite)
#
# Tests marked `redis` / `mongo` (or using the fixtures below, which marks them
# automatically) need real servers. `.ci/services.sh` starts both and exports:
#   PARITY_REDIS_URL          redis://:PASSWORD@127.0.0.1:PORT/0
#   PARITY_REDIS_SERVER_BIN   redis-server used by `redis_server_factory`
#   PARITY_MONGODB_URI        mongodb://127.0.0.1:PORT/
#   PARITY_MONGO_SERVER_BIN   built tests/mongo_server used by `mongo_server_factory`
# Without them those tests skip, unless PARITY_REQUIRE_SERVERS=1 (CI), which
# turns every such skip into a failure.
# ===========================================================================

REDIS_URL_ENV = "PARITY_REDIS_URL"
MONGO_URI_ENV = "PARITY_MONGODB_URI"
REDIS_BIN_ENV = "PARITY_REDIS_SERVER_BIN"
MONGO_BIN_ENV = "PARITY_MONGO_SERVER_BIN"
REQUIRE_SERVERS_ENV = "PARITY_REQUIRE_SERVERS"

SERVER_MARKERS = ("redis", "mongo")
_HOW_TO = "(source .ci/services.sh, then start_redis / start_mongo; see README)"
REDIS_SKIP_REASON = (
    f"set {REDIS_URL_ENV} to a redis:// URL of a running server to run real-Redis tests {_HOW_TO}"
)
MONGO_SKIP_REASON = (
    f"set {MONGO_URI_ENV} to a mongodb:// URI of a running server to run real-MongoDB tests "
    f"{_HOW_TO}"
)
STARTUP_TIMEOUT_S = 30.0

# Fixtures that imply a marker, so a test cannot dodge PARITY_REQUIRE_SERVERS
# by forgetting to mark itself.
_FIXTURE_MARKERS: dict[str, str] = {
    "redis_url": "redis",
    "redis_server_factory": "redis",
    "mongo_uri": "mongo",
    "mongo_server_factory": "mongo",
}


def _servers_required() -> bool:
    return os.environ.get(REQUIRE_SERVERS_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def pytest_configure(config: pytest.Config) -> None:
    """Register the server markers so the suite also works without pyproject."""
    config.addinivalue_line("markers", "redis: needs a real redis-server (PARITY_REDIS_URL)")
    config.addinivalue_line(
        "markers", "mongo: needs a real MongoDB-wire server (PARITY_MONGODB_URI)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests that use a real-server fixture with that server's marker."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        for fixture, marker in _FIXTURE_MARKERS.items():
            if fixture in names and item.get_closest_marker(marker) is None:
                item.add_marker(marker)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """With PARITY_REQUIRE_SERVERS=1, a skipped real-server test is a failure."""
    report = yield
    if not (report.skipped and _servers_required()) or hasattr(report, "wasxfail"):
        return report
    markers = [m for m in SERVER_MARKERS if item.get_closest_marker(m) is not None]
    if not markers:
        return report
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    reason = reason.removeprefix("Skipped: ")
    report.outcome = "failed"
    report.longrepr = (
        f"{REQUIRE_SERVERS_ENV}=1 but this {'/'.join(markers)} test was skipped: {reason}"
    )
    return report


def _free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _terminate(proc: subprocess.Popen[bytes] | None, *, graceful: bool = True) -> None:
    if proc is None or proc.poll() is not None:
        return
    if graceful:
        proc.terminate()
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            pass
    proc.kill()
    proc.wait(timeout=10)


@dataclass
class _ServerProcess:
    """A private server process on its own port, which a test may stop and restart."""

    binary: str
    workdir: Path
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Shut down gracefully (SIGTERM)."""
        _terminate(self.proc)

    def kill(self) -> None:
        """Crash it (SIGKILL), for tests of abrupt failures."""
        _terminate(self.proc, graceful=False)

    def _wait_ready(self, name: str, log: Path, answers: Callable[[], bool]) -> None:
        """Poll ``answers`` until it is true; on exit or timeout, raise with the log's tail."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited during startup:\n{_tail(log)}")
            if answers():
                return
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(
                    f"{name} on port {self.port} not ready in {STARTUP_TIMEOUT_S}s:\n{_tail(log)}"
                )
            time.sleep(0.05)


_Server = TypeVar("_Server", bound=_ServerProcess)


def _started_servers(make: Callable[[], _Server]) -> Iterator[Callable[[], _Server]]:
    """Body of a server-factory fixture: yields a starter; kills every server at teardown."""
    servers: list[_Server] = []

    def start() -> _Server:
        server = make()
        servers.append(server)
        server.start()
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.kill()


# --- Redis ------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the real Redis server from PARITY_REDIS_URL; skips when unset."""
    url = os.environ.get(REDIS_URL_ENV, "").strip()
    if not url:
        pytest.skip(REDIS_SKIP_REASON)
    if urlsplit(url).scheme not in {"redis", "rediss", "unix"}:
        pytest.fail(f"{REDIS_URL_ENV} must be a redis://, rediss:// or unix:// URL", pytrace=False)

    client: redis.Redis[bytes] = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        # The message names host and port only; the URL may hold a password.
        pytest.fail(f"{REDIS_URL_ENV} is set but the server does not answer: {exc}", pytrace=False)
    finally:
        client.close()
    return url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis[bytes]]:
    """A real redis-py client (bytes in, bytes out) on PARITY_REDIS_URL."""
    client: redis.Redis[bytes] = redis.Redis.from_url(redis_url, decode_responses=False)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def redis_prefix(redis_client: redis.Redis[bytes]) -> Iterator[str]:
    """A key prefix unique to this test; its keys are deleted afterwards."""
    prefix = f"parity-test:{uuid.uuid4().hex}:"
    yield prefix
    keys = list(redis_client.scan_iter(match=f"{prefix}*", count=1000))
    for i in range(0, len(keys), 500):
        redis_client.delete(*keys[i : i + 500])


@dataclass
class RedisServer(_ServerProcess):
    """A private redis-server process a test may stop and restart.

    It has a password and no persistence, so a restart starts empty, like a
    cache node that lost its memory.
    """

    password: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart) on the same port; returns once it answers PING."""
        if self.running:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "redis.conf"
        # Password in a file, not argv, as a production install would do it.
        conf.write_text(
            f'bind 127.0.0.1\nport {self.port}\nrequirepass {self.password}\nsave ""\n'
            f'appendonly no\ndaemonize no\ndir "{self.workdir}"\n'
        )
        conf.chmod(0o600)
        log = self.workdir / "redis.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [self.binary, str(conf)], stdin=subprocess.DEVNULL, stdout=out, stderr=out
            )
        client: redis.Redis[bytes] = redis.Redis(
            host="127.0.0.1", port=self.port, password=self.password, socket_timeout=1
        )

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        try:
            self._wait_ready("redis-server", log, answers)
        finally:
            client.close()


@pytest.fixture
def redis_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[], RedisServer]]:
    """Callable that starts a private redis-server; all are killed at teardown.

    Uses PARITY_REDIS_SERVER_BIN, else redis-server on PATH; skips if neither.
    """
    binary = os.environ.get(REDIS_BIN_ENV) or shutil.which("redis-server")
    if not binary:
        pytest.skip(f"no redis-server binary: set {REDIS_BIN_ENV} or install redis-server")
    yield from _started_servers(
        lambda: RedisServer(binary=binary, workdir=tmp_path_factory.mktemp("redis-server"))
    )


@pytest.fixture
def redis_server(redis_server_factory: Callable[[], RedisServer]) -> RedisServer:
    """One private, running redis-server (see `redis_server_factory`)."""
    return redis_server_factory()


# --- MongoDB wire (FerretDB) ----------------------------------------------------


def _mongo_client(uri: str, **kwargs: Any) -> pymongo.MongoClient[dict[str, Any]]:
    """A client whose datetimes come back tz-aware in UTC, as Parity's candles are."""
    return pymongo.MongoClient(uri, tz_aware=True, tzinfo=UTC, **kwargs)


@pytest.fixture(scope="session")
def mongo_uri() -> str:
    """URI of the real MongoDB-wire server from PARITY_MONGODB_URI; skips when unset."""
    uri = os.environ.get(MONGO_URI_ENV, "").strip()
    if not uri:
        pytest.skip(MONGO_SKIP_REASON)
    if urlsplit(uri).scheme not in {"mongodb", "mongodb+srv"}:
        pytest.fail(f"{MONGO_URI_ENV} must be a mongodb:// or mongodb+srv:// URI", pytrace=False)

    client = _mongo_client(uri, serverSelectionTimeoutMS=5000)
    try:
        client.admin.command("ping")
    except pymongo.errors.PyMongoError as exc:
        pytest.fail(f"{MONGO_URI_ENV} is set but the server does not answer: {exc}", pytrace=False)
    finally:
        client.close()
    return uri


@pytest.fixture(scope="session")
def mongo_client(mongo_uri: str) -> Iterator[pymongo.MongoClient[dict[str, Any]]]:
    """A session-wide pymongo client (tz_aware, UTC) on PARITY_MONGODB_URI."""
    client = _mongo_client(mongo_uri)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def mongo_db(
    mongo_client: pymongo.MongoClient[dict[str, Any]],
) -> Iterator[pymongo.database.Database[dict[str, Any]]]:
    """A database unique to this test, dropped afterwards."""
    name = f"parity_test_{uuid.uuid4().hex[:16]}"
    try:
        yield mongo_client[name]
    finally:
        mongo_client.drop_database(name)


@dataclass
class MongoServer(_ServerProcess):
    """A private tests/mongo_server process a test may stop and restart.

    Restarts reuse the port and the SQLite directory, so data survives them.
    """

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    def client(self, **kwargs: Any) -> pymongo.MongoClient[dict[str, Any]]:
        """A new pymongo client (tz_aware, UTC) on this server; close it yourself."""
        return _mongo_client(self.uri, **kwargs)

    def start(self) -> None:
        """Start (or restart) on the same port and data; returns once it answers ping."""
        if self.running:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.workdir / "mongo_server.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    self.binary,
                    *("-listen", f"127.0.0.1:{self.port}"),
                    *("-dir", str(self.data_dir)),
                    *("-log-level", "error"),  # not FerretDB's per-client warnings
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
        self._wait_ready("mongo_server", log, self._answers)

    def _answers(self) -> bool:
        # A plain connect first: pymongo would sit out its whole selection
        # timeout on a port that is not listening yet.
        if not _accepts_connections(self.port):
            return False
        client = self.client(serverSelectionTimeoutMS=1000, connectTimeoutMS=1000)
        try:
            client.admin.command("ping")
            return True
        except pymongo.errors.PyMongoError:
            return False
        finally:
            client.close()


@pytest.fixture
def mongo_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[], MongoServer]]:
    """Callable that starts a private mongo_server; all are killed at teardown.

    Uses the binary in PARITY_MONGO_SERVER_BIN (exported by start_mongo); skips if unset.
    """
    binary = os.environ.get(MONGO_BIN_ENV, "").strip()
    if not binary or not os.access(binary, os.X_OK):
        pytest.skip(f"set {MONGO_BIN_ENV} to the built tests/mongo_server binary {_HOW_TO}")
    yield from _started_servers(
        lambda: MongoServer(binary=binary, workdir=tmp_path_factory.mktemp("mongo-server"))
    )


@pytest.fixture
def mongo_server(mongo_server_factory: Callable[[], MongoServer]) -> MongoServer:
    """One private, running mongo_server (see `mongo_server_factory`)."""
    return mongo_server_factory()


# ===========================================================================
# End of the real-server section.
# ===========================================================================
