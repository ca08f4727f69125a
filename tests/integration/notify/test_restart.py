"""Undelivered notifications survive a restart of firstline: a worker process delivers
some, is stopped while the vendor is down, and a new worker process delivers the rest.
Nothing is delivered twice. Vendors are the local stand-ins (real HTTP over loopback)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from firstline.delivery.setup import build_delivery
from firstline.notify.settings import VendorSettings
from firstline.store.outbox import Outbox, OutboxStatus
from tests.integration.notify.conftest import make_incidents, notification, vendor_settings
from tests.integration.notify.vendors import VendorServer

ROOT = Path(__file__).resolve().parents[3]


def _worker(db: Path, settings_json: str, mode: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.notify.worker_main", str(db), settings_json, mode],
        cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def _with_secrets(settings: VendorSettings) -> str:
    """JSON for the child process; pydantic masks secrets in its own JSON."""
    return json.dumps(settings.model_dump(), default=lambda v: v.get_secret_value())


def _wait_for(check: Callable[[], bool], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"condition not reached in time; worker log:\n{log.read_text()}")


def test_undelivered_notifications_are_delivered_after_a_restart_and_none_twice(
    tmp_path: Path, vendor: VendorServer
) -> None:
    db = tmp_path / "incidents.sqlite"
    incidents = [f"inc-r{n}" for n in range(3)]
    store = make_incidents(db, *incidents)
    settings = vendor_settings(vendor.url, pagerduty=True, webhook=True)
    settings = settings.model_copy(
        update={"delivery": settings.delivery.model_copy(update={"max_attempts": 1000})}
    )
    enqueue = build_delivery(settings, db, lambda: datetime.now(UTC)).outbox_notifier
    for incident_id in incidents:
        enqueue.enqueue(notification(incident_id, "approval_request", 1))
        enqueue.enqueue(notification(incident_id, "resolved"))
    outbox = Outbox(db)
    assert len(outbox.rows()) == 12

    # The first two PagerDuty events go through; then PagerDuty is down for a long while.
    vendor.succeed("pagerduty", 2)
    vendor.fail("pagerduty", 100_000, status=503)
    first_log = tmp_path / "first.log"
    first = _worker(db, _with_secrets(settings), "serve", first_log)
    try:
        _wait_for(lambda: len(vendor.state.accepted("webhook")) == 6, first_log)
        _wait_for(lambda: sum(r.status == 503 for r in vendor.state.requests) >= 3, first_log)
    finally:
        first.terminate()  # SIGTERM: the worker finishes its round and exits
        assert first.wait(timeout=20) == 0, (tmp_path / "first.log").read_text()

    pending = [r for r in outbox.rows() if r.status is OutboxStatus.PENDING]
    assert pending, "the restart must find undelivered notifications"
    assert all(r.notifier == "pagerduty" for r in pending)
    delivered_before = len(vendor.state.accepted("pagerduty"))
    assert delivered_before == 2

    with vendor.state.lock:
        vendor.state.scripts.clear()  # PagerDuty is back
    second = _worker(db, _with_secrets(settings), "drain", tmp_path / "second.log")
    assert second.wait(timeout=60) == 0, (tmp_path / "second.log").read_text()

    assert all(r.status is OutboxStatus.DELIVERED for r in outbox.rows())
    accepted = Counter(
        (r.json()["dedup_key"], r.json()["event_action"])
        for r in vendor.state.accepted("pagerduty")
    )
    assert sorted(accepted) == sorted(
        (f"firstline-{i}", action) for i in incidents for action in ("trigger", "resolve")
    )
    assert set(accepted.values()) == {1}, f"something was delivered twice: {accepted}"
    assert len(vendor.state.accepted("pagerduty")) > delivered_before
    assert vendor.state.pd_pages_opened == 3
    webhook_ids = Counter(
        r.headers["x-firstline-delivery"] for r in vendor.state.accepted("webhook")
    )
    assert len(webhook_ids) == 6 and set(webhook_ids.values()) == {1}
    for incident_id in incidents:
        events = [e.event for e in store.timeline(incident_id)]
        assert events.count("notified via pagerduty") == 2
    assert any("failed (attempt" in e.event for i in incidents for e in store.timeline(i))
    assert vendor.state.violations == []
