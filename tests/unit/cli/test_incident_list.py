"""The incident list at any width: the id whole, on one line of its own cell."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from rich.console import Console

from firstline.cli import output
from firstline.domain.incident import IncidentStatus, IncidentSummary

ID = "inc-01m8vn5x841tbh8n4q5a88hbwn"


@pytest.mark.parametrize("width", [60, 80, 100, 119, 120, 200])
def test_the_id_is_never_cut_and_nothing_is_wider_than_the_terminal(
    width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = datetime(2026, 12, 2, 15, 15, tzinfo=UTC)
    row = IncidentSummary(
        id=ID, alert_name="HighErrorRate", severity="high",
        status=IncidentStatus.AWAITING_APPROVAL, created_at=at, updated_at=at,
        summary="awaiting approval: rollback deployment/catalog/search-api " * 4,
    )  # fmt: skip
    console = Console(width=width, record=True, file=io.StringIO())
    monkeypatch.setattr(output, "console", console)
    output.print_incident_list([row])
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= width
    assert any(ID in line.split() for line in lines), lines
    assert any("awaiting_approval" in line for line in lines)
    assert sum("…" in line for line in lines) == 1, "only the long summary is shortened"
    one_line = [line for line in lines if ID in line and "awaiting_approval" in line]
    assert bool(one_line) == (width >= output.WIDE), "one line a row only when wide"
