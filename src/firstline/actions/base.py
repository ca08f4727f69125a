"""The Executor port: every executor can dry-run and execute, never anything else."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from firstline.domain.action import RemediationAction


class ExecutionOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    ok: bool
    detail: str


@runtime_checkable
class Executor(Protocol):
    name: str

    async def dry_run(self, action: RemediationAction) -> str:
        """The exact change the action would make, for an approver to read."""
        ...

    async def execute(
        self, action: RemediationAction, idempotency_key: str
    ) -> ExecutionOutcome: ...
