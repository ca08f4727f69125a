"""`firstline capture` against the real services: a Prometheus alerting rule fires on traffic
from the in-process exporter, Alertmanager delivers the webhook and holds a related alert,
qryn (Loki API on chdb) holds the service's log lines and kmock's emulator serves the
Deployment, its ReplicaSets, pods, an event and a node. The capture runs as a separate
`firstline` process; the bundle it writes is then replayed in this process and checked
against what this test put into the services, and `firstline eval` scores it."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from firstline.detection.detectors import get_detector
from firstline.domain.evidence import EvidenceSet, EvidenceStatus
from firstline.graph.gathering import gather, scope_for
from firstline.patterns.registry import PatternRegistry
from firstline.scenarios.capture import UNREVIEWED_TAG
from firstline.scenarios.loader import load_bundle
from firstline.scenarios.world import ReplayWorld
from firstline.sources.replay import ReplaySource
from tests.integration.kubernetes import objects
from tests.integration.kubernetes.conftest import Cluster, cluster, write_kubeconfig  # noqa: F401
from tests.services.loki import LokiServer
from tests.services.prometheus import Monitoring

pytestmark = pytest.mark.integration

NS = "capture"  # a namespace no other test uses: the session's services are shared
FIRSTLINE = str(Path(sys.executable).with_name("firstline"))
CRASHING = "cart-7a8b9c0d1-abcde"
HEALTHY = "cart-7a8b9c0d1-fghij"
WINDOW_MINUTES = 10


def _traffic(stack: Monitoring, stop: threading.Event) -> None:
    """Half of the requests fail: error_rate is 0.5."""
    ok = stack.exporter.requests.labels(NS, "cart", "200")
    bad = stack.exporter.requests.labels(NS, "cart", "503")
    while not stop.wait(0.1):
        ok.inc(5)
        bad.inc(5)


def _firing(stack: Monitoring) -> dict[str, Any] | None:
    for payload in stack.receiver.received:
        for alert in payload.get("alerts", []):
            labels = alert["labels"]
            if labels.get("alertname") == "HighErrorRate" and labels.get("namespace") == NS:
                return payload
    return None


def _setup_cluster(emulator: Cluster) -> None:
    old = [objects.container("cart", "shop/cart:1.4.2")]
    new = [objects.container("cart", "shop/cart:1.5.0", memory="256Mi")]
    deploy = objects.deployment("cart", NS, containers=new, ready=2, progressed_minutes_ago=3)
    rs_old = objects.replicaset(
        deploy, 1, "6f7d8c9b5", containers=old, minutes_ago=600, namespace=NS
    )
    rs_new = objects.replicaset(
        deploy,
        2,
        "7a8b9c0d1",
        containers=new,
        minutes_ago=4,
        namespace=NS,
        change_cause="release 1.5.0",
    )
    crashing = objects.pod(
        CRASHING,
        rs_new,
        namespace=NS,
        ready=False,
        restarts=5,
        state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
        last_state=objects.terminated("OOMKilled", 137, minutes_ago=2),
    )
    healthy = objects.pod(HEALTHY, rs_new, namespace=NS)
    backoff = objects.event(
        "Pod",
        CRASHING,
        "BackOff",
        minutes_ago=1,
        namespace=NS,
        type_="Warning",
        message="Back-off restarting failed container",
        count=7,
    )
    emulator.add(deploy, rs_old, rs_new, crashing, healthy, backoff, objects.node("node-a"))


async def _firstline(*args: str) -> tuple[int, str, str]:
    """A real `firstline` process. Asynchronous, so this process's event loop keeps serving
    the Kubernetes emulator to it."""
    proc = await asyncio.create_subprocess_exec(
        FIRSTLINE, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ),
    )  # fmt: skip
    try:
        async with asyncio.timeout(300):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def _replayed(directory: Path) -> dict[str, Any]:
    bundle = load_bundle(directory)
    registry = PatternRegistry.load()
    evidence: EvidenceSet = await gather(
        ReplaySource(ReplayWorld(bundle)),
        scope_for(bundle.primary_alert, bundle.now, timedelta(minutes=WINDOW_MINUTES)),
        registry.metric_queries(registry.ids()),
        get_detector("robust_shift"),
    )
    return {i.id: i for i in evidence.items}


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise TimeoutError(f"waited {timeout:.0f}s for {what}")


async def test_a_live_incident_is_captured_and_replays_what_the_services_held(
    monitoring: Monitoring,
    loki: LokiServer,
    cluster: Cluster,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start = datetime.now(UTC)
    monkeypatch.setattr(objects, "NOW", start)
    _setup_cluster(cluster)

    lines = [f"payment call failed: upstream 503 req_id={i}" for i in range(40)]
    stream = {"namespace": NS, "service": "cart", "pod": CRASHING}
    loki.push(stream, [(start - timedelta(seconds=i), line) for i, line in enumerate(lines)])
    loki.wait_for_lines(f'{{namespace="{NS}"}}', start - timedelta(minutes=5),
                        start + timedelta(minutes=5), len(lines), timeout=120)  # fmt: skip

    related = {"alertname": "CartLatencyHigh", "namespace": NS, "service": "cart-api"}
    posted = await asyncio.to_thread(
        httpx.post,
        f"{monitoring.alertmanager_url}/api/v2/alerts",
        json=[{"labels": related, "startsAt": start.isoformat()}],
        timeout=10,
    )
    posted.raise_for_status()

    stop = threading.Event()
    threading.Thread(target=_traffic, args=(monitoring, stop), daemon=True).start()
    try:
        _wait(lambda: _firing(monitoring) is not None, 120, "the HighErrorRate webhook")
        payload = _firing(monitoring)
        assert payload is not None
        alert_file = tmp_path / "webhook.json"
        alert_file.write_text(json.dumps(payload))
        mine = next(a for a in payload["alerts"] if a["labels"]["namespace"] == NS)
        fingerprint = str(mine["fingerprint"])

        config = tmp_path / "firstline.yaml"
        config.write_text(yaml.safe_dump({
            "sources": {
                "prometheus": {"url": monitoring.prometheus_url, "min_step_seconds": 1,
                               "max_points": 11_000},
                "alertmanager": {"url": monitoring.alertmanager_url},
                "loki": {"url": loki.url},
                "kubernetes": {"enabled": True, "context": "emulated", "kubeconfig": str(
                    write_kubeconfig(tmp_path / "kubeconfig", cluster.url))},
                "source_timeout_seconds": 60,
                "budget_seconds": 120,
            },
        }))  # fmt: skip
        base = ["--config", str(config), "--data-dir", str(tmp_path / "data")]
        out = tmp_path / "bundles" / "high-error-rate-cart"
        code, stdout, stderr = await _firstline(
            *base, "capture", str(alert_file), "--out", str(out),
            "--window-minutes", str(WINDOW_MINUTES), "--json",
        )  # fmt: skip
        assert code == 0, stderr
        by_am_code, by_am_out, by_am_err = await _firstline(
            *base, "capture", "--alertmanager-fingerprint", fingerprint,
            "--out", str(tmp_path / "by-fingerprint"), "--window-minutes", "5",
            "--expect-pattern", "deploy_regression", "--expect-decision", "escalate",
            "--expect-severity", "medium", "--component", "cart", "--json",
        )  # fmt: skip
    finally:
        stop.set()

    summary = json.loads(stdout)
    assert summary["bundle"] == str(out)
    for ref in ("metric:error_rate", "logs", "deployments", "pods", "events", "related_alerts"):
        assert ref in summary["captured"], (ref, summary, stderr)
    assert summary["items"] == len(summary["captured"]) + len(summary["not_captured"])
    assert "metric:error_rate: ok" in stderr  # progress while gathering
    assert "warning:" in stderr and "copied from firstline" in stderr  # flagged loudly

    bundle = load_bundle(out)
    assert UNREVIEWED_TAG in bundle.spec.tags
    assert "copied from firstline's own run" in bundle.spec.description
    assert bundle.primary_alert.fingerprint == fingerprint
    items = await _replayed(out)

    error_rate = items["metric:error_rate"]
    assert error_rate.status is EvidenceStatus.OK, error_rate.reason
    values = [p.value for p in error_rate.points]
    assert len(values) >= 3, values  # one-second steps over the seconds of traffic
    assert abs(statistics.median(values) - 0.5) < 0.05, values  # 5 of every 10 requests fail
    assert abs(values[-1] - 0.5) < 0.05, values

    replayed_lines = {e.line for e in items["logs"].entries}
    assert set(lines) <= replayed_lines
    pushed = [e for e in items["logs"].entries if e.line in lines]
    assert all(e.labels.get("pod") == CRASHING for e in pushed)

    pods = {p.name: p for p in items["pods"].pods}
    crashing = pods[CRASHING]
    assert (crashing.restart_count, crashing.ready, crashing.owner) == (5, False, "cart")
    assert (crashing.waiting_reason, crashing.waiting_message) == ("CrashLoopBackOff",
                                                                   "back-off 40s")  # fmt: skip
    assert (crashing.last_termination_reason, crashing.last_exit_code) == ("OOMKilled", 137)
    assert crashing.node == "node-a"
    assert pods[HEALTHY].ready and pods[HEALTHY].restart_count == 0

    events = items["events"].events
    assert any(
        e.reason == "BackOff" and e.object.endswith(CRASHING) and e.count == 7 for e in events
    ), events
    (deployment,) = [d for d in items["deployments"].deployments if d.name == "cart"]
    assert deployment.ready_replicas == 2
    assert {r.revision: r.images["cart"] for r in deployment.revisions} == {
        1: "shop/cart:1.4.2",
        2: "shop/cart:1.5.0",
    }
    assert "node-a" in [n.name for n in items["nodes"].nodes]
    assert "CartLatencyHigh" in [a.name for a in items["related_alerts"].alerts]

    code, eval_out, eval_err = await _firstline(
        "--data-dir", str(tmp_path / "eval-data"), "eval", str(out.parent), "--json"
    )
    assert code == 0, eval_err
    report = json.loads(eval_out)
    assert report["scenarios"] == 1
    (result,) = report["results"]
    assert result["scenario"] == out.name
    # the expectation was copied from firstline's own conclusion: the replay agrees with it
    assert report["passed"] == 1, result

    assert by_am_code == 0, by_am_err
    by_fp = load_bundle(tmp_path / "by-fingerprint")
    assert by_fp.primary_alert.fingerprint == fingerprint
    assert UNREVIEWED_TAG not in by_fp.spec.tags and "warning:" not in by_am_err
    assert by_fp.spec.expected.pattern == "deploy_regression"
    assert json.loads(by_am_out)["captured"]

    code, _out, refused = await _firstline(*base, "capture", str(alert_file), "--out", str(out))
    assert code == 2 and refused.strip().splitlines() == [
        f"error: {out} is not empty: pass --force to overwrite its bundle files"
    ]
