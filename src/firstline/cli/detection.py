"""`firstline detect` and `firstline localize`: the detection library from the command line.

Only the options live here; the bodies (cli/detecting.py) import numpy when the command
runs. Input that cannot be scored at all is one `error: ...` line and exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

SCORER_NAMES = ("novelty", "article_baseline", "windowed_gaussian")
"""The per-point scorers of detection/scoring.py, named here so that help does not import
numpy (a unit test keeps the two in step)."""


def detect(
    file: Annotated[
        Path,
        typer.Argument(help="CSV with timestamp,value columns (NAB format) or Prometheus JSON."),
    ],
    detector: Annotated[
        str, typer.Option("--detector", "-d", help=f"One of: {', '.join(SCORER_NAMES)}.")
    ] = "novelty",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write timestamp,value,anomaly_score here."),
    ] = None,
    series: Annotated[
        str | None,
        typer.Option(
            "--series", help="With several series in the file: the one whose name has this."
        ),
    ] = None,
    raw: Annotated[
        bool, typer.Option("--raw", help="Score a counter's values, not its rate.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Score every row of a series (causally) and list the anomaly windows."""
    from firstline.cli.detecting import detect as body

    body(file, detector, out, series, raw, quiet, as_json)


def localize_command(
    directory: Annotated[Path, typer.Argument(help="One CSV per component: timestamp, metrics.")],
    at: Annotated[
        str,
        typer.Option(
            "--at",
            help="ISO 8601 or unix seconds. ranking: when the trouble began (the samples before"
            " are the history); timing: when it was noticed.",
        ),
    ],
    method: Annotated[
        str,
        typer.Option(
            help="ranking: each component's own metrics (validated on real fault injection);"
            " timing: earliest lasting deviation (the older method)."
        ),
    ] = "ranking",
    lookback: Annotated[
        float, typer.Option(help="timing: minutes before --at in which the trouble may have begun.")
    ] = 30.0,
    top: Annotated[int, typer.Option(help="How many components to print.")] = 10,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Rank components by how likely each is where the incident started."""
    from firstline.cli.detecting import localize_command as body

    body(directory, at, method, lookback, top, quiet, as_json)


def register(app: typer.Typer) -> None:
    """Add `detect` and `localize` to the firstline app."""
    app.command("detect")(detect)
    app.command("localize")(localize_command)
