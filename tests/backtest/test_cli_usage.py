"""Usage errors Typer itself finds (options, commands) are one line too, exit 2."""

from __future__ import annotations

import pytest

from backtest.cli import main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["backtest", "--bogus"], "error: No such option: --bogus (see parity backtest --help)"),
        (
            ["backtest", "--strategy", "ma_unified"],
            "error: Missing option '--data' / '-d'. (see parity backtest --help)",
        ),
        (
            ["backtest", "--strategy", "ma_unified", "--data", "x.csv", "--commission", "abc"],
            "error: Invalid value for '--commission': ",
        ),
        (["nosuch"], "error: No such command 'nosuch'. (see parity --help)"),
        (["data", "info"], "error: Missing argument 'path'. (see parity data info --help)"),
    ],
)
def test_a_typer_usage_error_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code = main(args)

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith(message)


def test_help_still_prints_the_usage_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "--help"]) == 0
    assert "Usage: parity backtest" in capsys.readouterr().out


def test_a_group_without_its_command_shows_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["data"])

    captured = capsys.readouterr()
    assert code == 2
    assert "info" in captured.out and "import" in captured.out
    assert captured.err == ""
