"""``parity verify``: real argument parsing, the JSON report, exit codes and messages."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from _backtest_testkit import REPORT_KEYS
from _backtest_testkit import parity as console_script
from typer.testing import CliRunner

import backtest.cli  # noqa: F401  (registers every command on the app)
from backtest._app import app
from backtest.cli import main
from framework.engine import run_full
from framework.loading import load_candles, save_candles
from strategies.ma_unified import MAUnifiedStrategy

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "EURUSD_M15_2026.csv.gz"
PLANTED = "tests/backtest/test_parity_planted.py:PlantedDivergence"
PLANT_AT = 300  # as in test_parity_planted.py


@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 1,500 bars of the bundled EURUSD file, in the same format."""
    path = tmp_path_factory.mktemp("data") / "EURUSD_M15_small.csv.gz"
    save_candles(load_candles(DATA).slice(0, 1500), path)
    return path


@pytest.fixture(autouse=True)
def embedded_store_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # CI exports PARITY_REDIS_URL, which --store reads; these tests choose their store.
    monkeypatch.delenv("PARITY_REDIS_URL", raising=False)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["verify", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def parity(*args: str) -> subprocess.CompletedProcess[str]:
    """The console script, with room for the report's long lines (COLUMNS=200)."""
    return console_script(*args, env={"COLUMNS": "200"}, timeout_s=120)


def test_verify_json_reports_identical_paths_with_every_key_issue_5_lists(small_data: Path) -> None:
    code, out = invoke(
        "-s", "ma_unified", "-d", str(small_data), "-p", "fast=10", "-p", "slow=40", "--json"
    )

    report = json.loads(out)
    assert code == 0, out
    assert set(report) >= REPORT_KEYS
    assert report["mismatches"] == 0 and report["first_mismatch"] is None
    assert report["candles"] == 1500
    assert report["store"] == "memory"
    assert report["restarts"] == 3, "the default"
    full = run_full(MAUnifiedStrategy(fast=10, slow=40), load_candles(small_data))
    assert report["signals_full"] == report["signals_incremental"] == len(full.signals)


def test_verify_honours_chunks_restarts_and_seed(small_data: Path) -> None:
    code, out = invoke(
        "-s", "ma_unified", "-d", str(small_data), "--chunks", "7", "--restarts", "5",
        "--seed", "9", "--json",
    )  # fmt: skip

    report = json.loads(out)
    assert code == 0, out
    assert report["chunks"] == math.ceil(1500 / 7)
    assert report["restarts"] == 5


def test_verify_prints_a_table_with_the_verdict(small_data: Path) -> None:
    code, out = invoke("-s", "ma_unified", "-d", str(small_data), "--chunks", "random")

    assert code == 0, out
    assert "IDENTICAL" in out
    assert "1,500" in out


def test_restarts_beyond_the_chunk_boundaries_are_capped_and_it_says_so(small_data: Path) -> None:
    args = ["verify", "-s", "ma_unified", "-d", str(small_data), "--chunks", "100"]

    result = CliRunner().invoke(app, [*args, "--restarts", "100000"], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "note: --restarts 100,000 capped to 14, one at each boundary between the 15 chunks"
    ]
    assert "│ 15 / 14 │" in " ".join(result.stdout.split())
    quiet = CliRunner().invoke(app, [*args, "--restarts", "14"])
    assert (quiet.exit_code, quiet.stderr) == (0, ""), "no note when nothing is capped"


def test_every_count_in_the_table_has_thousands_separators(small_data: Path) -> None:
    code, out = invoke("-s", "ma_unified", "-d", str(small_data), "--chunks", "1", "--restarts",
                       "1200")  # fmt: skip

    assert code == 0, out
    assert "1,500 / 1,200" in out


def test_verify_exits_1_and_prints_the_first_differing_bar_with_both_values(
    small_data: Path,
) -> None:
    strategy = ["--strategy", PLANTED, "-p", "fast=10", "-p", "slow=50"]
    series = load_candles(small_data)
    right = float(run_full(MAUnifiedStrategy(fast=10, slow=50), series).values["slow"][PLANT_AT])
    wrong = math.nextafter(right, math.inf)

    table = parity("verify", *strategy, "--data", str(small_data), "--store", "memory")
    as_json = parity("verify", *strategy, "--data", str(small_data), "--json")

    assert table.returncode == 1, table.stderr
    assert "DIVERGED" in table.stdout
    when = series.times()[PLANT_AT].isoformat()
    assert f"bar {PLANT_AT} ({when}) slow: full={right!r} incremental={wrong!r}" in table.stdout
    assert "Traceback" not in table.stderr
    assert as_json.returncode == 1, as_json.stderr
    first = json.loads(as_json.stdout)["first_mismatch"]
    assert first == {
        "index": PLANT_AT,
        "time": when,
        "series": "slow",
        "full": right,
        "incremental": wrong,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-s", "ma_unifed"], "error: unknown strategy 'ma_unifed'; did you mean 'ma_unified'?"),
        (["-s", "ma_unified", "-p", "fast=x"], "error: ma_unified: fast must be int, got 'x'"),
        (
            ["-s", "ma_unified", "--chunks", "0"],
            "error: --chunks must be live, random or a positive",
        ),
        (["-s", "ma_unified", "--restarts", "-2"], "error: --restarts must be ≥ 0, got -2"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    small_data: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code = main(["verify", "-d", str(small_data), *args])

    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith(message)
    assert len(err.splitlines()) == 1


def test_an_unreachable_store_exits_1_with_one_line_and_no_password(
    small_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "verify",
            "-s",
            "ma_unified",
            "-d",
            str(small_data),
            "--store",
            "redis://:s3cret@127.0.0.1:1/0",
        ]
    )

    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.startswith("error: state store redis://:***@127.0.0.1:1/0")
    assert "s3cret" not in err
    assert len(err.splitlines()) == 1


def test_unreadable_data_exits_1_and_a_path_to_no_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "EURUSD_M15.csv.gz"
    broken.write_bytes(b"\x1f\x8b\x08 not really gzip")
    missing = tmp_path / "missing.csv"

    codes = [main(["verify", "-s", "ma_unified", "-d", str(path)]) for path in (broken, missing)]

    unreadable, no_file = capsys.readouterr().err.splitlines()
    assert codes == [1, 2]
    assert unreadable.startswith(f"error: {broken}: cannot read the file: ")
    assert no_file == f"error: {missing}: cannot read the file: No such file or directory"


@pytest.mark.redis
def test_verify_uses_the_redis_url_from_the_environment(
    small_data: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARITY_REDIS_URL", redis_url)

    code, out = invoke("-s", "ma_unified", "-d", str(small_data), "--restarts", "5", "--json")

    report = json.loads(out)
    assert code == 0, out
    assert report["mismatches"] == 0 and report["restarts"] == 5
    assert report["store"] != "memory"
    password = urlsplit(redis_url).password
    assert not password or password not in out
