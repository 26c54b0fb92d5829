"""File formats: read candle tables, and encode a series in Parity's format.

A CSV table comes back as text cells, exactly as written; a Parquet table as typed
columns plus the hints (symbol, timeframe, decimals) Parity stores in its metadata.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import uuid
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from framework._columns import PRICE_ROLES
from framework.candles import CandleSeries
from framework.errors import DataError, ParameterError

__all__ = ["HEADER", "encode", "is_parquet", "read_table", "write_atomically"]

#: Columns of Parity's own format, in order.
HEADER = ("time", "open", "high", "low", "close", "volume")
_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"
_SEPARATORS = (",", ";", "\t", "|")
# Parquet files written by Parity carry their symbol, timeframe and decimals here.
_METADATA_KEY = b"parity"


def read_table(path: Path, *, source: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The file's table and the hints its metadata holds; Parquet and gzip go by content."""
    try:
        magic = _magic(path)
        if _parquet(path, magic):
            return _read_parquet(path, source=source)
        return _read_csv(path, gzipped=magic.startswith(_GZIP_MAGIC)), {}
    except pd.errors.EmptyDataError:
        raise DataError("the file is empty", source=source) from None
    except pd.errors.ParserError as error:
        raise _parser_error(error, source=source) from None
    except UnicodeDecodeError:
        raise DataError("the file is not UTF-8 text", source=source) from None
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as error:
        # A path that names no file is a mistake in the command, not bad data.
        raise ParameterError(f"{source}: cannot read the file: {error.strerror}") from None
    except (OSError, EOFError, zlib.error) as error:
        reason = getattr(error, "strerror", None) or str(error)  # strerror omits the path
        raise DataError(f"cannot read the file: {reason}", source=source) from None
    except pa.ArrowException as error:
        raise DataError(f"not a readable Parquet file: {error}", source=source) from None


def is_parquet(path: Path) -> bool:
    """Whether `read_table` reads ``path`` as Parquet (else as text: CSV, maybe gzipped)."""
    try:
        return _parquet(path, _magic(path))
    except OSError:
        return False


def _magic(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(4)


def _parquet(path: Path, magic: bytes) -> bool:
    return magic.startswith(_PARQUET_MAGIC) or path.suffix.lower() in (".parquet", ".pq")


def _read_csv(path: Path, *, gzipped: bool) -> pd.DataFrame:
    separator = max(_SEPARATORS, key=_first_line(path, gzipped=gzipped).count)
    # Every cell as text: exact digits for decimals, and no silent NaN for bad cells.
    # Blank lines stay rows so that row N is always line N + 1. The header is read as
    # a row: a data row with an extra field is then an error, where pandas would
    # otherwise take the first column as an index and shift every name by one.
    table = pd.read_csv(
        path,
        sep=separator,
        header=None,
        dtype=str,
        na_filter=False,
        skip_blank_lines=False,
        encoding="utf-8-sig",
        compression="gzip" if gzipped else None,
    )
    frame = table.iloc[1:].set_axis(table.iloc[0].tolist(), axis="columns")
    blank = (frame == "").all(axis=1).to_numpy()
    kept = len(blank) - int(np.argmax(~blank[::-1])) if (~blank).any() else 0
    return frame.iloc[:kept].reset_index(drop=True)


def _first_line(path: Path, *, gzipped: bool) -> str:
    if gzipped:
        with gzip.open(path) as unpacked:
            return unpacked.readline().decode("utf-8", errors="replace")
    with path.open("rb") as handle:
        return handle.readline().decode("utf-8", errors="replace")


def _parser_error(error: pd.errors.ParserError, *, source: str) -> DataError:
    # pandas says "Error tokenizing data. C error: Expected 7 fields in line 12, saw 8".
    text = str(error).strip().rsplit("error: ", 1)[-1]
    line = re.search(r"\bline (\d+)", text)
    if line is None:
        return DataError(text, source=source)
    # The line goes where every error names it, not twice.
    rule = text.replace(f" in {line.group(0)}", "")
    return DataError(rule, source=source, row=int(line.group(1)) - 1)


def _read_parquet(path: Path, *, source: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    table = pq.read_table(path)
    frame = table.to_pandas()
    frame = frame if isinstance(frame.index, pd.RangeIndex) else frame.reset_index()
    return frame, _hints((table.schema.metadata or {}).get(_METADATA_KEY), source=source)


def _hints(raw: bytes | None, *, source: str) -> dict[str, Any]:
    """Symbol, timeframe and decimals from Parity's Parquet metadata, checked."""
    try:
        hints = {} if raw is None else json.loads(raw)
    except ValueError:
        hints = None
    expected = {"symbol": str, "timeframe": str, "decimals": int}
    if not isinstance(hints, dict) or any(
        not isinstance(hints[key], kind) for key, kind in expected.items() if key in hints
    ):
        rule = "the Parquet metadata 'parity' is not {symbol: str, timeframe: str, decimals: int}"
        raise DataError(rule, source=source)
    return hints


def encode(series: CandleSeries, path: Path) -> bytes:
    """The bytes of ``series`` in the format the name of ``path`` asks for."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return _parquet_bytes(series)
    if name.endswith(".csv"):
        return _csv_text(series).encode("utf-8")
    if name.endswith(".csv.gz"):
        # mtime=0: the same series always gives the same bytes.
        return gzip.compress(_csv_text(series).encode("utf-8"), mtime=0)
    raise ParameterError(f"{path}: unknown format; name it .csv, .csv.gz or .parquet")


def _csv_text(series: CandleSeries) -> str:
    times = np.datetime_as_string(series.time_ns.astype("datetime64[ns]"), unit="s")
    columns = [
        [f"{time}Z" for time in times.tolist()],
        *(_fixed(getattr(series, role), series.decimals) for role in PRICE_ROLES),
        [_shortest(volume) for volume in series.volume.tolist()],
    ]
    lines = [",".join(HEADER), *(",".join(cells) for cells in zip(*columns, strict=True))]
    return "\n".join(lines) + "\n"


def _fixed(ticks: npt.NDArray[np.int64], decimals: int) -> list[str]:
    """Prices with exactly ``decimals`` digits, written from integer ticks (no rounding)."""
    if decimals == 0:
        return [str(tick) for tick in ticks.tolist()]
    scale = 10**decimals
    return [
        f"{'-' if tick < 0 else ''}{abs(tick) // scale}.{abs(tick) % scale:0{decimals}d}"
        for tick in ticks.tolist()
    ]


def _shortest(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _parquet_bytes(series: CandleSeries) -> bytes:
    table = pa.table(
        {
            "time": pa.array(series.time_ns, type=pa.timestamp("ns", tz="UTC")),
            **{role: series.prices(role) for role in PRICE_ROLES},
            "volume": series.volume,
        }
    )
    meta = {
        "symbol": series.symbol,
        "timeframe": series.timeframe.name,
        "decimals": series.decimals,
    }
    table = table.replace_schema_metadata({_METADATA_KEY: json.dumps(meta).encode("utf-8")})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def write_atomically(path: Path, payload: bytes) -> None:
    """Replace ``path`` by ``payload`` in one step."""
    # A crash or a full disk leaves the previous file intact, never half of a new one.
    # open() rather than mkstemp, so that the file gets the usual umask permissions.
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("xb") as out:
            out.write(payload)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
