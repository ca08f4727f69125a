"""The lab's alerting rules (firstline/lab/monitoring/rules): `promtool check rules`, and
`promtool test rules` on synthetic series, one test file per rule file, showing each alert
firing on its fault and quiet on healthy series, with the labels firstline scopes by."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from firstline.lab.monitoring.prometheus import RULES_DIR, rule_files
from tests.services.prometheus import promtool

TESTS_DIR = Path(__file__).parent / "rules"


def alerts(path: Path) -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]]


def cases(path: Path) -> list[dict[str, Any]]:
    test_file = TESTS_DIR / path.name.replace(".yaml", ".test.yaml")
    tests = yaml.safe_load(test_file.read_text())["tests"]
    return [case for test in tests for case in test["alert_rule_test"]]


def seconds(duration: str) -> int:
    value, unit = re.fullmatch(r"(\d+)([sm])", duration).groups()  # type: ignore[union-attr]
    return int(value) * (60 if unit == "m" else 1)


def test_promtool_check_rules() -> None:
    paths = rule_files()
    assert {p.stem for p in paths} == {
        "postgres",
        "redis",
        "blackbox",
        "node",
        "shop",
        "kubernetes",
    }
    result = promtool("check", "rules", *map(str, paths), cwd=RULES_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(paths)


@pytest.mark.parametrize("path", rule_files(), ids=lambda p: p.stem)
def test_promtool_test_rules(path: Path) -> None:
    test_file = TESTS_DIR / path.name.replace(".yaml", ".test.yaml")
    result = promtool("test", "rules", test_file.name, cwd=TESTS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", rule_files(), ids=lambda p: p.stem)
def test_every_alert_fires_and_stays_quiet_with_a_scope(path: Path) -> None:
    mine = cases(path)
    for rule in alerts(path):
        tested = [c for c in mine if c["alertname"] == rule["alert"]]
        firing = [a for c in tested for a in c["exp_alerts"]]
        assert firing, f"{rule['alert']} is never shown firing"
        assert any(not c["exp_alerts"] for c in tested), f"{rule['alert']} is never shown quiet"
        for alert in firing:  # what firstline scopes an incident by
            labels = alert["exp_labels"]
            assert labels["namespace"] and (labels.get("service") or labels.get("pod")), labels
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert seconds(rule["for"]) <= 30, "lab-sized: the lab must react in seconds"


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("postgres", '{state="idle in transaction"}) > 3', '{state="idle in transaction"}) > 9'),
        ("shop", "* 100 > 5", "* 100 > 50"),
        ("kubernetes", 'reason="CrashLoopBackOff"', 'reason="ImagePullBackOff"'),
        ("blackbox", "0 <= round(", "3 <= round("),  # the collection's lower bound
    ],
)
def test_a_rule_changed_to_miss_its_fault_fails_its_test(
    tmp_path: Path, name: str, old: str, new: str
) -> None:
    """The synthetic series are not vacuous."""
    rules = RULES_DIR / f"{name}.yaml"
    text = rules.read_text()
    assert old in text
    layout = tmp_path / "tests" / "unit" / "lab" / "rules"  # the test file's relative path
    moved = tmp_path / "src" / "firstline" / "lab" / "monitoring" / "rules" / rules.name
    moved.parent.mkdir(parents=True)
    layout.mkdir(parents=True)
    moved.write_text(text.replace(old, new))
    shutil.copy(TESTS_DIR / f"{name}.test.yaml", layout)
    result = promtool("test", "rules", f"{name}.test.yaml", cwd=layout)
    assert result.returncode != 0, result.stdout
