"""Follow one lab incident through firstline's HTTP API as it happens, line by line, and sum
it up: what fired, what firstline found, what it decided and did, whether the alert's own
query went quiet, and how long each part took. It reads only what any API client can read."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console

from firstline.lab.faults import Fault

TERMINAL = {"resolved", "escalated", "recommended", "dismissed", "self_resolved", "closed"}
Approver = Callable[[dict[str, Any]], bool]
SHOWN = ("service", "container", "mountpoint", "instance")


@dataclass
class RunResult:
    """One fault's run, as the summary table and the lab's test read it."""

    fault: str
    injected_at: datetime
    incident_id: str | None = None
    alertname: str | None = None
    pattern: str | None = None
    confidence: float | None = None
    decision: str | None = None
    rule: str | None = None
    actions: list[str] = field(default_factory=list)
    action_statuses: list[str] = field(default_factory=list)
    status: str | None = None
    verified: bool | None = None
    escalation: str = ""
    detected_at: datetime | None = None
    decided_at: datetime | None = None
    fixed_at: datetime | None = None
    problems: list[str] = field(default_factory=list)

    def seconds(self, start: datetime | None, end: datetime | None) -> float | None:
        return None if start is None or end is None else (end - start).total_seconds()

    @property
    def to_detect(self) -> float | None:
        return self.seconds(self.injected_at, self.detected_at)

    @property
    def to_decide(self) -> float | None:
        return self.seconds(self.detected_at, self.decided_at)

    @property
    def to_fix(self) -> float | None:
        return self.seconds(self.decided_at, self.fixed_at)

    def as_json(self) -> dict[str, Any]:
        return {
            "fault": self.fault,
            "incident_id": self.incident_id,
            "alertname": self.alertname,
            "pattern": self.pattern,
            "confidence": self.confidence,
            "decision": self.decision,
            "rule": self.rule,
            "actions": self.actions,
            "action_statuses": self.action_statuses,
            "status": self.status,
            "verified": self.verified,
            "seconds": {
                "fault_to_alert": self.to_detect,
                "alert_to_decision": self.to_decide,
                "decision_to_verified_fix": self.to_fix,
            },
            "matches_expectation": not self.problems,
            "problems": self.problems,
        }


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Follower:
    def __init__(self, url: str, token: str, console: Console) -> None:
        self.http = httpx.Client(
            base_url=url, timeout=15, headers={"Authorization": f"Bearer {token}"}
        )
        self.console = console

    def close(self) -> None:
        self.http.close()

    def _incidents_since(self, since: datetime) -> list[dict[str, Any]]:
        answer = self.http.get("/api/v1/incidents", params={"limit": 50})
        answer.raise_for_status()
        return [i for i in answer.json() if _at(i["created_at"]) >= since]

    def wait_for_incident(
        self, fault: Fault, since: datetime, deadline: float
    ) -> dict[str, Any] | None:
        """The incident holding the fault's alert (its name and labels; firstline may have
        grouped it into an incident another alert of the same workload opened), else none
        by the deadline; every other new incident is told as it opens."""
        told: set[str] = set()
        while time.monotonic() < deadline:
            for incident in self._incidents_since(since):
                alerts = self._alerts(incident["id"])
                if incident["id"] not in told:
                    told.add(incident["id"])
                    labels = alerts[0].get("labels") or {} if alerts else {}
                    shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k in SHOWN)
                    self._say("alert", f"{incident['alert_name']} {{{shown}}} {incident['id']}")
                if any(_is_expected(fault, a) for a in alerts):
                    return incident
            time.sleep(1.0)
        return None

    def expected_alert(self, fault: Fault, incident_id: str) -> dict[str, Any] | None:
        """The fault's alert as Alertmanager delivered it (its webhook item)."""
        found = next((a for a in self._alerts(incident_id) if _is_expected(fault, a)), None)
        return dict(found["raw"]) if found and isinstance(found.get("raw"), dict) else None

    def _alerts(self, incident_id: str) -> list[dict[str, Any]]:
        answer = self.http.get(f"/api/v1/incidents/{incident_id}")
        answer.raise_for_status()
        return list(answer.json().get("alerts") or [])

    def follow(
        self, fault: Fault, incident_id: str, approve: Approver, deadline: float
    ) -> dict[str, Any]:
        """Print the incident's timeline as it grows until the run ends; answer an approval
        request with `approve`. Returns the last detail the API gave."""
        shown: set[str] = set()
        asked = 0
        detail: dict[str, Any] = {}
        while time.monotonic() < deadline:
            answer = self.http.get(f"/api/v1/incidents/{incident_id}")
            answer.raise_for_status()
            detail = answer.json()
            for entry in detail.get("timeline", []):
                if entry["key"] not in shown:
                    shown.add(entry["key"])
                    self._say(entry["stage"], f"{entry['event']} {entry.get('detail', '')}")
            status = detail["summary"]["status"]
            requests = sum(
                e["event"].startswith("approval requested") for e in detail.get("timeline", [])
            )
            if status == "awaiting_approval" and requests > asked:  # each round asks anew
                asked = requests
                verdict = "approve" if approve(detail) else "reject"
                # the answer comes when the resumed run ends (its fix verified or not):
                # sent beside the narration, which goes on meanwhile
                threading.Thread(
                    target=self._decide, args=(incident_id, verdict, fault), daemon=True
                ).start()
            if status in TERMINAL and detail.get("queue_state") in ("done", None):
                return detail
            time.sleep(1.0)
        return detail

    def _decide(self, incident_id: str, verdict: str, fault: Fault) -> None:
        body = {"comment": f"lab run of {fault.id}"}
        headers = dict(self.http.headers)
        with httpx.Client(base_url=self.http.base_url, headers=headers, timeout=600) as own:
            try:
                answer = own.post(f"/api/v1/incidents/{incident_id}/{verdict}", json=body)
            except httpx.HTTPError as exc:
                self._say("approval", f"{verdict} not answered: {exc}")
                return
        if answer.status_code >= 400:
            self._say("approval", f"{verdict} refused: {answer.json().get('error', answer.text)}")
        else:
            self._say("approval", answer.json().get("message", verdict))

    def _say(self, stage: str, text: str) -> None:
        clock = datetime.now(UTC).strftime("%H:%M:%S")
        line = " ".join(text.split())
        self.console.print(f"{clock} [bold]{stage:<10.10}[/bold] {line}"[:200], overflow="fold")


def _is_expected(fault: Fault, alert: dict[str, Any]) -> bool:
    labels = alert.get("labels") or {}
    return alert.get("name") == fault.expect.alertname and all(
        labels.get(k) == v for k, v in fault.expect.labels.items()
    )


def summarise(fault: Fault, result: RunResult, detail: dict[str, Any]) -> RunResult:
    """Read the outcome from the incident's detail and compare it with the expectation."""
    investigation = detail.get("investigation") or {}
    timeline = detail.get("timeline", [])
    result.status = detail.get("summary", {}).get("status")
    # what firstline first made of it: a later round rules out a fix that did not hold
    first = (investigation.get("analyses") or [investigation.get("analysis") or {}])[0]
    hypotheses = first.get("hypotheses") or []
    if hypotheses:
        result.pattern = hypotheses[0].get("pattern")
        result.confidence = hypotheses[0].get("confidence")
    decisions = investigation.get("decisions") or []
    if decisions:
        first = decisions[0]
        result.decision, result.rule = first.get("outcome"), first.get("rule")
        result.actions = [a["type"] for a in first.get("actions", [])]
    results = investigation.get("action_results") or []
    result.action_statuses = [r.get("status", "") for r in results]
    verifications = investigation.get("verifications") or []
    result.verified = bool(verifications) and bool(verifications[-1].get("resolved"))
    stamps = {e["stage"]: _at(e["at"]) for e in reversed(timeline)}  # first of each stage
    result.decided_at = stamps.get("decide")
    passed = [e for e in timeline if e["stage"] == "verify" and "passed" in e["event"]]
    if passed:
        result.fixed_at = _at(passed[0]["at"])
    # what a paged person reads: the summary, the top hypothesis, the escalation's notes
    told = [detail.get("summary", {}).get("summary", ""), str(hypotheses[:1])]
    told += [e.get("detail", "") for e in timeline if e["stage"] in ("escalate", "notify")]
    result.escalation = " ".join(told)
    result.problems = _compare(fault, result)
    return result


def _compare(fault: Fault, result: RunResult) -> list[str]:
    expect = fault.expect
    problems = []
    if result.pattern != expect.pattern:
        problems.append(f"diagnosed {result.pattern}, expected {expect.pattern}")
    if expect.outcome == "fixed":
        if expect.action not in result.actions:
            problems.append(f"actions {result.actions}, expected {expect.action}")
        if result.status != "resolved" or not result.verified:
            problems.append(f"ended {result.status}, verified={result.verified}")
    elif result.status != "escalated":
        problems.append(f"ended {result.status}, expected escalated")
    if expect.names and expect.names not in result.escalation:
        problems.append(f"the escalation does not name {expect.names}")
    return problems
