"""Turning gathered evidence into a scenario bundle: the inverse of ReplayWorld.

`bundle_from_evidence` is a pure conversion. Every item gathered with status ok becomes
bundle data at absolute times (metric series as explicit `points`, each log entry as one
LogSpec, deployments with their revisions, pods, events, nodes, databases, related
alerts), so that replaying the bundle shows the same evidence. Items that came back as
error or no_data are not data: they are listed in the bundle's description, and replay
sees the same absence (the query "returned no series").

Domain models become spec models generically (`_fit`): every field the spec model knows
is copied, nested models included, so a field added to both the domain model and the spec
flows through without touching this module. `uncarried_fields` names what the format
cannot hold; tests/unit/test_capture.py fails when that grows.

What firstline itself concludes (for an `expected` block nobody wrote) needs the pattern
engine and the policy, which sit above this layer: see cli/capturing.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from pydantic import BaseModel

from firstline.domain.alert import Alert, AlertStatus
from firstline.domain.evidence import (
    ChangeEvidence,
    DatabaseActivityEvidence,
    Deployment,
    DeploymentEvidence,
    EventEvidence,
    EvidenceSet,
    EvidenceStatus,
    KubeEvent,
    LogEvidence,
    MetricEvidence,
    NodeEvidence,
    NodeState,
    PodEvidence,
    PodState,
    RelatedAlertsEvidence,
)
from firstline.scenarios.format import (
    ClusterSpec,
    DatabaseSpec,
    DeploymentSpec,
    EventSpec,
    Expected,
    LogSpec,
    NodeSpec,
    PodSpec,
    RelatedAlertSpec,
    ScenarioSpec,
    SeriesSpec,
)
from firstline.scenarios.loader import ALERT_FILE, SCENARIO_FILE
from firstline.scenarios.times import resolve_time

CAPTURED_TAG = "captured"
UNREVIEWED_TAG = "expected-unreviewed"
UNREVIEWED_NOTE = (
    "WARNING: `expected` was copied from firstline's own run on this evidence, not from a "
    "person. Review it (pattern, decision, severity, component) before trusting `eval`: "
    "until then this bundle measures regressions, not correctness."
)
_NO_END = "0001-01-01T00:00:00Z"

M = TypeVar("M", bound=BaseModel)

# The domain model each spec model is built from, for the field-coverage check.
_CARRIED: list[tuple[type[BaseModel], type[BaseModel], frozenset[str]]] = [
    (PodState, PodSpec, frozenset()),
    (Deployment, DeploymentSpec, frozenset()),
    (KubeEvent, EventSpec, frozenset()),
    (NodeState, NodeSpec, frozenset()),
    # id, provenance, status, reason and kind are the evidence envelope, rebuilt by replay
    (
        DatabaseActivityEvidence,
        DatabaseSpec,
        frozenset({"id", "provenance", "status", "reason", "kind"}),
    ),
]


# -- generic domain -> spec ----------------------------------------------------------------


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (`X`, `list[X]`, `X | None`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _fit_value(annotation: Any, value: Any) -> Any:
    model = _model_in(annotation)
    if model is None:
        return value
    if isinstance(value, list):
        return [_fit(model, v) if isinstance(v, dict) else v for v in value]
    if isinstance(value, dict):
        return _fit(model, value)
    return value


def _fit(cls: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """`data` reduced to the fields `cls` (and its nested models) declare."""
    return {
        name: _fit_value(info.annotation, data[name])
        for name, info in cls.model_fields.items()
        if name in data
    }


def spec_from(cls: type[M], source: BaseModel, **overrides: Any) -> M:
    """A spec model from a domain model: every field the spec knows, nested ones too."""
    return cls.model_validate({**_fit(cls, source.model_dump()), **overrides})


def uncarried_fields() -> dict[str, set[str]]:
    """Domain fields (top level) that the bundle format has no place for, by model."""
    lost: dict[str, set[str]] = {}
    for domain, spec, envelope in _CARRIED:
        missing = set(domain.model_fields) - set(spec.model_fields) - envelope
        if missing:
            lost[domain.__name__] = missing
    return lost


# -- what was captured ---------------------------------------------------------------------


@dataclass(frozen=True)
class Inventory:
    captured: list[str]
    not_captured: list[str]


def _is_data(item: BaseModel) -> bool:
    if getattr(item, "status", None) is not EvidenceStatus.OK:
        return False
    return not (isinstance(item, MetricEvidence) and not item.points)


def _why_not(item: Any) -> str:
    if isinstance(item, ChangeEvidence):
        return (
            f"{item.id} (ok: {len(item.changes)} rollout change(s); the format has no place "
            "for them, the deployments' revisions they come from are kept)"
        )
    status = item.status.value if item.status is not EvidenceStatus.OK else "no_data"
    reason = item.reason or ("no points" if isinstance(item, MetricEvidence) else "no reason given")
    return f"{item.id} ({status}: {reason})"


def _grouped(evidence: EvidenceSet) -> list[str]:
    """The gaps, one line per distinct status and reason: 'metric:a, metric:b (no_data: ...)'."""
    groups: dict[str, list[str]] = {}
    for item in evidence.items:
        if not _is_data(item) or isinstance(item, ChangeEvidence):
            ref, _, why = _why_not(item).partition(" ")
            groups.setdefault(why, []).append(ref)
    return [f"{', '.join(refs)} {why}" for why, refs in groups.items()]


def inventory(evidence: EvidenceSet) -> Inventory:
    """Which evidence items become bundle data, and why the others do not."""
    captured: list[str] = []
    missing: list[str] = []
    for item in evidence.items:
        if _is_data(item) and not isinstance(item, ChangeEvidence):
            captured.append(item.id)
        else:
            missing.append(_why_not(item))
    return Inventory(captured=captured, not_captured=missing)


# -- the conversion ------------------------------------------------------------------------


def _rfc3339(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _webhook_alert(alert: Alert) -> dict[str, Any]:
    item: dict[str, Any] = {
        "status": alert.status.value,
        "labels": {"alertname": alert.name, **alert.labels},
        "annotations": dict(alert.annotations),
        "startsAt": _rfc3339(alert.starts_at),
        "endsAt": _rfc3339(alert.ends_at) if alert.ends_at else _NO_END,
        "fingerprint": alert.fingerprint,
    }
    if alert.generator_url:
        item["generatorURL"] = alert.generator_url
    return item


def alert_payload(alert: Alert, extra: Sequence[Alert] = ()) -> dict[str, Any]:
    """An Alertmanager webhook v4 payload whose first alert is `alert`."""
    labels = {"alertname": alert.name, **alert.labels}
    return {
        "version": "4",
        "status": alert.status.value,
        "receiver": "firstline-capture",
        "groupLabels": {"alertname": alert.name},
        "commonLabels": labels,
        "commonAnnotations": dict(alert.annotations),
        "alerts": [_webhook_alert(a) for a in (alert, *extra)],
    }


def _series(metric: MetricEvidence) -> SeriesSpec:
    return SeriesSpec(
        unit=metric.unit,
        labels=dict(metric.labels),
        points=[(p.ts, p.value) for p in metric.points],
    )


def _related(alert: Alert) -> RelatedAlertSpec:
    labels = {k: v for k, v in alert.labels.items() if not (k == "alertname" and v == alert.name)}
    return spec_from(RelatedAlertSpec, alert, labels=labels)


@dataclass
class _Collected:
    """The bundle's data sections, filled item by item."""

    metrics: dict[str, SeriesSpec] = field(default_factory=dict)
    logs: list[LogSpec] = field(default_factory=list)
    cluster: dict[str, list[Any]] = field(
        default_factory=lambda: {"deployments": [], "pods": [], "events": [], "nodes": []}
    )
    databases: list[DatabaseSpec] = field(default_factory=list)
    related: list[RelatedAlertSpec] = field(default_factory=list)
    resolved_related: list[Alert] = field(default_factory=list)
    flap_count: int | None = None

    def add(self, item: BaseModel) -> None:
        if isinstance(item, MetricEvidence):
            self.metrics.setdefault(item.name, _series(item))
        elif isinstance(item, LogEvidence):
            self.logs += [
                LogSpec(at=e.ts, line=e.line, labels=dict(e.labels), repeat=1) for e in item.entries
            ]
        elif isinstance(item, DeploymentEvidence):
            self.cluster["deployments"] += [spec_from(DeploymentSpec, d) for d in item.deployments]
        elif isinstance(item, PodEvidence):
            self.cluster["pods"] += [spec_from(PodSpec, p) for p in item.pods]
        elif isinstance(item, EventEvidence):
            self.cluster["events"] += [spec_from(EventSpec, e) for e in item.events]
        elif isinstance(item, NodeEvidence):
            self.cluster["nodes"] += [spec_from(NodeSpec, n) for n in item.nodes]
        elif isinstance(item, DatabaseActivityEvidence):
            load = [(p.ts, p.value) for p in item.load]
            self.databases.append(spec_from(DatabaseSpec, item, load=load))
        elif isinstance(item, RelatedAlertsEvidence):
            self._add_related(item)

    def _add_related(self, item: RelatedAlertsEvidence) -> None:
        if self.flap_count is None:
            self.flap_count = item.flap_count
        for other in item.alerts:
            if other.status is AlertStatus.FIRING:
                self.related.append(_related(other))
            else:  # the format's related_alerts always fire; the payload keeps the status
                self.resolved_related.append(other)


def bundle_from_evidence(
    alert: Alert,
    evidence: EvidenceSet,
    now: datetime,
    expected: Expected,
    title: str,
    *,
    description: str = "",
    tags: Sequence[str] = (),
) -> tuple[dict[str, Any], ScenarioSpec]:
    """(alert.json payload, scenario spec) that replay back into `evidence`'s content."""
    got = _Collected()
    for item in evidence.items:
        if _is_data(item):
            got.add(item)
    logs = sorted(got.logs, key=lambda spec: resolve_time(spec.at, now))
    lines = [description.strip()] if description.strip() else []
    lines.append(f"Captured live by `firstline capture` at {_rfc3339(now)} for alert {alert.name}.")
    lines += [f"not captured: {m}" for m in _grouped(evidence)]
    spec = ScenarioSpec(
        title=title,
        description="\n".join(lines),
        tags=list(dict.fromkeys([CAPTURED_TAG, *tags])),
        now=now,
        alert_firing=alert.status is AlertStatus.FIRING,
        flap_count=got.flap_count or 0,
        metrics=got.metrics,
        logs=logs,
        cluster=ClusterSpec.model_validate(got.cluster),
        related_alerts=got.related,
        databases=got.databases,
        expected=expected,
    )
    return alert_payload(alert, got.resolved_related), spec


# -- files ---------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style, except short lists of scalars (points, tags) on one line."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flat = all(isinstance(x, str | int | float | bool) or x is None for x in data)
    short = flat and sum(len(str(x)) for x in data) < 80
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=short)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(str, _represent_str)


class _Flow(dict[str, Any]):
    """A mapping written on one line: `{at: ..., line: ..., labels: {...}}`."""


def _represent_flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


_Dumper.add_representer(_Flow, _represent_flow)


def spec_yaml(spec: ScenarioSpec) -> str:
    """The spec without its defaults, in the bundled scenarios' style: one log line and one
    point per line."""
    data = spec.model_dump(mode="json", exclude_defaults=True)
    if "logs" in data:
        data["logs"] = [_Flow(entry) for entry in data["logs"]]
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096)


def write_bundle(directory: Path, payload: dict[str, Any], spec: ScenarioSpec) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / SCENARIO_FILE).write_text(spec_yaml(spec), encoding="utf-8")
    (directory / ALERT_FILE).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
