"""How an incident run behaves: verification rounds and the evidence window."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class GraphSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_verify_attempts: int = Field(
        default=2, ge=1, le=10, description="Remediate-verify rounds before escalating."
    )
    verify_wait_seconds: float = Field(
        default=0.0, ge=0, description="Pause between remediation and verification."
    )
    verify_timeout_seconds: float = Field(
        default=0.0,
        ge=0,
        description="After the pause, keep checking until the problem is gone, up to this "
        "long (a rollout or a rule's window needs time to go quiet). 0: check once.",
    )
    verify_poll_seconds: float = Field(
        default=5.0, gt=0, description="Between two checks while verify_timeout_seconds runs."
    )
    evidence_window_minutes: float = Field(
        default=60, gt=0, description="How far back evidence is gathered."
    )
