"""The CLI as people use it: separate processes sharing one data directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import OOM

pytestmark = pytest.mark.integration


def firstline(data_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Global options (--config, --data-dir) must precede the command; put --data-dir first."""
    return subprocess.run(
        [sys.executable, "-m", "firstline", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def assert_one_line_error(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got: {done.stderr}"
    assert lines[0].startswith("error: ")
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in lines[0]


def test_approval_crosses_a_process_boundary(data_dir: Path) -> None:
    started = as_json(firstline(data_dir, "investigate", str(OOM / "alert.json"), "--json"))
    incident_id = started["incident_id"]
    assert started["status"] == "awaiting_approval", "a new install defaults to approve mode"
    assert started["paused_at"] == ["request_approval"]

    approved = as_json(
        firstline(data_dir, "approve", incident_id, "--by", "alice", "--comment", "ok", "--json")
    )
    assert approved["status"] == "resolved"
    assert approved["approval"]["by"] == "alice"

    shown = as_json(firstline(data_dir, "show", incident_id, "--json"))
    events = [e["event"] for e in shown["timeline"]]
    assert any(e.startswith("approval requested") for e in events)
    assert any(e.startswith("approved by alice") for e in events)
    assert shown["status"] == "resolved"

    again = firstline(data_dir, "approve", incident_id, "--by", "bob")
    assert_one_line_error(again, "already approved by alice")


def test_malformed_alert_json_is_one_line_and_stores_nothing(
    data_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "alert.json"
    bad.write_text('{"version": "4", "alerts": [')
    assert_one_line_error(firstline(data_dir, "investigate", str(bad)), "malformed JSON", "line 1")
    assert as_json(firstline(data_dir, "incidents", "--json")) == []


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ("[]", "must be a JSON object"),
        ('{"version": "4", "alerts": []}', "alerts"),
        ('{"version": "3", "alerts": [{"labels": {"alertname": "X"}}]}', "version"),
        ('{"alerts": [{"labels": {}, "startsAt": "2026-01-01T00:00:00Z"}]}', "alertname"),
        ('{"alerts": [{"labels": {"alertname": "X"}, "startsAt": "yesterday"}]}', "startsAt"),
    ],
)
def test_invalid_payloads_name_the_problem(
    data_dir: Path, tmp_path: Path, payload: str, needle: str
) -> None:
    bad = tmp_path / "alert.json"
    bad.write_text(payload)
    assert_one_line_error(firstline(data_dir, "investigate", str(bad)), needle)


def test_missing_or_malformed_scenario(data_dir: Path, tmp_path: Path) -> None:
    alert = str(OOM / "alert.json")
    assert_one_line_error(
        firstline(data_dir, "investigate", alert, "--scenario", str(tmp_path / "nope")),
        "does not exist",
    )
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "scenario.yaml").write_text("title: [unclosed\n")
    assert_one_line_error(
        firstline(data_dir, "investigate", alert, "--scenario", str(broken)), "malformed YAML"
    )
    (broken / "scenario.yaml").write_text("title: x\nexpected: {pattern: p}\n")
    assert_one_line_error(
        firstline(data_dir, "investigate", alert, "--scenario", str(broken)), "expected.severity"
    )
    assert as_json(firstline(data_dir, "incidents", "--json")) == []


def test_unknown_incident_id(data_dir: Path) -> None:
    assert_one_line_error(firstline(data_dir, "show", "inc-nope"), "no incident", "inc-nope")
    assert_one_line_error(firstline(data_dir, "approve", "inc-nope", "--by", "a"), "inc-nope")


def test_auto_mode_and_incident_list(data_dir: Path) -> None:
    done = as_json(
        firstline(data_dir, "investigate", str(OOM / "alert.json"), "--mode", "auto", "--json")
    )
    assert done["status"] == "resolved"
    listed = as_json(firstline(data_dir, "incidents", "--json"))
    assert [r["id"] for r in listed] == [done["incident_id"]]
    human = firstline(data_dir, "show", done["incident_id"])
    assert human.returncode == 0
    assert "oom_kill_loop" in human.stdout and "Timeline" in human.stdout


def test_expired_approval_via_sweep(data_dir: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("approval_timeout_seconds: 0.001\n")
    config = tmp_path / "firstline.yaml"
    config.write_text(f"policy_file: {policy}\n")
    started = as_json(
        firstline(
            data_dir, "--config", str(config), "investigate", str(OOM / "alert.json"), "--json"
        )
    )
    assert started["status"] == "awaiting_approval"
    swept = firstline(data_dir, "--config", str(config), "sweep", "--json")
    assert as_json(swept)[0]["incident_id"] == started["incident_id"]
    shown = as_json(firstline(data_dir, "show", started["incident_id"], "--json"))
    assert shown["status"] == "escalated"
    assert shown["approval"]["expired"] is True
    assert shown["action_results"] == []


def test_demo_runs_three_incidents_across_processes(data_dir: Path) -> None:
    done = as_json(firstline(data_dir, "demo", "--json"))
    outcomes = [(i["decision"], i["status"], i["approved_by"]) for i in done["incidents"]]
    assert outcomes == [
        ("auto_remediate", "resolved", None),
        ("request_approval", "resolved", "demo-operator"),
        ("escalate", "escalated", None),
    ]
    assert done["seconds"] < 60
    approved = as_json(
        firstline(data_dir / "demo", "show", done["incidents"][1]["incident_id"], "--json")
    )
    assert approved["approval"]["channel"] == "cli", "approved by the separate approve process"


def test_resume_refuses_runs_that_are_not_interrupted(data_dir: Path) -> None:
    done = as_json(firstline(data_dir, "investigate", str(OOM / "alert.json"), "--json"))
    assert_one_line_error(
        firstline(data_dir, "resume", done["incident_id"]), "waiting for approval"
    )
    as_json(firstline(data_dir, "approve", done["incident_id"], "--by", "a", "--json"))
    assert_one_line_error(firstline(data_dir, "resume", done["incident_id"]), "nothing left")
