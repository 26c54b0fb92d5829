"""``parity bench``: the report's shape on a tiny run, and the pieces it is built from.

No timed assertions: benchmarks report numbers, tests check that every number is there
(positive) or absent with its reason in ``notes``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from backtest._bench_data import DEFAULT_SOURCE, Notes, bootstrap, load_source
from backtest._bench_indicators import loops_agree
from backtest._bench_live import live_section, memory_factory
from backtest._bench_table import bench_tables
from backtest.bench import BenchSettings, goals, run_bench
from backtest.cli import app, main
from framework.candles import CandleSeries

TINY = 5_000
INDICATOR_KEYS = {
    "name",
    "parity_ns",
    "deque_ns",
    "talipp_ns",
    "batch_values_per_s",
    "pandas_values_per_s",
}
STRATEGY_KEYS = {
    "candles",
    "full_candles_per_s",
    "incremental_candles_per_s",
    "fakeredis_candles_per_s",
    "redis_candles_per_s",
    "backtesting_py_candles_per_s",
}
LIVE_KEYS = {
    "streams",
    "incremental_ms",
    "original_ms",
    "candles_fetched_incremental",
    "candles_fetched_original",
    "queries_incremental",
    "queries_original",
}
MEMORY_KEYS = {"backtest_peak_rss_mb", "state_bytes_per_stream"}


@pytest.fixture(scope="module")
def source() -> CandleSeries:
    return load_source(DEFAULT_SOURCE)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    # No servers even where CI has them: the live section is tested below on its own.
    return run_bench(BenchSettings.tiny(TINY), progress=None)


def explained(figure: str, section: str, notes: list[str]) -> bool:
    """Whether a note gives the reason a figure is missing."""
    return any(note.startswith((f"{figure}:", f"{section}:")) or figure in note for note in notes)


def check_figures(section: str, figures: dict[str, Any], notes: list[str]) -> None:
    for key, value in figures.items():
        if value is None:
            assert explained(key, section, notes), f"{section}.{key} is null without a note"
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            assert value > 0, f"{section}.{key} = {value}"


# --- the report ---------------------------------------------------------------------------


def test_the_report_has_every_section_and_key_the_issue_asks_for(report: dict[str, Any]) -> None:
    assert {"machine", "indicators", "strategy", "live", "memory", "notes"} <= set(report)
    assert set(report["live_in_memory"]) >= LIVE_KEYS
    assert [row["name"] for row in report["indicators"]] == [
        "SMA(20)",
        "SMA(200)",
        "SMA(2000)",
        "EMA(50)",
        "RSI(14)",
    ]
    assert all(set(row) >= INDICATOR_KEYS for row in report["indicators"])
    assert set(report["strategy"]) >= STRATEGY_KEYS
    assert set(report["live"]) >= LIVE_KEYS
    assert set(report["memory"]) >= MEMORY_KEYS
    assert {"cpu", "python", "numpy"} <= set(report["machine"])
    assert all(isinstance(note, str) and note for note in report["notes"])


def test_every_figure_is_positive_or_null_with_its_reason_in_the_notes(
    report: dict[str, Any],
) -> None:
    notes = report["notes"]
    for row in report["indicators"]:
        check_figures("indicators", {k: v for k, v in row.items() if k != "name"}, notes)
    for section in ("strategy", "live", "live_in_memory", "memory"):
        check_figures(section, report[section], notes)


def test_figures_that_need_no_server_or_extra_library_are_measured(
    report: dict[str, Any],
) -> None:
    strategy, memory = report["strategy"], report["memory"]

    assert strategy["candles"] == TINY
    for key in ("full_candles_per_s", "incremental_candles_per_s", "fakeredis_candles_per_s"):
        assert strategy[key] is not None, key
    assert all(row["parity_ns"] and row["deque_ns"] for row in report["indicators"])
    assert all(row["batch_values_per_s"] for row in report["indicators"])
    assert memory["state_bytes_per_stream"] > 1000  # SMA(50) + SMA(200) windows
    assert memory["backtest_peak_rss_mb"] is not None


def test_the_bench_checks_that_its_incremental_signals_equal_the_full_paths(
    report: dict[str, Any],
) -> None:
    assert report["strategy"]["signals"] > 0
    assert report["strategy"]["incremental_signals_identical"] is True


def test_the_report_is_json_and_renders_as_tables(report: dict[str, Any]) -> None:
    console = Console(record=True, width=120)

    console.print(bench_tables(json.loads(json.dumps(report))))

    text = console.export_text()
    for heading in ("Indicator update", "MA_Unified", "Live cycle", "Memory", "Goals"):
        assert heading.lower() in text.lower(), heading


# --- goals --------------------------------------------------------------------------------


def fake_report(**strategy: Any) -> dict[str, Any]:
    indicators = [
        {"name": "SMA(20)", "parity_ns": 150.0, "deque_ns": 100.0, "talipp_ns": 500.0},
        {"name": "SMA(2000)", "parity_ns": 180.0, "deque_ns": 100.0, "talipp_ns": None},
    ]
    base = {
        "backtest_candles_per_s": 2_000_000.0,
        "backtesting_py_candles_per_s": 100_000.0,
        "incremental_candles_per_s": 900_000.0,
    }
    live = {"original_ms": 1000.0, "incremental_ms": None}
    in_memory = {"original_ms": 300.0, "incremental_ms": 100.0}
    return {
        "indicators": indicators,
        "strategy": base | strategy,
        "live": live,
        "live_in_memory": in_memory,
    }


def test_goals_give_each_verdict_from_the_numbers_and_none_without_them() -> None:
    verdicts = {row["goal"]: row["met"] for row in goals(fake_report())}

    assert verdicts["SMA(20) update / plain loop"] is True
    assert verdicts["SMA(20) update / talipp"] is True
    assert verdicts["SMA(2000) update / talipp"] is None
    assert verdicts["SMA(2000) / SMA(20) update"] is True
    assert verdicts["full-path backtest, s per 1M candles"] is True
    assert verdicts["full-path backtest / backtesting.py"] is True
    assert verdicts["incremental candles/s (no store)"] is False
    assert verdicts["live cycle (MongoDB): original / incremental"] is None
    assert verdicts["live cycle (candles in memory): original / incremental"] is False


# --- the data -----------------------------------------------------------------------------


def test_the_bootstrap_is_valid_reproducible_and_stays_near_the_source_level(
    source: CandleSeries,
) -> None:
    a, b = bootstrap(source, 20_000, seed=3), bootstrap(source, 20_000, seed=3)

    assert len(a) == 20_000
    for field in ("time_ns", "open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert not np.array_equal(a.close, bootstrap(source, 20_000, seed=4).close)
    a.validate()  # every bar rule holds after rounding
    assert np.all(np.diff(a.time_ns) == source.timeframe.nanoseconds)
    assert 0.5 < float(np.median(a.close)) / float(np.median(source.close)) < 2.0


def test_the_plain_loops_compute_the_same_last_values_as_parity(source: CandleSeries) -> None:
    assert loops_agree(bootstrap(source, 5_000))


# --- the live section, on an in-memory source -------------------------------------------


def test_the_live_section_fetches_two_bars_a_stream_in_one_query_against_200_per_stream(
    source: CandleSeries,
) -> None:
    notes = Notes()

    live = live_section(
        bootstrap(source, 3_000),
        streams=12,
        cycles=2,
        store_url="memory",
        factory=memory_factory,
        budget_s=60,
        notes=notes,
        progress=lambda _: None,
    )

    assert live["incremental_ms"] > 0 and live["original_ms"] > 0, notes.lines
    # The processor re-reads each stream's last bar to notice corrections: 2 per stream.
    assert live["candles_fetched_incremental"] == 2 * 12
    assert live["queries_incremental"] == 1
    assert live["candles_fetched_original"] == 200 * 12
    assert live["queries_original"] == 12
    phases = live["incremental_phases_ms"]
    assert set(phases) == {"load", "fetch", "step", "commit", "audit"}
    assert 0 < sum(phases.values()) <= live["incremental_ms"]


def test_the_live_section_says_why_it_did_not_run(source: CandleSeries) -> None:
    series = bootstrap(source, 3_000)
    cases: list[tuple[Any, str | None, float, str]] = [
        (None, None, 60, "needs PARITY_REDIS_URL and PARITY_MONGODB_URI"),
        (None, "memory", 60, "needs PARITY_MONGODB_URI"),
        ("MongoDB source not available", "memory", 60, "MongoDB source not available"),
        (memory_factory, "memory", 0, "passed the 0 s budget"),
    ]
    for factory, store, budget, reason in cases:
        notes = Notes()
        live = live_section(
            series,
            streams=5,
            cycles=1,
            store_url=store,
            factory=factory,
            budget_s=budget,
            notes=notes,
            progress=lambda _: None,
        )
        assert live["incremental_ms"] is None and live["original_ms"] is None
        assert any(reason in note for note in notes.lines), notes.lines


# --- the command --------------------------------------------------------------------------


def test_parity_bench_json_prints_one_object_and_writes_it_to_out(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARITY_REDIS_URL", raising=False)
    monkeypatch.delenv("PARITY_MONGODB_URI", raising=False)
    out = tmp_path / "bench.json"

    result = CliRunner().invoke(
        app, ["bench", "--candles", "3000", "--streams", "10", "--json", "--out", str(out)]
    )

    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["strategy"]["candles"] == 3000
    assert printed["live_in_memory"]["streams"] == 10
    assert json.loads(out.read_text()) == printed


def test_an_out_path_in_a_missing_directory_is_refused_before_measuring(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the bench ran before --out was checked")

    monkeypatch.setattr("backtest.commands.bench.run_bench", never)
    out = tmp_path / "missing" / "bench.json"

    code = main(["bench", "--quick", "--out", str(out)])

    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: --out {out}: the directory {out.parent} does not exist"
    ]
