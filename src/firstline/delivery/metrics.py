"""Plain counters for /metrics. The HTTP server mirrors them into prometheus-client by
subscribing a listener (see docs/notifications.md), so this package needs no registry."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

# outcome: delivered | retry | failed
Listener = Callable[[str, str], None]


@dataclass
class DeliveryCounters:
    attempts: Counter[tuple[str, str]] = field(default_factory=Counter)
    listeners: list[Listener] = field(default_factory=list)

    def record(self, notifier: str, outcome: str) -> None:
        self.attempts[(notifier, outcome)] += 1
        for listener in self.listeners:
            listener(notifier, outcome)

    def count(self, notifier: str | None = None, outcome: str | None = None) -> int:
        return sum(
            n
            for (name, result), n in self.attempts.items()
            if (notifier is None or name == notifier) and (outcome is None or result == outcome)
        )
