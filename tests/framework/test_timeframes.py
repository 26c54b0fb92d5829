"""Timeframes: parsing from text and bar-open alignment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from framework.errors import ParameterError
from framework.timeframes import Timeframe

NS = 1_000_000_000


def ns(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("M1", Timeframe.M1),
        ("m5", Timeframe.M5),
        (" M15 ", Timeframe.M15),
        ("m30", Timeframe.M30),
        ("H1", Timeframe.H1),
        ("h4", Timeframe.H4),
        ("D1", Timeframe.D1),
        ("w1", Timeframe.W1),
        (Timeframe.H1, Timeframe.H1),
    ],
)
def test_parse_accepts_every_timeframe_in_any_case(text: str, expected: Timeframe) -> None:
    assert Timeframe.parse(text) is expected


@pytest.mark.parametrize("text", ["M2", "15m", "", "hour", "D"])
def test_parse_rejects_unknown_names_listing_the_valid_ones(text: str) -> None:
    with pytest.raises(ParameterError, match="expected one of M1, M5, M15, M30, H1, H4, D1, W1"):
        Timeframe.parse(text)


def test_lengths_are_in_seconds_and_nanoseconds() -> None:
    assert [tf.seconds for tf in Timeframe] == [60, 300, 900, 1800, 3600, 14400, 86400, 604800]
    assert Timeframe.M15.nanoseconds == 900 * NS


def test_from_seconds_finds_a_timeframe_or_none() -> None:
    assert Timeframe.from_seconds(3600) is Timeframe.H1
    assert Timeframe.from_seconds(120) is None


@pytest.mark.parametrize(
    ("timeframe", "aligned", "misaligned"),
    [
        (Timeframe.M1, "2026-01-15 14:01", "2026-01-15 14:01:30"),
        (Timeframe.M5, "2026-01-15 14:05", "2026-01-15 14:06"),
        (Timeframe.M15, "2026-01-15 14:15", "2026-01-15 14:20"),
        (Timeframe.M30, "2026-01-15 14:30", "2026-01-15 14:15"),
        (Timeframe.H1, "2026-01-15 14:00", "2026-01-15 14:30"),
        (Timeframe.H4, "2026-01-15 16:00", "2026-01-15 14:00"),
        (Timeframe.D1, "2026-01-15 00:00", "2026-01-15 22:00"),
        (Timeframe.W1, "2026-01-12 00:00", "2026-01-15 00:00"),  # a Monday; a Thursday
    ],
)
def test_bars_open_on_multiples_of_their_length(
    timeframe: Timeframe, aligned: str, misaligned: str
) -> None:
    times = np.array([ns(aligned), ns(misaligned)], dtype=np.int64)

    assert timeframe.misaligned(times).tolist() == [False, True]


def test_weekly_bars_open_on_monday_not_on_the_epoch_thursday() -> None:
    thursday_epoch = np.array([0], dtype=np.int64)

    assert Timeframe.W1.misaligned(thursday_epoch).tolist() == [True]
