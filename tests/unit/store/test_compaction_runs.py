"""Compaction against real runs of the graph: after a finished run's checkpoints are gone,
everything that reads an incident still works, and a paused run is left to resume."""

from __future__ import annotations

from datetime import timedelta

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver

from firstline.domain.incident import IncidentStatus
from firstline.graph.approvals import NotAwaitingApproval, submit_decision
from firstline.policy.schema import Mode
from firstline.reporting.incident import incident_json, state_from_store
from firstline.store.intake import IntakeStore
from firstline.store.retention import compact
from firstline.wiring.runtime import open_runtime
from firstline.wiring.settings import Settings
from tests.conftest import OOM, SCENARIOS

UNKNOWN = SCENARIOS / "unknown-conversion-drop-checkout"


async def test_a_compacted_incident_still_shows_and_a_paused_one_still_resumes(
    settings: Settings,
) -> None:
    settings = settings.model_copy(
        update={"store": settings.store.model_copy(update={"checkpoint_grace_seconds": 0})}
    )
    async with open_runtime(settings, scenario=UNKNOWN) as rt:
        assert rt.bundle is not None
        escalated = (await rt.runner.start(rt.bundle.primary_alert, scenario=UNKNOWN)).state
    async with open_runtime(settings, scenario=OOM, mode=Mode.APPROVE) as rt:
        assert rt.bundle is not None
        paused = (await rt.runner.start(rt.bundle.primary_alert, scenario=OOM)).state
    assert escalated.status is IncidentStatus.ESCALATED
    assert paused.status is IncidentStatus.AWAITING_APPROVAL

    async with open_runtime(settings, incident_id=escalated.incident_id) as rt:
        saver = rt.runner.graph.checkpointer
        assert isinstance(saver, BaseCheckpointSaver)
        report = await compact(
            intake=IntakeStore(settings.store.incidents_db),
            checkpointer=saver,
            now=rt.runner.context.clock() + timedelta(seconds=1),
            settings=settings.store,
        )
        assert report.checkpoints_deleted == [escalated.incident_id]
        checkpoints = next(f for f in report.space if f.path.endswith("checkpoints.sqlite"))
        assert checkpoints.reclaimed > 0

        # what show and the API read is the snapshot: unchanged
        shown = incident_json(state_from_store(rt.store, escalated.incident_id), rt.store, None)
        assert shown["status"] == "escalated" and shown["analyses"] and shown["timeline"]
        assert shown == incident_json(escalated, rt.store, None)
        # what reads checkpoints sees a run with nothing left, as before compaction
        assert await rt.runner.paused_at(escalated.incident_id) == ()
        with pytest.raises(NotAwaitingApproval):
            await submit_decision(rt.runner, escalated.incident_id, approved=True, by="alice")

    async with open_runtime(settings, incident_id=paused.incident_id) as rt:
        assert await rt.runner.paused_at(paused.incident_id) == ("request_approval",)
        result = await submit_decision(rt.runner, paused.incident_id, approved=True, by="alice")
        assert result.outcome.state.status is IncidentStatus.RESOLVED
