"""``parity live`` as a user types it: one readable line and the right exit code per mistake."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _backtest_testkit import REPO

from backtest.cli import main

DATA = "data/EURUSD_M15_2026.csv.gz"
STREAM = ["--strategy", "ma_unified", "--symbol", "EURUSD", "--timeframe", "M15"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["live", *args])
    return code, capsys.readouterr().err


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--audit", "-1"], "--audit must be ≥ 0 streams per cycle, got -1"),
        (["--interval", "0"], "--interval must be > 0 and ≤ 604,800 seconds, got 0.0"),
        (["--interval", "-5"], "--interval must be > 0 and ≤ 604,800 seconds, got -5.0"),
        (["--interval", "inf"], "--interval must be > 0 and ≤ 604,800 seconds, got inf"),
        (["--delay", "-1"], "--delay must be 0 to 604,800 seconds, got -1.0"),
        (["--delay", "1e10"], "--delay must be 0 to 604,800 seconds, got 10000000000.0"),
        (["--metrics-port", "99999"], "--metrics-port must be 1 to 65535, got 99999"),
        (["--store", "memroy"], "state store URL memroy: scheme must be memory"),
        (["--source", "mongdb://127.0.0.1:27017/"], "candle source mongdb://…: scheme must be"),
    ],
)
def test_a_bad_option_value_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, err = run(capsys, *STREAM, "--source", DATA, "--once", "--quiet", *args)

    assert code == 2
    assert message in one_line(err)


def test_a_stream_without_symbols_or_a_source_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARITY_MONGODB_URI", raising=False)

    no_symbol = run(capsys, "--strategy", "ma_unified", "--timeframe", "M15", "--source", DATA)
    no_source = run(capsys, *STREAM, "--once")

    assert (no_symbol[0], one_line(no_symbol[1])) == (
        2,
        "error: --strategy needs at least one --symbol and one --timeframe",
    )
    assert no_source[0] == 2
    assert "no candle source: give --source" in one_line(no_source[1])


def test_a_configuration_missing_a_key_names_it_and_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "live.toml"
    config.write_text('[[streams]]\nstrategy = "ma_unified"\ntimeframes = ["M15"]\n')

    code, err = run(capsys, "--config", str(config), "--source", DATA, "--once")

    assert (code, one_line(err)) == (2, f"error: {config}: [[streams]] #1 lacks 'symbols'")


def test_the_signal_handlers_of_the_caller_are_restored(capsys: pytest.CaptureFixture[str]) -> None:
    before = [signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)]

    run(capsys, *STREAM, "--source", DATA, "--once", "--quiet")

    assert [signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)] == before


def test_once_exits_1_when_its_cycle_failed(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(
        capsys, "--strategy", "ma_unified", "--symbol", "GBPUSD", "--timeframe", "M15",
        "--source", DATA, "--once", "--quiet",
    )  # fmt: skip

    assert code == 1
    assert one_line(err) == "error: the cycle failed: no candles for GBPUSD M15"


def test_a_busy_metrics_port_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        code, err = run(
            capsys, *STREAM, "--source", DATA, "--once", "--quiet", "--metrics-port", str(port)
        )

    assert code == 1
    assert one_line(err).startswith(f"error: metrics port {port}: ")


@pytest.fixture
def service() -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "backtest", "live", *STREAM, "--source", DATA, "--quiet",
         "--interval", "60", "--log-json"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_sigterm_while_waiting_stops_without_running_another_cycle(
    service: subprocess.Popen[str],
) -> None:
    assert service.stderr is not None
    lines = []
    deadline = time.monotonic() + 60
    while not any('"cycle' in line for line in lines) and time.monotonic() < deadline:
        lines.append(service.stderr.readline())
    started = time.monotonic()

    service.send_signal(signal.SIGTERM)
    _, rest = service.communicate(timeout=30)

    assert service.returncode == 0
    assert time.monotonic() - started < 10  # not the 60 s interval, nor another cycle
    log = "".join(lines) + rest
    assert log.count('"cycle') == 1 and '"stopped"' in log
