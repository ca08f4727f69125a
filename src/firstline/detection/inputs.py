"""Input files for `detect` and `localize`: CSV (series.py) or the JSON a Prometheus range query
returns (`curl '.../api/v1/query_range?...'`), told apart by their first character.

Prometheus JSON: `{"status": "success", "data": {"resultType": "matrix", "result": [{"metric":
{...labels}, "values": [[unix_seconds, "value"], ...]}, ...]}}`. Each result is one column,
named by its labels (`name{label="v",...}`, or `value` for a single unnamed series). Series
scraped at different instants are aligned on the union of their timestamps, a series with no
sample at an instant having a gap there. Prometheus writes `+Inf` / `-Inf` for a division by
zero (a rate over an idle counter, a ratio of two zeros): that is no measurement, so it is a
gap too, while in a CSV an infinity stays an error. `NaN` is a gap as everywhere.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from firstline.detection.series import (
    SeriesError,
    Table,
    monotone_clock,
    parse_value,
    read_table,
)


def read_input(path: Path, min_rows: int = 2) -> Table:
    """A CSV or a Prometheus range-query JSON file, by its first non-blank character."""
    try:
        with path.open(encoding="utf-8") as handle:
            head = handle.read(256).lstrip()
    except UnicodeDecodeError as exc:
        raise SeriesError(f"{path}: not a text file ({exc.reason})") from None
    if head.startswith(("{", "[")):
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SeriesError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
        return table_from_prometheus(str(path), payload, min_rows)
    return read_table(path, min_rows)


def series_name(labels: Mapping[str, str], only: bool) -> str:
    name = labels.get("__name__", "")
    rest = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    if only and not rest:
        return name or "value"
    return f"{name}{{{rest}}}" if rest else (name or "value")


_INF = frozenset({"+inf", "-inf", "inf"})


def _prom_value(text: Any) -> float:
    word = str(text)
    return math.nan if word.strip().lower() in _INF else parse_value(word)


def _results(source: str, payload: Any) -> Sequence[Mapping[str, Any]]:
    if not isinstance(payload, Mapping):
        raise SeriesError(f"{source}: expected a Prometheus query response object")
    if payload.get("status") == "error":
        raise SeriesError(f"{source}: Prometheus answered an error: {payload.get('error', '?')}")
    data = payload.get("data")
    if not isinstance(data, Mapping) or data.get("resultType") != "matrix":
        kind = data.get("resultType") if isinstance(data, Mapping) else None
        raise SeriesError(
            f"{source}: expected data.resultType 'matrix' (a range query), found {kind!r}"
        )
    result = data.get("result")
    if not isinstance(result, list) or not result:
        raise SeriesError(f"{source}: the query returned no series")
    return result


def table_from_prometheus(source: str, payload: Any, min_rows: int = 2) -> Table:
    """Columns from a range-query response, aligned on the union of their timestamps."""
    results = _results(source, payload)
    named: dict[str, dict[float, float]] = {}
    for i, item in enumerate(results):
        labels = item.get("metric", {}) if isinstance(item, Mapping) else {}
        pairs = item.get("values") if isinstance(item, Mapping) else None
        if not isinstance(labels, Mapping) or not isinstance(pairs, list):
            raise SeriesError(f"{source}: result {i} has no 'metric' and 'values'")
        name = series_name({str(k): str(v) for k, v in labels.items()}, len(results) == 1)
        if name in named:
            raise SeriesError(f"{source}: two series are both named {name}")
        points: dict[float, float] = {}
        for pair in pairs:
            try:
                stamp, text = pair
                points[float(stamp)] = _prom_value(text)
            except (TypeError, ValueError) as exc:
                raise SeriesError(f"{source}: series {name}: bad sample {pair!r} ({exc})") from None
        named[name] = points
    stamps = np.array(sorted({t for points in named.values() for t in points}), dtype=np.float64)
    if len(stamps) < min_rows:
        raise SeriesError(f"{source}: {len(stamps)} sample time(s); need at least {min_rows}")
    columns = {
        name: np.array([points.get(t, math.nan) for t in stamps.tolist()], dtype=np.float64)
        for name, points in named.items()
    }
    _, _, repeats = monotone_clock(stamps)
    raw = tuple(repr(t) if not float(t).is_integer() else str(int(t)) for t in stamps.tolist())
    return Table(source, stamps, columns, raw, duplicates=repeats)


def pick_column(table: Table, wanted: str | None) -> tuple[str, NDArray[np.float64]]:
    """The one value column of `table`, or the one whose name contains `wanted`."""
    names = list(table.columns)
    if wanted is not None:
        names = [n for n in names if wanted in n]
    if len(names) == 1:
        return names[0], table.columns[names[0]]
    listing = ", ".join(list(table.columns)[:5]) + (" ..." if len(table.columns) > 5 else "")
    if not names:
        raise SeriesError(f"{table.source}: no series matches {wanted!r} (have: {listing})")
    raise SeriesError(
        f"{table.source}: expected timestamp,value; found {len(names)} series,"
        f" choose one with --series (have: {listing})"
    )
