"""The HTML report: self-contained, complete, downsampled, and rendering in a browser."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from backtest import report
from backtest._downsample import minmax_indices
from backtest.report import MAX_POINTS, write_report
from backtest.simulation import Simulation, SimulationSettings, simulate
from backtest.stats import Stats, compute_stats
from framework.candles import CandleSeries
from framework.engine import SignalAt
from framework.instruments import Instrument
from framework.strategy import Side
from framework.timeframes import Timeframe

BARS = 51_911  # the bundled EURUSD M15 dataset's length
TITLE = "ma_unified(fast=50, slow=200) <test>"
PARAMS = {"fast": 50, "slow": 200, "kind": "sma"}
BUY_GREEN = (46, 125, 50)
SELL_RED = (198, 40, 40)


class Backtest:
    """Everything `write_report` takes, for a seeded random-walk EURUSD M15 series."""

    def __init__(self, bars: int, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        close = 110_000 + np.cumsum(rng.integers(-12, 13, bars))
        open_ = np.concatenate([[110_000], close[:-1]])
        wick = rng.integers(0, 8, (2, bars))
        start = 1_516_024_800 * 10**9  # 2018-01-15 14:00 UTC
        self.series = CandleSeries.create(
            Instrument("EURUSD", 5),
            Timeframe.M15,
            time_ns=start + np.arange(bars, dtype=np.int64) * 900 * 10**9,
            open=open_,
            high=np.maximum(open_, close) + wick[0],
            low=np.minimum(open_, close) - wick[1],
            close=close,
            volume=np.ones(bars),
        )
        closes = pd.Series(self.series.prices("close"))
        fast = closes.rolling(50).mean().to_numpy()
        slow = closes.rolling(200).mean().to_numpy()
        side = np.sign(fast - slow)
        crossed = np.flatnonzero(side[1:] * side[:-1] < 0) + 1
        cross = np.where(np.isnan(side), np.nan, 0.0)
        cross[crossed] = side[crossed]
        self.values: dict[str, npt.NDArray[np.float64]] = {
            "fast": fast,
            "slow": slow,
            "cross": cross,
        }
        self.signals = [
            SignalAt(
                int(self.series.time_ns[i]),
                Side.BUY if cross[i] > 0 else Side.SELL,
                float(closes[i]),
                "fast crossed slow",
            )
            for i in crossed
        ]
        self.settings = SimulationSettings(commission=0.0001, spread=0.0001)
        self.simulation: Simulation = simulate(self.series, self.signals, self.settings)
        self.stats: Stats = compute_stats(self.series, self.simulation, self.settings)

    def write(self, path: Path) -> str:
        write_report(
            path,
            self.series,
            self.values,
            self.signals,
            self.simulation,
            self.stats,
            TITLE,
            params=PARAMS,
        )
        return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def long_run() -> Backtest:
    return Backtest(BARS)


@pytest.fixture(scope="module")
def long_report(long_run: Backtest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    long_run.write(path)
    return path


def test_the_report_is_one_file_with_plotly_embedded(long_report: Path) -> None:
    page = long_report.read_text(encoding="utf-8")

    assert "plotly.js v" in page  # the library's own banner: the bundle is inline
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//", page, re.IGNORECASE)


def test_the_report_shows_the_run_the_parameters_and_the_statistics(
    long_report: Path, long_run: Backtest
) -> None:
    page = long_report.read_text(encoding="utf-8")

    assert "<title>ma_unified(fast=50, slow=200) &lt;test&gt;</title>" in page
    assert "EURUSD · M15 · 2018-01-15 14:00" in page
    assert f"{BARS:,} candles" in page
    assert '<th>fast</th><td class="num">50</td>' in page
    assert "<th>mode</th><td>long-short</td>" in page
    for label in (
        "Return [%]",
        "Buy &amp; hold return [%]",
        "Sharpe ratio",
        "Max drawdown [%]",
        "Win rate [%]",
        "Profit factor",
        "Exposure [%]",
    ):
        assert f"<th>{label}</th>" in page
    assert f'<th># Trades</th><td class="num">{long_run.stats.n_trades:,}</td>' in page


def test_long_series_are_downsampled_but_every_signal_keeps_its_marker(
    long_run: Backtest,
) -> None:
    figure = report._figure(long_run.series, long_run.values, long_run.signals, long_run.simulation)

    lines = [t for t in figure.data if t.mode == "lines"]
    markers = [t for t in figure.data if t.mode == "markers"]
    assert {t.name for t in lines} >= {"close", "fast", "slow", "cross", "equity", "drawdown %"}
    assert all(len(t.x) <= MAX_POINTS + 2 for t in lines)
    assert sum(len(t.x) for t in markers) == len(long_run.signals) > 100


def test_crossing_flags_get_their_own_panel_and_averages_sit_on_the_price(
    long_run: Backtest,
) -> None:
    figure = report._figure(long_run.series, long_run.values, long_run.signals, long_run.simulation)

    axis = {t.name: t.yaxis for t in figure.data}
    assert axis["close"] == axis["fast"] == axis["slow"] == axis["BUY"] == "y"
    assert axis["cross"] not in {"y", axis["equity"], axis["drawdown %"]}


def test_short_series_are_drawn_as_candles(tmp_path: Path) -> None:
    short = Backtest(300)

    figure = report._figure(short.series, short.values, short.signals, short.simulation)
    page = short.write(tmp_path / "short.html")

    assert figure.data[0].type == "candlestick"
    assert len(figure.data[0].x) == 300
    assert "<th>Start</th>" in page


def test_downsampling_keeps_the_extremes_and_the_warm_up_gap() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(size=100_000)
    values[:5_000] = np.nan

    keep = minmax_indices(values, 1_000)

    assert keep.size <= 1_002
    assert np.all(np.diff(keep) > 0)
    assert {int(np.nanargmax(values)), int(np.nanargmin(values)), 0, 99_999} <= set(keep)
    assert np.isnan(values[keep[0]])


# --- in a real browser ------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def read_png(path: Path) -> npt.NDArray[np.uint8]:
    """Decode an 8-bit RGB/RGBA PNG (enough for a Chromium screenshot, no Pillow)."""
    data = path.read_bytes()
    position, chunks = 8, []
    width = height = channels = 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6), f"unsupported PNG: depth {depth}, type {color}"
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], np.frombuffer(raw, np.uint8, stride, start + 1)
        if kind == 0:
            row = line.copy()
        elif kind == 1:  # Sub: a running sum along the row, per channel
            pixels = line.reshape(width, channels).astype(np.int64)
            row = (np.cumsum(pixels, axis=0) & 255).astype(np.uint8).ravel()
        elif kind == 2:  # Up
            row = line + previous
        else:  # Average or Paeth: each byte depends on the one just decoded
            row = _unfilter_sequential(
                kind, bytearray(line.tobytes()), previous.tobytes(), channels
            )
        rows[y] = previous = row
    return rows.reshape(height, width, channels)


def _unfilter_sequential(
    kind: int, line: bytearray, above: bytes, channels: int
) -> npt.NDArray[np.uint8]:
    for i in range(len(line)):
        left = line[i - channels] if i >= channels else 0
        up = above[i]
        if kind == 3:
            line[i] = (line[i] + ((left + up) >> 1)) & 255
            continue
        corner = above[i - channels] if i >= channels else 0
        p_left, p_up, p_corner = abs(up - corner), abs(left - corner), abs(left + up - 2 * corner)
        if p_left <= p_up and p_left <= p_corner:
            predicted = left
        elif p_up <= p_corner:
            predicted = up
        else:
            predicted = corner
        line[i] = (line[i] + predicted) & 255
    return np.frombuffer(bytes(line), dtype=np.uint8)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it)")
def test_the_report_renders_in_headless_chromium_without_console_errors(
    long_report: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "shot.png"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,900",
        "--virtual-time-budget=5000",
        f"--screenshot={shot}",
        "--dump-dom",
        long_report.resolve().as_uri(),
    ]

    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stderr[-2000:]
    # Chromium logs every console message (log, warning, error, uncaught) as CONSOLE.
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], "\n".join(console)
    # plotly replaced its placeholder with SVG: the scripts ran and drew.
    assert 'class="main-svg"' in done.stdout
    assert done.stdout.count('class="trace scatter') >= 6
    image = read_png(shot)[..., :3]
    colours = np.unique(image.reshape(-1, 3), axis=0)
    assert len(colours) > 500, f"only {len(colours)} colours: is the page blank?"
    for name, colour in (("BUY", BUY_GREEN), ("SELL", SELL_RED)):
        assert (image == colour).all(axis=2).sum() > 100, f"no {name} markers on screen"
