"""End to end on real parts: a Prometheus alerting rule fires, Alertmanager sends the webhook,
and firstline investigates with Prometheus range data, Loki logs (qryn on chdb), rollout
history from the Kubernetes API (kmock's emulator stands in: no API server can run here)
and Alertmanager's related alerts. The report cites every item with its query."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from firstline.domain.evidence import EvidenceStatus
from firstline.graph.report import render_text
from firstline.intake.alertmanager import parse_webhook
from firstline.policy.schema import Mode
from firstline.wiring.runtime import open_runtime
from firstline.wiring.settings import Settings
from tests.integration.kubernetes import objects
from tests.integration.kubernetes.conftest import Cluster, write_kubeconfig
from tests.services.loki import LokiServer
from tests.services.prometheus import Monitoring

pytestmark = pytest.mark.integration


def _traffic(monitoring: Monitoring, stop: threading.Event) -> None:
    ok = monitoring.exporter.requests.labels("live", "cart", "200")
    bad = monitoring.exporter.requests.labels("live", "cart", "503")
    while not stop.wait(0.1):
        ok.inc(5)
        bad.inc(5)


def _post_related_alert(monitoring: Monitoring, now: datetime) -> None:
    labels = {"alertname": "CartLatencyHigh", "namespace": "live", "service": "cart-api"}
    answer = httpx.post(
        f"{monitoring.alertmanager_url}/api/v2/alerts",
        json=[{"labels": labels, "startsAt": now.isoformat()}],
        timeout=5,
    )
    answer.raise_for_status()


def _firing(monitoring: Monitoring) -> dict[str, object] | None:
    for payload in monitoring.receiver.received:
        for alert in payload.get("alerts", []):  # type: ignore[union-attr]
            labels = alert["labels"]
            if labels.get("alertname") == "HighErrorRate" and labels.get("namespace") == "live":
                return payload
    return None


async def test_a_real_alert_is_investigated_with_every_live_source(
    monitoring: Monitoring,
    loki: LokiServer,
    cluster: Cluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = datetime.now(UTC)
    monkeypatch.setattr(objects, "NOW", now)
    old = [objects.container("cart", "shop/cart:1.4.2")]
    new = [objects.container("cart", "shop/cart:1.5.0")]
    deploy = objects.deployment("cart", "live", containers=new, progressed_minutes_ago=3)
    cluster.add(
        deploy,
        objects.replicaset(deploy, 6, "6f7d8c9b5", containers=old, minutes_ago=600, namespace="live"),
        objects.replicaset(deploy, 7, "7a8b9c0d1", containers=new, minutes_ago=4, namespace="live",
                           change_cause="release 1.5.0"),
    )  # fmt: skip
    loki.push(
        {"namespace": "live", "service": "cart", "pod": "cart-7a8b9c0d1-abcde"},
        [
            (now - timedelta(seconds=i), f"payment call failed: upstream 503 req_id={i}")
            for i in range(200)
        ],
    )
    _post_related_alert(monitoring, now)

    stop = threading.Event()
    threading.Thread(target=_traffic, args=(monitoring, stop), daemon=True).start()
    try:
        monitoring.wait_for(lambda: _firing(monitoring) is not None, timeout=45, what="the webhook")
    finally:
        stop.set()
    payload = _firing(monitoring)
    alert = next(a for a in parse_webhook(payload) if a.labels.get("namespace") == "live")

    settings = Settings.model_validate({
        "store": {"data_dir": str(tmp_path / "data")},
        "sources": {
            "prometheus": {"url": monitoring.prometheus_url},
            "alertmanager": {"url": monitoring.alertmanager_url},
            "loki": {"url": loki.url},
            "kubernetes": {"enabled": True, "context": "emulated",
                           "kubeconfig": str(write_kubeconfig(tmp_path / "kc", cluster.url))},
            # generous, as in test_capture_live: on a loaded machine the emulator (served by
            # this test's own event loop) answered after the 15 s default
            "source_timeout_seconds": 60,
            "budget_seconds": 120,
        },
    })  # fmt: skip
    async with open_runtime(settings, mode=Mode.OBSERVE) as rt:
        outcome = await rt.runner.start(alert)
    state = outcome.state
    assert state.evidence is not None
    items = {i.id: i for i in state.evidence.items}

    error_rate = items["metric:error_rate"]
    assert error_rate.status is EvidenceStatus.OK, error_rate.reason
    assert error_rate.provenance.source == "prometheus"
    assert 'namespace="live",service="cart"' in error_rate.provenance.query

    logs = items["logs"]
    assert logs.status is EvidenceStatus.OK, logs.reason
    assert logs.provenance.source == "loki" and 'namespace="live"' in logs.provenance.query
    assert logs.templates[0].count == 200  # type: ignore[union-attr]

    deployments = items["deployments"]
    assert deployments.status is EvidenceStatus.OK, deployments.reason
    assert deployments.provenance.source == "kubernetes"
    changes = items["changes"]
    assert any("1.4.2 -> 1.5.0" in c.summary for c in changes.changes)  # type: ignore[union-attr]

    related = items["related_alerts"]
    assert related.status is EvidenceStatus.OK, related.reason
    assert "CartLatencyHigh" in [a.name for a in related.alerts]  # type: ignore[union-attr]

    report = render_text(state)
    for item in (error_rate, logs, deployments, related):
        assert item.provenance.query.split()[0][:40] in report
    assert state.status.value == "recommended" or state.status.value == "escalated"
