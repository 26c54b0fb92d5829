"""State record encoding, signal events and stream keys: pure code, no store."""

from __future__ import annotations

import contextlib

import msgpack
import pytest
from _state_testkit import bar, stream
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.candles import Candle
from framework.errors import ParameterError
from framework.state import (
    SCHEMA_VERSION,
    SignalEvent,
    StateDecodeError,
    StateRecord,
    StreamKey,
    candle_digest,
    fingerprint,
    stream_pattern,
)

names = st.text(
    st.characters(blacklist_characters=":{}*?[]\\ \t\r\n", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=12,
)
# Text as Python strings may hold lone surrogates, which no encoding accepts.
unicode_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
signals = st.builds(
    SignalEvent,
    stream_id=names,
    bar_time_ns=st.integers(min_value=1, max_value=2**63 - 1),
    side=st.sampled_from(["BUY", "SELL"]),
    price=st.floats(allow_nan=False, allow_infinity=False),
    reason=unicode_text,
)
records = st.builds(
    StateRecord,
    snapshots=st.dictionaries(unicode_text, st.binary(max_size=300), max_size=4),
    watermark_ns=st.none() | int64,
    last_candle_hash=st.binary(max_size=32),
    bars_processed=st.integers(min_value=0, max_value=2**64 - 1),
    last_signal=st.none() | signals,
    extra=st.binary(max_size=64),
    version=st.integers(min_value=0, max_value=2**53),
)


@given(records)
def test_any_record_survives_encode_then_decode(record: StateRecord) -> None:
    assert StateRecord.decode(record.encode(), version=record.version) == record


@given(st.binary(max_size=200))
@settings(max_examples=500)
def test_arbitrary_bytes_decode_to_a_record_or_raise_state_decode_error(data: bytes) -> None:
    with contextlib.suppress(StateDecodeError):
        StateRecord.decode(data)


def test_a_record_of_another_schema_version_is_refused_with_both_versions_named() -> None:
    data = msgpack.packb([SCHEMA_VERSION + 1, None, b"", 0, None, {}, b""])

    expected = rf"unknown state schema version {SCHEMA_VERSION + 1} .*reads {SCHEMA_VERSION}"
    with pytest.raises(StateDecodeError, match=expected):
        StateRecord.decode(data)


@pytest.mark.parametrize(
    "items",
    [
        [SCHEMA_VERSION, None, b"", 0, None, {}],  # a field short
        [SCHEMA_VERSION, "yesterday", b"", 0, None, {}, b""],  # watermark of the wrong type
        [SCHEMA_VERSION, None, b"", -1, None, {}, b""],  # negative bar count
        [SCHEMA_VERSION, None, b"", 0, ["s", 1, "HOLD", 1.0, ""], {}, b""],  # bad signal
        [SCHEMA_VERSION, None, b"", 0, None, {"sma": "text, not bytes"}, b""],
        {"schema": SCHEMA_VERSION},
    ],
)
def test_well_formed_msgpack_of_the_wrong_shape_is_refused(items: object) -> None:
    with pytest.raises(StateDecodeError):
        StateRecord.decode(msgpack.packb(items))


def test_encode_refuses_a_record_that_would_not_decode() -> None:
    with pytest.raises(ParameterError, match="snapshots must map str to bytes"):
        StateRecord(snapshots={"sma": "not bytes"}).encode()  # type: ignore[dict-item]


def test_a_record_of_ma_unified_50_200_is_under_one_and_a_half_kib() -> None:
    key = stream()
    record = StateRecord(
        snapshots={"sma_50": b"\x00" * 250, "sma_200": b"\x00" * 1024},
        watermark_ns=bar(10),
        last_candle_hash=b"\x00" * 16,
        bars_processed=10_000,
        last_signal=SignalEvent(key.id, bar(9), "BUY", 1.08715, "fast crossed above slow"),
    )

    assert len(record.encode()) < 1_450


@given(signals)
def test_a_signal_survives_redis_stream_fields_and_the_record_form(event: SignalEvent) -> None:
    as_bytes = {k.encode(): v.encode() for k, v in event.to_fields().items()}

    assert SignalEvent.from_fields(event.to_fields()) == event
    assert SignalEvent.from_fields(as_bytes) == event
    assert SignalEvent.from_list(event.to_list()) == event


@given(st.integers(min_value=1, max_value=2**63 - 2))
def test_outbox_ids_rise_with_bar_time(t: int) -> None:
    first = SignalEvent("s", t, "BUY", 1.0).outbox_id
    second = SignalEvent("s", t + 1, "BUY", 1.0).outbox_id

    as_pair = [tuple(int(x) for x in entry.split("-")) for entry in (first, second)]
    assert as_pair[0] < as_pair[1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"side": "HOLD"}, "BUY or SELL"),
        ({"bar_time_ns": 0}, "after 1970"),
        ({"price": float("nan")}, "finite"),
        ({"price": "1.1"}, "number"),
    ],
)
def test_a_malformed_signal_is_refused(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"stream_id": "s", "bar_time_ns": 1, "side": "BUY", "price": 1.0}

    with pytest.raises(ParameterError, match=message):
        SignalEvent(**{**fields, **kwargs})  # type: ignore[arg-type]


def test_the_event_id_names_stream_and_bar() -> None:
    key = stream()

    assert SignalEvent(key.id, bar(3), "SELL", 1.1).event_id == f"{key.id}@{bar(3)}"


# --- stream keys -------------------------------------------------------------------
BASE = {"fast": 50, "slow": 200, "kind": "sma", "price": "close"}


def test_the_fingerprint_ignores_parameter_order() -> None:
    reordered = dict(reversed(list(BASE.items())))

    assert fingerprint("ma_unified", reordered) == fingerprint("ma_unified", BASE)


@given(
    st.sampled_from(sorted(BASE)),
    st.one_of(
        st.integers(),
        st.text(max_size=8),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
    ),
)
def test_changing_any_parameter_changes_the_fingerprint(name: str, value: object) -> None:
    changed = {**BASE, name: value}
    if changed[name] == BASE[name] and type(changed[name]) is type(BASE[name]):
        return

    assert fingerprint("ma_unified", changed) != fingerprint("ma_unified", BASE)


def test_adding_a_parameter_or_renaming_the_strategy_changes_the_fingerprint() -> None:
    original = fingerprint("ma_unified", BASE)

    assert fingerprint("ma_unified", {**BASE, "confirm": 1}) != original
    assert fingerprint("ma_other", BASE) != original


def test_a_parameter_without_canonical_json_is_refused() -> None:
    with pytest.raises(ParameterError, match="cannot be fingerprinted"):
        fingerprint("ma_unified", {"fast": float("nan")})
    with pytest.raises(ParameterError, match="cannot be fingerprinted"):
        fingerprint("ma_unified", {"fast": object()})


def test_a_stream_key_round_trips_through_its_id_and_normalises_the_timeframe() -> None:
    key = StreamKey("ma_unified", "0123456789abcdef", "EURUSD", "m15")

    assert key.timeframe == "M15"
    assert StreamKey.parse(key.id) == key


@pytest.mark.parametrize("symbol", ["EUR:USD", "EUR{USD}", "EUR*", "", "EUR USD"])
def test_a_stream_key_refuses_reserved_characters(symbol: str) -> None:
    with pytest.raises(ParameterError):
        StreamKey("ma_unified", "0123456789abcdef", symbol, "M15")


def test_a_stream_key_refuses_an_unknown_timeframe() -> None:
    with pytest.raises(ParameterError, match="unknown timeframe"):
        StreamKey("ma_unified", "0123456789abcdef", "EURUSD", "M7")


def test_a_stream_pattern_fills_missing_parts_with_wildcards() -> None:
    assert stream_pattern() == "*:*:*:*"
    assert stream_pattern(strategy="ma_unified", timeframe="h1") == "ma_unified:*:*:H1"
    with pytest.raises(ParameterError):
        stream_pattern(symbol="EUR*")


def test_the_candle_digest_changes_with_every_field() -> None:
    base = Candle(bar(1), 108710, 108750, 108690, 108720, 12.0)
    variants = [
        Candle(bar(2), 108710, 108750, 108690, 108720, 12.0),
        Candle(bar(1), 108711, 108750, 108690, 108720, 12.0),
        Candle(bar(1), 108710, 108751, 108690, 108720, 12.0),
        Candle(bar(1), 108710, 108750, 108691, 108720, 12.0),
        Candle(bar(1), 108710, 108750, 108690, 108721, 12.0),
        Candle(bar(1), 108710, 108750, 108690, 108720, 12.5),
    ]

    digests = {candle_digest(c) for c in [base, *variants]}
    assert len(digests) == 1 + len(variants)
    assert candle_digest(base) == candle_digest(
        Candle(bar(1), 108710, 108750, 108690, 108720, 12.0)
    )
