"""Intake parsing, bundle loading, the store's guarantees, settings and small helpers."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from firstline.domain.action import ActionStatus
from firstline.intake.alertmanager import load_webhook_file, parse_webhook
from firstline.intake.errors import AlertParseError
from firstline.patterns.registry import PatternLoadError, PatternRegistry
from firstline.scenarios.loader import ScenarioError, discover, load_bundle
from firstline.sources.promql import escape_label_value, render_template
from firstline.store.action_log import ActionLog
from firstline.store.database import Database
from firstline.store.incidents import IncidentStore, UnknownIncident
from firstline.wiring.settings import SettingsError, load_settings
from tests.conftest import OOM, SCENARIOS
from tests.unit.builders import action


def test_alertmanager_payload_is_normalised() -> None:
    payload = json.loads((OOM / "alert.json").read_text())
    [parsed] = parse_webhook(payload)
    assert parsed.name == "KubePodCrashLooping"
    assert parsed.fingerprint == "a1b2c3d4e5f60718", "Alertmanager's fingerprint wins"
    assert parsed.ends_at is None, "0001-01-01 means no end"
    assert parsed.raw == payload["alerts"][0]
    assert parsed.service == "checkout"


def test_fingerprint_is_a_stable_label_hash_when_absent() -> None:
    base = {"startsAt": "2026-01-01T00:00:00Z"}
    a = parse_webhook({"alerts": [{**base, "labels": {"alertname": "X", "a": "1", "b": "2"}}]})
    b = parse_webhook({"alerts": [{**base, "labels": {"b": "2", "alertname": "X", "a": "1"}}]})
    assert a[0].fingerprint == b[0].fingerprint
    c = parse_webhook({"alerts": [{**base, "labels": {"alertname": "X", "a": "2", "b": "2"}}]})
    assert c[0].fingerprint != a[0].fingerprint


def test_missing_alert_file_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(AlertParseError, match="no such file"):
        load_webhook_file(tmp_path / "missing.json")


def test_every_bundled_scenario_loads() -> None:
    paths = discover(SCENARIOS)
    assert len(paths) >= 1
    for path in paths:
        bundle = load_bundle(path)
        assert bundle.spec.expected.pattern


def test_bundle_errors_name_the_field(oom_bundle: Path) -> None:
    spec = oom_bundle / "scenario.yaml"
    spec.write_text(spec.read_text().replace('now: "2026-03-04T14:07:00Z"', 'now: "tomorrow"'))
    with pytest.raises(ScenarioError, match="now"):
        load_bundle(oom_bundle)


def test_bundle_without_alert(oom_bundle: Path) -> None:
    (oom_bundle / "alert.json").unlink()
    with pytest.raises(ScenarioError, match=r"alert\.json: no such file"):
        load_bundle(oom_bundle)


def test_bundle_rejects_unknown_fields(oom_bundle: Path) -> None:
    spec = oom_bundle / "scenario.yaml"
    spec.write_text(spec.read_text() + "surprise: true\n")
    with pytest.raises(ScenarioError, match="surprise"):
        load_bundle(oom_bundle)


def test_discover_on_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no scenarios"):
        discover(tmp_path)


def _store(database: Database) -> IncidentStore:
    store = IncidentStore(database)
    store.create("inc-1", "X", "fp", None)
    return store


def test_unknown_incident(database: Database) -> None:
    with pytest.raises(UnknownIncident, match="inc-2"):
        _store(database).summary("inc-2")


def test_action_keys_are_claimed_once_across_threads(database: Database) -> None:
    _store(database)
    wins: list[bool] = []
    act = action()

    def claim() -> None:
        wins.append(ActionLog(database).begin_action("k1", "inc-1", act))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 7 + [True]
    ledger = ActionLog(database)
    ledger.finish_action("k1", ActionStatus.SUCCEEDED, "done")
    entry = ledger.entry("k1")
    assert entry is not None and entry.status == "succeeded" and entry.finished_at


def test_first_approval_decision_wins(database: Database) -> None:
    store = _store(database)
    now = datetime.now(UTC)
    record, created = store.open_approval("inc-1", 1, now, now + timedelta(hours=1))
    again, created_again = store.open_approval("inc-1", 1, now + timedelta(minutes=5), now)
    assert created and not created_again and again.expires_at == record.expires_at
    first = store.claim_decision("inc-1", 1, approved=True, by="a", channel="cli", comment="")
    second = store.claim_decision("inc-1", 1, approved=False, by="b", channel="cli", comment="")
    assert (first, second) == (True, False)
    decided = store.approval("inc-1")
    assert decided is not None and decided.decided_by == "a" and decided.approved


def test_timeline_appends_are_idempotent(database: Database) -> None:
    from firstline.domain.incident import TimelineEntry

    store = _store(database)
    entry = TimelineEntry(key="0001-x", at=datetime.now(UTC), stage="x", event="e")
    store.append_timeline("inc-1", [entry])
    store.append_timeline("inc-1", [entry])
    assert len(store.timeline("inc-1")) == 1


def test_settings_file_environment_and_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "f.yaml"
    config.write_text("graph:\n  max_verify_attempts: 4\n  verify_wait_seconds: 2\n")
    assert load_settings(config).graph.max_verify_attempts == 4
    monkeypatch.setenv("FIRSTLINE_GRAPH__MAX_VERIFY_ATTEMPTS", "5")
    loaded = load_settings(config)
    assert loaded.graph.max_verify_attempts == 5, "environment beats the file"
    assert loaded.graph.verify_wait_seconds == 2, "unrelated file values survive"
    config.write_text("graph:\n  max_verify_attempts: zero\n")
    monkeypatch.delenv("FIRSTLINE_GRAPH__MAX_VERIFY_ATTEMPTS")
    with pytest.raises(SettingsError, match=r"graph\.max_verify_attempts"):
        load_settings(config)


def test_promql_values_are_escaped_not_spliced() -> None:
    assert escape_label_value('a"b\\c') == 'a\\"b\\\\c'
    rendered = render_template('up{service="$service"}', {"service": '"} or vector(1) or {x="'})
    assert rendered == 'up{service="\\"} or vector(1) or {x=\\""}'
    assert render_template('up{job="$job"}', {}) == 'up{job=""}'


def test_user_patterns_load_from_a_directory(tmp_path: Path) -> None:
    (tmp_path / "my_pattern.py").write_text(
        "from firstline.patterns.library.oom_kill_loop import OomKillLoop\n"
        "class Mine(OomKillLoop):\n    id = 'my_pattern'\nPATTERN = Mine()\n"
    )
    registry = PatternRegistry.load(tmp_path)
    assert registry.get("my_pattern") is not None
    assert registry.get("oom_kill_loop") is not None


def test_a_user_pattern_may_use_dataclasses(tmp_path: Path) -> None:
    """A user file runs as a module registered in sys.modules, as `import` would: a
    @dataclass under postponed annotations looks its module up there while it is made."""
    (tmp_path / "with_dataclass.py").write_text(
        "from __future__ import annotations\n"
        "from dataclasses import dataclass\n"
        "from firstline.patterns.library.oom_kill_loop import OomKillLoop\n"
        "@dataclass(frozen=True)\nclass Finding:\n    pod: str\n"
        "class Mine(OomKillLoop):\n    id = 'with_dataclass'\nPATTERN = Mine()\n"
    )
    assert PatternRegistry.load(tmp_path).get("with_dataclass") is not None


def test_a_broken_user_pattern_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("raise RuntimeError('oops')\n")
    with pytest.raises(PatternLoadError, match=r"broken\.py.*oops"):
        PatternRegistry.load(tmp_path)
    (tmp_path / "broken.py").write_text("x = 1\n")
    with pytest.raises(PatternLoadError, match="no PATTERN"):
        PatternRegistry.load(tmp_path)


def test_the_component_skips_exporter_labels() -> None:
    from tests.unit.builders import alert

    ksm = alert(
        "KubePodCrashLooping", service="kube-prometheus-stack-kube-state-metrics",
        job="kube-state-metrics", pod="notification-worker-6b8c7d9f4-x2k9p", container="worker",
    )  # fmt: skip
    assert ksm.service == "notification-worker"
    assert alert("X", service="checkout").service == "checkout"
    assert alert("X", service="", deployment="cart", pod="cart-abc").service == "cart"
    db = alert("X", service="", pod="orders-db-0")
    assert db.service == "orders-db"
