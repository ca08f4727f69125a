"""Where the store keeps incidents, audit and checkpoints, and how long it keeps them."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class StoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_dir: Path = Field(
        default=Path(".firstline"), description="Incidents, audit and checkpoints live here."
    )
    retention_days: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Delete an incident that is over (resolved, dismissed, self-resolved, closed) this"
            " many days after it last changed, with its timeline, alerts, queue row, approvals,"
            " sent notifications, action ledger and checkpoints; the audit trail is kept."
            " None (the default) keeps incidents forever (docs/storage.md)."
        ),
    )
    checkpoint_grace_seconds: float = Field(
        default=300,
        ge=0,
        description=(
            "A finished run's checkpoints are deleted this long after its incident last"
            " changed (its final state stays in the incident's snapshot)."
        ),
    )

    @property
    def incidents_db(self) -> Path:
        return self.data_dir / "incidents.sqlite"

    @property
    def checkpoints_db(self) -> Path:
        return self.data_dir / "checkpoints.sqlite"
