"""Turns the notes a node returns into keyed timeline entries and stores them.

Keys are derived from the state the node ran on, so a node that runs again after a resume
produces the same keys, and the store ignores the duplicates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from firstline.domain.incident import IncidentStatus, TimelineEntry
from firstline.graph.deps import GraphDeps
from firstline.graph.state import IncidentState

Note = tuple[str, str]  # (event, detail)
Update = dict[str, Any]
NodeFn = Callable[[IncidentState, GraphDeps], Awaitable[Update]]


def timeline_entries(
    state: IncidentState, stage: str, notes: list[Note], deps: GraphDeps
) -> list[TimelineEntry]:
    base = len(state.timeline)
    at = deps.clock()
    return [
        TimelineEntry(
            key=f"{base + i:04d}-{stage}-{hashlib.sha1(event.encode()).hexdigest()[:8]}",
            at=at,
            stage=stage,
            event=event,
            detail=detail,
        )
        for i, (event, detail) in enumerate(notes)
    ]


def record_now(state: IncidentState, stage: str, notes: list[Note], deps: GraphDeps) -> None:
    """Store entries immediately (used before an interrupt, which returns no update)."""
    deps.store.append_timeline(state.incident_id, timeline_entries(state, stage, notes, deps))


def recorded(
    stage: str, node: NodeFn, deps: GraphDeps
) -> Callable[[IncidentState], Awaitable[Update]]:
    async def run(state: IncidentState) -> Update:
        update = await node(state, deps)
        notes: list[Note] = update.pop("notes", [])
        entries = timeline_entries(state, stage, notes, deps)
        if entries:
            deps.store.append_timeline(state.incident_id, entries)
            update["timeline"] = entries
        status: IncidentStatus | None = update.get("status")
        if status is not None and status.final:
            # the runner writes a final status together with the snapshot, so a crash in
            # between leaves the incident unfinished (and resumed), never final without it
            status = None
        severity = update.get("severity")
        if status is not None or severity is not None or "conclusion" in update:
            deps.store.update(
                state.incident_id,
                status=status,
                severity=severity.value if severity is not None else None,
                summary=update.get("conclusion"),
            )
        return update

    run.__name__ = stage
    return run
