"""``parity backtest``: real argument parsing, JSON, trades CSV, HTML report, exit codes."""

from __future__ import annotations

import csv
import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from _backtest_testkit import STATS_KEYS, parity
from typer.testing import CliRunner

import backtest.cli  # noqa: F401  (registers every command on the app)
from backtest._app import app
from backtest.cli import main
from framework.engine import run_full
from framework.loading import load_candles
from strategies.ma_unified import MAUnifiedStrategy

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "EURUSD_M15_2026.csv.gz"
TRADE_KEYS = {
    "entry_time",
    "exit_time",
    "side",
    "entry_price",
    "exit_price",
    "size",
    "pnl",
    "return_pct",
}
BASE = ["backtest", "--strategy", "ma_unified", "--data", str(DATA)]


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*BASE, *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def backtest_json(*args: str) -> dict[str, Any]:
    code, out = invoke(*args, "--json")
    assert code == 0, out
    data: dict[str, Any] = json.loads(out)
    return data


@pytest.fixture(scope="module")
def default_run() -> dict[str, Any]:
    return backtest_json()


def test_json_has_every_key_issue_5_lists(default_run: dict[str, Any]) -> None:
    assert set(default_run) >= {
        "strategy",
        "params",
        "symbol",
        "timeframe",
        "candles",
        "signals",
        "stats",
        "trades",
    }
    assert set(default_run["stats"]) >= STATS_KEYS
    assert default_run["trades"], "the default strategy trades on the bundled data"
    assert all(set(trade) >= TRADE_KEYS for trade in default_run["trades"])


def test_json_describes_the_run_on_the_bundled_data(default_run: dict[str, Any]) -> None:
    series = load_candles(DATA)
    full = run_full(MAUnifiedStrategy(), series)

    assert default_run["strategy"] == "ma_unified"
    assert default_run["params"] == {"fast": 50, "slow": 200, "kind": "sma", "price": "close"}
    assert (default_run["symbol"], default_run["timeframe"]) == ("EURUSD", "M15")
    assert default_run["candles"] == len(series)
    assert default_run["signals"] == len(full.signals)
    assert default_run["stats"]["n_trades"] == len(default_run["trades"])


def test_json_times_are_iso_8601_strings_in_utc(default_run: dict[str, Any]) -> None:
    for trade in default_run["trades"]:
        entry = datetime.fromisoformat(trade["entry_time"])
        exit_ = datetime.fromisoformat(trade["exit_time"])
        assert entry.utcoffset() == exit_.utcoffset() == UTC.utcoffset(None)
        assert entry <= exit_
        assert trade["side"] in {"long", "short"}
    assert datetime.fromisoformat(default_run["stats"]["start"]).tzinfo is not None


def test_every_backtest_checks_its_own_parity_by_default(default_run: dict[str, Any]) -> None:
    parity = default_run["parity"]

    assert parity["mismatches"] == 0
    assert parity["signals_full"] == parity["signals_incremental"] == default_run["signals"]
    assert parity["candles"] == default_run["candles"]


def test_the_table_says_the_parity_check_passed() -> None:
    code, out = invoke("--to", "2026-03-01")

    assert code == 0, out
    assert "Return [%]" in out and "# Trades" in out
    assert "parity: incremental path identical to full path" in out


def test_no_verify_skips_the_parity_check_and_says_so() -> None:
    code, out = invoke("--to", "2026-03-01", "--no-verify")

    assert code == 0, out
    assert "parity check skipped (--no-verify)" in out
    assert backtest_json("--to", "2026-03-01", "--no-verify")["parity"] is None


def test_from_and_to_cut_the_data_inclusively(default_run: dict[str, Any]) -> None:
    data = backtest_json("--from", "2026-02-01", "--to", "2026-03-31T23:45:00")

    series = load_candles(DATA).between(
        datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 31, 23, 45, tzinfo=UTC)
    )
    assert data["candles"] == len(series) < default_run["candles"]
    assert data["stats"]["start"] == series.times()[0].isoformat()
    assert data["stats"]["end"] == series.times()[-1].isoformat()
    assert data["stats"]["end"] == "2026-03-31T23:45:00+00:00", "the --to bar itself is in"


def test_parameters_and_trading_settings_reach_the_run() -> None:
    data = backtest_json(
        "-p", "fast=10", "-p", "slow=40", "-p", "kind=ema", "--mode", "long-only",
        "--commission", "0.0002", "--spread", "0.0001", "--cash", "5000", "--size", "0.5",
    )  # fmt: skip

    assert data["params"] == {"fast": 10, "slow": 40, "kind": "ema", "price": "close"}
    assert data["settings"] == {
        "cash": 5000.0,
        "commission": 0.0002,
        "spread": 0.0001,
        "mode": "long-only",
        "size": 0.5,
    }
    assert {trade["side"] for trade in data["trades"]} == {"long"}
    assert data["stats"]["total_commission"] > 0


def test_trades_are_written_as_csv_one_row_per_trade(tmp_path: Path) -> None:
    out = tmp_path / "trades.csv"

    data = backtest_json("--trades", str(out))

    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == data["stats"]["n_trades"]
    assert set(rows[0]) >= TRADE_KEYS
    assert [row["entry_time"] for row in rows] == [t["entry_time"] for t in data["trades"]]
    assert [float(row["pnl"]) for row in rows] == [t["pnl"] for t in data["trades"]]


def test_the_html_report_is_written_as_one_self_contained_file(tmp_path: Path) -> None:
    out = tmp_path / "report.html"

    code, text = invoke("--report", str(out), "--trades", str(tmp_path / "t.csv"))

    html = out.read_text(encoding="utf-8")
    assert code == 0, text
    assert f"report written to {out}" in text.replace("\n", "")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "Plotly" in html and "<table" in html
    assert 'src="http' not in html, "no script or image loaded from the network"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-s", "ma_unifed"], "error: unknown strategy 'ma_unifed'; did you mean 'ma_unified'?"),
        (["-s", "ma_unified", "-p", "fast=abc"], "error: ma_unified: fast must be int, got 'abc'"),
        (["-s", "ma_unified", "-p", "fsat=3"], "error: unknown parameter 'fsat' for ma_unified;"),
        (["-s", "ma_unified", "-p", "fast"], "error: --param expects name=value, got 'fast'"),
        (["-s", "ma_unified", "-p", "fast=300"], "error: ma_unified: fast (300) must be less"),
        (["-s", "ma_unified", "--mode", "long_only"], "error: unknown mode 'long_only'"),
        (["-s", "ma_unified", "--from", "2031-01-01"], "error: "),
        (["-s", "nope.py:Nope"], "error: strategy file nope.py does not exist"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code = main(["backtest", "-d", str(DATA), *args])

    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith(message)
    assert len(err.splitlines()) == 1, err


@pytest.mark.parametrize(
    ("content", "exit_code"),
    [(None, 2), (b"not,a,candle,file\n1,2,3,4\n", 1), (b"\x1f\x8b\x08garbage", 1)],
    ids=["missing", "not-candles", "broken-gzip"],
)
def test_unreadable_data_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, exit_code: int
) -> None:
    path = tmp_path / "EURUSD_M15_bad.csv.gz"
    if content is not None:
        path.write_bytes(content)

    code = main(["backtest", "-s", "ma_unified", "-d", str(path)])

    err = capsys.readouterr().err.strip()
    assert code == exit_code, err
    assert err.startswith("error:") and "EURUSD_M15_bad.csv.gz" in err
    assert len(err.splitlines()) == 1, err


def test_the_console_script_exits_2_on_an_unknown_strategy_without_a_traceback() -> None:
    done = parity(*BASE, "--strategy", "ma_unifed", env={"COLUMNS": "200"})

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "error: unknown strategy 'ma_unifed'; did you mean 'ma_unified'? (installed: "
        + done.stderr.split("(installed: ", 1)[1].strip()
    ]
    assert "Traceback" not in done.stderr


# --- what a new user ran into ------------------------------------------------------------


@pytest.mark.parametrize("option", ["--report", "--trades"])
@pytest.mark.parametrize(
    ("where", "problem"),
    [
        ("missing/dir/out.file", "the directory {tmp}/missing/dir does not exist"),
        (".", "is a directory; name a file"),
    ],
    ids=["no-directory", "a-directory"],
)
def test_an_unwritable_output_path_is_refused_before_the_backtest_runs(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    option: str,
    where: str,
    problem: str,
) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the backtest ran before the output path was checked")

    monkeypatch.setattr("backtest.commands.backtest.run_full", never)
    path = tmp_path / where

    code = main([*BASE, option, str(path)])

    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err == f"error: {option} {path}: {problem.format(tmp=tmp_path)}"


def test_a_range_after_the_data_says_where_the_data_is_and_never_none(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main([*BASE, "--from", "2030-01-01"])

    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith(f"error: {DATA}: no candles for --from 2030-01-01 00:00 UTC; ")
    assert "the data runs from 2026-01-15 14:15 UTC to " in err
    assert "None" not in err


def test_a_reversed_range_is_a_usage_error_saying_so(capsys: pytest.CaptureFixture[str]) -> None:
    code = main([*BASE, "--from", "2026-03-01", "--to", "2026-02-01"])

    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err == "error: --from 2026-03-01 00:00 UTC is after --to 2026-02-01 00:00 UTC"


def test_a_parameter_given_twice_is_a_usage_error_naming_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main([*BASE, "-p", "fast=20", "-p", "fast=30"])

    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err == "error: --param fast is given twice (fast=20, fast=30); give it once"


def test_a_choice_in_capitals_is_the_same_choice() -> None:
    data = backtest_json("-p", "kind=EMA", "-p", "price=Close", "--to", "2026-02-15")

    assert (data["params"]["kind"], data["params"]["price"]) == ("ema", "close")


def test_the_terminal_and_the_html_report_show_the_same_labels_and_values(
    tmp_path: Path,
) -> None:
    report = tmp_path / "r.html"

    code, out = invoke("--to", "2026-03-01", "--report", str(report))

    assert code == 0, out
    page = report.read_text(encoding="utf-8").split("<caption>Statistics</caption>", 1)[1]
    rows = re.findall(r"<tr><th>(.*?)</th><td[^>]*>(.*?)</td></tr>", page)
    assert len(rows) == 20
    terminal = [" ".join(line.strip("│ ").split()) for line in out.splitlines()]
    for label, value in rows:
        assert f"{html.unescape(label)} │ {html.unescape(value)}" in terminal
    assert re.search(r"Max drawdown duration │ \d+ days?, \d+:\d\d:\d\d", "\n".join(terminal))


def test_status_lines_are_not_wrapped_when_the_output_is_piped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # what Rich assumes for a pipe

    code = main(["backtest", "--strategy", "ma_unified", "--data", str(DATA)])

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    [status] = [line for line in lines if line.startswith("parity: ")]
    assert status.endswith("every indicator value bit for bit)") and len(status) > 80


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("option", ["--report", "--trades"])
def test_a_write_that_fails_after_the_run_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], option: str
) -> None:
    args = ["backtest", "--strategy", "ma_unified", "--data", str(DATA), "--no-verify"]

    code = main([*args, option, "/dev/full"])

    assert code == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line == f"error: {option} /dev/full: cannot write: No space left on device"
