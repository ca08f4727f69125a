"""`firstline capture`: its options. The body is in cli/capturing.py, imported when the
command runs (docs/scenarios.md, "Capturing a live incident")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from firstline.cli.common import run, settings
from firstline.sources.errors import SourceError

SeverityName = Literal["critical", "high", "medium", "low"]
OutcomeName = Literal["auto_remediate", "request_approval", "escalate", "recommend", "dismiss"]
"""The values of domain.alert.Severity and domain.decision.Outcome, spelled here so that
help does not import pydantic (a unit test keeps them in step with the enums)."""

CAPTURE_ERRORS: tuple[type[Exception], ...] = (SourceError, OSError)
"""Besides firstline's own: a source that cannot answer and a bundle folder that cannot be
written are the user's to fix, not bugs."""


def register(app: typer.Typer) -> None:
    @app.command("capture")
    def capture(
        out: Annotated[Path, typer.Option("--out", "-o", help="Bundle folder to write.")],
        alert_source: Annotated[
            str | None,
            typer.Argument(
                help="Alertmanager webhook v4 payload (JSON file), or - for stdin. Omit it with "
                "--alertname/--alertmanager-fingerprint.",
                show_default=False,
            ),
        ] = None,
        alertname: Annotated[
            str | None,
            typer.Option("--alertname", help="Take this firing alert from Alertmanager."),
        ] = None,
        fingerprint: Annotated[
            str | None,
            typer.Option(
                "--alertmanager-fingerprint", help="Take the alert with this fingerprint."
            ),
        ] = None,
        now_text: Annotated[
            str | None,
            typer.Option("--now", help="End of the window: RFC 3339 or -15m (default: now)."),
        ] = None,
        window_minutes: Annotated[
            float | None,
            typer.Option(help="Window length (default: graph.evidence_window_minutes)."),
        ] = None,
        expect_pattern: Annotated[str | None, typer.Option(help="expected.pattern")] = None,
        expect_decision: Annotated[
            OutcomeName | None, typer.Option(help="expected.decision (auto mode)")
        ] = None,
        expect_severity: Annotated[
            SeverityName | None, typer.Option(help="expected.severity")
        ] = None,
        component: Annotated[str | None, typer.Option(help="expected.component")] = None,
        title: Annotated[str | None, typer.Option(help="The bundle's title.")] = None,
        force: Annotated[
            bool, typer.Option("--force", help="Overwrite a non-empty --out.")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    ) -> None:
        """Record a live incident's evidence into a scenario bundle for `firstline eval`."""

        async def body() -> None:
            from firstline.cli.capturing import capture as run_capture
            from firstline.domain.alert import Severity
            from firstline.domain.decision import Outcome

            await run_capture(
                settings(),
                out,
                alert_source,
                alertname,
                fingerprint,
                now_text,
                window_minutes,
                expect_pattern,
                Outcome(expect_decision) if expect_decision else None,
                Severity(expect_severity) if expect_severity else None,
                component,
                title,
                force,
                as_json,
            )

        run(body, also=CAPTURE_ERRORS)
