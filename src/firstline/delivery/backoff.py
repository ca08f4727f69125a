"""How long to wait before the next try."""

from __future__ import annotations

import random

from firstline.notify.settings import DeliverySettings


def backoff_seconds(attempt: int, settings: DeliverySettings, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter": half the step is fixed, half random, so
    retries spread out (no thundering herd after an outage) yet never come back at once.
    `attempt` is the number of attempts made so far (1 after the first failure)."""
    growth: float = 2.0 ** (attempt - 1)
    step = min(settings.max_backoff_seconds, settings.initial_backoff_seconds * growth)
    return step / 2 + rng.uniform(0, step / 2)


def next_delay(
    attempt: int, retry_after: float | None, settings: DeliverySettings, rng: random.Random
) -> float:
    """A vendor's Retry-After wins (capped), since it knows when it will take us again."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), settings.max_retry_after_seconds)
    return backoff_seconds(attempt, settings, rng)
