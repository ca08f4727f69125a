"""The bodies of `firstline detect` and `firstline localize` (their options are in
cli/detection.py, so only these commands import numpy). Both read CSV or the JSON of a Prometheus
range query (detection/inputs.py). Input that cannot be scored at all (see detection/series.py
for the rules) is one `error: ...` line on stderr and exit code 2, as everywhere in the CLI;
clock steps, repeated times, gaps and counter resets are scored and noted. On long input the
progress goes to stderr, so stdout stays the result.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import typer
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

from firstline.cli.common import guard
from firstline.detection.counters import counter_rate, looks_like_counter
from firstline.detection.inputs import pick_column, read_input
from firstline.detection.localize import Component, Suspect, load_components, localize
from firstline.detection.novelty import ALARM, NoveltyStream
from firstline.detection.ranking import edges_from_names, rank
from firstline.detection.scoring import get_scorer
from firstline.detection.series import parse_timestamp, write_scores
from firstline.detection.windows import anomaly_windows

T = TypeVar("T")
PROGRESS_ROWS = 100_000  # inputs at least this long report progress on stderr
CHUNK = 50_000


def _progress(quiet: bool) -> Callable[[str], None]:
    def say(line: str) -> None:
        if not quiet:
            typer.echo(line, err=True)

    return say


def _score(
    detector: str,
    stamps: NDArray[np.float64],
    values: NDArray[np.float64],
    say: Callable[[str], None],
) -> NDArray[np.float64]:
    """Scores per row; the streaming detector goes chunk by chunk on long input so progress
    can be shown (the chunks give the same scores as one call)."""
    if detector != "novelty" or len(values) < PROGRESS_ROWS:
        return get_scorer(detector)(stamps, values)
    stream = NoveltyStream()
    parts = []
    for lo in range(0, len(values), CHUNK):
        parts.append(stream.update_many(stamps[lo : lo + CHUNK], values[lo : lo + CHUNK]))
        say(f"scored {min(lo + CHUNK, len(values))}/{len(values)} rows")
    return np.concatenate(parts)


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat().replace("+00:00", "Z")


def _notes(gaps: int, clock_steps: int, duplicates: int, counter: bool) -> list[str]:
    notes = [f"{gaps} gaps"] if gaps else []
    if clock_steps:
        notes.append(f"{clock_steps} clock step(s) back, scored in file order")
    if duplicates:
        notes.append(f"{duplicates} repeated timestamp(s)")
    if counter:
        notes.append("a counter: its rate per second is scored, resets counted from zero")
    return notes


def detect(
    file: Path,
    detector: str,
    out: Path | None,
    series: str | None,
    raw: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """The body of `firstline detect`."""

    def body() -> None:
        get_scorer(detector)  # an unknown name fails before the file is read
        say = _progress(quiet)
        table = read_input(file)
        name, values = pick_column(table, series)
        if len(values) >= PROGRESS_ROWS:
            say(f"{file}: {len(values)} rows read")
        counter = not raw and looks_like_counter(values)
        scored = counter_rate(table.timestamps, values) if counter else values
        scores = _score(detector, table.timestamps, scored, say)
        if out is not None:
            write_scores(out, table.raw_timestamps, values, scores)
        windows = anomaly_windows(table.written_seconds, scores, ALARM)
        gaps = int(np.isnan(values).sum())
        notes = _notes(gaps, table.clock_steps, table.duplicates, counter)
        if as_json:
            payload: dict[str, Any] = {
                "file": str(file),
                "series": name,
                "detector": detector,
                "rows": len(values),
                "gaps": gaps,
                "clock_steps": table.clock_steps,
                "duplicates": table.duplicates,
                "counter": counter,
                "threshold": ALARM,
                "windows": [
                    {
                        "start": _iso(w.start),
                        "end": _iso(w.end),
                        "peak_score": round(w.peak, 4),
                        "rows": w.rows,
                    }
                    for w in windows
                ],
                "out": str(out) if out else None,
            }
            typer.echo(json.dumps(payload, indent=2))
            return
        console = Console()
        console.print(
            f"{file}: {len(values)} rows"
            + (f" ({'; '.join(notes)})" if notes else "")
            + f", detector {detector}, {len(windows)} anomaly window(s) at score >= {ALARM}"
        )
        if windows:
            grid = Table("start", "end", "peak score", "rows")
            for w in windows:
                grid.add_row(_iso(w.start), _iso(w.end), f"{w.peak:.3f}", str(w.rows))
            console.print(grid)
        if out is not None:
            console.print(f"scores written to {out}")

    guard(body, also=(OSError,))


def _suspect_json(rank: int, s: Suspect) -> dict[str, Any]:
    return {
        "rank": rank,
        "component": s.component,
        "score": s.score,
        "metric": s.metric,
        "onset": _iso(s.onset),
        "shift": s.shift,
        "baseline": s.baseline,
        "peak": s.peak,
    }


def _ranked(components: list[Component], at: float) -> list[Suspect]:
    """The service ranking (detection/ranking.py) in the shape `localize` prints."""
    services = {c.name: {m: (c.timestamps, v) for m, v in c.metrics.items()} for c in components}
    edges = edges_from_names({name: list(metrics) for name, metrics in services.items()})
    out = []
    for r in rank(services, at, edges):
        d = r.deciding
        out.append(
            Suspect(
                component=r.service,
                score=r.score,
                metric=d.metric if d else None,
                onset=d.first_moved if d else None,
                shift=round(d.z, 2) if d else 0.0,
                baseline=d.baseline if d else None,
                peak=d.value if d else None,
            )
        )
    return out


def localize_command(
    directory: Path, at: str, method: str, lookback: float, top: int, quiet: bool, as_json: bool
) -> None:
    """The body of `firstline localize`."""

    def body() -> None:
        try:
            moment = parse_timestamp(at)
        except ValueError as exc:
            raise ValueError(f"--at: {exc}") from None
        if lookback <= 0:
            raise ValueError("--lookback must be positive")
        if method not in ("ranking", "timing"):
            raise ValueError(f"--method {method!r}: choose ranking or timing")
        components = load_components(directory, progress=_progress(quiet))
        if method == "timing":
            ranking = localize(components, moment, lookback=lookback * 60)
        else:
            ranking = _ranked(components, moment)
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "at": _iso(moment),
                        "components": len(components),
                        "ranking": [_suspect_json(i + 1, s) for i, s in enumerate(ranking)],
                    },
                    indent=2,
                )
            )
            return
        grid = Table("#", "component", "score", "deciding metric", "since", "shift (spreads)")
        for i, s in enumerate(ranking[:top]):
            grid.add_row(
                str(i + 1),
                s.component,
                f"{s.score:.3f}",
                s.metric or "-",
                _iso(s.onset) or "-",
                f"{s.shift:+.1f}" if s.metric else "-",
            )
        console = Console()
        console.print(f"{len(components)} components, incident at {_iso(moment)}")
        console.print(grid)

    guard(body, also=(OSError,))
