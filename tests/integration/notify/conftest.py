"""Fixtures for the notification tests: the vendor stand-ins and settings pointing at them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from firstline.notify.base import Notification
from firstline.notify.content import ApprovalAsk, DigestHypothesis, IncidentDigest
from firstline.notify.settings import DeliverySettings, VendorSettings
from firstline.store.incidents import IncidentStore
from tests.integration.notify.vendors import VendorServer

ROUTING_KEY = "0123456789abcdef0123456789abcdef"  # 32 characters, as PagerDuty issues them


@pytest.fixture
def vendor() -> Iterator[VendorServer]:
    with VendorServer() as server:
        yield server


def vendor_settings(url: str, **enabled: bool) -> VendorSettings:
    """Settings with the named notifiers pointing at the stand-in; short backoff for tests."""
    raw: dict[str, object] = {
        "public_url": "https://firstline.example.com",
        "delivery": DeliverySettings(
            initial_backoff_seconds=0.05,
            max_backoff_seconds=0.4,
            max_attempts=8,
            poll_interval_seconds=0.02,
            lease_seconds=30,
        ).model_dump(),
    }
    if enabled.get("pagerduty"):
        raw["pagerduty"] = {"routing_key": ROUTING_KEY, "url": f"{url}/v2/enqueue"}
    if enabled.get("opsgenie"):
        raw["opsgenie"] = {"api_key": "genie-test", "url": url, "responders": ["sre"]}
    if enabled.get("slack"):
        raw["slack"] = {"bot_token": "xoxb-test", "channel": "C0FIRST", "api_url": f"{url}/api"}
    if enabled.get("slack_webhook"):
        raw["slack"] = {"webhook_url": f"{url}/hooks/slack"}
    if enabled.get("webhook"):
        raw["webhook"] = {"url": f"{url}/hook", "secret": "whsec-test"}
    return VendorSettings.model_validate(raw)


def notification(
    incident_id: str, kind: str, round_: int | None = None, severity: str = "critical"
) -> Notification:
    ask = (
        ApprovalAsk(
            round=round_ or 1,
            expires_at=datetime(2030, 1, 1, tzinfo=UTC),
            actions=["restart deployment/shop/checkout"],
            dry_run=["kubectl rollout restart deployment/checkout -n shop"],
        )
        if kind == "approval_request"
        else None
    )
    digest = IncidentDigest(
        alert="KubePodCrashLooping",
        where="shop/checkout",
        status={"resolved": "resolved", "escalation": "escalated"}.get(kind, "awaiting_approval"),
        fired_at=datetime(2026, 11, 26, 3, 0, tzinfo=UTC),
        summary="checkout restarts every 2 minutes",
        conclusion="resolved after 1 remediation round(s)" if kind == "resolved" else "",
        decision="request_approval (rule medium_risk_needs_approval)",
        hypotheses=[
            DigestHypothesis(
                pattern="oom_kill_loop",
                cause="memory limit too low",
                confidence=0.86,
                evidence=["+ OOMKilled 5 times in 15 min"],
            ),
        ],
        ruled_out=["deploy_regression: no rollout in the window"],
        evidence=["metric:memory_working_set (prometheus): max(container_memory...)"],
        tried=[],
        next_steps=["raise the memory limit"],
        approval=ask,
    )
    return Notification(
        incident_id=incident_id,
        kind=kind,
        severity=severity,
        title=f"{kind}: KubePodCrashLooping (shop/checkout)",
        body="plain text report",
        labels={"namespace": "shop", "service": "checkout", "team": "payments"},
        round=round_,
        digest=digest,
    )


def make_incidents(db: Path, *ids: str) -> IncidentStore:
    store = IncidentStore(db)
    for incident_id in ids:
        store.create(incident_id, "KubePodCrashLooping", f"fp-{incident_id}", None)
    return store
