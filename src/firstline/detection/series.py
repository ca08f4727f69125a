"""Reading metric series from CSV, with one documented rule per kind of bad input.

- no header, no rows, or a single row: an error (nothing can be scored against nothing);
- a value that is not a number: an error naming the line;
- an empty value, NaN or "null": a gap; the row is kept, its score is 0 and detectors skip it;
- +inf / -inf: an error (a counter that overflowed is not a measurement);
- timestamps: ISO 8601 (a naive one is taken as UTC) or unix seconds. A timestamp earlier
  than the row before is an error naming the line, because silently reordering an export
  hides the bug that produced it. A repeated timestamp is kept and scored in file order
  (NAB's own files repeat 03:00 at a daylight-saving change); detectors see no time pass.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

GAP_WORDS = frozenset({"", "nan", "null", "none", "na"})


class SeriesError(ValueError):
    """Input the detectors cannot use; the message says which file and line."""


@dataclass(frozen=True)
class Table:
    """Columns read from one CSV: unix-second timestamps and named float columns (NaN = gap)."""

    source: str
    timestamps: NDArray[np.float64]
    columns: dict[str, NDArray[np.float64]]
    raw_timestamps: tuple[str, ...]


def parse_timestamp(text: str) -> float:
    """Unix seconds from ISO 8601 or a plain number; raises ValueError with the text."""
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise ValueError(f"timestamp {text!r} is not finite")
        return seconds
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"timestamp {text!r} is neither ISO 8601 nor unix seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_value(text: str) -> float:
    """A float, NaN for a gap; raises ValueError for words and for infinities."""
    word = text.strip()
    if word.lower() in GAP_WORDS:
        return math.nan
    try:
        value = float(word)
    except ValueError:
        raise ValueError(f"value {word!r} is not a number") from None
    if math.isinf(value):
        raise ValueError(f"value {word!r} is infinite")
    return value


def read_table(path: Path, min_rows: int = 2) -> Table:
    """Read a CSV whose first column is `timestamp` (any header name is accepted for it)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError as exc:
        raise SeriesError(f"{path}: not a text CSV ({exc.reason})") from None
    return table_from_rows(str(path), rows, min_rows)


def table_from_rows(source: str, rows: Sequence[Sequence[str]], min_rows: int = 2) -> Table:
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise SeriesError(f"{source}: empty file (expected a header such as timestamp,value)")
    header = [h.strip() for h in rows[0]]
    if len(header) < 2:
        raise SeriesError(f"{source}: need a timestamp column and at least one metric column")
    if len(set(header)) != len(header):
        raise SeriesError(f"{source}: duplicate column names in the header")
    body = rows[1:]
    if len(body) < min_rows:
        raise SeriesError(f"{source}: {len(body)} data row(s); need at least {min_rows}")
    stamps = np.empty(len(body))
    values = np.empty((len(body), len(header) - 1))
    for i, row in enumerate(body):
        line = i + 2
        if len(row) != len(header):
            raise SeriesError(f"{source}:{line}: {len(row)} fields, header has {len(header)}")
        try:
            stamps[i] = parse_timestamp(row[0])
            values[i] = [parse_value(cell) for cell in row[1:]]
        except ValueError as exc:
            raise SeriesError(f"{source}:{line}: {exc}") from None
        if i and stamps[i] < stamps[i - 1]:
            raise SeriesError(
                f"{source}:{line}: timestamp {row[0].strip()!r} is earlier than the row before"
                " (sort the file by time)"
            )
    columns = {name: values[:, j].copy() for j, name in enumerate(header[1:])}
    return Table(source, stamps, columns, tuple(r[0].strip() for r in body))


def write_scores(
    path: Path,
    raw_timestamps: Iterable[str],
    values: NDArray[np.float64],
    scores: NDArray[np.float64],
) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["timestamp", "value", "anomaly_score"])
        for stamp, value, score in zip(raw_timestamps, values, scores, strict=True):
            out.writerow([stamp, "" if math.isnan(value) else repr(float(value)), f"{score:.6f}"])
