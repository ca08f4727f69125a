"""Settings of the postmortem reports (`firstline report`, GET /api/v1/incidents/{id}/report):
the `report` group of the one Settings object (FIRSTLINE_REPORT__...), composed by
wiring/settings.py."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class ReportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    templates_dir: Path | None = Field(
        default=None,
        description=(
            "Templates that replace the built-in ones of the same name (postmortem.md.j2,"
            ' postmortem.html.j2); one may `{% extends "builtin/postmortem.md.j2" %}` and'
            " override blocks (docs/report.md)."
        ),
    )
