"""The postmortem's data and its Markdown from hand-made states: the follow-ups each
recorded outcome leads to, and alert text that tries to break out of the Markdown."""

from __future__ import annotations

from datetime import timedelta

from firstline.domain.action import ActionResult, ActionStatus, ActionType
from firstline.domain.evidence import EvidenceSet, EvidenceStatus, MetricEvidence, Provenance
from firstline.domain.incident import IncidentStatus
from firstline.graph.state import IncidentState, Verification
from firstline.reporting.documents import IncidentReport, ReportFormat
from firstline.reporting.postmortem import build_postmortem
from tests.unit.builders import T0, action, alert, analysis


def _state(**fields: object) -> IncidentState:
    return IncidentState.model_validate(
        {"incident_id": "inc-test", "alert": alert(), "status": IncidentStatus.ESCALATED} | fields
    )


def _ran(kind: ActionType) -> ActionResult:
    return ActionResult(action=action(kind), idempotency_key="k", status=ActionStatus.SUCCEEDED,
                        started_at=T0 + timedelta(minutes=5))  # fmt: skip


def test_a_fix_that_did_not_hold_is_followed_up_and_nothing_made_permanent() -> None:
    state = _state(
        analysis=analysis(0.9),
        attempt=2,
        action_results=[_ran(ActionType.SCALE)],
        verifications=[Verification(attempt=2, resolved=False, reason="still firing")],
    )
    follow = build_postmortem(state, [], []).follow_ups
    assert any("did not hold after 2 round(s) (still firing)" in line for line in follow)
    assert not any("permanent" in line for line in follow)


def test_a_scale_that_held_is_carried_into_the_manifests() -> None:
    state = _state(
        status=IncidentStatus.RESOLVED,
        analysis=analysis(0.9),
        action_results=[_ran(ActionType.SCALE)],
        verifications=[Verification(attempt=1, resolved=True, reason="the alert stopped")],
    )
    (line,) = build_postmortem(state, [], []).follow_ups
    assert line.startswith("make the fix permanent: scale deployment")


def test_a_low_confidence_cause_and_a_failed_source_are_said() -> None:
    broken = MetricEvidence(
        id="metric:latency", name="latency", status=EvidenceStatus.ERROR, reason="timeout",
        provenance=Provenance(source="prometheus", query="q"),
    )  # fmt: skip
    state = _state(analysis=analysis(0.35), evidence=EvidenceSet(items=[broken]))
    follow = build_postmortem(state, [], []).follow_ups
    assert any("not established" in line and "35%" in line for line in follow)
    assert any(line.startswith("metric:latency could not be read (timeout)") for line in follow)


def test_alert_text_cannot_break_out_of_its_markdown_line() -> None:
    sneaky = "fine\n\n# Injected heading\n<b>bold</b>"
    query = "sum(rate(x[5m])) `with` ticks"
    metric = MetricEvidence(id="metric:x", name="x", provenance=Provenance(source="p", query=query))
    state = _state(
        alert=alert(annotations={"summary": sneaky}), evidence=EvidenceSet(items=[metric])
    )
    text = IncidentReport(build_postmortem(state, [], []), state, []).render(ReportFormat.MD).text
    assert "\n# Injected" not in text and "<b>" not in text
    assert "- Alert: HighErrorRate: fine # Injected heading &lt;b>bold&lt;/b>\n" in text
    assert f"``{query}``" in text, "a code span longer than the backticks inside it"
