"""What several commands share: strategy and data options, and loading them."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from backtest._display import human
from framework.candles import CandleSeries
from framework.errors import ParameterError, ParityError
from framework.loading import load_candles
from framework.registry import load_strategy
from framework.strategy import Strategy

__all__ = [
    "DataOption",
    "DecimalsOption",
    "JsonOption",
    "ParamOption",
    "StrategyOption",
    "SymbolOption",
    "TimeframeOption",
    "build_strategy",
    "check_output_path",
    "load_series",
    "parse_params",
    "progress_bar",
    "writing",
]

StrategyOption = Annotated[
    str,
    typer.Option(
        "--strategy", "-s", help="Strategy name (see `parity strategies`) or file.py:ClassName."
    ),
]
DataOption = Annotated[
    Path, typer.Option("--data", "-d", help="Candle file: CSV, CSV.gz or Parquet.")
]
SymbolOption = Annotated[str | None, typer.Option(help="Symbol; default from the file's name.")]
TimeframeOption = Annotated[
    str | None, typer.Option(help="M1 M5 M15 M30 H1 H4 D1 W1; default from bar spacing.")
]
DecimalsOption = Annotated[
    int | None, typer.Option(help="Price decimals; default from the instrument table or data.")
]
ParamOption = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="Strategy parameter as name=value; repeatable."),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object (no table, no progress).")
]


def parse_params(assignments: list[str] | None) -> dict[str, object]:
    """``["fast=20", "kind=ema"]`` → ``{"fast": "20", "kind": "ema"}``.

    Examples
    --------
    >>> parse_params(["fast=20", "kind = ema"])
    {'fast': '20', 'kind': 'ema'}
    >>> parse_params(["fast"])
    Traceback (most recent call last):
    ...
    framework.errors.ParameterError: --param expects name=value, got 'fast'
    >>> parse_params(["fast=20", "fast=30"])
    Traceback (most recent call last):
    ...
    framework.errors.ParameterError: --param fast is given twice (fast=20, fast=30); give it once
    """
    params: dict[str, object] = {}
    for assignment in assignments or []:
        name, equals, value = (part.strip() for part in assignment.partition("="))
        if not equals or not name:
            raise ParameterError(f"--param expects name=value, got {assignment!r}")
        if name in params:
            given = f"{name}={params[name]}, {name}={value}"
            raise ParameterError(f"--param {name} is given twice ({given}); give it once")
        params[name] = value
    return params


def build_strategy(spec: str, assignments: list[str] | None) -> Strategy:
    """Load a strategy class and construct it from ``name=value`` strings.

    Examples
    --------
    >>> build_strategy("ma_unified", ["fast=20", "kind=ema"])
    ma_unified(fast=20, slow=200, kind='ema', price='close')
    """
    return load_strategy(spec)(**parse_params(assignments))


def load_series(
    path: Path,
    *,
    symbol: str | None = None,
    timeframe: str | None = None,
    decimals: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> CandleSeries:
    """Load and validate a candle file, optionally cut to ``[start, end]``.

    A reversed range is refused before the file is read; a range that holds no
    candle is refused with the span the file does hold.
    """
    if start is not None and end is not None and start > end:
        raise ParameterError(f"--from {human(start)} is after --to {human(end)}")
    whole = load_candles(path, symbol=symbol, timeframe=timeframe, decimals=decimals)
    series = whole.between(start, end)
    if len(series) == 0:
        wanted = " ".join(
            f"{option} {human(moment)}"
            for option, moment in (("--from", start), ("--to", end))
            if moment is not None
        )
        span = f"{human(whole.times()[0])} to {human(whole.times()[-1])}"
        raise ParameterError(f"{path}: no candles for {wanted}; the data runs from {span}")
    return series


@contextlib.contextmanager
def writing(path: Path, option: str) -> Iterator[None]:
    """Turn a failed write of ``path`` (a full disk, a vanished directory) into one line."""
    try:
        yield
    except OSError as error:
        raise ParityError(f"{option} {path}: cannot write: {error.strerror or error}") from None


def check_output_path(path: Path | None, option: str) -> None:
    """Refuse, before any work, an output file that cannot be written.

    Examples
    --------
    >>> check_output_path(Path("/no/r.html"), "--report")
    Traceback (most recent call last):
    ...
    framework.errors.ParameterError: --report /no/r.html: the directory /no does not exist
    """
    if path is None:
        return
    folder = path.parent
    problem = None
    if path.is_dir():
        problem = "is a directory; name a file"
    elif not folder.exists():
        problem = f"the directory {folder} does not exist"
    elif not folder.is_dir():
        problem = f"{folder} is not a directory"
    elif not os.access(folder, os.W_OK | os.X_OK):
        problem = f"the directory {folder} is not writable"
    elif path.exists() and not os.access(path, os.W_OK):
        problem = "the file exists and is not writable"
    if problem is not None:
        raise ParameterError(f"{option} {path}: {problem}")


@contextlib.contextmanager
def progress_bar(
    description: str, total: int, *, quiet: bool
) -> Iterator[Callable[[int], None] | None]:
    """A transient Rich progress bar on stderr; yields its ``advance(n)`` function.

    Yields None when ``quiet`` or when stderr is not a terminal: a bar is for people,
    and piped or captured stderr gets nothing, not even a newline.
    """
    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda done: progress.advance(task, done)
