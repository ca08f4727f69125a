"""The mutable state of a replayed incident: what sources see and what actions change."""

from __future__ import annotations

from dataclasses import dataclass, field

from firstline.domain.action import RemediationAction
from firstline.domain.alert import Alert, fingerprint_labels
from firstline.domain.evidence import (
    Condition,
    ContainerSpec,
    DatabaseActivityEvidence,
    Deployment,
    KubeEvent,
    LogEntry,
    MetricPoint,
    NodeCondition,
    NodeState,
    PodState,
    Provenance,
    Revision,
    StatementActivity,
)
from firstline.scenarios.format import (
    DatabaseSpec,
    DeploymentSpec,
    EventSpec,
    LogSpec,
    PodSpec,
    SeriesSpec,
    WorldPatch,
)
from firstline.scenarios.loader import ScenarioBundle
from firstline.scenarios.shapes import render_series
from firstline.scenarios.times import parse_duration, resolve_time


@dataclass
class Series:
    unit: str
    labels: dict[str, str]
    points: list[MetricPoint]


@dataclass
class WorldState:
    alert_firing: bool
    metrics: dict[str, Series]
    logs: list[LogEntry]
    deployments: list[Deployment]
    pods: list[PodState]
    events: list[KubeEvent]
    nodes: list[NodeState]
    related: list[Alert]
    flap_count: int
    databases: list[DatabaseActivityEvidence] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)


class ReplayWorld:
    def __init__(self, bundle: ScenarioBundle) -> None:
        self.bundle = bundle
        self.now = bundle.now
        spec = bundle.spec
        self.state = WorldState(
            alert_firing=spec.alert_firing,
            metrics={name: self._series(s) for name, s in spec.metrics.items()},
            logs=self._logs(spec.logs),
            deployments=[self._deployment(d) for d in spec.cluster.deployments],
            pods=[self._pod(p) for p in spec.cluster.pods],
            events=[self._event(e) for e in spec.cluster.events],
            nodes=[
                NodeState(
                    name=n.name,
                    conditions=[NodeCondition(**c.model_dump()) for c in n.conditions],
                )
                for n in spec.cluster.nodes
            ],
            related=self._related(bundle),
            flap_count=spec.flap_count,
            databases=[self._database(d) for d in spec.databases],
        )

    # -- effects -----------------------------------------------------------------------
    def apply(self, action: RemediationAction) -> list[str]:
        """Apply every effect the bundle declares for this action; returns what changed."""
        changed: list[str] = []
        for effect in self.bundle.spec.effects:
            if effect.when.action is not action.type:
                continue
            if effect.when.target and effect.when.target not in str(action.target):
                continue
            changed.extend(self._patch(effect.then))
        self.state.applied.append(action.describe())
        return changed

    def preview(self, patch: WorldPatch) -> None:
        """Render a patch without applying it (used to validate bundles at load time)."""
        for spec in patch.metrics.values():
            self._series(spec)
        for pod in patch.pods or []:
            self._pod(pod)
        for event in patch.events or []:
            self._event(event)
        self._logs(patch.logs or [])

    def _patch(self, patch: WorldPatch) -> list[str]:
        changed = []
        if patch.alert_firing is not None:
            self.state.alert_firing = patch.alert_firing
            changed.append(f"alert_firing={patch.alert_firing}")
        for name, spec in patch.metrics.items():
            self.state.metrics[name] = self._series(spec)
            changed.append(f"metric {name}")
        if patch.pods is not None:
            self.state.pods = [self._pod(p) for p in patch.pods]
            changed.append("pods")
        if patch.events is not None:
            self.state.events = [self._event(e) for e in patch.events]
            changed.append("events")
        if patch.logs is not None:
            self.state.logs = self._logs(patch.logs)
            changed.append("logs")
        return changed

    # -- spec -> domain ------------------------------------------------------------------
    def _series(self, spec: SeriesSpec) -> Series:
        return Series(unit=spec.unit, labels=spec.labels, points=render_series(spec, self.now))

    def _logs(self, specs: list[LogSpec]) -> list[LogEntry]:
        entries: list[LogEntry] = []
        for spec in specs:
            start = resolve_time(spec.at, self.now)
            every = parse_duration(spec.every)
            entries.extend(
                LogEntry(ts=start + i * every, line=spec.line, labels=spec.labels)
                for i in range(spec.repeat)
            )
        return sorted(entries, key=lambda e: e.ts)

    def _deployment(self, spec: DeploymentSpec) -> Deployment:
        return Deployment(
            name=spec.name,
            namespace=spec.namespace,
            kind=spec.kind,
            replicas=spec.replicas,
            ready_replicas=spec.replicas if spec.ready_replicas is None else spec.ready_replicas,
            updated_replicas=spec.updated_replicas,
            unavailable_replicas=spec.unavailable_replicas,
            conditions=[Condition(**c.model_dump()) for c in spec.conditions],
            revisions=[
                Revision(
                    revision=r.revision,
                    created_at=resolve_time(r.created_at, self.now),
                    change_cause=r.change_cause,
                    containers=[ContainerSpec(**c.model_dump()) for c in r.containers],
                )
                for r in spec.revisions
            ],
        )

    def _pod(self, spec: PodSpec) -> PodState:
        data = spec.model_dump()
        for key in ("last_termination_at", "started_at"):
            value = getattr(spec, key)
            data[key] = resolve_time(value, self.now) if value is not None else None
        return PodState(**data)

    def _event(self, spec: EventSpec) -> KubeEvent:
        data = spec.model_dump()
        data["last_seen"] = resolve_time(spec.last_seen, self.now)
        if spec.first_seen is not None:
            data["first_seen"] = resolve_time(spec.first_seen, self.now)
        return KubeEvent(**data)

    def _database(self, spec: DatabaseSpec) -> DatabaseActivityEvidence:
        return DatabaseActivityEvidence(
            id=f"database:{spec.instance}",
            provenance=Provenance(source="replay", query=f"database activity of {spec.instance}"),
            instance=spec.instance,
            engine=spec.engine,
            sessions=spec.sessions,
            max_connections=spec.max_connections,
            load=[MetricPoint(ts=resolve_time(t, self.now), value=v) for t, v in spec.load],
            wait_events=spec.wait_events,
            statements=[StatementActivity(**s.model_dump()) for s in spec.statements],
        )

    def _related(self, bundle: ScenarioBundle) -> list[Alert]:
        primary = bundle.primary_alert
        others = [a for a in bundle.alerts if a is not primary]
        for spec in bundle.spec.related_alerts:
            labels = {"alertname": spec.name, **spec.labels}
            others.append(
                Alert(
                    source="replay",
                    name=spec.name,
                    labels=labels,
                    annotations=spec.annotations,
                    starts_at=resolve_time(spec.starts_at, self.now),
                    fingerprint=fingerprint_labels(labels),
                )
            )
        return others
