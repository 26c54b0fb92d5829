"""Shared cases for the indicator tests: parameters, input series, runners and assertions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import strategies as st

from framework.indicators import INDICATORS, Indicator
from framework.indicators._base import Output

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Example configurations of every kind: the smallest, a small and a typical one.
EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "sma": [{"period": 1}, {"period": 3}, {"period": 20}],
    "ema": [{"period": 1}, {"period": 3}, {"period": 20}],
    "wma": [{"period": 1}, {"period": 3}, {"period": 20}],
    "rsi": [{"period": 1}, {"period": 3}, {"period": 14}],
    "atr": [{"period": 1}, {"period": 3}, {"period": 14}],
    "stddev": [{"period": 1}, {"period": 3}, {"period": 20}],
    "bollinger": [{"period": 1, "k": 1.0}, {"period": 3, "k": 2.5}, {"period": 20, "k": 2.0}],
    "macd": [
        {"fast": 1, "slow": 2, "signal": 1},
        {"fast": 2, "slow": 5, "signal": 3},
        {"fast": 12, "slow": 26, "signal": 9},
    ],
    "donchian": [{"period": 1}, {"period": 3}, {"period": 20}],
}

#: Every (kind, parameters) example, for ``pytest.mark.parametrize``.
ALL_EXAMPLES = [(kind, params) for kind, examples in EXAMPLES.items() for params in examples]
SCALES = [1, 2, 100, 100_000, 200_000, 400_000_000]
SHAPES = ["walk", "uniform", "runs", "alternating", "extreme", "jitter", "positive"]
MAGNITUDES = [1, 10, 100_000, 10**12]  # and each indicator's own bound


def example_id(case: tuple[str, dict[str, Any]]) -> str:
    kind, params = case
    return f"{kind}-" + "-".join(str(value) for value in params.values())


@st.composite
def configurations(
    draw: st.DrawFn, kinds: Iterable[str] = EXAMPLES, min_period: int = 1, max_period: int = 40
) -> Indicator:
    """A random fresh indicator of one of ``kinds``, with a random scale and lookback."""
    kind = draw(st.sampled_from(sorted(kinds)))
    period = st.integers(min_period, max_period)
    if kind == "macd":
        fast = draw(st.integers(min_period, max_period - 1))
        slow = draw(st.integers(fast + 1, max_period))
        params: dict[str, Any] = {"fast": fast, "slow": slow, "signal": draw(period)}
    elif kind == "bollinger":
        params = {"period": draw(period), "k": draw(st.sampled_from([0.5, 1.0, 2.0, 2.5, 3.3]))}
    else:
        params = {"period": draw(period)}
    scale = draw(st.sampled_from(SCALES))
    lookback = draw(st.integers(0, 3))
    return INDICATORS[kind](**params, scale=scale, lookback=lookback)


@st.composite
def series(
    draw: st.DrawFn,
    bound: int,
    min_size: int = 0,
    max_size: int = 300,
    shapes: list[str] = SHAPES,
    magnitudes: list[int] = MAGNITUDES,
) -> IntArray:
    """Ticks within ±``bound``: walks, uniform noise, constant runs, alternating ties,
    extremes at the bound, jitter of a few ticks, positive prices — at magnitudes from
    1 tick to the bound.

    Values come from a numpy generator seeded by hypothesis, so long series stay cheap
    and every example is reproducible.
    """
    size = draw(st.integers(min_size, max_size))
    shape = draw(st.sampled_from(shapes))
    magnitude = min(bound, draw(st.sampled_from([*magnitudes, bound])))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if shape == "walk":
        step = max(1, magnitude // 1000)
        start = rng.integers(-magnitude, magnitude, endpoint=True)
        values = start + np.cumsum(rng.integers(-step, step, size, endpoint=True))
    elif shape == "uniform":
        values = rng.integers(-magnitude, magnitude, size, endpoint=True)
    elif shape == "runs":
        levels = rng.integers(-magnitude, magnitude, size, endpoint=True)
        values = np.repeat(levels, rng.integers(1, 30, size))[:size]
    elif shape == "alternating":
        pair = rng.integers(-magnitude, magnitude, 2, endpoint=True)
        values = np.where(np.arange(size) % 2 == 0, pair[0], pair[1])
    elif shape == "jitter":  # a few ticks around ±magnitude: averages nearly tie
        level = magnitude * rng.choice(np.array([-1, 1]))
        values = level + rng.integers(-3, 3, size, endpoint=True)
    elif shape == "extreme":
        values = rng.choice(
            np.array([-magnitude, -magnitude + 1, 0, magnitude - 1, magnitude]), size
        )
    else:
        values = rng.integers(1, magnitude, size, endpoint=True)
    return np.clip(values, -bound, bound).astype(np.int64)


def inputs_for(indicator: Indicator, base: IntArray, seed: int = 0) -> tuple[IntArray, ...]:
    """The arrays an indicator reads, derived from one series (high ≥ base ≥ low)."""
    bound = indicator.limit.bound
    rng = np.random.default_rng(seed)
    reach = max(1, int(np.abs(base).max(initial=0)) // 100)
    columns = {
        "price": base,
        "close": base,
        "high": np.clip(base + rng.integers(0, reach, base.size, endpoint=True), -bound, bound),
        "low": np.clip(base - rng.integers(0, reach, base.size, endpoint=True), -bound, bound),
    }
    return tuple(columns[name].astype(np.int64) for name in indicator.inputs)


def run(
    indicator: Indicator, inputs: tuple[IntArray, ...], restore_at: Iterable[int] = ()
) -> tuple[Indicator, list[Output]]:
    """Feed every bar; before each bar in ``restore_at``, snapshot and restore from bytes.

    Restores alternate between the three ways in: `Indicator.restore`, the class's
    own ``restore`` and `Indicator.restore_like`.
    """
    points = set(restore_at)
    outputs: list[Output] = []
    for bar, row in enumerate(zip(*(column.tolist() for column in inputs), strict=True)):
        if bar in points:
            data = indicator.snapshot()
            way = bar % 3
            if way == 0:
                indicator = Indicator.restore(data)
            elif way == 1:
                indicator = type(indicator).restore(data)
            else:
                indicator = type(indicator)(**indicator.params()).restore_like(data)
        outputs.append(indicator.update(*row))
    return indicator, outputs


def columns(indicator: Indicator, outputs: list[Output]) -> dict[str, FloatArray]:
    """Incremental outputs as float64 arrays per output name (None → NaN)."""
    if len(indicator.outputs) == 1:
        rows: list[tuple[float, ...] | None] = [None if v is None else (v,) for v in outputs]  # type: ignore[misc]
    else:
        rows = outputs  # type: ignore[assignment]
    return {
        name: np.array([np.nan if row is None else row[i] for row in rows], dtype=np.float64)
        for i, name in enumerate(indicator.outputs)
    }


def assert_identical(
    actual: dict[str, FloatArray], expected: dict[str, FloatArray], context: object = ""
) -> None:
    """Same output names, NaN at the same positions, every other value ``==``."""
    assert actual.keys() == expected.keys(), context
    for name in expected:
        a, b = actual[name], expected[name]
        assert a.shape == b.shape, (name, a.shape, b.shape, context)
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        if not same.all():
            bar = int(np.argmin(same))
            raise AssertionError(
                f"{context} {name}: first difference at bar {bar}: {a[bar]!r} != {b[bar]!r}"
            )
