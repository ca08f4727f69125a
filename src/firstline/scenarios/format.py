"""The scenario.yaml schema. Times may be relative to `now` (see times.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from firstline.domain.action import ActionType
from firstline.domain.alert import Severity
from firstline.domain.decision import Outcome

TimeValue = str | datetime


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Change(_Strict):
    """A change in a synthetic series from `at` on."""

    at: TimeValue
    kind: Literal["step", "ramp", "spike"]
    to: float = Field(description="Level after a step, end value of a ramp, peak of a spike.")
    until: TimeValue | None = Field(default=None, description="End of a ramp or spike.")


class Shape(_Strict):
    """A deterministic synthetic series: a base level, noise, and changes."""

    start: TimeValue = "-60m"
    end: TimeValue = "+0s"
    step: str = "60s"
    base: float
    noise: float = Field(default=0.0, ge=0.0, description="Relative noise, 0.05 = 5%.")
    seed: int = 0
    changes: list[Change] = Field(default_factory=list)


class SeriesSpec(_Strict):
    unit: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    points: list[tuple[TimeValue, float]] | None = None
    shape: Shape | None = None


class LogSpec(_Strict):
    at: TimeValue
    line: str
    labels: dict[str, str] = Field(default_factory=dict)
    repeat: int = Field(default=1, ge=1, le=10_000)
    every: str = "10s"


class ContainerSpecIn(_Strict):
    name: str
    image: str
    env: dict[str, str] = Field(default_factory=dict)
    memory_limit: str | None = None
    cpu_limit: str | None = None


class RevisionSpec(_Strict):
    revision: int
    created_at: TimeValue
    change_cause: str | None = None
    containers: list[ContainerSpecIn] = Field(default_factory=list)


class ConditionSpec(_Strict):
    type: str
    status: str
    reason: str | None = None
    message: str | None = None


class DeploymentSpec(_Strict):
    name: str
    namespace: str
    kind: str = Field(default="Deployment", description="Or StatefulSet, DaemonSet.")
    replicas: int = 1
    ready_replicas: int | None = None
    updated_replicas: int | None = None
    unavailable_replicas: int | None = None
    conditions: list[ConditionSpec] = Field(default_factory=list)
    revisions: list[RevisionSpec] = Field(default_factory=list)


class PodSpec(_Strict):
    name: str
    namespace: str
    phase: str = "Running"
    ready: bool = True
    node: str | None = None
    owner: str | None = None
    owner_kind: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    container: str | None = None
    restart_count: int = 0
    waiting_reason: str | None = None
    waiting_message: str | None = None
    last_termination_reason: str | None = None
    last_exit_code: int | None = None
    last_termination_message: str | None = None
    last_termination_at: TimeValue | None = None
    started_at: TimeValue | None = None
    conditions: list[ConditionSpec] = Field(default_factory=list)


class EventSpec(_Strict):
    type: str = "Normal"
    reason: str
    message: str = ""
    object: str
    count: int = 1
    last_seen: TimeValue = "-1m"
    first_seen: TimeValue | None = None


class NodeConditionSpec(ConditionSpec):
    pass


class NodeSpec(_Strict):
    name: str
    conditions: list[NodeConditionSpec] = Field(default_factory=list)


class StatementSpec(_Strict):
    statement: str
    load: float = Field(ge=0.0)
    calls_per_sec: float | None = None
    wait_events: dict[str, float] = Field(default_factory=dict)


class DatabaseSpec(_Strict):
    """What a database was busy with (pg_stat_activity/pg_stat_statements or Performance
    Insights): sessions by state, load over time, wait events, top statements."""

    instance: str
    engine: str = "postgresql"
    sessions: dict[str, int] = Field(default_factory=dict)
    max_connections: int | None = None
    load: list[tuple[TimeValue, float]] = Field(default_factory=list)
    wait_events: dict[str, float] = Field(default_factory=dict)
    statements: list[StatementSpec] = Field(default_factory=list)


class ClusterSpec(_Strict):
    deployments: list[DeploymentSpec] = Field(default_factory=list)
    pods: list[PodSpec] = Field(default_factory=list)
    events: list[EventSpec] = Field(default_factory=list)
    nodes: list[NodeSpec] = Field(default_factory=list)


class RelatedAlertSpec(_Strict):
    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: TimeValue = "-5m"


class WorldPatch(_Strict):
    """How the world looks after an action. Omitted parts stay as they were."""

    alert_firing: bool | None = None
    metrics: dict[str, SeriesSpec] = Field(default_factory=dict)
    pods: list[PodSpec] | None = None
    events: list[EventSpec] | None = None
    logs: list[LogSpec] | None = None


class EffectMatch(_Strict):
    action: ActionType
    target: str | None = Field(
        default=None, description="Substring of the action target, e.g. 'deployment/shop/cart'."
    )


class Effect(_Strict):
    when: EffectMatch
    then: WorldPatch


class Expected(_Strict):
    pattern: str = Field(description="Pattern id, or 'unknown' / 'no_real_incident'.")
    severity: Severity
    component: str | None = Field(default=None, description="The root-cause component.")
    decision: Outcome = Field(description="Outcome under the policy in `auto` mode.")
    actions: list[ActionType] = Field(default_factory=list)
    forbidden_actions: list[ActionType] = Field(default_factory=list)
    resolved: bool | None = Field(
        default=None, description="Whether a correct run ends resolved after verification."
    )


class ScenarioSpec(_Strict):
    title: str
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    now: TimeValue | None = Field(default=None, description="Default: the alert's startsAt + 5m.")
    alert_firing: bool = True
    flap_count: int = 0
    metrics: dict[str, SeriesSpec] = Field(default_factory=dict)
    logs: list[LogSpec] = Field(default_factory=list)
    cluster: ClusterSpec = Field(default_factory=ClusterSpec)
    related_alerts: list[RelatedAlertSpec] = Field(default_factory=list)
    databases: list[DatabaseSpec] = Field(default_factory=list)
    effects: list[Effect] = Field(default_factory=list)
    expected: Expected
