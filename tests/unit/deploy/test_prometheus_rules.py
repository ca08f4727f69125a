"""deploy/prometheus/firstline-rules.yaml: `promtool check rules`, `promtool test rules`
over synthetic series (each alert fires when it should and stays quiet when healthy), and
the metrics the rules read are ones firstline exposes. promtool comes with Debian's
prometheus package, which `make test` installs (Makefile: apt-services)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.services.prometheus import promtool
from tests.unit.deploy import exposed
from tests.unit.deploy.conftest import DEPLOY

RULES = DEPLOY / "prometheus" / "firstline-rules.yaml"
TESTS = DEPLOY / "prometheus" / "firstline-rules.test.yaml"


def alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_promtool_check_rules() -> None:
    result = promtool("check", "rules", str(RULES), cwd=RULES.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in result.stdout


def test_promtool_test_rules() -> None:
    result = promtool("test", "rules", TESTS.name, cwd=TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_quiet() -> None:
    cases = [
        case
        for test in yaml.safe_load(TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
    ]
    for rule in alerts():
        mine = [c for c in cases if c["alertname"] == rule["alert"]]
        assert any(c["exp_alerts"] for c in mine), f"{rule['alert']} is never shown firing"
        assert any(not c["exp_alerts"] for c in mine), f"{rule['alert']} is never shown quiet"
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]


def test_the_rules_read_only_what_firstline_exposes() -> None:
    types = exposed.series_types()
    for rule in alerts():
        exposed.check_expression(rule["expr"], types)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "max(firstline_queue_oldest_queued_seconds) > 600",
            "max(firstline_queue_oldest_queued_seconds) > 6000",
        ),
        ('{status=~"5.."}', '{status=~"50[24]"}'),
        ("and on() max(firstline_queue_incidents", "unless on() max(firstline_queue_incidents"),
    ],
)
def test_a_wrong_rule_fails_its_unit_tests(tmp_path: Path, old: str, new: str) -> None:
    """The synthetic series are not vacuous: a rule changed to miss its case fails."""
    text = RULES.read_text()
    assert old in text
    (tmp_path / RULES.name).write_text(text.replace(old, new))
    shutil.copy(TESTS, tmp_path / TESTS.name)
    result = promtool("test", "rules", TESTS.name, cwd=tmp_path)
    assert result.returncode != 0, result.stdout
