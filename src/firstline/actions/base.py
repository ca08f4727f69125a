"""The Executor port: preflight, dry-run, execute and reconcile, never anything else.

An executor handles some action types (`supports`). The graph calls, in order:
`preflight` (does the target exist, would the change change something, may we do it),
`dry_run` (the exact diff, for approvers and the audit record) and `execute`. After a crash
between "started" and "finished", `reconcile` reads the target's real state to tell whether
the action took effect, instead of running it again.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from firstline.domain.action import ActionType, ParamValue, RemediationAction


class Preflight(BaseModel):
    model_config = ConfigDict(frozen=True)

    ok: bool
    problems: list[str] = Field(
        default_factory=list, description="Why the action cannot or should not run."
    )
    no_change: bool = Field(
        default=False, description="True when the target is already in the wanted state."
    )


class ExecutionOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    ok: bool
    detail: str
    undo: RemediationAction | None = Field(
        default=None, description="The action that reverses this one, when one exists."
    )
    report: dict[str, ParamValue | list[str]] = Field(
        default_factory=dict, description="What was touched, e.g. keys removed, sessions ended."
    )


class Reconciliation(StrEnum):
    APPLIED = "applied"  # the target shows the change: do not run again
    NOT_APPLIED = "not_applied"  # the target shows no change: safe to run again
    UNKNOWN = "unknown"  # cannot tell: a person decides


class ReconcileResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: Reconciliation
    detail: str


@runtime_checkable
class Executor(Protocol):
    name: str

    def supports(self, action_type: ActionType) -> bool: ...

    async def preflight(self, action: RemediationAction) -> Preflight: ...

    async def dry_run(self, action: RemediationAction) -> str:
        """The exact change the action would make, for an approver to read."""
        ...

    async def execute(
        self, action: RemediationAction, idempotency_key: str
    ) -> ExecutionOutcome: ...

    async def reconcile(self, action: RemediationAction, idempotency_key: str) -> ReconcileResult:
        """After a crash mid-action: did the change land on the target?"""
        ...
