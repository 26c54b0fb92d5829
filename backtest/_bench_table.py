"""The bench report as Rich tables: every figure with its ratio against its anchor."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

__all__ = ["bench_tables"]

_MISSING = "—"


def bench_tables(report: dict[str, Any]) -> Group:
    """Machine line, one table per section, the goals and the notes."""
    rows = report["indicators"]
    parts: list[Any] = [_machine(report), _indicators(rows), _batch(rows)]
    parts += [_strategy(report["strategy"]), _live(report["live"], "candles in MongoDB, Redis")]
    in_memory = report.get("live_in_memory")
    if in_memory is not None:
        parts.append(_live(in_memory, f"candles in memory, {in_memory.get('store', 'store')}"))
    parts.append(_memory(report["memory"]))
    parts += [_goals(report["goals"]), _notes(report["notes"])]
    return Group(*parts)


def _machine(report: dict[str, Any]) -> Text:
    m = report["machine"]
    candles = report["settings"]["candles"]
    return Text(
        f"parity bench on {m['cpu']} ({m['cores']} cores), Python {m['python']}, "
        f"numpy {m['numpy']}; {candles:,} candles bootstrapped from "
        f"{report['settings']['source']} (seed {report['settings']['seed']}); "
        f"{report['seconds']:.1f} s",
        style="bold",
    )


def _indicators(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Indicator update, ns per update (lower is better)")
    for column in ("indicator", "Parity", "plain loop", "Parity/loop", "talipp", "talipp/Parity"):
        table.add_column(column, justify="left" if column == "indicator" else "right")
    for row in rows:
        parity, loop, talipp = row["parity_ns"], row["deque_ns"], row["talipp_ns"]
        table.add_row(
            row["name"],
            _num(parity, ".0f"),
            _num(loop, ".0f"),
            _times(parity, loop),
            _num(talipp, ".0f"),
            _times(talipp, parity),
        )
    return table


def _batch(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Indicator batch, values per second (higher is better)")
    for column in ("indicator", "Parity batch", "pandas", "Parity/pandas"):
        table.add_column(column, justify="left" if column == "indicator" else "right")
    for row in rows:
        batch, pandas = row["batch_values_per_s"], row["pandas_values_per_s"]
        table.add_row(row["name"], _rate(batch), _rate(pandas), _times(batch, pandas))
    return table


def _strategy(s: dict[str, Any]) -> Table:
    table = Table(
        title=f"{s['strategy']} on {s['candles']:,} candles ({s['signals']:,} signals; "
        f"incremental signals identical: {s['incremental_signals_identical']})"
    )
    for column in ("path", "candles/s", "s per 1M candles", "× backtesting.py"):
        table.add_column(column, justify="left" if column == "path" else "right")
    anchor = s["backtesting_py_candles_per_s"]
    committed = f"{s['commit_candles']:,}"
    rows = [
        ("full path (run_full)", s["full_candles_per_s"]),
        ("full-path backtest (+ simulate, stats)", s["backtest_candles_per_s"]),
        ("incremental, no store", s["incremental_candles_per_s"]),
        (f"incremental + fakeredis commits ({committed})", s["fakeredis_candles_per_s"]),
        (f"incremental + Redis commits ({committed})", s["redis_candles_per_s"]),
        ("backtesting.py SMA cross", anchor),
    ]
    for name, rate in rows:
        table.add_row(
            name, _rate(rate), _num(None if not rate else 1e6 / rate, ".3f"), _times(rate, anchor)
        )
    return table


def _live(live: dict[str, Any], where: str) -> Table:
    table = Table(title=f"Live cycle, {live['streams']:,} streams ({where})")
    for column in ("method", "ms / cycle", "candles fetched", "queries", "× faster"):
        table.add_column(column, justify="left" if column == "method" else "right")
    incremental, original = live["incremental_ms"], live["original_ms"]
    table.add_row(
        "incremental (Parity)",
        _num(incremental, ".1f"),
        _num(live["candles_fetched_incremental"], ",d"),
        _num(live["queries_incremental"], ",d"),
        _times(original, incremental),
    )
    table.add_row(
        "original (200 candles, recompute)",
        _num(original, ".1f"),
        _num(live["candles_fetched_original"], ",d"),
        _num(live["queries_original"], ",d"),
        "1.0×" if original else _MISSING,
    )
    phases = live.get("incremental_phases_ms")
    if phases:
        table.caption = "incremental, ms per phase: " + ", ".join(
            f"{name} {ms:.1f}" for name, ms in phases.items()
        )
    return table


def _memory(memory: dict[str, Any]) -> Table:
    table = Table(title="Memory")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = (
        ("peak RSS of the backtest process (MB)", memory["backtest_peak_rss_mb"], ".0f"),
        ("RSS before the backtest (MB)", memory.get("rss_before_backtest_mb"), ".0f"),
        ("state per stream (bytes)", memory["state_bytes_per_stream"], ",d"),
    )
    for name, value, spec in rows:
        table.add_row(name, _num(value, spec))
    return table


def _goals(goals: list[dict[str, Any]]) -> Table:
    table = Table(title="Goals")
    for column in ("goal", "measured", "target", "met"):
        table.add_column(column, justify="left" if column == "goal" else "right")
    for row in goals:
        met = row["met"]
        verdict = _MISSING if met is None else "[green]yes[/]" if met else "[red]no[/]"
        value = row["value"]
        shown = _MISSING if value is None else f"{value:,.0f}" if value >= 1000 else f"{value:.2f}"
        table.add_row(row["goal"], shown, row["target"], verdict)
    return table


def _notes(notes: list[str]) -> Text:
    return Text("\n".join(f"• {note}" for note in notes), style="dim")


def _num(value: float | None, spec: str) -> str:
    return _MISSING if value is None else format(value, spec)


def _rate(value: float | None) -> str:
    if value is None:
        return _MISSING
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.2f}{suffix}"
    return f"{value:.0f}"


def _times(a: float | None, b: float | None) -> str:
    return _MISSING if a is None or not b else f"{a / b:.2f}×"
