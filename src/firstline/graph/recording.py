"""Turns the notes a node returns into keyed timeline entries and stores them; and adapts a
node `(state, ctx)` to LangGraph, which hands it `runtime.context` as `ctx`.

Keys are derived from the state the node ran on, so a node that runs again after a resume
produces the same keys, and the store ignores the duplicates.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog
from langgraph.runtime import Runtime

from firstline.domain.incident import IncidentStatus, TimelineEntry
from firstline.graph.context import GraphContext
from firstline.graph.state import IncidentState

Note = tuple[str, str]  # (event, detail)
Update = dict[str, Any]
NodeFn = Callable[[IncidentState, GraphContext], Awaitable[Update]]

log = structlog.get_logger(__name__)
MAX_LOGGED_NOTES = 8


class GraphNode(Protocol):
    """A node as LangGraph calls it: the state, and the runtime as a keyword."""

    def __call__(
        self, state: IncidentState, *, runtime: Runtime[GraphContext]
    ) -> Awaitable[Update]: ...


def context_of(runtime: Runtime[GraphContext]) -> GraphContext:
    """The run's context; a run started without one fails here, before any node acts."""
    ctx: GraphContext | None = runtime.context
    if not isinstance(ctx, GraphContext):
        raise TypeError(
            f"an incident run needs a GraphContext passed as context=, got {type(ctx).__name__}"
        )
    return ctx


def timeline_entries(
    state: IncidentState, stage: str, notes: list[Note], ctx: GraphContext
) -> list[TimelineEntry]:
    base = len(state.timeline)
    at = ctx.clock()
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


def record_now(state: IncidentState, stage: str, notes: list[Note], ctx: GraphContext) -> None:
    """Store entries immediately (used before an interrupt, which returns no update)."""
    ctx.store.append_timeline(state.incident_id, timeline_entries(state, stage, notes, ctx))


def recorded(stage: str, node: NodeFn) -> GraphNode:
    async def run(state: IncidentState, *, runtime: Runtime[GraphContext]) -> Update:
        ctx = context_of(runtime)
        started = time.perf_counter()
        update = await node(state, ctx)
        notes: list[Note] = update.pop("notes", [])
        _log_finished(stage, update, notes, time.perf_counter() - started)
        entries = timeline_entries(state, stage, notes, ctx)
        if entries:
            ctx.store.append_timeline(state.incident_id, entries)
            update["timeline"] = entries
        status: IncidentStatus | None = update.get("status")
        if status is not None and status.final:
            # the runner writes a final status together with the snapshot, so a crash in
            # between leaves the incident unfinished (and resumed), never final without it
            status = None
        severity = update.get("severity")
        if status is not None or severity is not None or "conclusion" in update:
            ctx.store.update(
                state.incident_id,
                status=status,
                severity=severity.value if severity is not None else None,
                summary=update.get("conclusion"),
            )
        return update

    run.__name__ = stage
    return run


def _log_finished(stage: str, update: Update, notes: list[Note], seconds: float) -> None:
    """One line per node, its outcome being what it noted on the timeline ("decision: ...
    (rule ...)", "verification failed", ...) and the status it set. The run binds
    incident_id."""
    status: IncidentStatus | None = update.get("status")
    log.info(
        "node_finished",
        stage=stage,
        outcome=[event for event, _ in notes[:MAX_LOGGED_NOTES]],
        status=status.value if status is not None else None,
        duration_ms=round(seconds * 1000, 1),
    )
