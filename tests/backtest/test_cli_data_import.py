"""``parity data import`` against the real MongoDB-wire server: counts, idempotence, errors."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any

import pymongo.database
import pytest
from _backtest_testkit import REPO, parity
from typer.testing import CliRunner

import backtest.commands.data_import  # noqa: F401  (registers `data import` on the app)
from backtest._app import app
from backtest.cli import main
from framework.loading import load_candles

Database = pymongo.database.Database[dict[str, Any]]

EURUSD_2026 = REPO / "data" / "EURUSD_M15_2026.csv.gz"
ROWS = 200


def head(rows: int) -> list[str]:
    """The header and the first ``rows`` data lines of the bundled EURUSD file."""
    with gzip.open(EURUSD_2026, "rt") as lines:
        return [next(lines).rstrip("\n") for _ in range(rows + 1)]


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "EURUSD_M15_head.csv"
    path.write_text("\n".join(head(ROWS)) + "\n")
    return path


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    """The same file, except that data row 3 closes above its high."""
    lines = head(ROWS)
    assert lines[3] == "2026-01-15T14:45:00Z,1.16318,1.16320,1.16251,1.16252,629"
    lines[3] = "2026-01-15T14:45:00Z,1.16318,1.16320,1.16251,1.16330,629"
    path = tmp_path / "EURUSD_M15_bad.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def import_json(
    path: Path, uri: str, db: Database, capsys: pytest.CaptureFixture[str], *more: str
) -> dict[str, Any]:
    code = main(["data", "import", str(path), "--to", uri, "--db", db.name, "--json", *more])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    summary: dict[str, Any] = json.loads(out)
    return summary


def test_import_prints_json_counts_and_writes_every_bar(
    good: Path, mongo_uri: str, mongo_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = import_json(good, mongo_uri, mongo_db, capsys)

    assert summary == {
        "file": str(good),
        "symbol": "EURUSD",
        "timeframe": "M15",
        "to": f"{mongo_uri} {mongo_db.name}.candles",
        "inserted": ROWS,
        "updated": 0,
        "unchanged": 0,
    }
    candles = mongo_db["candles"]
    assert candles.count_documents({"symbol": "EURUSD", "timeframe": "M15"}) == ROWS
    assert candles.index_information()["candle_bar"]["unique"] is True
    first = candles.find_one({}, {"_id": 0}, sort=[("time", 1)])
    assert first is not None
    assert first["time"] == load_candles(good).times()[0].to_pydatetime()
    assert (first["open"], first["high"], first["low"], first["close"], first["volume"]) == (
        1.1633,
        1.16347,
        1.16318,
        1.1634,
        489.0,
    )


def test_a_second_import_changes_nothing_and_a_corrected_row_is_one_update(
    good: Path, mongo_uri: str, mongo_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    import_json(good, mongo_uri, mongo_db, capsys)

    again = import_json(good, mongo_uri, mongo_db, capsys)
    lines = good.read_text().splitlines()
    assert lines[5] == "2026-01-15T15:15:00Z,1.16233,1.16236,1.16175,1.16194,1172"
    lines[5] = "2026-01-15T15:15:00Z,1.16233,1.16236,1.16175,1.16197,1172"  # row 5's close
    good.write_text("\n".join(lines) + "\n")
    corrected = import_json(good, mongo_uri, mongo_db, capsys)

    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, ROWS)
    assert (corrected["inserted"], corrected["updated"], corrected["unchanged"]) == (
        0,
        1,
        ROWS - 1,
    )
    assert mongo_db["candles"].count_documents({}) == ROWS
    assert mongo_db["candles"].count_documents({"close": 1.16197}) == 1


def test_collection_option_and_the_table_output(
    good: Path, mongo_uri: str, mongo_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["data", "import", str(good), "--to", mongo_uri, "--db", mongo_db.name,
                 "--collection", "bars"])  # fmt: skip

    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    text = " ".join(out.split())  # Rich wraps at the terminal width
    where = f"{mongo_uri} {mongo_db.name}.bars"
    assert text == f"EURUSD M15 → {where}: {ROWS} inserted, 0 updated, 0 unchanged"
    assert mongo_db["bars"].count_documents({}) == ROWS
    assert "candles" not in mongo_db.list_collection_names()


@pytest.mark.parametrize("option", ["--database", "--db"])
def test_the_database_option_is_spelt_as_in_parity_live_and_the_readme(
    good: Path, mongo_uri: str, mongo_db: Database, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    code = main(["data", "import", str(good), "--to", mongo_uri, option, mongo_db.name, "--json"])

    assert code == 0, capsys.readouterr().err
    assert mongo_db["candles"].count_documents({}) == ROWS


def test_a_bad_row_stops_the_import_naming_the_row_and_writes_nothing(
    bad: Path, mongo_uri: str, mongo_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["data", "import", str(bad), "--to", mongo_uri, "--db", mongo_db.name])

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        f"error: {bad}: line 4: high < max(open, close) (bar 2026-01-15T14:45:00+00:00)"
    ]
    assert mongo_db["candles"].count_documents({}) == 0


def test_a_bad_file_leaves_what_is_stored_untouched(
    good: Path, bad: Path, mongo_uri: str, mongo_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    import_json(good, mongo_uri, mongo_db, capsys)
    before = list(mongo_db["candles"].find({}, {"_id": 0}).sort("time", 1))
    # Row 2 is changed validly, row 3 is invalid: neither may reach the database.
    lines = bad.read_text().splitlines()
    lines[2] = lines[2].replace(",1.16319,", ",1.16320,")
    bad.write_text("\n".join(lines) + "\n")

    assert main(["data", "import", str(bad), "--to", mongo_uri, "--db", mongo_db.name]) == 1
    assert "line 4" in capsys.readouterr().err
    assert list(mongo_db["candles"].find({}, {"_id": 0}).sort("time", 1)) == before


def test_the_typer_app_reads_the_uri_from_the_environment(
    good: Path, mongo_uri: str, mongo_db: Database
) -> None:
    runner = CliRunner()
    args = ["data", "import", str(good), "--db", mongo_db.name, "--json"]

    result = runner.invoke(app, args, env={"PARITY_MONGODB_URI": mongo_uri})

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["inserted"] == ROWS
    assert mongo_db["candles"].count_documents({}) == ROWS


# --- the real process ------------------------------------------------------------------


def test_process_imports_the_bundled_file_twice_with_exit_0_and_json(
    mongo_uri: str, mongo_db: Database
) -> None:
    # The URI from the environment, as a deployment would give it.
    args = ("data", "import", str(EURUSD_2026), "--db", mongo_db.name, "--json")
    first = parity(*args, env={"PARITY_MONGODB_URI": mongo_uri})
    second = parity(*args, env={"PARITY_MONGODB_URI": mongo_uri})

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    rows = len(load_candles(EURUSD_2026))
    assert json.loads(first.stdout)["inserted"] == rows
    summary = json.loads(second.stdout)
    assert (summary["inserted"], summary["updated"], summary["unchanged"]) == (0, 0, rows)
    assert mongo_db["candles"].count_documents({}) == rows


def test_process_exits_1_with_one_line_for_a_bad_row(
    bad: Path, mongo_uri: str, mongo_db: Database
) -> None:
    done = parity("data", "import", str(bad), "--to", mongo_uri, "--db", mongo_db.name)

    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: {bad}: line 4: high < max(open, close) (bar 2026-01-15T14:45:00+00:00)"
    ]
    assert mongo_db["candles"].count_documents({}) == 0


def test_process_exits_1_with_one_line_for_an_unreachable_server(good: Path) -> None:
    started = time.monotonic()
    done = parity("data", "import", str(good), "--to", "mongodb://importer:s3cretPW@127.0.0.1:1/")
    elapsed = time.monotonic() - started

    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: candle source mongodb://importer:***@127.0.0.1:1/: ")
    assert "s3cretPW" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    # The 2 s server-selection timeout, plus the interpreter's start: never pymongo's 30 s.
    assert elapsed < 15, elapsed


def test_database_is_an_option_even_without_a_server(good: Path) -> None:
    done = parity("data", "import", str(good), "--to", "mongodb://127.0.0.1:1/", "--database", "x")

    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("error: candle source mongodb://127.0.0.1:1/"), done.stderr


def test_process_exits_2_without_a_uri(good: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARITY_MONGODB_URI", raising=False)

    done = parity("data", "import", str(good))

    assert done.returncode == 2
    assert "--to" in done.stderr
