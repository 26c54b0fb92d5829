"""Trade simulation on hand-computed cases.

Every expected number below is derived by hand in the comments from the
10-bar series `OPENS`/`CLOSES` and the documented conventions: a signal on bar
t fills at the open of bar t+1; buys fill at open + spread/2 and sells at
open - spread/2; commission is a fraction of each fill's traded value;
``units = size * equity / (fill * (1 + commission))``; an open position is
closed at the last bar's close.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from backtest.simulation import Simulation, SimulationSettings, Trade, simulate, write_trades_csv
from framework.candles import CandleSeries
from framework.engine import SignalAt
from framework.errors import DataError, ParameterError
from framework.instruments import Instrument
from framework.strategy import Side
from framework.timeframes import Timeframe

DAY_NS = 86_400 * 10**9
#           bar: 0    1    2    3    4    5    6   7   8    9
OPENS = [100, 100, 104, 110, 112, 105, 100, 95, 98, 102]
CLOSES = [100, 104, 108, 112, 106, 100, 96, 98, 102, 105]


def daily_series(opens: list[int], closes: list[int], decimals: int = 0) -> CandleSeries:
    """Daily bars from day 0 (1970-01-01); high/low are the body's extremes."""
    return CandleSeries.create(
        Instrument("TEST", decimals),
        Timeframe.D1,
        time_ns=np.arange(len(opens), dtype=np.int64) * DAY_NS,
        open=opens,
        high=np.maximum(opens, closes),
        low=np.minimum(opens, closes),
        close=closes,
        volume=np.zeros(len(opens)),
    )


def signal(bar: int, side: Side) -> SignalAt:
    return SignalAt(bar * DAY_NS, side, float(CLOSES[bar]), "test")


def day(n: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=n)


def run(signals: list[SignalAt], **settings: Any) -> Simulation:
    return simulate(
        daily_series(OPENS, CLOSES), signals, SimulationSettings(cash=1000.0, **settings)
    )


# BUY on bar 1, a repeated BUY on bar 3, SELL on bar 4, BUY on bar 7, SELL on the last bar.
SIGNALS = [
    signal(1, Side.BUY),
    signal(3, Side.BUY),
    signal(4, Side.SELL),
    signal(7, Side.BUY),
    signal(9, Side.SELL),
]


def test_long_short_reverses_on_opposite_signals_and_closes_at_the_last_close() -> None:
    # BUY@1 fills at open[2] = 104: units = 1000/104, cash 0.
    # BUY@3 is the held direction: ignored.
    # SELL@4 fills at open[5] = 105: the long gains 1000/104 * (105-104) = 1000/104;
    #   equity 1000*105/104 reopens short: units = (1000*105/104)/105 = 1000/104,
    #   cash = 1000*105/104 + 1000/104*105 = 1000*210/104.
    # BUY@7 fills at open[8] = 98: the short gains 1000/104 * (105-98) = 7000/104;
    #   equity 1000*(210-98)/104 = 1000*112/104 reopens long: units = 1000*112/(104*98).
    # SELL@9 is on the last bar: unfilled. The long is closed at close[9] = 105.
    sim = run(SIGNALS)

    long_units, short_units = 1000 / 104, 1000 / 104
    last_units = 1000 * 112 / (104 * 98)
    assert sim.equity.tolist() == pytest.approx(
        [
            1000,
            1000,
            long_units * 108,  # 1038.46
            long_units * 112,  # 1076.92
            long_units * 106,  # 1019.23
            1000 * 210 / 104 - short_units * 100,  # 1000*110/104 = 1057.69
            1000 * 210 / 104 - short_units * 96,  # 1000*114/104 = 1096.15
            1000 * 210 / 104 - short_units * 98,  # 1000*112/104 = 1076.92
            last_units * 102,  # 1120.88
            last_units * 105,  # 1153.85 = 15000/13
        ],
        rel=1e-12,
    )
    assert sim.final_equity == pytest.approx(15000 / 13, rel=1e-12)
    assert sim.position.tolist() == pytest.approx(
        [0, 0, *[long_units] * 3, *[-short_units] * 3, last_units, 0], rel=1e-12
    )
    assert [(t.side, t.entry_price, t.exit_price, t.closed_at_end) for t in sim.trades] == [
        ("long", 104.0, 105.0, False),
        ("short", 105.0, 98.0, False),
        ("long", 98.0, 105.0, True),
    ]
    assert [(t.entry_time, t.exit_time) for t in sim.trades] == [
        (day(2), day(5)),
        (day(5), day(8)),
        (day(8), day(10)),  # closed at the close of bar 9, i.e. day 10 00:00
    ]
    assert [t.pnl for t in sim.trades] == pytest.approx(
        [1000 / 104, 7000 / 104, last_units * 7], rel=1e-12
    )
    # Returns on entry value: 1/104, 7/105 and 7/98.
    assert [t.return_pct for t in sim.trades] == pytest.approx(
        [100 / 104, 700 / 105, 700 / 98], rel=1e-12
    )
    assert (sim.ignored, sim.unfilled, sim.fills, sim.commission) == (1, 1, 6, 0.0)
    # Held from bar 2 to the end: 8 bars.
    assert sim.bars_in_market == 8


def test_long_only_goes_flat_on_sell_instead_of_shorting() -> None:
    # BUY@1: long 1000/104 units at 104. SELL@4: flat at 105 with 1000*105/104 cash.
    # BUY@7: long (1000*105/104)/98 units at 98, closed at 105 at the end.
    sim = run(SIGNALS, mode="long-only")

    flat = 1000 * 105 / 104  # 1009.62
    units = flat / 98
    assert sim.equity.tolist() == pytest.approx(
        [
            1000,
            1000,
            1000 * 108 / 104,
            1000 * 112 / 104,
            1000 * 106 / 104,
            flat,
            flat,
            flat,
            units * 102,
            units * 105,
        ],
        rel=1e-12,
    )
    assert [(t.side, t.entry_price, t.exit_price, t.closed_at_end) for t in sim.trades] == [
        ("long", 104.0, 105.0, False),
        ("long", 98.0, 105.0, True),
    ]
    assert [t.pnl for t in sim.trades] == pytest.approx([1000 / 104, units * 7], rel=1e-12)
    assert (sim.ignored, sim.unfilled) == (1, 1)
    # Bars 2-4 and 8-9.
    assert sim.bars_in_market == 5


def test_commission_and_spread_are_paid_on_both_fills_of_a_round_trip() -> None:
    # Spread 2 (half 1), commission 0.1 %.
    # BUY@1 fills at open[2] + 1 = 105: units = 1000 / (105 * 1.001) = 1000/105.105,
    #   fee = 0.001 * 105 * units = 105/105.105, cash = 1000 - 105*units - fee = 0.
    # SELL@4 fills at open[5] - 1 = 104: proceeds 104*units = 104000/105.105,
    #   fee = 104/105.105, cash = 103896/105.105 = 988.497.
    sim = run(
        [signal(1, Side.BUY), signal(4, Side.SELL)], mode="long-only", commission=0.001, spread=2.0
    )

    units = 1000 / 105.105
    final = 103896 / 105.105
    assert sim.equity.tolist() == pytest.approx(
        [1000, 1000, units * 108, units * 112, units * 106, final, final, final, final, final],
        rel=1e-12,
    )
    (trade,) = sim.trades
    assert (trade.entry_price, trade.exit_price) == (105.0, 104.0)
    assert trade.size == pytest.approx(units, rel=1e-12)
    # pnl = final - 1000 = (103896 - 105105)/105.105 = -1209/105.105 = -11.5028
    assert trade.pnl == pytest.approx(-1209 / 105.105, rel=1e-12)
    # return = 100 * pnl / (105 * units) = 100 * -1209/105000 = -1209/1050 = -1.1514 %
    assert trade.return_pct == pytest.approx(-1209 / 1050, rel=1e-12)
    # commission = (105 + 104)/105.105 = 1.9885, also the run's total
    assert trade.commission == pytest.approx(209 / 105.105, rel=1e-12)
    assert sim.commission == pytest.approx(209 / 105.105, rel=1e-12)


def test_a_short_sells_at_the_bid_and_buys_back_at_the_ask_at_the_end() -> None:
    # Spread 2: SELL@4 fills at open[5] - 1 = 104, units = 1000/104, cash 2000.
    # Marked at the mid close: equity = 2000 - units * close.
    # End: bought back at close[9] + 1 = 106 -> cash = 2000 - 106000/104 = 102000/104.
    sim = run([signal(4, Side.SELL)], spread=2.0)

    units = 1000 / 104
    assert sim.equity.tolist() == pytest.approx(
        [
            1000,
            1000,
            1000,
            1000,
            1000,
            2000 - units * 100,
            2000 - units * 96,
            2000 - units * 98,
            2000 - units * 102,
            102000 / 104,
        ],
        rel=1e-12,
    )
    (trade,) = sim.trades
    assert (trade.side, trade.entry_price, trade.exit_price) == ("short", 104.0, 106.0)
    assert trade.closed_at_end and trade.exit_time == day(10)
    assert trade.pnl == pytest.approx(-2000 / 104, rel=1e-12)  # -19.23
    assert sim.position[-1] == 0.0 and sim.cash[-1] == sim.equity[-1]


def test_size_commits_a_fraction_of_equity() -> None:
    # size 0.5: BUY@1 buys 500/104 units at 104, keeping 500 cash; closed at 105.
    sim = run([signal(1, Side.BUY)], size=0.5)

    assert sim.trades[0].size == pytest.approx(500 / 104, rel=1e-12)
    assert sim.equity[2] == pytest.approx(500 + 500 * 108 / 104, rel=1e-12)
    assert sim.final_equity == pytest.approx(500 + 500 * 105 / 104, rel=1e-12)  # 1004.81


def test_a_signal_on_the_last_bar_never_fills() -> None:
    sim = run([signal(9, Side.BUY)])

    assert sim.trades == []
    assert sim.unfilled == 1
    assert sim.equity.tolist() == [1000.0] * 10


def test_a_sell_while_flat_is_ignored_in_long_only_mode() -> None:
    sim = run([signal(2, Side.SELL)], mode="long-only")

    assert (sim.trades, sim.ignored, sim.fills) == ([], 1, 0)
    assert sim.final_equity == 1000.0


def test_signals_are_replayed_in_time_order() -> None:
    in_order = run([signal(1, Side.BUY), signal(4, Side.SELL)])
    shuffled = run([signal(4, Side.SELL), signal(1, Side.BUY)])

    assert shuffled.trades == in_order.trades


def test_fills_use_the_series_prices_exactly() -> None:
    # 5-decimal ticks: the fill must be the very float `prices("open")` gives.
    opens = [117918, 117921, 117933, 117907]
    closes = [117920, 117930, 117910, 117900]
    series = daily_series(opens, closes, decimals=5)
    signals = [SignalAt(0, Side.BUY, 1.1792), SignalAt(DAY_NS, Side.SELL, 1.1793)]

    sim = simulate(series, signals, SimulationSettings())

    assert sim.trades[0].entry_price == series.prices("open")[1]
    assert sim.trades[0].exit_price == series.prices("open")[2]


def test_a_signal_off_the_series_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"signal at 1970-01-01T12:00:00\+00:00 is not a bar"):
        run([SignalAt(DAY_NS // 2, Side.BUY, 100.0)])


def test_an_empty_series_is_a_data_error() -> None:
    with pytest.raises(DataError, match="empty series"):
        simulate(daily_series([], []), [], SimulationSettings())


def test_a_spread_wider_than_the_price_is_rejected_at_the_fill() -> None:
    with pytest.raises(ParameterError, match="non-positive sell price"):
        run([signal(4, Side.SELL)], spread=250.0)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"cash": 0.0}, "cash must be positive"),
        ({"cash": float("nan")}, "cash must be finite"),
        ({"commission": -0.01}, "commission is a fraction of traded value in [0, 1)"),
        ({"commission": 1.0}, "commission is a fraction"),
        ({"spread": -1.0}, "spread must be zero or positive"),
        ({"size": 0.0}, "size is a positive fraction"),
        ({"size": "1"}, "size must be a number"),
        ({"mode": "long_only"}, "unknown mode 'long_only'; did you mean 'long-only'?"),
        ({"mode": "both"}, "unknown mode 'both'; expected long-short or long-only"),
    ],
)
def test_bad_settings_are_rejected_with_a_clear_message(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ParameterError, match=re.escape(message)):
        SimulationSettings(**settings)


def test_trades_csv_has_the_documented_columns_and_reads_back(tmp_path: Path) -> None:
    sim = run(SIGNALS)
    path = tmp_path / "trades.csv"

    write_trades_csv(path, sim.trades)

    frame = pd.read_csv(path)
    assert list(frame.columns) == [
        "entry_time",
        "exit_time",
        "side",
        "entry_price",
        "exit_price",
        "size",
        "pnl",
        "return_pct",
        "commission",
        "closed_at_end",
    ]
    assert frame["entry_time"].tolist() == [
        "1970-01-03T00:00:00+00:00",
        "1970-01-06T00:00:00+00:00",
        "1970-01-09T00:00:00+00:00",
    ]
    assert frame["closed_at_end"].tolist() == [False, False, True]
    assert frame["pnl"].tolist() == [t.pnl for t in sim.trades]  # repr floats read back exactly


def test_a_trade_as_dict_is_json_ready() -> None:
    trade: Trade = run(SIGNALS).trades[0]

    values = trade.as_dict()

    assert values["entry_time"] == "1970-01-03T00:00:00+00:00"
    assert values["side"] == "long" and values["closed_at_end"] is False
