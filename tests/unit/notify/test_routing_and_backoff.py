"""Routing rules, backoff and Retry-After parsing."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from firstline.delivery.backoff import backoff_seconds, next_delay
from firstline.notify.base import Notification
from firstline.notify.http import retry_after_seconds
from firstline.notify.routing import Router
from firstline.notify.settings import DeliverySettings, RoutingRule, RoutingSettings

ALL = ["pagerduty", "slack", "email"]


def _note(severity: str = "critical", kind: str = "escalation", **labels: str) -> Notification:
    return Notification(incident_id="i", kind=kind, severity=severity, title="t", body="b",
                        labels=labels)  # fmt: skip


def test_without_rules_everything_goes_everywhere() -> None:
    assert Router(RoutingSettings(), ALL).select(_note()) == ALL


def test_rules_choose_by_severity_team_labels_and_kind() -> None:
    router = Router(
        RoutingSettings(
            rules=[
                RoutingRule(severities=["critical"], teams=["payments"], notifiers=["pagerduty"]),
                RoutingRule(labels={"env": "prod"}, notifiers=["slack"]),
                RoutingRule(kinds=["resolved"], notifiers=["email"], stop=True),
                RoutingRule(notifiers=["pagerduty"]),
            ],
            default_notifiers=["email"],
        ),
        ALL,
    )
    assert router.select(_note("critical", team="payments", env="prod")) == ["pagerduty", "slack"]
    assert router.select(_note("low", team="payments")) == ["pagerduty"]  # the catch-all
    assert router.select(_note("critical", kind="resolved", team="search")) == ["email"]


def test_default_notifiers_when_nothing_matches() -> None:
    router = Router(
        RoutingSettings(rules=[RoutingRule(severities=["critical"], notifiers=["pagerduty"])],
                        default_notifiers=["email"]), ALL,
    )  # fmt: skip
    assert router.select(_note("low")) == ["email"]


def test_a_rule_naming_an_unconfigured_notifier_is_refused() -> None:
    with pytest.raises(ValueError, match="pagerdty"):
        Router(RoutingSettings(rules=[RoutingRule(notifiers=["pagerdty"])]), ALL)


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    settings = DeliverySettings(initial_backoff_seconds=1, max_backoff_seconds=10)
    rng = random.Random(1)
    for attempt, step in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 10), (9, 10)]:
        delays = [backoff_seconds(attempt, settings, rng) for _ in range(200)]
        assert all(step / 2 <= d <= step for d in delays)
        assert max(delays) - min(delays) > step / 4, "jittered, not fixed"


def test_retry_after_wins_but_is_capped() -> None:
    settings = DeliverySettings(max_retry_after_seconds=60)
    rng = random.Random(1)
    assert next_delay(1, 7, settings, rng) == 7
    assert next_delay(1, 7200, settings, rng) == 60


def test_retry_after_header_forms() -> None:
    now = datetime(2026, 11, 26, 3, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Thu, 26 Nov 2026 03:00:30 GMT", now) == 30
    assert retry_after_seconds("garbage") is None
    assert retry_after_seconds(None) is None
