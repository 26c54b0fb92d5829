"""The live service's TOML configuration: what it reads, and one clear line for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.errors import ConfigError
from framework.live_config import LiveConfig, StreamGroup, build_streams, load_config

FULL = """
[[streams]]
strategy = "ma_unified"
params = { fast = 20, slow = 100, kind = "ema" }
symbols = ["EURUSD", "XYZABC"]
timeframes = ["M15", "H1"]

[[streams]]
strategy = "ma_unified"
symbols = "GBPUSD"
timeframes = "M15"

[source]
url = "mongodb://db:27017/"
database = "market"
collection = "bars"

[store]
url = "redis://cache:6379/0"

[instruments]
xyzabc = 3

[sinks]
stdout = false
webhook = "https://example.com/hook"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "live.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_section_is_read(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))

    assert config == LiveConfig(
        groups=[
            StreamGroup(
                "ma_unified",
                {"fast": 20, "slow": 100, "kind": "ema"},
                ["EURUSD", "XYZABC"],
                ["M15", "H1"],
            ),
            StreamGroup("ma_unified", {}, ["GBPUSD"], ["M15"]),
        ],
        source_url="mongodb://db:27017/",
        database="market",
        collection="bars",
        store_url="redis://cache:6379/0",
        instruments={"XYZABC": 3},
        stdout=False,
        webhooks=["https://example.com/hook"],
    )
    streams = build_streams(config)
    assert len(streams) == 5
    assert {s.instrument.symbol: s.instrument.decimals for s in streams}["XYZABC"] == 3


STREAM = '[[streams]]\nstrategy = "ma_unified"\nsymbols = ["EURUSD"]\ntimeframes = ["M15"]\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[streams]]\nstrategy = "ma_unified"\n', "[[streams]] #1 lacks 'symbols', 'timeframes'"),
        (STREAM + "[[streams]]\nsymbols = 5\n", "[[streams]] #2 lacks 'strategy', 'timeframes'"),
        (STREAM.replace('["EURUSD"]', "[5]"), "[[streams]] #1: symbols must be a string or a list"),
        (STREAM + "params = 5\n", "[[streams]] #1: params must be a table, got 5"),
        ('source = "mongodb://x"\n' + STREAM, "source must be a table, got 'mongodb://x'"),
        (STREAM + "[source]\nurl = 5\n", "[source]: url must be a string, got 5"),
        (STREAM + '[instruments]\nEURUSD = "five"\n', "EURUSD must be a count of decimals"),
        (STREAM + "[sinks]\nwebhook = 5\n", "[sinks]: webhook must be a string or a list"),
        ("streams = 5\n", "streams must be [[streams]] tables"),
        ("[[streams]\n", "not valid TOML"),
    ],
)
def test_a_mistake_is_one_line_naming_the_file_and_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: cannot read: No such file"):
        load_config(tmp_path / "nope.toml")
