"""The lab's bookkeeping, without a lab: which faults `run` picks, how an incident's API
detail is read into a result, and when a result counts as what the fault expected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from firstline.lab import faults
from firstline.lab.narrate import RunResult, summarise
from firstline.lab.runner import medians

T0 = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)


def _at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def _detail(pattern: str, status: str, actions: list[str], verified: bool) -> dict[str, Any]:
    """An incident as GET /api/v1/incidents/{id} answers it (docs/api.md), trimmed."""
    timeline = [
        {"key": "1", "at": _at(30), "stage": "triage", "event": "triaged", "detail": ""},
        {"key": "2", "at": _at(34), "stage": "decide", "event": "decision: x", "detail": ""},
        {"key": "3", "at": _at(35), "stage": "decide", "event": "again", "detail": ""},
    ]
    if verified:
        timeline.append({"key": "4", "at": _at(80), "stage": "verify",
                         "event": "verification passed", "detail": ""})  # fmt: skip
    return {
        "summary": {"status": status},
        "queue_state": "done",
        "timeline": timeline,
        "investigation": {
            "analysis": {"hypotheses": [{"pattern": pattern, "confidence": 0.8}]},
            "decisions": [
                {
                    "outcome": "request_approval",
                    "rule": "r",
                    "actions": [{"type": a} for a in actions],
                }
            ],
            "action_results": [{"status": "succeeded"} for _ in actions],
            "verifications": [{"resolved": verified}],
        },
    }


def test_all_selects_every_fault_and_unknown_ids_are_refused() -> None:
    assert [f.id for f in faults.select(["all"])] == [f.id for f in faults.FAULTS]
    assert [f.id for f in faults.select(["bad-release"])] == ["bad-release"]
    with pytest.raises(ValueError, match="known: connection-leak"):
        faults.select(["bad-releese"])


def test_fault_ids_are_unique_and_every_fix_names_an_action_or_escalates() -> None:
    assert len(faults.BY_ID) == len(faults.FAULTS)
    for fault in faults.FAULTS:
        assert (fault.expect.outcome == "fixed") == (fault.expect.action is not None), fault.id


def test_a_verified_fix_of_the_expected_pattern_matches_and_times_are_split() -> None:
    fault = faults.BY_ID["bad-release"]
    result = RunResult(fault=fault.id, injected_at=T0, detected_at=T0 + timedelta(seconds=25))
    summarise(fault, result, _detail("deploy_regression", "resolved", ["rollback"], True))
    assert result.problems == []
    assert (result.to_detect, result.to_decide, result.to_fix) == (25, 9, 46)


@pytest.mark.parametrize(
    ("pattern", "status", "actions", "verified", "problem"),
    [
        ("crash_loop_bad_config", "resolved", ["rollback"], True, "diagnosed"),
        ("deploy_regression", "resolved", ["restart"], True, "actions"),
        ("deploy_regression", "escalated", ["rollback"], False, "ended escalated"),
    ],
)
def test_anything_else_is_a_problem_that_says_what_differed(
    pattern: str, status: str, actions: list[str], verified: bool, problem: str
) -> None:
    fault = faults.BY_ID["bad-release"]
    result = summarise(fault, RunResult(fault=fault.id, injected_at=T0),
                       _detail(pattern, status, actions, verified))  # fmt: skip
    assert any(p.startswith(problem) for p in result.problems), result.problems


def test_an_escalated_outage_must_name_the_dependency() -> None:
    fault = faults.BY_ID["upstream-refusing"]
    detail = _detail("upstream_dependency_failure", "escalated", [], False)
    assert summarise(fault, RunResult(fault=fault.id, injected_at=T0), detail).problems
    detail["summary"]["summary"] = "checkout: its upstream payments-gateway refuses connections"
    assert summarise(fault, RunResult(fault=fault.id, injected_at=T0), detail).problems == []
    detail["investigation"]["analysis"]["hypotheses"][0]["pattern"] = "deploy_regression"
    result = summarise(fault, RunResult(fault=fault.id, injected_at=T0), detail)
    assert [p.split()[0] for p in result.problems] == ["diagnosed"]


def test_medians_skip_what_was_never_reached() -> None:
    done = RunResult(fault="a", injected_at=T0, detected_at=T0 + timedelta(seconds=10))
    lost = RunResult(fault="b", injected_at=T0)
    slow = RunResult(fault="c", injected_at=T0, detected_at=T0 + timedelta(seconds=30))
    assert medians([done, lost, slow])["fault_to_alert"] == 20
    assert medians([lost])["fault_to_alert"] is None
