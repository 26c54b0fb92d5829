"""Convert the real candle files of ``../shared/data`` into Parity's format in ``data/``.

Usage::

    python data/convert.py ../shared/data            # writes next to this script
    python data/convert.py SOURCE_DIR --out OTHER_DIR

Each ``*.csv.gz`` of SOURCE_DIR is loaded (symbol and timeframe from its name,
decimals from the instrument table), saved under the same name in Parity's format,
and read back; the script fails unless the copy holds exactly the same times,
ticks and volumes as the original. Output is byte-for-byte reproducible.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from framework.candles import CandleSeries
from framework.errors import ParityError
from framework.loading import load_candles, save_candles

_FIELDS = ("time_ns", "open", "high", "low", "close", "volume")


def same_candles(first: CandleSeries, second: CandleSeries) -> bool:
    """Whether two series hold the same instrument, timeframe, times, ticks and volumes."""
    return (
        first.instrument == second.instrument
        and first.timeframe == second.timeframe
        and all(np.array_equal(getattr(first, f), getattr(second, f)) for f in _FIELDS)
    )


def convert(source: Path, out_dir: Path) -> CandleSeries:
    """Convert one file into ``out_dir``; raise `ParityError` if the copy differs."""
    original = load_candles(source)
    target = out_dir / source.name
    save_candles(original, target)
    if not same_candles(original, load_candles(target)):
        raise ParityError(f"{target}: reads back different from {source}")
    return original


def main(argv: list[str] | None = None) -> int:
    """Convert every ``*.csv.gz`` of the source folder; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder of the original files")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)
    sources = sorted(args.source.glob("*.csv.gz"))
    if not sources:
        print(f"error: no *.csv.gz files in {args.source}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        for source in sources:
            series = convert(source, args.out)
            first, last = series.times()[[0, -1]]
            print(
                f"{source.name}: {len(series)} bars, {series.decimals} decimals, {first} → {last}"
            )
    except ParityError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
