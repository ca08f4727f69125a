"""Stores with incidents in them, made the way intake makes them (one delivery each)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firstline.domain.alert import Alert, AlertStatus, fingerprint_labels
from firstline.intake.grouping import group_key
from firstline.store.intake import IntakeStore

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
GROUP_BY = ("alertname", "namespace", "service")


def alert(service: str, *, status: AlertStatus = AlertStatus.FIRING) -> Alert:
    labels = {"alertname": "HighErrorRate", "namespace": "shop", "service": service}
    return Alert(
        source="alertmanager", name="HighErrorRate", status=status, labels=labels,
        starts_at=T0, fingerprint=fingerprint_labels(labels),
    )  # fmt: skip


def ingest_incidents(
    intake: IntakeStore, count: int, *, at: datetime = T0, prefix: str = "svc"
) -> list[str]:
    """`count` incidents, one alert each, opened one second apart; their ids, oldest first."""
    ids = []
    for n in range(count):
        a = alert(f"{prefix}-{n}")
        result = intake.ingest(
            [a], [group_key(a, GROUP_BY)], now=at + timedelta(seconds=n),
            group_window=timedelta(hours=1),
        )  # fmt: skip
        ids.append(result.incidents[0])
    return ids
