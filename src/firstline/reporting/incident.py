"""One incident as data: its last saved state and its timeline, in the JSON shape the CLI's
`--json` and `GET /api/v1/incidents/{id}` share (docs/cli.md, docs/api.md)."""

from __future__ import annotations

from typing import Any

from firstline.errors import Conflict
from firstline.graph.state import IncidentState
from firstline.store.base import IncidentRepository


class NoSavedState(Conflict, ValueError):
    """The incident exists but its run has not saved a state yet (still starting)."""


def state_from_store(store: IncidentRepository, incident_id: str) -> IncidentState:
    snapshot = store.snapshot(incident_id)
    if not snapshot:
        raise NoSavedState(f"incident {incident_id} has no saved state yet (still running?)")
    return IncidentState.model_validate(snapshot)


def incident_json(
    state: IncidentState, store: IncidentRepository, paused_at: tuple[str, ...] | None
) -> dict[str, Any]:
    data = state.model_dump(mode="json", exclude={"timeline"})
    data["timeline"] = [e.model_dump(mode="json") for e in store.timeline(state.incident_id)]
    if paused_at is not None:
        data["paused_at"] = list(paused_at)
    return data
