"""Typed strategy parameters: defaults, coercion from text, bounds, choices and hints."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from framework.errors import ParameterError
from framework.params import Param, did_you_mean
from framework.strategy import Bar, Crossing, Signal, Strategy, Use
from strategies.ma_unified import MAUnifiedStrategy


class Knobs(Strategy):
    """A strategy with one parameter of every type, and nothing to compute."""

    name = "knobs"
    period = Param(20, "a window", minimum=2, maximum=500)
    ratio = Param(0.5, "a fraction", minimum=0.0, maximum=1.0)
    confirm = Param(False, "a switch")
    mode = Param("fast", "a choice", choices=("fast", "slow", "steady"))

    def indicators(self) -> Mapping[str, Use | Crossing]:
        return {}

    def decide(self, bar: Bar) -> Signal | None:
        return None


class MoreKnobs(Knobs):
    """Parameters are inherited, base class first."""

    name = "more_knobs"
    extra = Param(3, "one more")


def test_defaults_apply_when_nothing_is_given() -> None:
    knobs = Knobs()

    assert knobs.params == {"period": 20, "ratio": 0.5, "confirm": False, "mode": "fast"}
    assert (knobs.period, knobs.ratio, knobs.confirm, knobs.mode) == (20, 0.5, False, "fast")


def test_parameters_are_listed_in_declaration_order_base_class_first() -> None:
    assert list(MoreKnobs.parameters()) == ["period", "ratio", "confirm", "mode", "extra"]
    assert MoreKnobs(extra="4").extra == 4


def test_the_class_attribute_is_the_parameter_spec_and_the_instance_attribute_its_value() -> None:
    assert isinstance(Knobs.period, Param)
    assert Knobs.period.name == "period"
    assert Knobs.period.kind is int
    assert Knobs(period=30).period == 30


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("period", "20", 20),
        ("period", " 42 ", 42),
        ("ratio", "0.25", 0.25),
        ("ratio", "1", 1.0),
        ("confirm", "true", True),
        ("confirm", "TRUE", True),
        ("confirm", "yes", True),
        ("confirm", "on", True),
        ("confirm", "1", True),
        ("confirm", "false", False),
        ("confirm", "No", False),
        ("confirm", "off", False),
        ("confirm", "0", False),
        ("mode", "steady", "steady"),
    ],
)
def test_values_given_as_text_are_converted_to_the_parameter_type(
    name: str, text: str, expected: object
) -> None:
    value = Knobs(**{name: text}).params[name]

    assert value == expected
    assert type(value) is type(expected)


def test_an_int_is_accepted_for_a_float_parameter_and_becomes_a_float() -> None:
    assert type(Knobs(ratio=1).ratio) is float


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("period", "abc", "knobs: period must be int, got 'abc'"),
        ("period", "2.5", "knobs: period must be int, got '2.5'"),
        ("period", 2.0, "knobs: period must be int, got 2.0"),
        ("period", True, "knobs: period must be int, got True"),
        ("ratio", "half", "knobs: ratio must be float, got 'half'"),
        ("confirm", "maybe", "knobs: confirm must be bool, got 'maybe'"),
        ("confirm", 1, "knobs: confirm must be bool, got 1"),
        ("mode", 3, "knobs: mode must be str, got 3"),
    ],
)
def test_values_of_the_wrong_type_are_rejected_with_the_parameter_and_the_value(
    name: str, value: object, message: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        Knobs(**{name: value})

    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "1"}, "knobs: period must be ≥ 2, got 1"),
        ({"period": 501}, "knobs: period must be ≤ 500, got 501"),
        ({"ratio": "-0.1"}, "knobs: ratio must be ≥ 0.0, got -0.1"),
        ({"ratio": 1.5}, "knobs: ratio must be ≤ 1.0, got 1.5"),
    ],
)
def test_bounds_are_checked_and_named_in_the_message(
    params: dict[str, object], message: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        Knobs(**params)

    assert str(caught.value) == message


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf"])
def test_non_finite_floats_are_rejected_rather_than_slipping_past_the_bounds(text: str) -> None:
    # NaN compares False with every bound, so without its own check it would pass them.
    with pytest.raises(ParameterError, match="knobs: ratio must be a finite number"):
        Knobs(ratio=text)
    with pytest.raises(ParameterError, match="finite"):
        Knobs(ratio=float(text))


def test_a_value_outside_the_choices_lists_them_and_suggests_the_closest() -> None:
    with pytest.raises(ParameterError) as caught:
        Knobs(mode="slwo")

    assert str(caught.value) == (
        "knobs: mode must be one of fast, slow, steady, got 'slwo'; did you mean 'slow'?"
    )


def test_a_value_far_from_every_choice_gets_no_hint() -> None:
    with pytest.raises(ParameterError) as caught:
        Knobs(mode="zzzzzz")

    assert "did you mean" not in str(caught.value)


@pytest.mark.parametrize("text", ["STEADY", "Steady", "steady"])
def test_a_choice_is_accepted_in_any_case_and_stored_as_declared(text: str) -> None:
    assert Knobs(mode=text).mode == "steady"


def test_choices_that_differ_only_in_case_are_matched_exactly() -> None:
    spec = Param("a", choices=("a", "A"))

    assert (spec.coerce("A", owner="o"), spec.coerce("a", owner="o")) == ("A", "a")
    with pytest.raises(ParameterError, match="must be one of x, X, y"):
        Param("x", choices=("x", "X", "y")).coerce("Y", owner="o")


def test_a_misspelt_choice_in_capitals_still_gets_a_hint() -> None:
    with pytest.raises(ParameterError) as caught:
        Knobs(mode="SLWO")

    assert str(caught.value).endswith("got 'SLWO'; did you mean 'slow'?")


@pytest.mark.parametrize(
    ("name", "allowed"),
    [("period", "int from 2 to 500"), ("ratio", "float from 0 to 1"), ("confirm", "bool"),
     ("mode", "fast, slow, steady")],
)  # fmt: skip
def test_allowed_says_what_a_parameter_accepts_bounds_included(name: str, allowed: str) -> None:
    assert Knobs.parameters()[name].allowed == allowed


def test_an_unknown_parameter_name_gets_a_did_you_mean_hint_and_the_known_names() -> None:
    with pytest.raises(ParameterError) as caught:
        Knobs(perood=10)

    assert str(caught.value) == (
        "unknown parameter 'perood' for knobs; did you mean 'period'? "
        "(parameters: period, ratio, confirm, mode)"
    )


def test_an_unknown_parameter_name_far_from_every_known_one_gets_no_hint() -> None:
    with pytest.raises(ParameterError) as caught:
        Knobs(xyzzy=1)

    assert "did you mean" not in str(caught.value)
    assert "(parameters: period, ratio, confirm, mode)" in str(caught.value)


def test_did_you_mean_is_empty_without_a_close_match() -> None:
    assert did_you_mean("fsat", ["fast", "slow"]) == "; did you mean 'fast'?"
    assert did_you_mean("q", ["fast", "slow"]) == ""
    assert did_you_mean("fast", []) == ""


def test_ma_unified_takes_every_parameter_as_text() -> None:
    strategy = MAUnifiedStrategy(fast="10", slow="30", kind="wma", price="hlc3")

    assert strategy.params == {"fast": 10, "slow": 30, "kind": "wma", "price": "hlc3"}


@pytest.mark.parametrize(("fast", "slow"), [(50, 50), (200, 50), ("60", "59")])
def test_ma_unified_rejects_a_fast_period_not_below_the_slow_one(
    fast: object, slow: object
) -> None:
    with pytest.raises(ParameterError, match=r"fast \(\d+\) must be less than slow \(\d+\)"):
        MAUnifiedStrategy(fast=fast, slow=slow)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"fast": 0}, "fast must be ≥ 1"),
        ({"slow": 1, "fast": 1}, "slow must be ≥ 2"),
        ({"kind": "hma"}, "kind must be one of sma, ema, wma"),
        ({"kind": "emaa"}, "did you mean 'ema'?"),
        ({"price": "hl3"}, "price must be one of close, open, high, low, hl2, hlc3, ohlc4"),
        ({"slwo": 100}, "did you mean 'slow'?"),
    ],
)
def test_ma_unified_rejects_bad_parameters_with_a_clear_message(
    params: dict[str, object], fragment: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        MAUnifiedStrategy(**params)

    assert fragment in str(caught.value)
    assert str(caught.value).startswith(("ma_unified:", "unknown parameter"))


def test_ma_unified_defaults_are_the_seed_bots_50_200_sma_on_close() -> None:
    assert MAUnifiedStrategy().params == {"fast": 50, "slow": 200, "kind": "sma", "price": "close"}
