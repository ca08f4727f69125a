"""The service on a loopback port inside the test process, where the test must hand it
something a child process cannot receive: a replayed scenario world (for the approval
flow) or an SNS certificate and subscription endpoint stand-in (SNS itself is AWS-only).
Requests still travel over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from firstline.notify.slack_interactions import slack_signature
from firstline.scenarios.bundled import bundled_dir
from firstline.service.settings import WebhookAuth
from firstline.store.audit import AuditLog
from tests.services.firstline_server import API_TOKEN, PRINCIPALS, WEBHOOK_TOKEN
from tests.services.inprocess_server import serve_in_thread, settings_for, settings_with_approvers
from tests.unit.intake.test_sns_signature import (
    TOPIC,
    _certificate,
    _confirmation,
    _notification,
    _signed,
)

HOOK = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
API = {"Authorization": f"Bearer {API_TOKEN}"}  # the principal "ana"
AS = {name: {"Authorization": f"Bearer {token}"} for name, token in PRINCIPALS.items()}
BUNDLE = bundled_dir() / "oom-kill-loop-checkout"


def _wait_status(
    client: httpx.Client, incident: str, wanted: str, queue: str | None = None
) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        detail: dict[str, Any] = client.get(f"/api/v1/incidents/{incident}", headers=API).json()
        if detail["summary"]["status"] == wanted and queue in (None, detail["queue_state"]):
            return detail
        time.sleep(0.1)
    raise AssertionError(f"{incident} never became {wanted}: {detail['summary']}")


def _open_incident(client: httpx.Client) -> str:
    alert = json.loads((BUNDLE / "alert.json").read_text())
    answer = client.post("/webhooks/alertmanager", json=alert, headers=HOOK)
    assert answer.status_code == 202, answer.text
    [incident] = answer.json()["incidents"]
    return incident


def test_two_concurrent_api_approvals_one_takes_effect_and_the_run_resumes(
    tmp_path: Path,
) -> None:
    with (
        serve_in_thread(settings_for(tmp_path), scenario=BUNDLE) as (url, _ctx),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        incident = _open_incident(client)
        _wait_status(client, incident, "awaiting_approval", queue="paused")
        answers: list[httpx.Response] = []

        def approve(who: str) -> None:
            with httpx.Client(base_url=url, timeout=60) as own:
                answers.append(own.post(
                    f"/api/v1/incidents/{incident}/approve",
                    json={"by": who, "comment": "go"}, headers=AS[who],
                ))  # fmt: skip

        threads = [threading.Thread(target=approve, args=(w,)) for w in ("ana", "bo")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(a.status_code for a in answers)
        assert codes == [200, 409], [a.text for a in answers]
        winner = next(a for a in answers if a.status_code == 200).json()
        loser = next(a for a in answers if a.status_code == 409).json()
        assert winner["status"] == "resolved" and not winner["expired"]
        assert "already" in loser["error"] or "someone else" in loser["error"]
        again = client.post(
            f"/api/v1/incidents/{incident}/approve", json={"comment": "again"}, headers=AS["ana"]
        )
        assert again.status_code == 409 and "was already approved by" in again.json()["error"]
        detail = client.get(f"/api/v1/incidents/{incident}", headers=API).json()
        assert detail["queue_state"] == "done"
        assert detail["investigation"]["action_results"], "the approved action ran once"
        assert len(detail["investigation"]["action_results"]) == 1


def test_an_api_rejection_escalates(tmp_path: Path) -> None:
    with (
        serve_in_thread(settings_for(tmp_path), scenario=BUNDLE) as (url, _ctx),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        incident = _open_incident(client)
        _wait_status(client, incident, "awaiting_approval", queue="paused")
        answer = client.post(
            f"/api/v1/incidents/{incident}/reject", json={"by": "ana"}, headers=API
        )
        assert answer.status_code == 200 and answer.json()["status"] == "escalated"
        again = client.post(
            f"/api/v1/incidents/{incident}/approve", json={"by": "bo"}, headers=AS["bo"]
        )
        assert again.status_code == 409 and "rejected by ana" in again.json()["error"]


class _Certs:
    def __init__(self, pem: bytes) -> None:
        self.pem_bytes = pem

    async def pem(self, url: str) -> bytes | None:
        return self.pem_bytes


class _Confirmer:
    def __init__(self) -> None:
        self.urls: list[str] = []

    async def confirm(self, subscribe_url: str) -> bool:
        self.urls.append(subscribe_url)
        return True


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _fresh(envelope: dict[str, Any], key: rsa.RSAPrivateKey) -> bytes:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return json.dumps(_signed({**envelope, "Timestamp": stamp}, key, "2")).encode()


def test_sns_subscription_and_notifications_are_verified(
    tmp_path: Path, key: rsa.RSAPrivateKey
) -> None:
    settings = settings_for(tmp_path, webhooks={"cloudwatch": WebhookAuth(sns_topic_arns=[TOPIC])})
    confirmer = _Confirmer()
    sns = {"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification"}
    with (
        serve_in_thread(settings, certificates=_Certs(_certificate(key)), confirmer=confirmer) as (
            url,
            _ctx,
        ),
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        confirmed = client.post(
            "/webhooks/cloudwatch", content=_fresh(_confirmation(), key), headers=sns
        )
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["subscription_confirmed"] == TOPIC
        assert confirmer.urls == [_confirmation()["SubscribeURL"]]
        alarm = {"AlarmName": "orders-queue-backlog", "NewStateValue": "ALARM",
                 "NewStateReason": "threshold crossed", "StateChangeTime": "2026-11-26T21:00:00.000+0000",
                 "Region": "EU (Ireland)", "AWSAccountId": "210987654321"}  # fmt: skip
        notification = {**_notification(), "Message": json.dumps(alarm)}
        accepted = client.post(
            "/webhooks/cloudwatch", content=_fresh(notification, key), headers=sns
        )
        assert accepted.status_code == 202, accepted.text
        assert accepted.json()["new_incidents"] == 1
        forged = json.loads(_fresh(notification, key))
        forged["Message"] = forged["Message"].replace("ALARM", "OK")
        refused = client.post("/webhooks/cloudwatch", content=json.dumps(forged), headers=sns)
        assert refused.status_code == 401
        other = _fresh({**notification, "TopicArn": TOPIC + "-other"}, key)
        assert client.post("/webhooks/cloudwatch", content=other, headers=sns).status_code == 401


def test_an_unanswered_approval_request_is_escalated_by_the_server(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("approval_timeout_seconds: 0.5\n")
    settings = settings_for(tmp_path, approval_sweep_seconds=0.2)
    settings = settings.model_copy(update={"policy_file": policy})
    with (
        serve_in_thread(settings, scenario=BUNDLE) as (url, _ctx),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        incident = _open_incident(client)
        # the status is written by the graph, the queue state right after the run returns
        escalated = _wait_status(client, incident, "escalated", queue="done")
        assert "expired" in json.dumps(escalated["timeline"]).lower()


def _slack_click(incident: str, round_: int, verb: str, user: str = "U024BE7LH") -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "alice"},
        "channel": {"id": "C0FIRST", "name": "incidents"},
        "response_url": "http://127.0.0.1:9/not-slack",  # never called: not a Slack URL
        "actions": [{"action_id": f"firstline_{verb}:{incident}:{round_}", "type": "button"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def _slack_headers(secret: str, body: bytes, at: int) -> dict[str, str]:
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(at),
        "X-Slack-Signature": slack_signature(secret, str(at), body),
    }


def _with_slack(settings: Any, secret: str, **slack: Any) -> Any:
    """The settings with Slack's signing secret (and more Slack settings) set."""
    changed = settings.notify.slack.model_copy(
        update={"signing_secret": SecretStr(secret), **slack}
    )
    return settings.model_copy(
        update={"notify": settings.notify.model_copy(update={"slack": changed})}
    )


def test_slack_buttons_need_a_valid_fresh_signature_and_then_resume_the_run(
    tmp_path: Path,
) -> None:
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    settings = _with_slack(settings_for(tmp_path), secret)
    with (
        serve_in_thread(settings, scenario=BUNDLE) as (url, ctx),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        incident = _open_incident(client)
        _wait_status(client, incident, "awaiting_approval", queue="paused")
        record = ctx.store.approval(incident)
        assert record is not None
        body = _slack_click(incident, record.round, "approve")
        now = int(time.time())
        forged = _slack_headers("not-the-secret", body, now)
        stale = _slack_headers(secret, body, now - 301)
        for headers in (forged, stale):
            answer = client.post("/slack/interactions", content=body, headers=headers)
            assert answer.status_code == 401 and answer.json() == {"error": "unauthorized"}
        time.sleep(0.3)
        still = client.get(f"/api/v1/incidents/{incident}", headers=API).json()
        assert still["summary"]["status"] == "awaiting_approval", "the run stays paused"
        valid = client.post(
            "/slack/interactions", content=body, headers=_slack_headers(secret, body, now)
        )
        assert valid.status_code == 200, valid.text
        done = _wait_status(client, incident, "resolved", queue="done")
        # a second click on the same buttons: Slack gets 200, the text says why not
        twice = client.post(
            "/slack/interactions", content=body, headers=_slack_headers(secret, body, now)
        )
        assert twice.status_code == 200 and "was already approved by" in twice.json()["text"]
        junk = b"payload=not-json"  # signed by Slack, but not a click firstline understands
        refused = client.post(
            "/slack/interactions", content=junk, headers=_slack_headers(secret, junk, now)
        )
        assert refused.status_code == 400 and "payload" in refused.json()["error"]
    approval = ctx.store.approval(incident)
    assert (
        approval is not None
        and approval.channel == "slack"
        and approval.decided_by == "slack:U024BE7LH"
    )
    assert len(done["investigation"]["action_results"]) == 1


def test_a_decision_claimed_before_a_crash_is_applied_at_the_next_start(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with (
        serve_in_thread(settings, scenario=BUNDLE) as (url, ctx),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        incident = _open_incident(client)
        _wait_status(client, incident, "awaiting_approval", queue="paused")
        record = ctx.store.approval(incident)
        assert record is not None
    # the server answered a Slack click (decision claimed) and died before resuming the run
    assert ctx.store.claim_decision(
        incident, record.round, approved=True, by="ana", channel="slack", comment=""
    )
    with (
        serve_in_thread(settings, scenario=BUNDLE) as (url, _ctx),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        done = _wait_status(client, incident, "resolved", queue="done")
    assert len(done["investigation"]["action_results"]) == 1


def test_only_principals_the_policy_names_may_approve_and_refusals_are_audited(
    tmp_path: Path,
) -> None:
    from firstline.store.audit import AuditKind, AuditLog
    from tests.services.firstline_server import READ_ONLY_TOKEN

    settings = settings_with_approvers(tmp_path, "bo")
    with (
        serve_in_thread(settings, scenario=BUNDLE) as (url, ctx),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        incident = _open_incident(client)
        _wait_status(client, incident, "awaiting_approval", queue="paused")
        path = f"/api/v1/incidents/{incident}/approve"
        read_only = {"Authorization": f"Bearer {READ_ONLY_TOKEN}"}
        assert client.get(f"/api/v1/incidents/{incident}", headers=read_only).status_code == 200
        unnamed = client.post(path, json={}, headers=read_only)
        assert unnamed.status_code == 403 and "principal" in unnamed.json()["error"]
        typed = client.post(path, json={"by": "bo"}, headers=AS["ana"])  # ana typing "bo"
        assert typed.status_code == 403 and "belongs to ana" in typed.json()["error"]
        refused = client.post(path, json={"comment": "mine"}, headers=AS["ana"])
        assert refused.status_code == 403 and "ana may not approve" in refused.json()["error"]
        refusals = AuditLog(ctx.store.path).records(incident, AuditKind.REFUSAL)
        assert [(r.actor, r.details["at"]) for r in refusals] == [("ana", "approval")]
        assert ctx.store.approval(incident).decided is False, "a refusal decides nothing"
        allowed = client.post(path, json={}, headers=AS["bo"])
        assert allowed.status_code == 200, allowed.text
        [approval] = AuditLog(ctx.store.path).records(incident, AuditKind.APPROVAL)
        assert approval.actor == "bo" and approval.details["approved"] is True


def test_a_claimed_decision_for_an_incident_started_from_the_cli_is_applied_at_start(
    tmp_path: Path,
) -> None:
    """No queue row: the run was started by `firstline investigate`, the decision claimed
    (as a Slack click is, before the 3 s answer), then the process died before resuming."""
    import asyncio

    from firstline.graph.approvals import claim_decision
    from firstline.policy.schema import Mode
    from firstline.scenarios.loader import load_bundle
    from firstline.wiring.runtime import open_runtime

    settings = settings_for(tmp_path)

    async def started_and_claimed() -> str:
        async with open_runtime(settings, scenario=BUNDLE, mode=Mode.APPROVE) as rt:
            outcome = await rt.runner.start(load_bundle(BUNDLE).primary_alert, scenario=BUNDLE)
            incident = outcome.state.incident_id
            assert outcome.paused
            await claim_decision(rt.runner, incident, approved=True, by="ana", channel="slack")
            return incident

    incident = asyncio.run(started_and_claimed())
    with (
        serve_in_thread(settings, scenario=BUNDLE) as (url, ctx),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        _wait_status(client, incident, "resolved")
        deadline = time.monotonic() + 120  # the run's state is published when it returns
        while (ctx.store.snapshot(incident) or {}).get("status") != "resolved":
            assert time.monotonic() < deadline, "the resumed run never published its state"
            time.sleep(0.1)
        # the queue never had it: the server gave it a row, and a worker resumed it under a
        # lease like any other run (so two servers starting at once cannot both resume it)
        assert ctx.intake.queue_entry(incident) == ("done", 1), "claimed once, then done"
    assert len((ctx.store.snapshot(incident) or {})["action_results"]) == 1


class _ThreadNoting:
    """The bundle's executor, noting which thread each action was carried out on."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.threads: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def execute(self, action: Any, idempotency_key: str) -> Any:
        self.threads.append(threading.current_thread().name)
        return await self.inner.execute(action, idempotency_key)


def test_a_decision_resumes_the_run_on_the_workers_loop_not_the_servers(tmp_path: Path) -> None:
    """Runs write SQLite synchronously and may wait on a lock; they belong on the workers'
    own loop and thread, so the server's loop keeps answering probes and webhooks (the
    latency is measured by benchmarks/healthz_under_ingest.py)."""
    with (
        serve_in_thread(settings_for(tmp_path), scenario=BUNDLE) as (url, ctx),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        incident = _open_incident(client)
        _wait_status(client, incident, "awaiting_approval", queue="paused")
        noting = _ThreadNoting(ctx.runner.context.executor)
        ctx.runner.context = replace(ctx.runner.context, executor=noting)
        answer = client.post(
            f"/api/v1/incidents/{incident}/approve", json={"comment": "go"}, headers=API
        )
        assert answer.status_code == 200 and answer.json()["status"] == "resolved", answer.text
        assert noting.threads == ["firstline-workers"], noting.threads
        assert client.get("/readyz").status_code == 200


def test_a_slack_user_mapped_to_a_principal_decides_as_that_principal(tmp_path: Path) -> None:
    """notify.slack.principals maps a Slack user id to the principal the policy names: one
    person, one principal on every channel. An unmapped user decides as slack:<id>, which
    this policy does not name: refused (Slack is told why) and audited."""
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    policy = tmp_path / "policy.yaml"
    policy.write_text("approvers:\n  - principals: [alice]\n")
    settings = _with_slack(
        settings_for(tmp_path).model_copy(update={"policy_file": policy}),
        secret,
        principals={"U024BE7LH": "alice"},
    )
    with (
        serve_in_thread(settings, scenario=BUNDLE) as (url, ctx),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        incident = _open_incident(client)
        _wait_status(client, incident, "awaiting_approval", queue="paused")
        record = ctx.store.approval(incident)
        assert record is not None
        now = int(time.time())
        stranger = _slack_click(incident, record.round, "approve", user="U0STRANGER")
        refused = client.post(
            "/slack/interactions", content=stranger, headers=_slack_headers(secret, stranger, now)
        )
        assert refused.status_code == 200 and "slack:U0STRANGER" in refused.json()["text"]
        assert ctx.store.approval(incident).decided is False, "the request stays open"
        body = _slack_click(incident, record.round, "approve")
        valid = client.post(
            "/slack/interactions", content=body, headers=_slack_headers(secret, body, now)
        )
        assert valid.status_code == 200, valid.text
        _wait_status(client, incident, "resolved", queue="done")
    approval = ctx.store.approval(incident)
    assert approval is not None and approval.decided_by == "alice"
    refusals = [r for r in AuditLog(ctx.store.path).records(incident) if r.kind == "refusal"]
    assert [r.actor for r in refusals] == ["slack:U0STRANGER"]


def test_the_workers_compact_a_finished_runs_checkpoints_by_themselves(tmp_path: Path) -> None:
    """store.compact_interval_seconds: the server's workers delete a finished run's
    checkpoints on their own (its snapshot keeps what show and the API read)."""
    import sqlite3

    base = settings_for(tmp_path)
    settings = base.model_copy(
        update={
            "store": base.store.model_copy(
                update={"compact_interval_seconds": 0.2, "checkpoint_grace_seconds": 0}
            )
        }
    )
    with (
        serve_in_thread(settings, scenario=BUNDLE) as (url, _ctx),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        incident = _open_incident(client)
        _wait_status(client, incident, "awaiting_approval", queue="paused")

        def checkpoints() -> int:
            with sqlite3.connect(settings.store.checkpoints_db) as db:
                (n,) = db.execute(
                    "SELECT count(*) FROM checkpoints WHERE thread_id = ?", (incident,)
                ).fetchone()
            return int(n)

        time.sleep(1)  # several compaction rounds: a paused run keeps its checkpoints
        assert checkpoints() > 0, "a run waiting for a person can still resume"
        client.post(f"/api/v1/incidents/{incident}/reject", json={"by": "ana"}, headers=API)
        _wait_status(client, incident, "escalated", queue="done")
        deadline = time.monotonic() + 60
        while checkpoints() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert checkpoints() == 0, "the finished run's checkpoints were compacted"
        shown = client.get(f"/api/v1/incidents/{incident}", headers=API).json()
        assert shown["summary"]["status"] == "escalated" and shown["investigation"] is not None


def test_a_decision_taken_while_the_run_is_still_pausing_resumes_it(tmp_path: Path) -> None:
    """The approval request is visible (status awaiting_approval) a moment before the worker
    records the run as paused; a decision in that gap finds no paused run to resume and
    leaves it to the workers. The worker that then parks the run must pick it up."""
    settings = settings_for(tmp_path)
    with (
        serve_in_thread(settings, scenario=BUNDLE) as (url, ctx),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        park = ctx.intake.set_queue_state

        def decided_first(incident_id: str, state: Any, now: datetime, **kw: Any) -> None:
            if state.value == "paused":  # a person answers before the row says so
                record = ctx.store.approval(incident_id)
                assert record is not None
                ctx.store.claim_decision(incident_id, record.round, approved=True, by="ana",
                                         channel="api", comment="quick")  # fmt: skip
            park(incident_id, state, now, **kw)

        ctx.intake.set_queue_state = decided_first  # type: ignore[method-assign]
        incident = _open_incident(client)
        done = _wait_status(client, incident, "resolved", queue="done")
    assert len(done["investigation"]["action_results"]) == 1
