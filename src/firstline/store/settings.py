"""Where the store keeps incidents, audit and checkpoints."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class StoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_dir: Path = Field(
        default=Path(".firstline"), description="Incidents, audit and checkpoints live here."
    )

    @property
    def incidents_db(self) -> Path:
        return self.data_dir / "incidents.sqlite"

    @property
    def checkpoints_db(self) -> Path:
        return self.data_dir / "checkpoints.sqlite"
