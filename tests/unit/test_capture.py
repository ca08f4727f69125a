"""`firstline capture`'s conversion: evidence -> bundle -> replay gives the same evidence."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from firstline.cli.capturing import _merged, concluded_expectation
from firstline.cli.main import app
from firstline.detection.detectors import get_detector
from firstline.domain.alert import Alert, AlertStatus, Severity
from firstline.domain.decision import Outcome
from firstline.domain.evidence import (
    ChangeEvidence,
    ChangeRecord,
    Condition,
    ContainerSpec,
    DatabaseActivityEvidence,
    Deployment,
    DeploymentEvidence,
    EventEvidence,
    Evidence,
    EvidenceSet,
    EvidenceStatus,
    KubeEvent,
    LogEntry,
    LogEvidence,
    MetricEvidence,
    MetricPoint,
    NodeCondition,
    NodeEvidence,
    NodeState,
    PodEvidence,
    PodState,
    Provenance,
    RelatedAlertsEvidence,
    Revision,
    StatementActivity,
)
from firstline.graph.gathering import gather, scope_for
from firstline.patterns.registry import PatternRegistry
from firstline.policy.schema import Mode
from firstline.scenarios.capture import (
    CAPTURED_TAG,
    bundle_from_evidence,
    inventory,
    spec_yaml,
    uncarried_fields,
    write_bundle,
)
from firstline.scenarios.format import Expected, PodSpec
from firstline.scenarios.loader import load_bundle
from firstline.scenarios.world import ReplayWorld
from firstline.sources.replay import ReplaySource
from firstline.wiring.runtime import build_policy
from firstline.wiring.settings import Settings
from tests.conftest import OOM

NOW = datetime(2026, 3, 4, 14, 7, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=60)
PROV = Provenance(source="live", query="q")
REGISTRY = PatternRegistry.load()
QUERIES = REGISTRY.metric_queries(REGISTRY.ids())
EXPECTED = Expected(pattern="oom_kill_loop", severity=Severity.MEDIUM, decision=Outcome.ESCALATE)


def at(minutes_ago: float, micro: int = 0) -> datetime:
    return NOW - timedelta(minutes=minutes_ago) + timedelta(microseconds=micro)


ALERT = Alert(
    source="alertmanager",
    name="KubePodCrashLooping",
    labels={"alertname": "KubePodCrashLooping", "namespace": "shop", "service": "checkout",
            "pod": "checkout-7d9f8-abcde", "severity": "warning"},
    annotations={"summary": "checkout crash loops"},
    starts_at=at(5),
    fingerprint="a1b2c3d4e5f60718",
    generator_url="http://prom/graph?g0.expr=x",
)  # fmt: skip

# Every PodState field set to something that is not its default, so the round trip checks
# that each one is carried (test_the_full_pod_sets_every_field keeps this honest).
FULL_POD = PodState(
    name="checkout-7d9f8-abcde",
    namespace="shop",
    phase="Pending",
    ready=False,
    node="node-a",
    owner="checkout",
    restart_count=7,
    waiting_reason="CrashLoopBackOff",
    last_termination_reason="OOMKilled",
    last_exit_code=137,
    owner_kind="Deployment",
    labels={"app": "checkout", "pod-template-hash": "7d9f8"},
    container="app",
    waiting_message="back-off 5m0s restarting failed container",
    last_termination_message="killed: memory",
    last_termination_at=at(3, 250_000),
    started_at=at(50, 1),
    conditions=[Condition(type="Ready", status="False", reason="ContainersNotReady", message="m")],
)


def _metric(name: str, values: list[float], unit: str = "", **labels: str) -> MetricEvidence:
    points = [MetricPoint(ts=at(len(values) - i, 123_456), value=v) for i, v in enumerate(values)]
    return MetricEvidence(
        id=f"metric:{name}", name=name, unit=unit, labels=labels, provenance=PROV, points=points
    )


def full_evidence() -> EvidenceSet:
    items: list[Evidence] = [
        _metric("memory_working_set", [2.2e8, 2.3e8, 0.1 + 0.2, 1e-05, 5.3e8], "bytes", pod="c-1"),
        _metric("restarts", [0, 0, 3, 4], "restarts"),
        LogEvidence(  # what gathering makes of a failed metric query
            id="metric:cpu_usage", provenance=PROV, status=EvidenceStatus.ERROR,
            reason="SourceUnavailable: connection refused",
        ),
        MetricEvidence(
            id="metric:error_rate", name="error_rate", provenance=PROV,
            status=EvidenceStatus.NO_DATA, reason="the query returned no series",
        ),
        LogEvidence(
            id="logs", provenance=PROV,
            entries=[
                LogEntry(ts=at(10, 1), line="java.lang.OutOfMemoryError: Java heap space",
                         labels={"pod": "checkout-7d9f8-abcde", "app": "checkout"}),
                LogEntry(ts=at(10, 1), line="same microsecond, kept in order", labels={}),
                LogEntry(ts=at(2), line='multi\nline "quoted" : trace', labels={"pod": "x"}),
            ],
        ),
        DeploymentEvidence(
            id="deployments", provenance=PROV,
            deployments=[Deployment(
                name="checkout", namespace="shop", kind="Deployment", replicas=3,
                ready_replicas=1, updated_replicas=3, unavailable_replicas=2,
                conditions=[Condition(type="Progressing", status="True",
                                      reason="NewReplicaSetAvailable")],
                revisions=[
                    Revision(revision=4, created_at=at(60 * 72), change_cause="1.4.2",
                             containers=[ContainerSpec(name="app", image="shop/checkout:1.4.2")]),
                    Revision(revision=5, created_at=at(20, 5), change_cause=None,
                             containers=[ContainerSpec(
                                 name="app", image="shop/checkout:1.5.0", env={"A": "1"},
                                 memory_limit="512Mi", cpu_limit="500m")]),
                ],
            )],
        ),
        PodEvidence(id="pods", provenance=PROV,
                    pods=[FULL_POD, PodState(name="checkout-7d9f8-zzzzz", namespace="shop")]),
        EventEvidence(
            id="events", provenance=PROV,
            events=[KubeEvent(type="Warning", reason="BackOff", message="Back-off restarting",
                              object="pod/checkout-7d9f8-abcde", count=12, last_seen=at(1),
                              first_seen=at(30, 7))],
        ),
        NodeEvidence(
            id="nodes", provenance=PROV,
            nodes=[NodeState(name="node-a", conditions=[
                NodeCondition(type="Ready", status="True", reason="KubeletReady"),
                NodeCondition(type="DiskPressure", status="False")])],
        ),
        ChangeEvidence(
            id="changes", provenance=PROV,
            changes=[ChangeRecord(at=at(20), object="deployment/shop/checkout", kind="rollout",
                                  summary="image 1.4.2 -> 1.5.0")],
        ),
        RelatedAlertsEvidence(
            id="related_alerts", provenance=PROV, flap_count=2,
            alerts=[
                Alert(source="alertmanager", name="HighLatency",
                      labels={"alertname": "HighLatency", "namespace": "shop", "x": "y"},
                      annotations={"summary": "slow"}, starts_at=at(4, 9), fingerprint="ff01"),
                Alert(source="alertmanager", name="OldThing", status=AlertStatus.RESOLVED,
                      labels={"alertname": "OldThing", "namespace": "shop"},
                      starts_at=at(40), ends_at=at(30), fingerprint="ff02"),
            ],
        ),
        DatabaseActivityEvidence(
            id="database:orders-db", provenance=PROV, instance="orders-db", engine="postgresql",
            sessions={"active": 40, "idle in transaction": 12}, max_connections=100,
            load=[MetricPoint(ts=at(5), value=3.5), MetricPoint(ts=at(4), value=7.25)],
            wait_events={"Lock:tuple": 4.0},
            statements=[StatementActivity(statement="UPDATE orders SET ...", load=5.5,
                                          calls_per_sec=12.0, wait_events={"CPU": 1.5})],
        ),
    ]  # fmt: skip
    return EvidenceSet(items=items)


async def replayed(directory: Path) -> EvidenceSet:
    bundle = load_bundle(directory)
    source = ReplaySource(ReplayWorld(bundle))
    scope = scope_for(bundle.primary_alert, bundle.now, WINDOW)
    return await gather(source, scope, QUERIES, get_detector("robust_shift"))


def _one(evidence: EvidenceSet, ref: str) -> Any:
    found = [i for i in evidence.items if i.id == ref]
    assert len(found) == 1, [i.id for i in evidence.items]
    return found[0]


def captured_dir(tmp_path: Path, evidence: EvidenceSet) -> Path:
    payload, spec = bundle_from_evidence(ALERT, evidence, NOW, EXPECTED, "captured oom")
    write_bundle(tmp_path / "bundle", payload, spec)
    return tmp_path / "bundle"


async def test_every_evidence_kind_survives_the_round_trip(tmp_path: Path) -> None:
    live = full_evidence()
    back = await replayed(captured_dir(tmp_path, live))

    for name in ("memory_working_set", "restarts"):
        before, after = _one(live, f"metric:{name}"), _one(back, f"metric:{name}")
        assert after.status is EvidenceStatus.OK
        assert after.points == before.points  # times to the microsecond, values exactly
        assert (after.unit, after.labels) == (before.unit, before.labels)
    for absent in ("metric:cpu_usage", "metric:error_rate"):
        assert _one(back, absent).status is EvidenceStatus.NO_DATA  # absent, as it was live

    assert _one(back, "logs").entries == _one(live, "logs").entries
    assert _one(back, "pods").pods == _one(live, "pods").pods
    assert _one(back, "deployments").deployments == _one(live, "deployments").deployments
    assert _one(back, "events").events == _one(live, "events").events
    assert _one(back, "nodes").nodes == _one(live, "nodes").nodes

    db_before, db_after = _one(live, "database:orders-db"), _one(back, "database:orders-db")
    envelope = {"id", "provenance", "status", "reason"}
    assert db_after.model_dump(exclude=envelope) == db_before.model_dump(exclude=envelope)

    related = _one(back, "related_alerts")
    assert related.flap_count == 2
    by_name = {a.name: a for a in related.alerts}
    firing = by_name["HighLatency"]
    assert (firing.labels, firing.annotations, firing.starts_at) == (
        {"alertname": "HighLatency", "namespace": "shop", "x": "y"},
        {"summary": "slow"},
        at(4, 9),
    )
    resolved = by_name["OldThing"]  # kept in alert.json, so it keeps its status and end
    assert (resolved.status, resolved.ends_at, resolved.fingerprint) == (
        AlertStatus.RESOLVED,
        at(30),
        "ff02",
    )


def test_the_primary_alert_and_the_gaps_are_recorded(tmp_path: Path) -> None:
    bundle = load_bundle(captured_dir(tmp_path, full_evidence()))
    primary = bundle.primary_alert
    assert (primary.name, primary.labels, primary.annotations) == (
        ALERT.name,
        ALERT.labels,
        ALERT.annotations,
    )
    assert (primary.starts_at, primary.fingerprint, primary.generator_url) == (
        ALERT.starts_at,
        ALERT.fingerprint,
        ALERT.generator_url,
    )
    assert bundle.now == NOW
    assert CAPTURED_TAG in bundle.spec.tags
    description = bundle.spec.description
    assert "not captured: metric:cpu_usage (error: SourceUnavailable: connection refused)" in (
        description
    )
    assert "metric:error_rate (no_data: the query returned no series)" in description
    assert "changes (ok: 1 rollout change(s)" in description
    listing = inventory(full_evidence())
    assert "metric:memory_working_set" in listing.captured and "pods" in listing.captured
    assert len(listing.not_captured) == 3


def test_gaps_with_the_same_reason_share_a_line() -> None:
    gaps = [
        MetricEvidence(id=f"metric:{n}", name=n, provenance=PROV, status=EvidenceStatus.NO_DATA,
                       reason="the query returned no series")
        for n in ("a", "b")
    ]  # fmt: skip
    _payload, spec = bundle_from_evidence(ALERT, EvidenceSet(items=gaps), NOW, EXPECTED, "t")
    assert "not captured: metric:a, metric:b (no_data: the query returned no series)" in (
        spec.description.splitlines()
    )


def test_the_yaml_is_readable(tmp_path: Path) -> None:
    _payload, spec = bundle_from_evidence(ALERT, full_evidence(), NOW, EXPECTED, "t")
    text = spec_yaml(spec)
    assert "- ['2026-03-04T14:02:00.123456Z', 220000000.0]" in text  # one point a line
    assert "repeat" not in text and "every" not in text  # defaults are left out
    data = yaml.safe_load(text)
    assert list(data)[:3] == ["title", "description", "tags"]
    assert data["expected"] == {"pattern": "oom_kill_loop", "severity": "medium",
                                "decision": "escalate"}  # fmt: skip
    payload = json.loads((captured_dir(tmp_path, full_evidence()) / "alert.json").read_text())
    assert payload["version"] == "4" and len(payload["alerts"]) == 2


def test_the_full_pod_sets_every_field() -> None:
    """If this fails, a field was added to PodState: give FULL_POD a non-default value for
    it, so the round trip above proves capture carries it."""
    for name, info in PodState.model_fields.items():
        default = info.get_default(call_default_factory=True)
        assert getattr(FULL_POD, name) != default, f"FULL_POD.{name} is the default"


def test_every_domain_field_has_a_place_in_the_format() -> None:
    """A field added to PodState (or Deployment, KubeEvent, NodeState, database activity)
    must be added to its spec model too, or capture silently drops it."""
    assert set(PodState.model_fields) <= set(PodSpec.model_fields)
    assert uncarried_fields() == {}


async def test_an_unreviewed_capture_of_a_bundled_scenario_concludes_what_eval_expects(
    tmp_path: Path,
) -> None:
    original = load_bundle(OOM)
    source = ReplaySource(ReplayWorld(original))
    scope = scope_for(original.primary_alert, original.now, WINDOW)
    evidence = await gather(source, scope, QUERIES, get_detector("robust_shift"))
    payload, spec = bundle_from_evidence(
        original.primary_alert, evidence, original.now, EXPECTED, "oom again"
    )
    write_bundle(tmp_path / "again", payload, spec)
    again = load_bundle(tmp_path / "again")
    concluded = await concluded_expectation(
        again, REGISTRY, build_policy(Settings(), Mode.AUTO), get_detector("robust_shift"), WINDOW
    )
    want = original.spec.expected
    assert (concluded.pattern, concluded.decision, concluded.severity, concluded.component) == (
        want.pattern,
        want.decision,
        want.severity,
        want.component,
    )
    assert set(want.actions) <= set(concluded.actions)


def test_a_hand_given_pattern_or_decision_drops_what_belonged_to_the_concluded_one() -> None:
    concluded = Expected(pattern="oom_kill_loop", severity=Severity.MEDIUM, component="checkout",
                         decision=Outcome.AUTO_REMEDIATE, actions=["restart"])  # fmt: skip
    assert _merged(concluded, None, None, None) == concluded
    assert _merged(concluded, "oom_kill_loop", Outcome.AUTO_REMEDIATE, None) == concluded
    other = _merged(concluded, "deploy_regression", Outcome.ESCALATE, Severity.HIGH)
    assert (other.pattern, other.component, other.decision, other.actions, other.severity) == (
        "deploy_regression", None, Outcome.ESCALATE, [], Severity.HIGH,
    )  # fmt: skip


runner = CliRunner()


def test_capture_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["capture", str(OOM / "alert.json"), "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines == [f"error: {out} is not empty: pass --force to overwrite its bundle files"]
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--out", "{tmp}/o"], "give ALERT_SOURCE"),
        (["{oom}", "--alertname", "X", "--out", "{tmp}/o"], "give ALERT_SOURCE"),
        (["{oom}", "--out", "{tmp}/o"], "no live source is configured"),
        (["{tmp}/missing.json", "--out", "{tmp}/o"], "no such file"),
        (["-", "--out", "{tmp}/o"], "stdin: malformed JSON"),
        (["{oom}", "--out", "{tmp}/o", "--expect-pattern", "oom"], "'oom' is neither a known"),
    ],
)
def test_capture_user_errors_are_one_line(tmp_path: Path, args: list[str], needle: str) -> None:
    filled = [a.format(tmp=tmp_path, oom=OOM / "alert.json") for a in args]
    result = runner.invoke(
        app, ["--data-dir", str(tmp_path / "d"), "capture", *filled], input="{not json"
    )
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], lines
