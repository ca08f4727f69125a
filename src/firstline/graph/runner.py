"""Starts and resumes incident runs. One LangGraph thread per incident, id = thread id.

The runner holds the default context of its runs (`runner.context`); each of start, resume
and continue_interrupted takes another for that call. A run resumed by another runner, or
with another context, uses the context it is resumed with: nothing of it is checkpointed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command

from firstline.domain.alert import Alert
from firstline.domain.incident import new_incident_id
from firstline.graph.builder import IncidentGraph, build_graph
from firstline.graph.context import GraphContext
from firstline.graph.state import IncidentState

StageCallback = Callable[[str, IncidentState | None], None]

log = structlog.get_logger(__name__)


class RunOutcome:
    def __init__(self, state: IncidentState, paused_at: tuple[str, ...]) -> None:
        self.state = state
        self.paused_at = paused_at

    @property
    def paused(self) -> bool:
        return bool(self.paused_at)


class IncidentRunner:
    def __init__(self, context: GraphContext, checkpointer: BaseCheckpointSaver[Any]) -> None:
        # the context runs get unless a call passes its own; to replace one dependency:
        # runner.context = dataclasses.replace(runner.context, executor=...)
        self.context = context
        self.checkpointer = checkpointer
        self.graph: IncidentGraph = build_graph(checkpointer)

    @staticmethod
    def _config(incident_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": incident_id}, "recursion_limit": 60}

    async def start(
        self,
        alert: Alert,
        *,
        scenario: Path | None = None,
        on_stage: StageCallback | None = None,
        incident_id: str | None = None,
        context: GraphContext | None = None,
    ) -> RunOutcome:
        """Investigate an alert. With `incident_id`, the incident already exists (intake
        created it when the alert arrived); otherwise it is created here."""
        ctx = context or self.context
        if incident_id is None:
            incident_id = new_incident_id(ctx.clock())
            ctx.store.create(incident_id, alert.name, alert.fingerprint, scenario)
        initial = IncidentState(incident_id=incident_id, alert=alert)
        log.info(
            "investigation_started",
            incident_id=incident_id,
            alert=alert.name,
            service=alert.service,
            namespace=alert.namespace,
        )
        return await self._drive(incident_id, initial, on_stage, ctx)

    async def resume(
        self,
        incident_id: str,
        value: dict[str, Any],
        on_stage: StageCallback | None = None,
        *,
        context: GraphContext | None = None,
    ) -> RunOutcome:
        command: Command[Any] = Command(resume=value)
        log.info("investigation_resumed", incident_id=incident_id, after="decision")
        return await self._drive(incident_id, command, on_stage, context or self.context)

    async def continue_interrupted(
        self,
        incident_id: str,
        on_stage: StageCallback | None = None,
        *,
        context: GraphContext | None = None,
    ) -> RunOutcome:
        """Re-run from the last checkpoint after a crash (a node that did not finish runs
        again; the action ledger keeps its side effects from repeating)."""
        log.info("investigation_resumed", incident_id=incident_id, after="interruption")
        return await self._drive(incident_id, None, on_stage, context or self.context)

    async def paused_at(self, incident_id: str) -> tuple[str, ...]:
        snapshot = await self.graph.aget_state(self._config(incident_id))
        return tuple(snapshot.next)

    async def current(self, incident_id: str) -> IncidentState | None:
        """The run's state at its last checkpoint; None if the run has not begun. A process
        killed right after LangGraph stored the input checkpoint leaves one whose values
        are only the list channels' empty defaults (no incident_id, no alert yet): that run
        has not begun either, and is started again from its input."""
        snapshot = await self.graph.aget_state(self._config(incident_id))
        if "incident_id" not in snapshot.values:
            return None
        return IncidentState.model_validate(snapshot.values)

    async def _drive(
        self,
        incident_id: str,
        payload: IncidentState | Command[Any] | None,
        on_stage: StageCallback | None,
        ctx: GraphContext,
    ) -> RunOutcome:
        config = self._config(incident_id)
        # every log line of the run, the nodes' and the executors', names the incident
        with structlog.contextvars.bound_contextvars(incident_id=incident_id):
            # durability="sync": each step's checkpoint is on disk before the next step
            # starts, so a killed process resumes after the last step that finished
            stream = self.graph.astream(
                payload, config, context=ctx, stream_mode="updates", durability="sync"
            )
            async for chunk in stream:
                if on_stage is None:
                    continue
                for stage in chunk:
                    on_stage(stage, None)
            snapshot = await self.graph.aget_state(config)
            state = IncidentState.model_validate(snapshot.values)
            ctx.store.save_snapshot(incident_id, state.model_dump(mode="json"), state.status)
            outcome = RunOutcome(state, tuple(snapshot.next))
            log.info(
                "investigation_paused" if outcome.paused else "investigation_finished",
                status=state.status.value,
                waiting_at=list(outcome.paused_at) or None,
            )
        return outcome
