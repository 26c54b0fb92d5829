"""``rediss://`` against a private TLS-only redis-server with a certificate from a test CA.

Marker ``redis``: needs a redis-server built with TLS and the ``openssl`` command.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from _state_testkit import FAST_POLICY, signal, step, stream

from framework.errors import StoreError
from framework.state import StoreUnavailable, open_store

pytestmark = pytest.mark.redis


@dataclass
class TlsServer:
    port: int
    password: str
    ca: Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[TlsServer]:
    """A private redis-server that speaks only TLS, with a certificate from a test CA."""
    binary = os.environ.get("PARITY_REDIS_SERVER_BIN") or shutil.which("redis-server")
    if not binary or not shutil.which("openssl"):
        pytest.skip("needs redis-server and the openssl command")
    ca, ca_key, cert, key = (tmp_path / n for n in ("ca.pem", "ca.key", "srv.pem", "srv.key"))
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=parity-test-ca",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca),
    )
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        str(key),
        "-out",
        str(tmp_path / "srv.csr"),
    )
    (tmp_path / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl(
        "x509",
        "-req",
        "-days",
        "1",
        "-in",
        str(tmp_path / "srv.csr"),
        "-CA",
        str(ca),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-extfile",
        str(tmp_path / "ext.cnf"),
        "-out",
        str(cert),
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    password = uuid.uuid4().hex
    conf = tmp_path / "redis.conf"
    conf.write_text(
        f"port 0\ntls-port {port}\nbind 127.0.0.1\ntls-cert-file {cert}\ntls-key-file {key}\n"
        f'tls-ca-cert-file {ca}\ntls-auth-clients no\nrequirepass {password}\nsave ""\n'
    )
    log = (tmp_path / "redis.log").open("wb")
    proc = subprocess.Popen([binary, str(conf)], stdout=log, stderr=log)
    server = TlsServer(port, password, ca)
    try:
        probe_store = open_store(_tls_url(server), policy=FAST_POLICY)
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                tail = (tmp_path / "redis.log").read_text()[-300:]
                pytest.skip(f"redis-server has no TLS support: {tail}")
            try:
                probe_store.ping()
                break
            except StoreError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        probe_store.close()
        yield server
    finally:
        proc.kill()
        proc.wait(timeout=10)
        log.close()


def _tls_url(server: TlsServer, *, ca: bool = True) -> str:
    query = f"?ssl_ca_certs={server.ca}" if ca else ""
    return f"rediss://:{server.password}@127.0.0.1:{server.port}/0{query}"


def test_a_rediss_url_commits_over_tls(tls_server: TlsServer) -> None:
    store = open_store(_tls_url(tls_server), policy=FAST_POLICY)
    key = stream()

    stored = store.commit(key, step(None, 1), [signal(key, 1)])

    assert store.load(key) == stored
    assert store.name.startswith("rediss://:***@127.0.0.1:")


def test_an_untrusted_tls_certificate_is_one_line_without_secrets(tls_server: TlsServer) -> None:
    store = open_store(_tls_url(tls_server, ca=False), policy=FAST_POLICY)

    with pytest.raises(StoreUnavailable, match="CERTIFICATE_VERIFY_FAILED") as caught:
        store.ping()

    assert tls_server.password not in str(caught.value) and "\n" not in str(caught.value)
