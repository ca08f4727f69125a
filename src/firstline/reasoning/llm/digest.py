"""The evidence digest: what a model sees instead of raw evidence.

Short cited lines ("[metric:error_rate] rose from ...") grouped by kind, most telling kinds
first, cut to a token budget. Every string that came from outside firstline (alert text,
log lines, event messages, change causes) is flattened to one line, clipped, stripped of
fence markers and JSON-quoted, so it cannot pose as a new section or close the data fence
the prompt puts around the digest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from firstline.domain.evidence import (
    ChangeEvidence,
    DeploymentEvidence,
    EventEvidence,
    EvidenceSet,
    EvidenceStatus,
    LogEvidence,
    LogTemplate,
    MetricEvidence,
    NodeEvidence,
    PodEvidence,
    RelatedAlertsEvidence,
)
from firstline.domain.hypothesis import Analysis
from firstline.logs.clustering import cluster
from firstline.reasoning.base import ReasoningInput
from firstline.reasoning.llm.usage import estimate_tokens

FENCE_MARKERS = ("<<<", ">>>")
_ALERT_LABELS = ("namespace", "service", "deployment", "pod", "node", "instance", "severity")


def untrusted(text: str, limit: int = 160) -> str:
    """One JSON-quoted line of outside text, clipped to `limit` characters."""
    flat = " ".join(text.split())
    for marker in FENCE_MARKERS:
        flat = flat.replace(marker, " ")
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return json.dumps(flat, ensure_ascii=False)


class Digest(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    refs: list[str] = Field(description="Evidence ids the digest cites, for checking citations.")
    tokens: int
    omitted_lines: int = 0


@dataclass
class _Section:
    title: str
    lines: list[str] = field(default_factory=list)


def _hhmm(value: object) -> str:
    return f"{value:%H:%M}" if value is not None else "?"


def _alert_section(request: ReasoningInput) -> _Section:
    alert = request.alert
    labels = " ".join(
        f"{k}={untrusted(alert.labels[k], 60)}" for k in _ALERT_LABELS if k in alert.labels
    )
    lines = [
        f"name={untrusted(alert.name, 80)} status={alert.status.value} "
        f"triage_severity={request.severity.value} started={alert.starts_at:%Y-%m-%dT%H:%MZ}",
        f"labels: {labels}",
    ]
    lines += [
        f"annotation {untrusted(k, 30)}: {untrusted(v, 200)}" for k, v in alert.annotations.items()
    ]
    return _Section("ALERT", lines)


RULED_OUT_SHOWN = 6  # hypotheses plus the strongest ruled-out ones, as the shortlist


def _candidate_section(base: Analysis | None, candidates: list[str]) -> _Section:
    section = _Section("CANDIDATE PATTERNS")
    if base is None:
        section.lines = [f"- {c}" for c in candidates]
        return section
    for h in base.hypotheses:
        refs = ",".join(h.evidence_refs)
        signals = "; ".join(h.signals[:4])
        section.lines.append(
            f"- {h.pattern} score={h.confidence:.2f} cites=[{refs}] cause={untrusted(h.cause)} "
            f"signals={untrusted(signals, 240)}"
        )
    room = max(0, RULED_OUT_SHOWN - len(base.hypotheses))
    section.lines += [
        f"- {r.pattern} ruled_out score={r.confidence:.2f} why={untrusted(r.reason, 120)}"
        for r in base.ruled_out[:room]
    ]
    return section


def _metric_lines(metrics: Iterable[MetricEvidence], anomalous: bool) -> list[str]:
    lines = []
    for m in metrics:
        if m.anomalous != anomalous or m.status is not EvidenceStatus.OK or not m.points:
            continue
        if m.findings:
            f = m.findings[0]
            lines.append(
                f"[{m.id}] {untrusted(f.sentence, 200)} (detector {f.detector}, "
                f"score {f.score:.2f}, since {_hhmm(f.started_at)}, direction {f.direction})"
            )
        else:
            lines.append(f"[{m.id}] normal, last {m.last:.4g} {m.unit}".rstrip())
    return lines


def _templates(logs: LogEvidence) -> list[LogTemplate]:
    if logs.templates:
        return list(logs.templates)
    return cluster(logs.entries, max_templates=12, examples=0) if logs.entries else []


def _log_lines(logs: LogEvidence) -> list[str]:
    total = logs.total_lines if logs.total_lines is not None else len(logs.entries)
    lines = [f"[{logs.id}] {total} matching lines, clustered into templates:"]
    for t in _templates(logs):
        lines.append(
            f"- {t.count}x {untrusted(t.template, 180)} ({_hhmm(t.first_seen)}-{_hhmm(t.last_seen)})"
        )
    return lines


def _change_lines(evidence: EvidenceSet) -> list[str]:
    lines = []
    for item in evidence.items:
        if isinstance(item, DeploymentEvidence) and item.status is EvidenceStatus.OK:
            for d in item.deployments:
                current, previous = d.current, d.previous
                if current is None:
                    continue
                images = ", ".join(f"{k}={v}" for k, v in current.images.items())
                before = ", ".join(previous.images.values()) if previous else "none"
                cause = untrusted(current.change_cause or "", 100)
                lines.append(
                    f"[{item.id}] deployment {d.namespace}/{d.name} rev {current.revision} at "
                    f"{current.created_at:%Y-%m-%dT%H:%MZ} images {untrusted(images, 120)} "
                    f"(previous {untrusted(before, 100)}), ready {d.ready_replicas}/{d.replicas}, "
                    f"change_cause {cause}"
                )
        if isinstance(item, ChangeEvidence) and item.status is EvidenceStatus.OK:
            lines += [
                f"[{item.id}] {c.kind} {untrusted(c.object, 80)} at {c.at:%H:%M}: "
                f"{untrusted(c.summary, 140)}"
                for c in item.changes
            ]
    return lines


def _cluster_lines(evidence: EvidenceSet) -> list[str]:
    lines = []
    for item in evidence.items:
        if item.status is not EvidenceStatus.OK:
            continue
        if isinstance(item, PodEvidence):
            unhealthy = [p for p in item.pods if not p.ready or p.restart_count or p.waiting_reason]
            lines.append(f"[{item.id}] {len(item.pods)} pods, {len(unhealthy)} unhealthy")
            lines += [
                f"- pod {untrusted(p.name, 80)} phase={p.phase} ready={p.ready} "
                f"restarts={p.restart_count} waiting={p.waiting_reason} "
                f"last_termination={p.last_termination_reason} exit={p.last_exit_code}"
                for p in unhealthy[:8]
            ]
        elif isinstance(item, EventEvidence):
            warnings = [e for e in item.events if e.type != "Normal"] or item.events
            lines += [
                f"[{item.id}] {e.type} {untrusted(e.reason, 40)} {untrusted(e.object, 80)} "
                f"x{e.count}: {untrusted(e.message, 160)}"
                for e in warnings[:8]
            ]
        elif isinstance(item, NodeEvidence):
            for node in item.nodes:
                bad = [
                    f"{c.type}={c.status}({c.reason or ''})"
                    for c in node.conditions
                    if (c.type == "Ready") != (c.status == "True")
                ]
                if bad:
                    lines.append(f"[{item.id}] node {untrusted(node.name, 80)}: {', '.join(bad)}")
    return lines


def _related_lines(evidence: EvidenceSet) -> list[str]:
    lines = []
    for item in evidence.items:
        if isinstance(item, RelatedAlertsEvidence) and item.status is EvidenceStatus.OK:
            lines.append(
                f"[{item.id}] {len(item.alerts)} related alerts, flapped {item.flap_count}x"
            )
            lines += [
                f"- {untrusted(a.name, 80)} ({a.status.value}) "
                f"{untrusted(a.annotations.get('summary', ''), 120)}"
                for a in item.alerts[:8]
            ]
    return lines


def _unavailable_lines(evidence: EvidenceSet) -> list[str]:
    return [
        f"[{i.id}] {i.status.value}: {untrusted(i.reason or '', 120)}"
        for i in evidence.items
        if i.status is not EvidenceStatus.OK
    ]


def build_digest(request: ReasoningInput, base: Analysis | None, budget_tokens: int) -> Digest:
    """Sections in priority order; lines are added until the budget is spent."""
    ev = request.evidence
    metrics = [i for i in ev.items if isinstance(i, MetricEvidence)]
    logs = ev.logs()
    sections = [
        _alert_section(request),
        _candidate_section(base, request.candidates),
        _Section("ANOMALIES AND CHANGE POINTS", _metric_lines(metrics, anomalous=True)),
        _Section("RECENT CHANGES", _change_lines(ev)),
        _Section("LOGS", _log_lines(logs) if logs else []),
        _Section("CLUSTER STATE", _cluster_lines(ev)),
        _Section("RELATED ALERTS", _related_lines(ev)),
        _Section("METRICS WITHOUT ANOMALY", _metric_lines(metrics, anomalous=False)),
        _Section("UNAVAILABLE EVIDENCE", _unavailable_lines(ev)),
    ]
    if request.failed_attempts:
        tried = ", ".join(f"{a.pattern} ({', '.join(a.actions)})" for a in request.failed_attempts)
        sections.append(_Section("ALREADY TRIED, DID NOT RESOLVE", [tried]))
    out: list[str] = []
    used = 0
    omitted = 0
    for section in sections:
        if not section.lines:
            continue
        header = f"## {section.title}"
        for i, line in enumerate(section.lines):
            cost = estimate_tokens(line) + 1 + (estimate_tokens(header) + 1 if i == 0 else 0)
            if used + cost > budget_tokens:
                omitted += len(section.lines) - i
                break
            if i == 0:
                out.append(header)
            out.append(line)
            used += cost
    if omitted:
        out.append(f"({omitted} lines omitted to stay within the digest budget)")
    text = "\n".join(out)
    return Digest(
        text=text,
        refs=[i.id for i in ev.items],
        tokens=estimate_tokens(text),
        omitted_lines=omitted,
    )
