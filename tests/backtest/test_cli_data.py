"""``parity data info``: the table, the JSON object, and exit codes with one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _backtest_testkit import REPO, parity
from typer.testing import CliRunner

import backtest.cli  # noqa: F401  (attaches the commands and the root options)
from backtest._app import app
from backtest.cli import main
from framework.errors import DataError

EURUSD_2026 = REPO / "data" / "EURUSD_M15_2026.csv.gz"
GOOD = """time,open,high,low,close,volume
2026-01-16T21:30:00Z,1.16330,1.16347,1.16318,1.16340,489
2026-01-16T21:45:00Z,1.16340,1.16350,1.16316,1.16319,415
2026-01-18T22:00:00Z,1.16319,1.16330,1.16300,1.16310,380
2026-01-18T22:15:00Z,1.16310,1.16360,1.16305,1.16355,512
"""
runner = CliRunner()


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "EURUSD_M15.csv"
    path.write_text(GOOD)
    return path


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "EURUSD_M15_bad.csv"
    path.write_text(GOOD.replace("1.16350,1.16316", "1.16300,1.16316"))  # row 2: high too low
    return path


def info_json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["data", "info", *args, "--json"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


def test_json_reports_rows_symbol_timeframe_decimals_span_gaps_and_validity(good: Path) -> None:
    report = info_json(str(good))

    assert report == {
        "file": str(good),
        "valid": True,
        "rows": 4,
        "symbol": "EURUSD",
        "symbol_from": "file name",
        "timeframe": "M15",
        "timeframe_from": "bar spacing",
        "decimals": 5,
        "decimals_from": "instrument table",
        "start": "2026-01-16T21:30:00Z",
        "end": "2026-01-18T22:15:00Z",
        "gaps": {
            "count": 1,
            "largest_seconds": 48 * 3600,
            "largest_from": "2026-01-16T22:00:00Z",
            "largest_to": "2026-01-18T22:00:00Z",
        },
    }


def test_options_override_what_the_file_suggests(good: Path) -> None:
    report = info_json(str(good), "--symbol", "gbpusd", "--timeframe", "m5", "--decimals", "6")

    assert (report["symbol"], report["timeframe"], report["decimals"]) == ("GBPUSD", "M5", 6)
    assert (
        report["symbol_from"] == report["timeframe_from"] == report["decimals_from"] == "argument"
    )


def test_the_bundled_data_reports_its_documented_facts() -> None:
    report = info_json(str(EURUSD_2026))

    assert (report["rows"], report["start"], report["end"]) == (
        11_998,
        "2026-01-15T14:15:00Z",
        "2026-07-09T21:30:00Z",
    )
    gaps = report["gaps"]
    assert isinstance(gaps, dict) and gaps["count"] > 0


def test_without_json_a_table_shows_the_facts(good: Path) -> None:
    result = runner.invoke(app, ["data", "info", str(good)], terminal_width=200)

    assert result.exit_code == 0, result.output
    for text in ("EURUSD (from file name)", "M15 (from bar spacing)", "2 days, 0:00:00", "valid"):
        assert text in result.stdout


def test_invalid_data_raises_the_data_error_for_main_to_print(bad: Path) -> None:
    result = runner.invoke(app, ["data", "info", str(bad)])

    assert result.exit_code == 1
    assert isinstance(result.exception, DataError)
    assert result.exception.row == 2


def test_invalid_data_with_json_still_prints_one_json_object(bad: Path) -> None:
    result = runner.invoke(app, ["data", "info", str(bad), "--json"])

    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert (report["error"]["row"], report["error"]["line"]) == (2, 3), "line 1 is the header"
    assert report["error"]["rule"].startswith("high < max(open, close)")


def test_main_turns_a_data_error_into_one_line_and_exit_1(
    bad: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["data", "info", str(bad)])

    assert code == 1
    assert capsys.readouterr().err == f"error: {bad}: line 3: " + (
        "high < max(open, close) (bar 2026-01-16T21:45:00+00:00)\n"
    )


def test_main_turns_a_parameter_error_into_exit_2(
    good: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["data", "info", str(good), "--timeframe", "M2"])

    assert code == 2
    assert capsys.readouterr().err.startswith("error: unknown timeframe 'M2'")


def test_an_error_quoting_brackets_is_printed_verbatim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "EURUSD_M15.csv"
    path.write_text(GOOD.replace("1.16347", "[bold]"))

    assert main(["data", "info", str(path)]) == 1
    assert "high '[bold]' is not a number" in capsys.readouterr().err


@pytest.mark.parametrize("args", [[], ["--symbol", "EURUSD"]], ids=["named", "symbol-given"])
def test_a_file_sorted_newest_first_is_reported_as_out_of_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    header, *rows = GOOD.splitlines()
    path = tmp_path / ("EURUSD_M15.csv" if not args else "export.csv")
    path.write_text("\n".join([header, *reversed(rows)]) + "\n")

    code = main(["data", "info", str(path), *args])

    assert code == 1
    rule = "time is earlier than the row before (bar 2026-01-18T22:00:00+00:00)"
    assert capsys.readouterr().err == f"error: {path}: line 3: {rule}\n"


# --- the real process: exit codes, stderr, stdout ------------------------------------------


def test_process_exits_0_with_json_only_on_stdout() -> None:
    done = parity("data", "info", str(EURUSD_2026), "--json")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["valid"] is True
    assert done.stderr == ""


def test_process_exits_1_with_one_line_on_stderr_and_json_on_stdout(bad: Path) -> None:
    done = parity("data", "info", str(bad), "--json")

    assert done.returncode == 1
    assert json.loads(done.stdout)["valid"] is False
    assert done.stderr.splitlines() == [
        f"error: {bad}: line 3: high < max(open, close) (bar 2026-01-16T21:45:00+00:00)"
    ]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timeframe", "M2"], "error: unknown timeframe 'M2'"),
        (["--decimals", "9"], "error: EURUSD: price decimals must be 0..8, got 9"),
    ],
)
def test_process_exits_2_on_a_bad_option(good: Path, args: list[str], message: str) -> None:
    done = parity("data", "info", str(good), *args)

    assert done.returncode == 2
    assert done.stderr.startswith(message)
    assert len(done.stderr.splitlines()) == 1


def test_process_exits_2_for_a_missing_file(tmp_path: Path) -> None:
    done = parity("data", "info", str(tmp_path / "nope.csv"))

    assert done.returncode == 2
    assert done.stderr.strip().endswith("cannot read the file: No such file or directory")


def test_process_exits_2_on_a_usage_error() -> None:
    done = parity("data", "info")

    assert done.returncode == 2
    assert "missing argument" in done.stderr.lower()
