"""Reading metric series from CSV, with one documented rule per kind of bad input.

- no header, no rows, or a single row: an error (nothing can be scored against nothing);
- a value that is not a number: an error naming the line;
- an empty value, NaN or "null": a gap; the row is kept, its score is 0 and detectors skip it;
- +inf / -inf: an error (a counter that overflowed is not a measurement);
- timestamps: ISO 8601 (a naive one is taken as UTC) or unix seconds. Rows are scored in file
  order, which is the order a monitoring system recorded them in. A repeated timestamp is
  kept (NAB's own files repeat 03:00 at a daylight-saving change): detectors see no time
  pass. A timestamp earlier than the row before is a clock step (a daylight-saving or NTP
  correction, a host whose clock was reset): the clock the detectors see is re-based so the
  row lands one typical step after the row before, and keeps that offset afterwards. Sorting
  instead would interleave two stretches of the series; refusing would leave a real series
  unscored. `Table.raw_seconds` keeps the times as written (labels and output use those).
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

from firstline.errors import InvalidInput

GAP_WORDS = frozenset({"", "nan", "null", "none", "na"})


class SeriesError(InvalidInput, ValueError):
    """Input the detectors cannot use; the message says which file and line."""


@dataclass(frozen=True)
class Table:
    """Columns read from one CSV: unix-second timestamps and named float columns (NaN = gap)."""

    source: str
    timestamps: NDArray[np.float64]  # the detectors' clock: never decreasing
    columns: dict[str, NDArray[np.float64]]
    raw_timestamps: tuple[str, ...]
    raw_seconds: NDArray[np.float64] | None = None  # as written; None when equal to timestamps
    clock_steps: int = 0  # rows whose time was earlier than the row before
    duplicates: int = 0  # rows whose time equals the row before

    @property
    def written_seconds(self) -> NDArray[np.float64]:
        return self.timestamps if self.raw_seconds is None else self.raw_seconds


def monotone_clock(stamps: NDArray[np.float64]) -> tuple[NDArray[np.float64], int, int]:
    """The detectors' clock for times in file order, the number of backward steps and the
    number of repeated times. A backward step re-bases the clock to one typical step (the
    median forward step of the file) after the row before; later rows keep the offset, so
    the spacing of the series is what the detectors see on both sides of the step."""
    diffs = np.diff(stamps)
    back = diffs < 0
    backward, repeats = int(back.sum()), int(np.sum(diffs == 0))
    if backward == 0:
        return stamps, 0, repeats
    forward = diffs[diffs > 0]
    typical = float(np.median(forward)) if len(forward) else 0.0
    jumps = np.where(back, typical - diffs, 0.0)
    return stamps + np.concatenate([[0.0], np.cumsum(jumps)]), backward, repeats


def parse_timestamp(text: str) -> float:
    """Unix seconds from ISO 8601 or a plain number; raises SeriesError with the text."""
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise SeriesError(f"timestamp {text!r} is not finite")
        return seconds
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SeriesError(f"timestamp {text!r} is neither ISO 8601 nor unix seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_value(text: str) -> float:
    """A float, NaN for a gap; raises SeriesError for words and for infinities."""
    word = text.strip()
    if word.lower() in GAP_WORDS:
        return math.nan
    try:
        value = float(word)
    except ValueError:
        raise SeriesError(f"value {word!r} is not a number") from None
    if math.isinf(value):
        raise SeriesError(f"value {word!r} is infinite")
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
    columns = {name: values[:, j].copy() for j, name in enumerate(header[1:])}
    clock, backward, repeats = monotone_clock(stamps)
    return Table(
        source,
        clock,
        columns,
        tuple(r[0].strip() for r in body),
        raw_seconds=stamps if backward else None,
        clock_steps=backward,
        duplicates=repeats,
    )


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
