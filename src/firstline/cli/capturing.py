"""`firstline capture`: record a live incident's evidence into a scenario bundle, so that a
real incident becomes a regression case for `firstline eval` (docs/scenarios.md,
"Capturing a live incident").

The body of the command (its options are in cli/capture.py, so `firstline --help` does not
import this). The evidence is gathered by the
same `gather()` the graph uses, from the live sources `wiring.build_live_source` builds
from the settings, with every pattern's metric queries (not only the triage candidates:
a later pattern change may pick different candidates, and the bundle must still hold
what they ask for). Progress goes to stderr; user errors are one `error: ...` line and
exit code 2, as everywhere in the CLI.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from firstline.detection.detectors import Detector, get_detector
from firstline.domain.alert import Alert, Severity
from firstline.domain.decision import Outcome
from firstline.domain.evidence import (
    Evidence,
    EvidenceSet,
    LogEvidence,
    MetricEvidence,
    RelatedAlertsEvidence,
)
from firstline.domain.hypothesis import UNKNOWN
from firstline.domain.query import MetricQuery, QueryScope
from firstline.graph.gathering import gather, scope_for
from firstline.intake.alertmanager import load_webhook_file, parse_webhook
from firstline.intake.errors import AlertParseError
from firstline.patterns.registry import PatternRegistry
from firstline.policy.actions import ActionContext, guard_decision
from firstline.policy.decision import DecisionInput, decide
from firstline.policy.schema import Mode, Policy
from firstline.policy.severity import triage_severity
from firstline.reasoning.base import ReasoningInput
from firstline.reasoning.rules import PatternReasoner
from firstline.scenarios.capture import (
    UNREVIEWED_NOTE,
    UNREVIEWED_TAG,
    bundle_from_evidence,
    inventory,
    write_bundle,
)
from firstline.scenarios.format import Expected, ScenarioSpec
from firstline.scenarios.loader import ScenarioBundle, load_bundle, primary_of
from firstline.scenarios.times import resolve_time
from firstline.scenarios.world import ReplayWorld
from firstline.sources.alertmanager.client import AlertmanagerClient, matcher
from firstline.sources.base import EvidenceSource
from firstline.sources.composite import CompositeSource
from firstline.sources.loki.adapter import LokiBackend
from firstline.sources.replay import ReplaySource
from firstline.wiring.runtime import build_live_source, build_policy
from firstline.wiring.settings import Settings


def _err(text: str) -> None:
    typer.echo(text, err=True)


# -- the alert ------------------------------------------------------------------------------


def _alert_from_file(source: str) -> Alert:
    if source == "-":
        try:
            payload = json.loads(sys.stdin.read())
        except json.JSONDecodeError as exc:
            raise AlertParseError(f"stdin: malformed JSON: {exc.msg}") from exc
        return primary_of(parse_webhook(payload))
    return primary_of(load_webhook_file(Path(source)))


async def _alert_from_alertmanager(cfg: Settings, name: str | None, fp: str | None) -> Alert:
    """The one active alert with that name and/or fingerprint, from the configured
    Alertmanager."""
    if not cfg.sources.alertmanager.enabled:
        raise ValueError("--alertname/--alertmanager-fingerprint need sources.alertmanager.url")
    client = AlertmanagerClient(cfg.sources.alertmanager)
    try:
        active = await client.alerts(
            [matcher("alertname", name)] if name else [], include_muted=True
        )
    finally:
        await client.aclose()
    found = [a for a in active if fp is None or a.fingerprint == fp]
    if not found:
        wanted = " and ".join(
            x for x in (f"alertname={name}" if name else "", f"fingerprint={fp}" if fp else "") if x
        )
        raise ValueError(f"no active alert with {wanted} in Alertmanager")
    if len(found) > 1:
        fps = ", ".join(a.fingerprint for a in found[:5])
        raise ValueError(
            f"{len(found)} active alerts named {name} ({fps}): pass --alertmanager-fingerprint"
        )
    item = found[0]
    return Alert(
        source="alertmanager",
        name=item.labels.get("alertname", "unnamed"),
        labels=item.labels,
        annotations=item.annotations,
        starts_at=item.starts_at,
        fingerprint=item.fingerprint,
        generator_url=item.generator_url,
    )


# -- gathering, with progress ---------------------------------------------------------------


def _summary(item: Evidence) -> str:
    if item.status != "ok":
        return f"{item.status.value} ({item.reason})"
    counts: dict[type, Callable[[Any], str]] = {
        MetricEvidence: lambda m: f"{len(m.points)} points",
        LogEvidence: lambda g: f"{len(g.entries)} lines",
        RelatedAlertsEvidence: lambda r: f"{len(r.alerts)} alerts",
    }
    for kind, count in counts.items():
        if isinstance(item, kind):
            return f"ok, {count(item)}"
    for name in ("deployments", "pods", "events", "nodes", "changes"):
        if isinstance(value := getattr(item, name, None), list):
            return f"ok, {len(value)} {name}"
    return "ok"


class _Telling:
    """The live source, telling stderr about each answer as it arrives."""

    def __init__(self, inner: EvidenceSource) -> None:
        self.inner = inner
        self.name = inner.name

    def _tell(self, item: Evidence) -> None:
        _err(f"  {item.id}: {_summary(item)}")

    async def metric(self, query: MetricQuery, scope: QueryScope) -> MetricEvidence:
        item = await self.inner.metric(query, scope)
        self._tell(item)
        return item

    async def logs(self, scope: QueryScope) -> LogEvidence:
        item = await self.inner.logs(scope)
        self._tell(item)
        return item

    async def cluster_state(self, scope: QueryScope) -> list[Evidence]:
        items = await self.inner.cluster_state(scope)
        for item in items:
            self._tell(item)
        return items

    async def related_alerts(self, scope: QueryScope) -> RelatedAlertsEvidence:
        item = await self.inner.related_alerts(scope)
        self._tell(item)
        return item

    async def alert_firing(self, alert: Alert) -> bool | None:
        return await self.inner.alert_firing(alert)


def _live_source(cfg: Settings) -> CompositeSource:
    source = build_live_source(cfg)
    if source is None:
        raise ValueError(
            "no live source is configured (sources.prometheus/loki/alertmanager url, "
            "sources.kubernetes.enabled): capture records what they answer"
        )
    if isinstance(source.log_backend, LokiBackend):
        # every line the query returns, not the 100-line sample an investigation keeps: the
        # replayed run then counts the same lines without the templates (not in the format)
        source.log_backend.max_entries = cfg.sources.loki.limit
    return source


# -- what firstline itself concludes --------------------------------------------------------


async def concluded_expectation(
    bundle: ScenarioBundle,
    registry: PatternRegistry,
    policy: Policy,
    detector: Detector,
    window: timedelta,
) -> Expected:
    """What a run on this bundle concludes, judged as `eval` judges it: the evidence as
    replay serves it for the triage candidates, the pattern reasoner's top hypothesis (or
    `unknown` under the confidence threshold) and the first decision in auto mode after
    the guard rails, with no action history."""
    alert = bundle.primary_alert
    candidates = registry.candidates(alert)
    specific = [p for p in candidates if not p.universal and p.applies_to(alert)]
    severity, _why = triage_severity(alert, specific[0].default_severity if specific else None)
    ids = [p.id for p in candidates]
    evidence = await gather(
        ReplaySource(ReplayWorld(bundle)),
        scope_for(alert, bundle.now, window),
        registry.metric_queries(ids),
        detector,
    )
    analysis = await PatternReasoner(registry).analyze(
        ReasoningInput(alert=alert, severity=severity, candidates=ids, evidence=evidence)
    )
    decision = decide(DecisionInput(alert=alert, severity=severity, analysis=analysis), policy)
    context = ActionContext(
        alert=alert, severity=severity, now=datetime.now(UTC), environ=dict(os.environ)
    )
    decision, _refused = guard_decision(decision, context, policy)
    top = analysis.top
    confident = top is not None and top.confidence >= policy.confidence_threshold
    component = None
    if top is not None and confident and top.affected_components:
        service = alert.service
        component = service if service in top.affected_components else top.affected_components[0]
    acting = decision.outcome in (Outcome.AUTO_REMEDIATE, Outcome.REQUEST_APPROVAL)
    return Expected(
        pattern=top.pattern if top is not None and confident else UNKNOWN,
        severity=severity,
        component=component,
        decision=decision.outcome,
        actions=sorted({a.type for a in decision.actions}) if acting else [],
    )


def _title(alert: Alert, now: datetime) -> str:
    where = "/".join(x for x in (alert.namespace, alert.service) if x)
    return f"Captured {alert.name}{f' on {where}' if where else ''} at {now:%Y-%m-%d %H:%M}Z"


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ValueError(f"{out} is not empty: pass --force to overwrite its bundle files")


async def capture(
    cfg: Settings,
    out: Path,
    alert_source: str | None,
    alertname: str | None,
    fingerprint: str | None,
    now_text: str | None,
    window_minutes: float | None,
    expect_pattern: str | None,
    expect_decision: Outcome | None,
    expect_severity: Severity | None,
    component: str | None,
    title: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """The body of `firstline capture` (cli/capture.py holds its options)."""
    _check_out(out, force)
    from_am = alertname is not None or fingerprint is not None
    if (alert_source is None) == (not from_am):
        raise ValueError(
            "give ALERT_SOURCE (a file or -) or --alertname/--alertmanager-fingerprint"
        )
    registry = PatternRegistry.load(cfg.patterns_dir)
    if expect_pattern is not None and expect_pattern not in {*registry.ids(), UNKNOWN}:
        raise ValueError(
            f"--expect-pattern {expect_pattern!r} is neither a known pattern id "
            f"nor {UNKNOWN!r} (see docs/patterns.md)"
        )
    alert = (
        _alert_from_file(alert_source)
        if alert_source is not None
        else await _alert_from_alertmanager(cfg, alertname, fingerprint)
    )
    now = resolve_time(now_text, datetime.now(UTC)) if now_text else datetime.now(UTC)
    minutes = window_minutes or cfg.graph.evidence_window_minutes
    source = _live_source(cfg)
    queries = registry.metric_queries(registry.ids())
    backends = [
        b.name
        for b in (source.metrics, source.log_backend, source.cluster, source.alerts)
        if b is not None
    ]
    scope = scope_for(alert, now, timedelta(minutes=minutes))
    _err(
        f"capturing {alert.name} ({alert.fingerprint}) from {', '.join(backends)}: "
        f"{len(queries)} metric queries, logs, cluster state and alerts over "
        f"{scope.start:%H:%M:%S}..{scope.end:%H:%M:%S}Z"
    )
    detector = get_detector(cfg.detection.detector)
    evidence = await gather(
        _Telling(source),
        scope,
        queries,
        detector,
        source_timeout=cfg.sources.source_timeout_seconds,
        budget_seconds=cfg.sources.budget_seconds,
    )
    listing = inventory(evidence)
    label = title or _title(alert, now)
    reviewed = False
    if expect_pattern and expect_decision is not None and expect_severity is not None:
        reviewed = True
        expected = Expected(
            pattern=expect_pattern,
            severity=expect_severity,
            decision=expect_decision,
            component=component,
        )
    else:
        concluded = await _concluded(alert, evidence, now, label, out, cfg, registry)
        expected = _merged(concluded, expect_pattern, expect_decision, expect_severity)
        if component is not None:
            expected = expected.model_copy(update={"component": component})
    payload, spec = bundle_from_evidence(
        alert,
        evidence,
        now,
        expected,
        label,
        description="\n".join(
            ([] if reviewed else [UNREVIEWED_NOTE])
            + [f"Evidence window: the {minutes:g} minutes before `now`."]
        ),
        tags=[] if reviewed else [UNREVIEWED_TAG],
    )
    write_bundle(out, payload, spec)
    load_bundle(out)  # what eval will load; fail here, not there
    if not listing.captured:
        _err(f"warning: {out}: no source answered with data; the bundle holds only the alert")
    if not reviewed:
        _err(
            f"warning: {out}: {UNREVIEWED_NOTE} (expected: pattern {expected.pattern}, "
            f"decision {expected.decision.value}, severity {expected.severity.value})"
        )
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "bundle": str(out),
                    "items": len(evidence.items),
                    "captured": listing.captured,
                    "not_captured": listing.not_captured,
                    "expected": expected.model_dump(mode="json"),
                    "expected_reviewed": reviewed,
                },
                indent=2,
            )
        )
    else:
        typer.echo(
            f"wrote {out}: {len(listing.captured)} of {len(evidence.items)} evidence "
            f"items captured; check it with `firstline eval {out}`"
        )


def _merged(
    concluded: Expected,
    pattern: str | None,
    decision: Outcome | None,
    severity: Severity | None,
) -> Expected:
    """firstline's conclusion with what the person said on top. The component belongs to
    the concluded pattern and the action types to the concluded decision: a different
    pattern or decision given by hand drops them."""
    update: dict[str, Any] = {}
    if pattern is not None and pattern != concluded.pattern:
        update |= {"pattern": pattern, "component": None}
    if decision is not None and decision is not concluded.decision:
        update |= {"decision": decision, "actions": []}
    if severity is not None:
        update["severity"] = severity
    return concluded.model_copy(update=update)


async def _concluded(
    alert: Alert,
    evidence: EvidenceSet,
    now: datetime,
    title: str,
    out: Path,
    cfg: Settings,
    registry: PatternRegistry,
) -> Expected:
    placeholder = Expected(pattern=UNKNOWN, severity=Severity.MEDIUM, decision=Outcome.ESCALATE)
    payload, spec = bundle_from_evidence(alert, evidence, now, placeholder, title)
    bundle = _in_memory(payload, spec, out, now)
    return await concluded_expectation(
        bundle,
        registry,
        build_policy(cfg, Mode.AUTO, registry),
        get_detector(cfg.detection.detector),
        timedelta(minutes=cfg.graph.evidence_window_minutes),
    )


def _in_memory(
    payload: dict[str, Any], spec: ScenarioSpec, out: Path, now: datetime
) -> ScenarioBundle:
    return ScenarioBundle(id=out.name, path=out, spec=spec, alerts=parse_webhook(payload), now=now)
