"""Which notifiers get a notification: rules on severity, labels, team and event kind."""

from __future__ import annotations

from collections.abc import Sequence

from firstline.errors import InvalidValue
from firstline.notify.base import Notification
from firstline.notify.settings import RoutingRule, RoutingSettings


def rule_matches(rule: RoutingRule, notification: Notification, team_label: str) -> bool:
    labels = notification.labels
    return (
        (not rule.severities or notification.severity in rule.severities)
        and (not rule.kinds or notification.kind in rule.kinds)
        and (not rule.teams or labels.get(team_label) in rule.teams)
        and all(labels.get(k) == v for k, v in rule.labels.items())
    )


class Router:
    def __init__(self, settings: RoutingSettings, available: Sequence[str]) -> None:
        unknown = {n for r in settings.rules for n in r.notifiers} | set(
            settings.default_notifiers or []
        )
        unknown -= set(available)
        if unknown:
            # a typo would silently drop pages; refuse to start instead
            raise InvalidValue(
                f"routing names notifiers that are not configured: {', '.join(sorted(unknown))}"
            )
        self.settings = settings
        self.available = list(available)

    def select(self, notification: Notification) -> list[str]:
        chosen: list[str] = []
        matched = False
        for rule in self.settings.rules:
            if rule_matches(rule, notification, self.settings.team_label):
                matched = True
                chosen.extend(n for n in rule.notifiers if n not in chosen)
                if rule.stop:
                    break
        if not matched:
            default = self.settings.default_notifiers
            chosen = list(self.available if default is None else default)
        return chosen
