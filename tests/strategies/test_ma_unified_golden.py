"""MA_Unified_Strat on short series whose averages and signals were worked out by hand.

Every expected value below was derived on paper from the closes (the comments show
the arithmetic), not by running the code; both paths must reproduce it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from framework.candles import CandleSeries
from framework.engine import FullRun, IncrementalRun, SignalAt, run_full
from framework.instruments import Instrument
from framework.loading import load_candles
from framework.strategy import Side
from framework.timeframes import Timeframe
from strategies.ma_unified import MA_Unified_Strat, MAUnifiedStrategy

START_NS = 1_704_067_200 * 10**9  # 2024-01-01T00:00Z, on the M15 grid
M15_NS = 900 * 10**9
NAN = float("nan")


def closes_series(
    closes: Sequence[int], *, decimals: int = 0, spread: int = 0, gap: int = 0
) -> CandleSeries:
    """M15 bars closing at ``closes`` (ticks), opening ``gap`` above, high/low close ± spread."""
    ticks = np.array(closes, dtype=np.int64)
    return CandleSeries.create(
        Instrument("TEST", decimals),
        Timeframe.M15,
        time_ns=START_NS + M15_NS * np.arange(ticks.size, dtype=np.int64),
        open=ticks + gap,
        high=ticks + spread,
        low=ticks - spread,
        close=ticks,
        volume=np.ones(ticks.size),
    )


def sides(signals: Sequence[SignalAt], series: CandleSeries) -> list[tuple[int, str]]:
    """Signals as (bar index, side)."""
    index = {int(t): i for i, t in enumerate(series.time_ns)}
    return [(index[s.time_ns], s.side.value) for s in signals]


def both_paths(
    strategy: MAUnifiedStrategy, series: CandleSeries
) -> tuple[FullRun, list[dict[str, float | None]]]:
    """The full run, and the incremental run's values after every bar (checked alike)."""
    full = run_full(strategy, series)
    run = IncrementalRun(type(strategy)(**strategy.params), series.instrument)
    live_signals: list[SignalAt] = []
    rows = []
    for candle in series:
        signal = run.step(candle)
        if signal is not None:
            live_signals.append(signal)
        rows.append(run.values())
    assert live_signals == full.signals
    for name, column in full.values.items():
        live = [np.nan if row[name] is None else row[name] for row in rows]
        np.testing.assert_array_equal(np.array(live, dtype=np.float64), column)
    return full, rows


def as_floats(values: Sequence[Fraction | float]) -> list[float]:
    """Exact fractions, correctly rounded to float (what one division gives)."""
    return [float(v) for v in values]


# --- SMA(2) / SMA(3) ---------------------------------------------------------------------
#
# SMA2_i - SMA3_i = (c[i-1] + c[i]) / 2 - (c[i-2] + c[i-1] + c[i]) / 3
#                 = (c[i] + c[i-1] - 2 c[i-2]) / 6,
# so the side on bar i is the sign of  c[i] + c[i-1] - 2 c[i-2]  (i >= 2).
#
#  i  close  SMA2           SMA3                c[i]+c[i-1]-2c[i-2]   signal
#  0  104    —              —
#  1  100    204/2 = 102    —
#  2  102    202/2 = 101    306/3 = 102         102+100-208 = -6      — first side (below)
#  3   98    200/2 = 100    300/3 = 100          98+102-200 =  0      — tie
#  4  108    206/2 = 103    308/3 = 102.67      108+98-204  = +2      BUY: below→equal→above
#  5   88    196/2 = 98     294/3 = 98           88+108-196 =  0      — touch
#  6  130    218/2 = 109    326/3 = 108.67      130+88-216  = +2      — back above: no cross
#  7   40    170/2 = 85     258/3 = 86           40+130-176 = -6      SELL
#  8  100    140/2 = 70     270/3 = 90          100+40-260  = -120    —
#  9  120    220/2 = 110    260/3 = 86.67       120+100-80  = +140    BUY
# 10   80    200/2 = 100    300/3 = 100          80+120-200 =  0      — tie
# 11  150    230/2 = 115    350/3 = 116.67      150+80-240  = -10     SELL: above→equal→below

SMA_CLOSES = [104, 100, 102, 98, 108, 88, 130, 40, 100, 120, 80, 150]
SMA_FAST = [NAN, 102, 101, 100, 103, 98, 109, 85, 70, 110, 100, 115]
SMA_SLOW = [
    NAN,
    NAN,
    *as_floats([Fraction(n, 3) for n in (306, 300, 308, 294, 326, 258, 270, 260, 300, 350)]),
]
SMA_CROSS = [NAN, NAN, 0, 0, 1, 0, 0, -1, 0, 1, 0, -1]
SMA_SIGNALS = [(4, "BUY"), (7, "SELL"), (9, "BUY"), (11, "SELL")]


def test_sma_2_3_gives_the_hand_computed_averages_crossings_and_signals() -> None:
    series = closes_series(SMA_CLOSES)

    full, _ = both_paths(MAUnifiedStrategy(fast=2, slow=3), series)

    np.testing.assert_array_equal(full.values["fast"], SMA_FAST)
    np.testing.assert_array_equal(full.values["slow"], SMA_SLOW)
    np.testing.assert_array_equal(full.values["cross"], SMA_CROSS)
    assert sides(full.signals, series) == SMA_SIGNALS


def test_signals_carry_the_bar_close_and_say_why() -> None:
    series = closes_series(SMA_CLOSES)

    signals = run_full(MAUnifiedStrategy(fast=2, slow=3), series).signals

    assert [(s.price, s.reason) for s in signals] == [
        (108.0, "fast crossed above slow"),
        (40.0, "fast crossed below slow"),
        (120.0, "fast crossed above slow"),
        (150.0, "fast crossed below slow"),
    ]
    assert [s.time_ns for s in signals] == [START_NS + i * M15_NS for i in (4, 7, 9, 11)]


def test_a_one_decimal_instrument_gives_the_same_signals_and_values_in_price_units() -> None:
    # The same ticks as prices 10.4, 10.0, 10.2, …: every average is a tenth of the above,
    # e.g. SMA3 on bar 4 is 308/30 = 10.2666…, one correctly rounded division.
    series = closes_series(SMA_CLOSES, decimals=1)

    full, _ = both_paths(MAUnifiedStrategy(fast=2, slow=3), series)

    tenth = [NAN if np.isnan(v) else float(Fraction(v) / 10) for v in SMA_FAST]
    assert full.values["fast"][1] == 10.2
    np.testing.assert_array_equal(full.values["fast"], tenth)
    slow = [NAN, NAN] + [float(Fraction(n, 30)) for n in (306, 300, 308)]
    np.testing.assert_array_equal(full.values["slow"][:5], slow)
    assert sides(full.signals, series) == SMA_SIGNALS
    assert [s.price for s in full.signals] == [10.8, 4.0, 12.0, 15.0]


@pytest.mark.parametrize("price", ["high", "low", "hl2", "hlc3", "ohlc4", "open", "close"])
def test_every_price_field_reads_the_bar_it_names(price: str) -> None:
    # open = close + 1, high = close + 3, low = close - 3: the averages of open/high/low
    # move by +1/+3/-3, hl2 and hlc3 equal the close, ohlc4 = close + (1+3-3)/4 = close + 1/4;
    # a constant shift never changes a side.
    series = closes_series(SMA_CLOSES, spread=3, gap=1)
    shift = {"open": 1, "high": 3, "low": -3, "ohlc4": 0.25}.get(price, 0)

    full, _ = both_paths(MAUnifiedStrategy(fast=2, slow=3, price=price), series)

    np.testing.assert_array_equal(full.values["fast"], np.array(SMA_FAST) + shift)
    assert sides(full.signals, series) == SMA_SIGNALS


def test_constant_prices_give_equal_averages_and_no_signal() -> None:
    series = closes_series([100] * 30)

    full, _ = both_paths(MAUnifiedStrategy(fast=3, slow=7), series)

    assert full.signals == []
    assert np.nanmax(np.abs(full.values["cross"])) == 0
    np.testing.assert_array_equal(full.values["fast"][6:], full.values["slow"][6:])


def test_no_signal_before_the_slow_average_is_warm() -> None:
    # SMA(3) is warm on bar 2; the crossing is None (NaN) before, even though SMA(2) is not.
    series = closes_series(SMA_CLOSES[:3])

    full, rows = both_paths(MAUnifiedStrategy(fast=2, slow=3), series)

    assert rows[1] == {"fast": 102.0, "slow": None, "cross": None}
    assert full.signals == []


def test_the_seed_projects_name_is_the_same_strategy() -> None:
    assert MA_Unified_Strat is MAUnifiedStrategy
    assert MA_Unified_Strat.name == "ma_unified"


# --- WMA(2) / WMA(3) ---------------------------------------------------------------------
#
# WMA2_i = (c[i-1] + 2c[i]) / 3,  WMA3_i = (c[i-2] + 2c[i-1] + 3c[i]) / 6, so
# WMA2 - WMA3 = (2c[i-1] + 4c[i] - c[i-2] - 2c[i-1] - 3c[i]) / 6 = (c[i] - c[i-2]) / 6:
# the side on bar i is the sign of  c[i] - c[i-2].
#
#  i  close  WMA2             WMA3                      c[i]-c[i-2]  side  signal
#  2   9     (10+18)/3 = 28/3  (10+20+27)/6 = 57/6       -1          -1    — (first side)
#  3  10     (9+20)/3  = 29/3  (10+18+30)/6 = 58/6        0           0    —
#  4  10     (10+20)/3 = 10    (9+20+30)/6  = 59/6       +1          +1    BUY
#  5  10     (10+20)/3 = 10    (10+20+30)/6 = 10          0           0    — (touch)
#  6  12     (10+24)/3 = 34/3  (10+20+36)/6 = 66/6 = 11  +2          +1    —
#  7   9     (12+18)/3 = 10    (10+24+27)/6 = 61/6       -1          -1    SELL
#  8  11     (9+22)/3  = 31/3  (12+18+33)/6 = 63/6       -1          -1    —
#  9  13     (11+26)/3 = 37/3  (9+22+39)/6  = 70/6       +4          +1    BUY

WMA_CLOSES = [10, 10, 9, 10, 10, 10, 12, 9, 11, 13]
# bar 1: WMA2 = (10 + 2·10)/3 = 30/3
WMA_FAST = [NAN, *as_floats([Fraction(n, 3) for n in (30, 28, 29, 30, 30, 34, 30, 31, 37)])]
WMA_SLOW = [NAN, NAN, *as_floats([Fraction(n, 6) for n in (57, 58, 59, 60, 66, 61, 63, 70)])]
WMA_SIGNALS = [(4, "BUY"), (7, "SELL"), (9, "BUY")]


def test_wma_2_3_gives_the_hand_computed_averages_and_signals() -> None:
    series = closes_series(WMA_CLOSES)

    full, _ = both_paths(MAUnifiedStrategy(fast=2, slow=3, kind="wma"), series)

    np.testing.assert_array_equal(full.values["fast"], WMA_FAST)
    np.testing.assert_array_equal(full.values["slow"], WMA_SLOW)
    np.testing.assert_array_equal(full.values["cross"], [NAN, NAN, 0, 0, 1, 0, 0, -1, 0, 1])
    assert sides(full.signals, series) == WMA_SIGNALS


# --- EMA(1) / EMA(3) ---------------------------------------------------------------------
#
# EMA(1) has a = 2/2 = 1, b = 0: it is the close itself. EMA(3) has a = b = 2/4 = 1/2,
# seeded with the mean of the first three closes; halving keeps every value an exact
# binary fraction, so the floats below are exact.
#
#  i  close  EMA3                                  close vs EMA3   signal
#  2    9    (9 + 12 + 9)/3          = 10           below          — (first side)
#  3   14    14/2 + 10/2             = 12           above          BUY
#  4   12    12/2 + 12/2             = 12           equal          —
#  5   13    13/2 + 12/2             = 12.5         above          — (touch and return)
#  6   10    10/2 + 12.5/2           = 11.25        below          SELL
#  7   11    11/2 + 11.25/2          = 11.125       below          —
#  8   12    12/2 + 11.125/2         = 11.5625      above          BUY

EMA_CLOSES = [9, 12, 9, 14, 12, 13, 10, 11, 12]
EMA_SLOW = [NAN, NAN, 10.0, 12.0, 12.0, 12.5, 11.25, 11.125, 11.5625]
EMA_SIGNALS = [(3, "BUY"), (6, "SELL"), (8, "BUY")]


def test_ema_1_3_gives_the_hand_computed_averages_and_signals() -> None:
    series = closes_series(EMA_CLOSES)

    full, _ = both_paths(MAUnifiedStrategy(fast=1, slow=3, kind="ema"), series)

    np.testing.assert_array_equal(full.values["fast"], np.array(EMA_CLOSES, dtype=float))
    np.testing.assert_array_equal(full.values["slow"], EMA_SLOW)
    np.testing.assert_array_equal(full.values["cross"], [NAN, NAN, 0, 1, 0, 0, -1, 0, 1])
    assert sides(full.signals, series) == EMA_SIGNALS


def test_ema_2_matches_thirds_computed_by_hand() -> None:
    # EMA(2): a = 2/3, b = 1/3, seed (9 + 12)/2 = 10.5 on bar 1; then
    # bar 2: 2/3·9 + 1/3·10.5 = 9.5; bar 3: 2/3·14 + 1/3·9.5 = 37.5/3 = 12.5;
    # bar 4: 2/3·12 + 1/3·12.5 = 36.5/3 = 12.1666…  (floats within rounding of these)
    series = closes_series(EMA_CLOSES)

    full = run_full(MAUnifiedStrategy(fast=2, slow=3, kind="ema"), series)

    np.testing.assert_allclose(
        full.values["fast"][:5], [NAN, 10.5, 9.5, 12.5, 36.5 / 3], rtol=1e-15, equal_nan=True
    )


# --- exactness: floats that tie while the averages differ --------------------------------
#
# Near 1e15 (scale 1, so 1e15 ticks — inside SMA(7)'s exact range of (2**53 - 1) // 7 ≈
# 1.29e15 ticks) float64 has an ulp of 0.125. With B = 10**15:
#   closes c0..c7 = [B-10, B+1, B+1, B, B, B, B, B+1]
#   bar 6: SMA3 = (B+B+B)/3 = B;  SMA7 = (7B - 8)/7 = B - 8/7          → fast above (first side)
#   bar 7: SMA3 = (3B + 1)/3 = B + 1/3;  SMA7 = (7B + 3)/7 = B + 3/7    → fast below: SELL.
# B + 1/3 and B + 3/7 both round to the float B + 0.375, so a float comparison would
# call bar 7 a tie and miss the SELL; the exact comparison (cross-multiplied integer sums,
# 3(7B+3) = 21B + 9 > 7(3B+1) = 21B + 7) sees fast < slow.
#
# Within realistic ranges the floats already decide exactly: two distinct averages
# p/q ≠ r/s with q, s ≤ period·scale differ by at least 1/(q·s), e.g. 1/(2e7)² = 2.5e-15
# for SMA(200) of a 5-decimal price near 1.0, more than the 2.2e-16 ulp there, and
# correctly rounded values of numbers more than one ulp apart keep their order.

B = 10**15
EXACT_CLOSES = [B - 10, B + 1, B + 1, B, B, B, B, B + 1]


def test_averages_whose_floats_tie_are_still_compared_exactly() -> None:
    series = closes_series(EXACT_CLOSES)

    full, _ = both_paths(MAUnifiedStrategy(fast=3, slow=7), series)

    fast, slow = full.values["fast"][7], full.values["slow"][7]
    assert fast == slow == B + 0.375, "the floats tie"
    assert Fraction(3 * B + 1, 3) < Fraction(7 * B + 3, 7), "the averages do not"
    assert full.values["cross"][6:].tolist() == [0.0, -1.0]
    assert sides(full.signals, series) == [(7, "SELL")]


# --- an independent reference on real data ----------------------------------------------


Averages = Sequence[Fraction | float | None]


def reference_signals(fast: Averages, slow: Averages) -> list[int]:
    """Bars with a cross, by the documented rule, from reference averages (None = warm-up)."""
    crossings, side = [], 0
    for i, (f, s) in enumerate(zip(fast, slow, strict=True)):
        if f is None or s is None:
            continue
        now = (f > s) - (f < s)
        if now and side and now != side:
            crossings.append(i if now > 0 else -i)
        side = now or side
    return crossings


def exact_sma(closes: list[int], n: int) -> list[Fraction | None]:
    return [
        None if i < n - 1 else Fraction(sum(closes[i - n + 1 : i + 1]), n)
        for i in range(len(closes))
    ]


def exact_wma(closes: list[int], n: int) -> list[Fraction | None]:
    weight = n * (n + 1) // 2
    return [
        None
        if i < n - 1
        else Fraction(sum(w * c for w, c in enumerate(closes[i - n + 1 : i + 1], 1)), weight)
        for i in range(len(closes))
    ]


def pandas_ema(closes: list[int], n: int) -> list[float | None]:
    # The charting convention: the first value is the SMA of n closes, then α = 2/(n+1).
    s = pd.Series(closes, dtype=float)
    seeded = pd.concat([pd.Series([s[:n].mean()]), s[n:]], ignore_index=True)
    ema = seeded.ewm(alpha=2 / (n + 1), adjust=False).mean().tolist()
    return [None] * (n - 1) + ema


@pytest.fixture(scope="module")
def eurusd() -> CandleSeries:
    return load_candles("data/EURUSD_M15_2026.csv.gz").slice(0, 3000)


@pytest.mark.parametrize("kind", ["sma", "wma", "ema"])
def test_signals_on_real_data_match_an_independent_reference(
    eurusd: CandleSeries, kind: str
) -> None:
    closes = eurusd.close.tolist()
    references: dict[str, Callable[[list[int], int], Averages]] = {
        "sma": exact_sma,
        "wma": exact_wma,
        "ema": pandas_ema,
    }
    reference = references[kind]
    strategy = MAUnifiedStrategy(fast=10, slow=30, kind=kind)

    full = run_full(strategy, eurusd)

    fast, slow = reference(closes, 10), reference(closes, 30)
    expected = reference_signals(fast, slow)
    assert len(expected) > 20
    got = sides(full.signals, eurusd)
    assert [i if side == "BUY" else -i for i, side in got] == expected
    # And the values themselves, in price units, within 1e-9 relative (DESIGN contract 2).
    scale = eurusd.instrument.scale
    want = np.array([np.nan if v is None else float(v) / scale for v in slow])
    np.testing.assert_allclose(full.values["slow"], want, rtol=1e-9, equal_nan=True)
    assert all(s.side in (Side.BUY, Side.SELL) for s in full.signals)
