"""``parity cache``: what it says when it looks at the embedded, per-process store."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import backtest.cli  # noqa: F401  (registers every command on the app)
from backtest._app import app
from backtest.commands.cache import EMBEDDED_HINT


@pytest.fixture(autouse=True)
def embedded_store_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # CI exports PARITY_REDIS_URL, which --store reads; these tests use the default.
    monkeypatch.delenv("PARITY_REDIS_URL", raising=False)


@pytest.mark.parametrize(
    "args", [["cache", "stats"], ["cache", "stats", "--json"], ["cache", "invalidate"]]
)
def test_the_embedded_store_comes_with_a_one_line_hint_on_stderr(args: list[str]) -> None:
    result = CliRunner().invoke(app, args, env={"COLUMNS": "400"})

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [EMBEDDED_HINT]
    assert "--store" in EMBEDDED_HINT and "PARITY_REDIS_URL" in EMBEDDED_HINT
    if "--json" in args:
        assert json.loads(result.stdout)["streams"] == 0, "stdout stays one JSON object"


def test_a_named_store_gets_no_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("backtest.commands.cache.open_store", _renamed_store)

    result = CliRunner().invoke(app, ["cache", "stats"])

    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def _renamed_store(url: str, *, prefix: str) -> object:
    from framework.state import open_store

    store = open_store("memory", prefix=prefix)
    store.name = "redis://127.0.0.1:6379/0"  # as a real server's store is named
    return store
