"""Which detector judges metric evidence."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DetectionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    detector: str = Field(default="robust_shift", description="Detector for metric evidence.")
