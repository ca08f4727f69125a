"""AlertmanagerBackend against a real Alertmanager (Debian package), fed through its API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from firstline.domain.alert import Alert, fingerprint_labels
from firstline.domain.evidence import EvidenceStatus
from firstline.domain.query import QueryScope
from firstline.sources.alertmanager.adapter import AlertmanagerBackend
from firstline.sources.settings import AlertmanagerSettings
from tests.services.process import free_port
from tests.services.prometheus import Monitoring

pytestmark = pytest.mark.integration


def post_alerts(monitoring: Monitoring, alerts: list[dict[str, object]]) -> None:
    answer = httpx.post(f"{monitoring.alertmanager_url}/api/v2/alerts", json=alerts, timeout=5)
    answer.raise_for_status()


def post_silence(monitoring: Monitoring, silence: dict[str, object]) -> None:
    answer = httpx.post(f"{monitoring.alertmanager_url}/api/v2/silences", json=silence, timeout=5)
    answer.raise_for_status()


def am_alert(labels: dict[str, str], ends_in: timedelta = timedelta(hours=1)) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "labels": labels,
        "annotations": {"summary": "test"},
        "startsAt": (now - timedelta(minutes=1)).isoformat(),
        "endsAt": (now + ends_in).isoformat(),
    }


def scope_for(alert: Alert) -> QueryScope:
    now = datetime.now(UTC)
    return QueryScope(
        alert=alert, namespace=alert.namespace, service=alert.service,
        start=now - timedelta(hours=1), end=now,
    )  # fmt: skip


def primary(labels: dict[str, str]) -> Alert:
    return Alert(
        source="test", name=labels["alertname"], labels=labels,
        starts_at=datetime.now(UTC), fingerprint=fingerprint_labels(labels),
    )  # fmt: skip


def backend(monitoring: Monitoring) -> AlertmanagerBackend:
    return AlertmanagerBackend(AlertmanagerSettings(url=monitoring.alertmanager_url))


async def test_related_alerts_share_labels_and_exclude_the_alert_itself(
    monitoring: Monitoring,
) -> None:
    mine = {"alertname": "HighLatency", "namespace": 'am"1', "service": "cart"}
    sibling = {"alertname": "PodRestarts", "namespace": 'am"1', "service": "cart-worker"}
    same_service = {"alertname": "HighCPU", "namespace": "elsewhere", "service": "cart"}
    stranger = {"alertname": "DiskFull", "namespace": "other", "service": "db"}
    post_alerts(monitoring, [am_alert(x) for x in (mine, sibling, same_service, stranger)])
    am = backend(monitoring)
    evidence = await am.related_alerts(scope_for(primary(mine)))
    assert evidence.status is EvidenceStatus.OK, evidence.reason
    names = sorted(a.name for a in evidence.alerts)
    assert names == ["HighCPU", "PodRestarts"]
    assert 'filter=namespace="am\\"1"' in evidence.provenance.query


async def test_still_firing_until_resolved(monitoring: Monitoring) -> None:
    labels = {"alertname": "QueueStuck", "namespace": "am2", "service": "jobs"}
    post_alerts(monitoring, [am_alert(labels)])
    am = backend(monitoring)
    assert await am.alert_firing(primary(labels)) is True
    post_alerts(monitoring, [am_alert(labels, ends_in=timedelta(seconds=-1))])
    assert await am.alert_firing(primary(labels)) is False


async def test_silenced_alerts_still_count_as_firing(monitoring: Monitoring) -> None:
    labels = {"alertname": "Muted", "namespace": "am3", "service": "jobs"}
    post_alerts(monitoring, [am_alert(labels)])
    now = datetime.now(UTC)
    silence = {
        "matchers": [{"name": "alertname", "value": "Muted", "isRegex": False}],
        "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat(),
        "createdBy": "test", "comment": "muting is not fixing",
    }  # fmt: skip
    post_silence(monitoring, silence)
    assert await backend(monitoring).alert_firing(primary(labels)) is True


async def test_no_shared_labels_is_no_data(monitoring: Monitoring) -> None:
    evidence = await backend(monitoring).related_alerts(scope_for(primary({"alertname": "Lonely"})))
    assert evidence.status is EvidenceStatus.NO_DATA


async def test_unreachable_alertmanager() -> None:
    am = AlertmanagerBackend(AlertmanagerSettings(url=f"http://127.0.0.1:{free_port()}"))
    labels = {"alertname": "X", "namespace": "n"}
    evidence = await am.related_alerts(scope_for(primary(labels)))
    assert evidence.status is EvidenceStatus.ERROR and "ConnectError" in (evidence.reason or "")
    assert await am.alert_firing(primary(labels)) is None


async def test_probe_reports_the_version(monitoring: Monitoring) -> None:
    assert (await backend(monitoring).probe()).startswith("Alertmanager 0.")
