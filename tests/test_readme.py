"""The README's commands work as written.

Its "Two commands" section: one sets up and runs ``parity backtest`` on bundled data, the
other sets up and runs the tests. CI (``.ci/run``) runs the second verbatim; this file
checks that it does, and runs the first's ``parity backtest …`` with the same arguments.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

import backtest.cli  # noqa: F401  (registers every command on the app)
from backtest._app import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CI = ROOT / ".ci" / "run"


def fenced_blocks(text: str, language: str) -> list[str]:
    """The contents of every ```language fenced block, in order."""
    pattern = rf"^```{re.escape(language)}[ \t]*\n(.*?)^```[ \t]*$"
    return [block.strip() for block in re.findall(pattern, text, flags=re.M | re.S)]


def command_with(program: str, block: str) -> list[str]:
    """The arguments of the ``&&``-chained command of ``block`` that runs ``program``."""
    for command in block.split("&&"):
        words = shlex.split(command)
        if words and Path(words[0]).name == program:
            return words[1:]
    raise AssertionError(f"no {program} command in {block!r}")


def section(text: str, title: str, level: int = 2) -> str:
    """The text under the ``## title`` heading, up to the next heading of that level."""
    hashes = "#" * level
    heading = rf"^{hashes} {re.escape(title)}[ \t]*\n(.*?)(?=^{hashes} |\Z)"
    match = re.search(heading, text, flags=re.M | re.S)
    assert match, f"README has no '{hashes} {title}' section"
    return match.group(1)


@pytest.fixture(scope="module")
def bash_blocks() -> list[str]:
    return fenced_blocks(section(README.read_text(encoding="utf-8"), "Two commands"), "bash")


@pytest.fixture(scope="module")
def backtest_block(bash_blocks: list[str]) -> str:
    [block] = [b for b in bash_blocks if "parity backtest" in b]
    return block


@pytest.fixture(scope="module")
def test_block(bash_blocks: list[str]) -> str:
    [block] = [b for b in bash_blocks if "pytest" in b]
    return block


def test_the_readme_shows_a_backtest_command_and_a_test_command(
    backtest_block: str, test_block: str
) -> None:
    assert backtest_block != test_block
    assert len(backtest_block.splitlines()) == len(test_block.splitlines()) == 1


def test_ci_runs_the_readmes_test_command_verbatim(test_block: str) -> None:
    ci_lines = [line.strip() for line in CI.read_text(encoding="utf-8").splitlines()]

    assert test_block in ci_lines


def test_the_backtest_command_installs_the_package_that_provides_parity(
    backtest_block: str,
) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

    assert command_with("pip", backtest_block)[:1] == ["install"]
    assert "." in command_with("pip", backtest_block)
    assert pyproject["project"]["scripts"]["parity"] == "backtest.cli:run"


def test_the_readmes_backtest_runs_and_shows_its_table(
    backtest_block: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = command_with("parity", backtest_block)
    monkeypatch.chdir(ROOT)  # the README's paths are relative to a checkout

    result = CliRunner().invoke(app, args)

    assert args[0] == "backtest"
    assert result.exit_code == 0, result.output
    assert "Return [%]" in result.stdout and "Sharpe ratio" in result.stdout
    assert "parity: incremental path identical to full path" in result.stdout


def test_the_readmes_strategy_example_verifies_and_backtests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = README.read_text(encoding="utf-8")
    [example] = fenced_blocks(section(readme, "3. Write a strategy", level=3), "python")
    commands = fenced_blocks(section(readme, "3. Write a strategy", level=3), "bash")
    (tmp_path / "my_strategy.py").write_text(example + "\n", encoding="utf-8")
    data = ROOT / "data"
    (tmp_path / "data").symlink_to(data)
    monkeypatch.chdir(tmp_path)

    runs = [shlex.split(line)[1:] for block in commands for line in block.splitlines()]
    results = [CliRunner().invoke(app, args) for args in runs]

    assert [args[0] for args in runs] == ["verify", "backtest"]
    for result in results:
        assert result.exit_code == 0, result.output
    assert "IDENTICAL" in results[0].stdout
