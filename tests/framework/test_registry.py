"""Finding strategies: by name through the `parity.strategies` entry points, or by file.

The third-party package is ``tests/fixtures/plugin_pkg``, a complete project with its own
pyproject.toml. Installing it with pip would need a build backend from the network, so
the `installed_plugin` fixture installs it the way an installer lays it out: a
``<name>-<version>.dist-info`` directory with ``METADATA`` and an ``entry_points.txt``
generated from the package's pyproject.toml (what pip writes to site-packages), plus the
project directory on ``sys.path`` (what an editable install's ``.pth`` entry does).
`importlib.metadata` — the very mechanism `framework.registry` relies on — then sees a
real installed distribution; nothing in Parity is patched.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import backtest.cli  # noqa: F401  (registers every command on the app)
from backtest._app import app
from backtest.cli import main
from backtest.parity import verify
from framework.candles import CandleSeries
from framework.engine import run_full
from framework.errors import ParameterError
from framework.loading import load_candles
from framework.registry import ENTRY_POINT_GROUP, available_strategies, load_strategy
from framework.state import open_store
from framework.strategy import Strategy
from strategies.ma_unified import MAUnifiedStrategy

PLUGIN_PROJECT = Path(__file__).resolve().parents[1] / "fixtures" / "plugin_pkg"
DATA = Path(__file__).resolve().parents[2] / "data" / "EURUSD_M15_2026.csv.gz"

Install = Callable[..., Path]


@pytest.fixture
def install_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    """Install ``tests/fixtures/plugin_pkg`` for this test only; returns its dist-info."""

    def install(extra_points: dict[str, str] | None = None) -> Path:
        project = tomllib.loads((PLUGIN_PROJECT / "pyproject.toml").read_text())["project"]
        name, version = project["name"], project["version"]
        site = tmp_path / "site-packages"
        dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        dist_info.mkdir(parents=True)
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        lines = []
        for group, points in project["entry-points"].items():
            if group == ENTRY_POINT_GROUP:
                points = {**points, **(extra_points or {})}
            lines += [f"[{group}]", *(f"{key} = {value}" for key, value in points.items()), ""]
        (dist_info / "entry_points.txt").write_text("\n".join(lines))
        monkeypatch.syspath_prepend(str(site))
        monkeypatch.syspath_prepend(str(PLUGIN_PROJECT))
        return dist_info

    # Import the plugin's module afresh from the installed location, and forget it after.
    monkeypatch.delitem(sys.modules, "parity_plugin_demo", raising=False)
    yield install


@pytest.fixture(scope="module")
def eurusd_slice() -> CandleSeries:
    return load_candles(DATA).slice(0, 1200)


# --- by name ----------------------------------------------------------------------------


def test_ma_unified_is_found_by_name() -> None:
    assert load_strategy("ma_unified") is MAUnifiedStrategy
    assert available_strategies()["ma_unified"] is MAUnifiedStrategy


def test_a_misspelt_name_gets_a_did_you_mean_hint_and_the_installed_names() -> None:
    with pytest.raises(ParameterError) as caught:
        load_strategy("ma_unifed")

    message = str(caught.value)
    assert message.startswith("unknown strategy 'ma_unifed'; did you mean 'ma_unified'?")
    assert "(installed: " in message and "ma_unified" in message
    assert "\n" not in message


def test_a_name_like_nothing_installed_gets_no_hint() -> None:
    with pytest.raises(ParameterError) as caught:
        load_strategy("zzzz")

    assert "did you mean" not in str(caught.value)


def test_a_plugin_strategy_is_unknown_until_its_package_is_installed() -> None:
    with pytest.raises(ParameterError, match="unknown strategy 'close_cross'"):
        load_strategy("close_cross")


def test_an_installed_package_adds_its_strategies_through_the_entry_point_group(
    install_plugin: Install, eurusd_slice: CandleSeries
) -> None:
    install_plugin()

    found = available_strategies()
    strategy = load_strategy("close_cross")

    assert {"ma_unified", "close_cross"} <= set(found)
    assert found["close_cross"] is strategy
    assert strategy.__module__ == "parity_plugin_demo"
    assert issubclass(strategy, Strategy)
    instance = strategy(period="15")
    assert instance.params == {"period": 15}
    report = verify(instance, eurusd_slice, open_store("memory"), restarts=2)
    assert report.ok and report.signals_full > 0


def test_a_misspelt_plugin_name_is_suggested_too(install_plugin: Install) -> None:
    install_plugin()

    with pytest.raises(ParameterError, match="did you mean 'close_cross'"):
        load_strategy("close_cros")


def test_the_cli_runs_a_plugin_strategy_by_name(install_plugin: Install) -> None:
    install_plugin()

    result = CliRunner().invoke(
        app,
        ["backtest", "-s", "close_cross", "-d", str(DATA), "-p", "period=30", "--to", "2026-02-15"],
    )

    assert result.exit_code == 0, result.output
    assert "close_cross(period=30)" in result.output


def test_parity_strategies_lists_an_installed_plugin_with_its_parameters(
    install_plugin: Install,
) -> None:
    install_plugin()

    result = CliRunner().invoke(app, ["strategies", "--json"])

    listing = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert {"ma_unified", "close_cross"} <= set(listing)
    assert listing["close_cross"]["class"] == "parity_plugin_demo.CloseCrossStrategy"
    assert listing["close_cross"]["params"]["period"]["default"] == 20
    assert listing["ma_unified"]["params"]["kind"]["choices"] == ["sma", "ema", "wma"]


def test_parity_strategies_shows_the_bounds_and_rules_a_parameter_is_held_to() -> None:
    table = CliRunner().invoke(app, ["strategies"], env={"COLUMNS": "200"})
    listing = json.loads(CliRunner().invoke(app, ["strategies", "--json"]).stdout)

    rows = [" ".join(line.strip("│ ").split()) for line in table.stdout.splitlines()]
    assert "ma_unified │ fast │ 50 │ int ≥ 1 │ fast average period; less than slow" in rows
    assert "slow │ 200 │ int ≥ 2 │ slow average period; more than fast" in rows
    assert listing["ma_unified"]["params"]["fast"]["allowed"] == "int ≥ 1"
    with pytest.raises(ParameterError, match="fast"):
        MAUnifiedStrategy(fast=200, slow=100)  # the rule the listing states is the one enforced


def test_an_entry_point_that_is_not_a_strategy_is_refused(install_plugin: Install) -> None:
    install_plugin({"not_a_strategy": "parity_plugin_demo:__all__"})

    with pytest.raises(ParameterError, match="not_a_strategy is not a Strategy subclass"):
        load_strategy("not_a_strategy")


# --- by file ----------------------------------------------------------------------------

STRATEGY_FILE = '''\
"""A user's strategy in a file of its own."""

from framework.indicators import EMA, SMA
from framework.params import Param
from framework.strategy import Signal, Strategy, crossing, use


class Triple(Strategy):
    name = "triple"
    period = Param(12, "EMA period", minimum=2)

    def indicators(self):
        return {
            "fast": use(EMA, self.period),
            "slow": use(SMA, 3 * self.period),
            "cross": crossing("fast", "slow"),
        }

    def decide(self, bar):
        if bar["cross"] == 1:
            return Signal.buy("EMA above the triple-length SMA")
        if bar["cross"] == -1:
            return Signal.sell("EMA below the triple-length SMA")
        return None


class NotAStrategy:
    pass


class Nameless(Strategy):
    pass
'''


@pytest.fixture
def strategy_file(tmp_path: Path) -> Path:
    path = tmp_path / "my_strategies.py"
    path.write_text(STRATEGY_FILE)
    return path


def test_a_strategy_class_is_loaded_from_path_colon_class(
    strategy_file: Path, eurusd_slice: CandleSeries
) -> None:
    strategy = load_strategy(f"{strategy_file}:Triple")

    instance = strategy(period="10")
    full = run_full(instance, eurusd_slice)

    assert strategy.name == "triple"
    assert instance.params == {"period": 10}
    assert len(full.signals) > 0
    assert verify(instance, eurusd_slice, open_store("memory"), restarts=3).ok


def test_a_relative_path_is_read_from_the_working_directory(
    strategy_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(strategy_file.parent)

    assert load_strategy(f"{strategy_file.name}:Triple").name == "triple"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("missing.py:Triple", "strategy file missing.py does not exist"),
        ("{file}:Tripel", "{file} has no class 'Tripel'; did you mean 'Triple'?"),
        ("{file}:NotAStrategy", "{file}:NotAStrategy is not a Strategy subclass"),
        ("{file}:Nameless", "{file}:Nameless has no strategy name"),
        ("{file}", "strategy '{file}': name the class too, as {file}:ClassName"),
    ],
)
def test_a_file_spec_that_does_not_lead_to_a_strategy_says_why(
    strategy_file: Path, monkeypatch: pytest.MonkeyPatch, spec: str, message: str
) -> None:
    monkeypatch.chdir(strategy_file.parent)
    spec, message = spec.format(file=strategy_file.name), message.format(file=strategy_file.name)

    with pytest.raises(ParameterError) as caught:
        load_strategy(spec)

    assert str(caught.value).startswith(message)


def test_a_strategy_file_is_reloaded_from_disk_each_time(strategy_file: Path) -> None:
    first = load_strategy(f"{strategy_file}:Triple")
    strategy_file.write_text(STRATEGY_FILE.replace('name = "triple"', 'name = "triple_v2"'))

    second = load_strategy(f"{strategy_file}:Triple")

    assert (first.name, second.name) == ("triple", "triple_v2")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = 1\n\ndef broken(:\n", "cannot import {file}:3: invalid syntax"),
        (
            "import math\nimport no_such_module_here\n",
            "cannot import {file}:2: ModuleNotFoundError: No module named 'no_such_module_here'",
        ),
        (
            "class Broken:\n    ratio = 1 / 0\n",
            "cannot import {file}:2: ZeroDivisionError: division by zero",
        ),
        ("import sys\nsys.exit(3)\n", "cannot import {file}:2: SystemExit: 3"),
    ],
    ids=["syntax-error", "import-error", "raises-on-import", "exits-on-import"],
)
def test_a_strategy_file_that_fails_to_import_is_one_line_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, message: str
) -> None:
    path = tmp_path / "broken.py"
    path.write_text(source)

    code = main(["backtest", "-s", f"{path}:Broken", "-d", str(DATA)])

    err = capsys.readouterr().err
    assert code == 2, err
    assert err.splitlines() == [f"error: {message.format(file=path)}"]
    leftovers = [m for m in sys.modules.values() if getattr(m, "__file__", None) == str(path)]
    assert leftovers == [], "a half-imported module must not stay in sys.modules"
