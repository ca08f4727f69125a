"""Signals: the facts an SRE reads first, extracted once from raw evidence.

A signal is one observation with its provenance ("pod payments-api-x7gr9 last terminated
OOMKilled, exit 137 [pods]"), typed by family so that every pattern can look for the facts
it cares about instead of re-parsing pods, events and log lines itself. Reports cite the
summary; `ref` names the evidence item it came from so a person can re-run the query.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Signal(BaseModel):
    model_config = ConfigDict(frozen=True)

    family: str = Field(
        description="What kind of fact, e.g. 'oom_killed', 'cert_expired', 'probe_failed'."
    )
    summary: str = Field(description="One citable sentence.")
    ref: str = Field(description="Id of the evidence item it came from, e.g. 'pods', 'logs'.")
    subject: str = Field(
        default="", description="What it is about, as kind/name: 'pod/x', 'node/y', 'job/z'."
    )
    workload: str | None = Field(
        default=None, description="The owning workload's name when known (Deployment, Job...)."
    )
    count: int = Field(default=1, ge=0, description="How many times it was seen.")
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    attributes: dict[str, str] = Field(
        default_factory=dict, description="Family-specific details, e.g. exit_code, reason."
    )
    in_scope: bool = Field(
        default=True,
        description="Whether it concerns the alerting workload; out-of-scope facts are "
        "context for dependency patterns, never the cause on their own.",
    )
