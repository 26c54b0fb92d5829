"""The contract every indicator in the registry keeps, checked generically.

New indicators are discovered through ``INDICATORS``; the only thing a new kind needs
here is an entry in ``EXAMPLES``.
"""

from __future__ import annotations

import math
import subprocess
import sys
from fractions import Fraction
from typing import Any

import msgpack
import numpy as np
import pytest
from _indicator_testkit import (
    ALL_EXAMPLES,
    EXAMPLES,
    assert_identical,
    columns,
    example_id,
    inputs_for,
    run,
)

from framework.errors import ParameterError, SnapshotError
from framework.indicators import INDICATORS, MAX_PERIOD, SMA, Indicator

# A realistic EURUSD-like walk in ticks (5 decimals), the same on every run.
WALK = 110_000 + np.cumsum(np.random.default_rng(7).integers(-40, 41, 400))


def build(kind: str, params: dict[str, Any], **options: int) -> Indicator:
    return INDICATORS[kind](**params, **options)


def warm_up(kind: str, params: dict[str, Any]) -> int:
    """Bars without a value, as each docstring states it."""
    if kind == "macd":
        return int(params["slow"] + params["signal"] - 2)
    return int(params["period"]) - (0 if kind in ("rsi", "atr") else 1)


def window(params: dict[str, Any]) -> int:
    return max(value for value in params.values() if isinstance(value, int))


examples = pytest.mark.parametrize("case", ALL_EXAMPLES, ids=example_id)


def test_every_registered_kind_has_examples() -> None:
    assert set(INDICATORS) == set(EXAMPLES)


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_the_registry_maps_each_kind_to_its_class(kind: str) -> None:
    cls = INDICATORS[kind]
    assert cls.kind == kind
    assert cls.inputs and all(isinstance(name, str) for name in cls.inputs)
    assert cls.outputs and all(isinstance(name, str) for name in cls.outputs)


@examples
def test_warm_up_is_none_and_nan_at_the_same_leading_bars(case: tuple[str, dict[str, Any]]) -> None:
    indicator = build(*case, scale=100_000)
    inputs = inputs_for(indicator, WALK)
    _, outputs = run(indicator, inputs)
    warm = [value is None for value in outputs]
    assert warm == [True] * warm_up(*case) + [False] * (len(outputs) - warm_up(*case))
    assert_identical(columns(indicator, outputs), build(*case, scale=100_000).batch(*inputs))


@examples
def test_a_snapshot_restore_at_every_bar_changes_nothing(case: tuple[str, dict[str, Any]]) -> None:
    inputs = inputs_for(build(*case), WALK)
    uninterrupted, straight = run(build(*case, scale=100_000, lookback=2), inputs)
    restored, interrupted = run(build(*case, scale=100_000, lookback=2), inputs, range(WALK.size))
    assert interrupted == straight
    assert restored.snapshot() == uninterrupted.snapshot()


@examples
def test_reset_equals_a_fresh_indicator(case: tuple[str, dict[str, Any]]) -> None:
    indicator = build(*case, scale=100, lookback=1)
    inputs = inputs_for(indicator, WALK)
    run(indicator, inputs)
    indicator.reset()
    fresh = build(*case, scale=100, lookback=1)
    assert indicator.snapshot() == fresh.snapshot()
    assert run(indicator, inputs)[1] == run(fresh, inputs)[1]


@examples
def test_get_reads_the_current_and_earlier_values(case: tuple[str, dict[str, Any]]) -> None:
    indicator = build(*case, lookback=3)
    table: list[dict[str, float | None]] = []
    for row in zip(*(column.tolist() for column in inputs_for(indicator, WALK[:80])), strict=True):
        value = indicator.update(*row)
        if len(indicator.outputs) == 1:
            table.append({"value": value})  # type: ignore[dict-item]
        else:
            table.append(dict.fromkeys(indicator.outputs) if value is None else value._asdict())  # type: ignore[union-attr]
        for ago in range(min(4, len(table))):
            for output in indicator.outputs:
                assert indicator.get(ago, output) == table[-1 - ago][output]
            assert indicator.get(ago) == table[-1 - ago][indicator.outputs[0]]
    with pytest.raises(ParameterError, match=r"ago must be 0\.\.3"):
        indicator.get(4)
    with pytest.raises(ParameterError, match="has outputs"):
        indicator.get(0, "nope")


@examples
def test_params_rebuild_an_equal_fresh_indicator(case: tuple[str, dict[str, Any]]) -> None:
    indicator = build(*case, scale=200_000, lookback=2)
    twin = type(indicator)(**indicator.params())
    assert twin.snapshot() == indicator.snapshot()
    assert indicator.params() == {**case[1], "scale": 200_000, "lookback": 2}
    assert indicator.name == f"{type(indicator).__name__}({', '.join(map(str, case[1].values()))})"
    assert repr(indicator) == f"{indicator.name[:-1]}, scale=200000, lookback=2)"


@examples
def test_state_grows_with_the_window_never_with_history(case: tuple[str, dict[str, Any]]) -> None:
    indicator = build(*case, scale=100_000)
    long_walk = 110_000 + np.cumsum(np.random.default_rng(3).integers(-40, 41, 5_000))
    inputs = inputs_for(indicator, long_walk)
    sizes = []
    for row in zip(*(column.tolist() for column in inputs), strict=True):
        indicator.update(*row)
        sizes.append(len(indicator.snapshot()))
    assert max(sizes) <= 200 + 20 * window(case[1])


@examples
def test_only_averages_have_exact_values(case: tuple[str, dict[str, Any]]) -> None:
    indicator = build(*case, scale=100_000)
    inputs = inputs_for(indicator, WALK)
    _, outputs = run(indicator, inputs)
    exact = indicator.exact()
    batch_exact = indicator.batch_exact(*inputs)
    if case[0] not in ("sma", "wma"):
        assert exact is None and batch_exact is None
        return
    assert exact is not None and batch_exact is not None
    numerator, denominator = exact
    assert denominator > 0 and float(Fraction(numerator, denominator)) == outputs[-1]
    assert (int(batch_exact[0][-1]), batch_exact[1]) == exact


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "20", None, MAX_PERIOD + 1])
def test_bad_parameters_are_rejected_in_one_clear_line(kind: str, bad: object) -> None:
    for name in EXAMPLES[kind][-1]:
        if name == "k":
            continue
        params = {**EXAMPLES[kind][-1], name: bad}
        with pytest.raises(ParameterError) as error:
            INDICATORS[kind](**params)
        message = str(error.value)
        assert "\n" not in message and name in message and type(error.value).__name__
        assert message.startswith(INDICATORS[kind].__name__)


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
@pytest.mark.parametrize(("option", "bad"), [("scale", 0), ("scale", 2.0), ("lookback", -1)])
def test_bad_scale_or_lookback_is_rejected(kind: str, option: str, bad: object) -> None:
    with pytest.raises(ParameterError, match=f"{INDICATORS[kind].__name__} {option} must be"):
        INDICATORS[kind](**EXAMPLES[kind][-1], **{option: bad})


@pytest.mark.parametrize("k", [0, -1.0, math.nan, math.inf, "2", True])
def test_bollinger_k_must_be_a_positive_finite_number(k: object) -> None:
    with pytest.raises(ParameterError, match="Bollinger k must be a positive finite number"):
        INDICATORS["bollinger"](20, k)


def test_macd_slow_must_exceed_fast() -> None:
    with pytest.raises(ParameterError, match="MACD slow must be an integer ≥ 13, got 12"):
        INDICATORS["macd"](12, 12, 9)


def test_a_period_whose_divisor_loses_exactness_is_rejected() -> None:
    with pytest.raises(ParameterError, match="must stay below 2\\*\\*53"):
        SMA(1000, scale=10**14)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00",
        b"\xc1",
        b"garbage bytes",
        msgpack.packb({"a": 1}),
        msgpack.packb([1, 2, 3]),
        msgpack.packb(["parity.ind", "sma", 1, {"period": 3}]),
        SMA(3).snapshot()[:-3],
        SMA(3).snapshot() + b"\x00",
        "text",
    ],
    ids=lambda data: repr(data)[:30],
)
def test_garbage_is_a_snapshot_error(data: Any) -> None:
    with pytest.raises(SnapshotError):
        Indicator.restore(data)


def repack(data: bytes, index: int, value: Any) -> bytes:
    envelope = msgpack.unpackb(data)
    envelope[index] = value
    return msgpack.packb(envelope)


@examples
def test_restoring_another_kind_version_or_configuration_is_a_snapshot_error(
    case: tuple[str, dict[str, Any]],
) -> None:
    indicator = build(*case, scale=100, lookback=1)
    data = indicator.snapshot()
    other_kind = INDICATORS["sma" if case[0] != "sma" else "ema"]
    with pytest.raises(SnapshotError, match=f"holds a {case[0]} indicator"):
        other_kind.restore(data)
    with pytest.raises(SnapshotError, match="format version 99"):
        Indicator.restore(repack(data, 2, 99))
    with pytest.raises(SnapshotError, match="unknown indicator kind 'nope'"):
        Indicator.restore(repack(data, 1, "nope"))
    with pytest.raises(SnapshotError, match="invalid parameters"):
        Indicator.restore(repack(data, 3, {**indicator.params(), "scale": 0}))
    for options in ({"scale": 1, "lookback": 1}, {"scale": 100, "lookback": 2}):
        with pytest.raises(SnapshotError, match="expected"):
            build(*case, **options).restore_like(data)
    if window(case[1]) > 1:
        changed = {name: value + 1 if name != "k" else value for name, value in case[1].items()}
        with pytest.raises(SnapshotError, match="expected"):
            build(case[0], changed, scale=100).restore_like(data)
    assert type(indicator).restore(data, expected=indicator).snapshot() == data


@examples
def test_a_corrupt_state_is_a_snapshot_error(case: tuple[str, dict[str, Any]]) -> None:
    indicator = build(*case, lookback=1)
    run(indicator, inputs_for(indicator, WALK[:60]))
    kind, version, params, (history, state) = msgpack.unpackb(indicator.snapshot())[1:]
    bodies = [
        [],
        [history],
        [history, state, 1],
        [history[:-1], state],
        [history, []],
        [history, state[:-1]],
        [["x"] * len(history), state],
        [history, [*state[:-1], "x"]],
        [history, [2**62, *state[1:]]],
        [history, [[], *state[1:]]],
        [history, [0.5, *state[1:]]],
    ]
    for body in bodies:
        data = msgpack.packb(["parity.ind", kind, version, params, body])
        with pytest.raises(SnapshotError):
            Indicator.restore(data)


def test_an_sma_200_snapshot_stays_under_2_kib_even_at_10_to_the_12_ticks() -> None:
    for price in (110_000, 10**12):
        sma = SMA(200, scale=100_000)
        for _ in range(500):
            sma.update(price)
        assert len(sma.snapshot()) < 2048


def test_numpy_integer_inputs_give_the_same_values_and_snapshots() -> None:
    for kind, params in ALL_EXAMPLES:
        a, b = build(kind, params), build(kind, params)
        inputs = inputs_for(a, WALK[:50])
        for row in zip(*inputs, strict=True):
            assert a.update(*row) == b.update(*(int(x) for x in row))
        assert Indicator.restore(a.snapshot()).snapshot() == b.snapshot()


def test_batch_rejects_wrong_arity_dtype_shape_and_lengths() -> None:
    atr = INDICATORS["atr"](3)
    with pytest.raises(ParameterError, match=r"takes 3 input\(s\) \(high, low, close\), got 1"):
        atr.batch([1, 2, 3])
    with pytest.raises(ParameterError, match="integer ticks, got 1-d float64"):
        SMA(3).batch(np.array([1.0, 2.0]))
    with pytest.raises(ParameterError, match="got 2-d"):
        SMA(3).batch(np.ones((2, 2), dtype=np.int64))
    with pytest.raises(ParameterError, match="differ in length"):
        atr.batch([1, 2], [1, 2], [1])


@examples
def test_batch_of_short_and_empty_series(case: tuple[str, dict[str, Any]]) -> None:
    indicator = build(*case)
    for size in (0, 1):
        outputs = indicator.batch(*inputs_for(indicator, WALK[:size]))
        assert list(outputs) == list(indicator.outputs)
        assert all(values.shape == (size,) for values in outputs.values())
        assert (size == 1 and window(case[1]) == 1) or all(
            np.isnan(values).all() for values in outputs.values()
        )


def test_a_snapshot_restored_in_a_fresh_process_continues_identically() -> None:
    inputs = [int(x) for x in WALK]
    first = INDICATORS["macd"](3, 7, 4, scale=100_000)
    for price in inputs[:100]:
        first.update(price)
    script = (
        "import sys; from framework.indicators import Indicator\n"
        "ind = Indicator.restore(sys.stdin.buffer.read())\n"
        f"print(repr([ind.update(x) for x in {inputs[100:]!r}]))"
    )
    child = subprocess.run(
        [sys.executable, "-c", script], input=first.snapshot(), capture_output=True, check=True
    )
    assert child.stdout.decode().strip() == repr([first.update(x) for x in inputs[100:]])
