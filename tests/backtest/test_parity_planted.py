"""`parity verify` catches a divergence planted one ulp deep.

`PlantedDivergence` is MA_Unified_Strat whose slow average is a `PlantedSMA`: its batch
twin is the real SMA, but from bar `PLANT_AT` on its incremental value reads one ulp
high (``math.nextafter``). The bar counter lives in the indicator's snapshot, so the
fault survives restarts exactly as a real one would. It registers no indicator kind of
its own (the registry is process-wide, and other tests check what it holds): its
snapshots say ``sma`` and it restores them itself. ``tests/backtest/test_cli_verify.py``
loads this file as ``--strategy tests/backtest/test_parity_planted.py:PlantedDivergence``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Self

import pytest

from backtest.parity import verify
from framework.candles import CandleSeries
from framework.engine import run_full
from framework.errors import SnapshotError
from framework.indicators import SMA, Indicator, _snapshot
from framework.loading import load_candles
from framework.state import open_store
from framework.strategy import Crossing, Use, crossing, use
from strategies.ma_unified import MAUnifiedStrategy

#: The first bar (0-based) whose incremental slow average is wrong.
PLANT_AT = 300


class PlantedSMA(SMA):
    """An SMA whose incremental value is one ulp too high from bar `PLANT_AT` on."""

    __slots__ = ("_bars",)

    def __init__(self, period: int, *, scale: int = 1, lookback: int = 1) -> None:
        super().__init__(period, scale=scale, lookback=lookback)
        self._bars = 0

    def update(self, price: int) -> float | None:
        self._bars += 1
        return super().update(price)

    def get(self, ago: int = 0, output: str | None = None) -> float | None:
        value = super().get(ago, output)
        bar = self._bars - 1 - ago
        return value if value is None or bar < PLANT_AT else math.nextafter(value, math.inf)

    def _state(self) -> list[Any]:
        return [*super()._state(), self._bars]

    def _set_state(self, state: list[Any]) -> None:
        *window_state, self._bars = state
        super()._set_state(window_state)

    @classmethod
    def restore(cls, data: bytes, expected: Indicator | None = None) -> Self:
        _, _, params, body = _snapshot.unpack(data)
        indicator = cls(**params)
        if expected is not None and indicator.params() != expected.params():
            raise SnapshotError(f"snapshot holds {indicator!r}, expected {expected!r}")
        indicator._load(body)
        return indicator


class PlantedDivergence(MAUnifiedStrategy):
    """MA_Unified_Strat with the planted slow average."""

    name = "planted_divergence"

    def indicators(self) -> Mapping[str, Use | Crossing]:
        return {
            "fast": use(SMA, self.fast, price=self.price),
            "slow": use(PlantedSMA, self.slow, price=self.price),
            "cross": crossing("fast", "slow"),
        }


@pytest.fixture(scope="module")
def eurusd() -> CandleSeries:
    return load_candles("data/EURUSD_M15_2026.csv.gz").slice(0, 1000)


@pytest.mark.parametrize(
    ("store", "restarts"),
    [(False, 0), (True, 0), (True, 4)],
    ids=["in-memory pass", "store", "store with restarts"],
)
def test_a_one_ulp_divergence_is_reported_at_the_bar_it_starts_with_both_values(
    eurusd: CandleSeries, store: bool, restarts: int
) -> None:
    strategy = PlantedDivergence(fast=10, slow=50)
    right = float(run_full(strategy, eurusd).values["slow"][PLANT_AT])

    report = verify(
        strategy, eurusd, open_store("memory") if store else None, restarts=restarts, seed=5
    )

    assert not report.ok
    assert report.mismatches == len(eurusd) - PLANT_AT  # every later slow value, nothing else
    first = report.first_mismatch
    assert first is not None
    assert (first.index, first.series) == (PLANT_AT, "slow")
    assert first.time == eurusd.times()[PLANT_AT].isoformat()
    assert first.full == right
    assert first.incremental == math.nextafter(right, math.inf) != right
    assert report.restarts == restarts
    assert report.signals_full == report.signals_incremental, "one ulp moved no signal here"


def test_the_report_of_a_divergence_is_json_ready(eurusd: CandleSeries) -> None:
    report = verify(PlantedDivergence(fast=10, slow=50), eurusd, None)

    data = json.loads(json.dumps(report.to_dict()))

    assert data["mismatches"] == len(eurusd) - PLANT_AT
    assert set(data["first_mismatch"]) == {"index", "time", "series", "full", "incremental"}
    assert data["first_mismatch"]["index"] == PLANT_AT


def test_the_same_strategy_without_the_plant_is_identical(eurusd: CandleSeries) -> None:
    report = verify(MAUnifiedStrategy(fast=10, slow=50), eurusd, open_store("memory"), restarts=4)

    assert report.ok
    assert report.first_mismatch is None
