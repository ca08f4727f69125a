"""Evidence: what firstline looked at, and where it came from so a person can re-run it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from firstline.domain.alert import Alert
from firstline.domain.text import substring_matcher


class EvidenceStatus(StrEnum):
    OK = "ok"
    NO_DATA = "no_data"
    ERROR = "error"


class Provenance(BaseModel):
    """Where a piece of evidence came from: enough to run the same query again."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="Backend that answered, e.g. 'prometheus', 'replay'.")
    query: str = Field(description="The exact query or API call.")
    start: datetime | None = None
    end: datetime | None = None


class _EvidenceBase(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Stable reference used by hypotheses, e.g. 'metric:memory'.")
    provenance: Provenance
    status: EvidenceStatus = EvidenceStatus.OK
    reason: str | None = Field(default=None, description="Why the status is not ok.")


class MetricPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    ts: datetime
    value: float


class AnomalyFinding(BaseModel):
    """A detector's verdict on a series, phrased for a person."""

    model_config = ConfigDict(frozen=True)

    detector: str
    score: float = Field(ge=0.0, le=1.0)
    started_at: datetime | None = None
    direction: Literal["up", "down", "flat"] = "up"
    baseline: float | None = None
    current: float | None = None
    sentence: str


class MetricEvidence(_EvidenceBase):
    kind: Literal["metric"] = "metric"
    name: str = Field(description="The query's name in the pattern library.")
    unit: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    points: list[MetricPoint] = Field(default_factory=list)
    findings: list[AnomalyFinding] = Field(default_factory=list)

    @property
    def last(self) -> float | None:
        return self.points[-1].value if self.points else None

    @property
    def anomalous(self) -> bool:
        return any(f.score >= 0.5 for f in self.findings)


class LogEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    ts: datetime
    line: str
    labels: dict[str, str] = Field(default_factory=dict)


class LogTemplate(BaseModel):
    """Many similar log lines as one pattern, e.g. 'connection refused to <*>:<*>'."""

    model_config = ConfigDict(frozen=True)

    template: str
    count: int
    first_seen: datetime
    last_seen: datetime
    examples: list[str] = Field(default_factory=list)


class LogEvidence(_EvidenceBase):
    kind: Literal["logs"] = "logs"
    entries: list[LogEntry] = Field(default_factory=list)
    templates: list[LogTemplate] = Field(
        default_factory=list, description="Entries clustered into templates, most frequent first."
    )
    total_lines: int | None = Field(
        default=None, description="Lines matched by the query, which may exceed `entries`."
    )

    _line_counts: dict[str, int] | None = PrivateAttr(default=None)

    def line_counts(self) -> dict[str, int]:
        """Each distinct line in lower case with how often it occurs, computed once: every
        pattern searches the same lines, and real logs repeat themselves a lot."""
        if self._line_counts is None:
            self._line_counts = dict(Counter(e.line.lower() for e in self.entries))
        return self._line_counts

    def count_matching(self, *needles: str) -> int:
        """Lines containing any of the needles (case-insensitive substrings)."""
        if not needles:
            return 0
        found = substring_matcher(tuple(n.lower() for n in needles))
        return sum(n for line, n in self.line_counts().items() if found(line))


class ContainerSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    image: str
    env: dict[str, str] = Field(default_factory=dict)
    memory_limit: str | None = None
    cpu_limit: str | None = None


class Revision(BaseModel):
    """One ReplicaSet in a Deployment's rollout history."""

    model_config = ConfigDict(frozen=True)

    revision: int
    created_at: datetime
    change_cause: str | None = None
    containers: list[ContainerSpec] = Field(default_factory=list)

    @property
    def images(self) -> dict[str, str]:
        return {c.name: c.image for c in self.containers}


class Condition(BaseModel):
    """A Kubernetes-style status condition (Ready, PodScheduled, Progressing, ...)."""

    model_config = ConfigDict(frozen=True)

    type: str
    status: str
    reason: str | None = None
    message: str | None = None


class Deployment(BaseModel):
    """A workload with its rollout state: a Deployment, or a StatefulSet/DaemonSet by `kind`."""

    model_config = ConfigDict(frozen=True)

    name: str
    namespace: str
    kind: str = "Deployment"
    replicas: int = 1
    ready_replicas: int = 1
    updated_replicas: int | None = None
    unavailable_replicas: int | None = None
    conditions: list[Condition] = Field(
        default_factory=list, description="Progressing, Available, ReplicaFailure..."
    )
    revisions: list[Revision] = Field(default_factory=list)

    def condition(self, kind: str) -> Condition | None:
        return next((c for c in self.conditions if c.type == kind), None)

    @property
    def current(self) -> Revision | None:
        return max(self.revisions, key=lambda r: r.revision, default=None)

    @property
    def previous(self) -> Revision | None:
        ordered = sorted(self.revisions, key=lambda r: r.revision)
        return ordered[-2] if len(ordered) >= 2 else None


class DeploymentEvidence(_EvidenceBase):
    kind: Literal["deployments"] = "deployments"
    deployments: list[Deployment] = Field(default_factory=list)


class PodState(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    namespace: str
    phase: str = "Running"
    ready: bool = True
    node: str | None = None
    owner: str | None = Field(default=None, description="Owning deployment, when known.")
    restart_count: int = 0
    waiting_reason: str | None = None
    last_termination_reason: str | None = None
    last_exit_code: int | None = None
    owner_kind: str | None = Field(
        default=None, description="Kind of the owning workload: Deployment, StatefulSet, Job..."
    )
    labels: dict[str, str] = Field(default_factory=dict)
    container: str | None = Field(
        default=None, description="The container the waiting/termination facts are about."
    )
    waiting_message: str | None = None
    last_termination_message: str | None = None
    last_termination_at: datetime | None = Field(
        default=None, description="When the container last terminated (finishedAt)."
    )
    started_at: datetime | None = None
    conditions: list[Condition] = Field(default_factory=list)

    def condition(self, kind: str) -> Condition | None:
        return next((c for c in self.conditions if c.type == kind), None)


class PodEvidence(_EvidenceBase):
    kind: Literal["pods"] = "pods"
    pods: list[PodState] = Field(default_factory=list)


class KubeEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: str = "Normal"
    reason: str
    message: str = ""
    object: str = Field(description="kind/name of the involved object.")
    count: int = 1
    last_seen: datetime
    first_seen: datetime | None = None


class EventEvidence(_EvidenceBase):
    kind: Literal["events"] = "events"
    events: list[KubeEvent] = Field(default_factory=list)

    def with_reason(self, *reasons: str) -> list[KubeEvent]:
        return [e for e in self.events if e.reason in reasons]


class ChangeRecord(BaseModel):
    """Something that changed in the incident window: a rollout, a config edit, a scale."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    object: str = Field(description="kind/namespace/name of what changed.")
    kind: str = Field(description="rollout | config | scale | ...")
    summary: str = Field(description="One sentence, e.g. 'image 1.4.2 -> 1.5.0'.")
    details: dict[str, str] = Field(default_factory=dict)


class ChangeEvidence(_EvidenceBase):
    kind: Literal["changes"] = "changes"
    changes: list[ChangeRecord] = Field(default_factory=list)


class NodeCondition(Condition):
    """A node's condition (Ready, MemoryPressure, DiskPressure, ...)."""


class NodeState(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    conditions: list[NodeCondition] = Field(default_factory=list)

    def condition(self, kind: str) -> NodeCondition | None:
        return next((c for c in self.conditions if c.type == kind), None)


class NodeEvidence(_EvidenceBase):
    kind: Literal["nodes"] = "nodes"
    nodes: list[NodeState] = Field(default_factory=list)


class RelatedAlertsEvidence(_EvidenceBase):
    kind: Literal["related_alerts"] = "related_alerts"
    alerts: list[Alert] = Field(default_factory=list)
    flap_count: int = Field(
        default=0, description="How often this same alert fired and resolved recently."
    )


class StatementActivity(BaseModel):
    """One statement's share of a database's load (pg_stat_statements, Performance Insights)."""

    model_config = ConfigDict(frozen=True)

    statement: str
    load: float = Field(ge=0.0, description="Average active sessions running it.")
    calls_per_sec: float | None = None
    wait_events: dict[str, float] = Field(
        default_factory=dict, description="Average sessions per wait event, e.g. 'CPU'."
    )


class DatabaseActivityEvidence(_EvidenceBase):
    """What a database is busy with: sessions by state, load, wait events, top statements."""

    kind: Literal["database_activity"] = "database_activity"
    instance: str
    engine: str = "postgresql"
    sessions: dict[str, int] = Field(
        default_factory=dict, description="Sessions by state: active, idle, idle in transaction."
    )
    max_connections: int | None = None
    load: list[MetricPoint] = Field(
        default_factory=list, description="Average active sessions over time."
    )
    wait_events: dict[str, float] = Field(
        default_factory=dict, description="Average sessions per wait event over the window."
    )
    statements: list[StatementActivity] = Field(default_factory=list)


_E = TypeVar("_E", bound=_EvidenceBase)

Evidence = Annotated[
    MetricEvidence
    | LogEvidence
    | DeploymentEvidence
    | PodEvidence
    | EventEvidence
    | NodeEvidence
    | ChangeEvidence
    | RelatedAlertsEvidence
    | DatabaseActivityEvidence,
    Field(discriminator="kind"),
]


class EvidenceSet(BaseModel):
    """All evidence of one incident, with typed lookups for patterns and reports."""

    model_config = ConfigDict(frozen=True)

    items: list[Evidence] = Field(default_factory=list)

    def by_id(self, evidence_id: str) -> Evidence | None:
        return next((i for i in self.items if i.id == evidence_id), None)

    _metrics: dict[str, MetricEvidence] | None = PrivateAttr(default=None)

    def metric(self, name: str) -> MetricEvidence | None:
        """The first answered metric of that name with points (indexed once: every pattern
        looks its metrics up)."""
        if self._metrics is None:
            index: dict[str, MetricEvidence] = {}
            for i in self.items:
                if isinstance(i, MetricEvidence) and i.status == "ok":
                    index.setdefault(i.name, i)
            self._metrics = index
        found = self._metrics.get(name)
        return found if found and found.points else None

    def logs(self) -> LogEvidence | None:
        return self._first(LogEvidence)

    def pods(self) -> list[PodState]:
        found = self._first(PodEvidence)
        return list(found.pods) if found else []

    def deployments(self) -> list[Deployment]:
        found = self._first(DeploymentEvidence)
        return list(found.deployments) if found else []

    def events(self) -> EventEvidence | None:
        return self._first(EventEvidence)

    def nodes(self) -> list[NodeState]:
        found = self._first(NodeEvidence)
        return list(found.nodes) if found else []

    def related(self) -> RelatedAlertsEvidence | None:
        return self._first(RelatedAlertsEvidence)

    def changes(self) -> list[ChangeRecord]:
        found = self._first(ChangeEvidence)
        return list(found.changes) if found else []

    def databases(self) -> list[DatabaseActivityEvidence]:
        return [
            i
            for i in self.items
            if isinstance(i, DatabaseActivityEvidence) and i.status == EvidenceStatus.OK
        ]

    _firsts: dict[type, object] | None = PrivateAttr(default=None)

    def _first(self, kind: type[_E]) -> _E | None:
        """The first answered item of a kind, indexed once (patterns ask for pods, events and
        logs over and over)."""
        if self._firsts is None:
            firsts: dict[type, object] = {}
            for item in self.items:
                if item.status == EvidenceStatus.OK:
                    firsts.setdefault(type(item), item)
            self._firsts = firsts
        found = self._firsts.get(kind)
        return found if isinstance(found, kind) else None
