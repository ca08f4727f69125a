"""Alertmanager as an AlertBackend."""

from __future__ import annotations

from firstline.domain.alert import Alert, AlertStatus
from firstline.domain.evidence import EvidenceStatus, Provenance, RelatedAlertsEvidence
from firstline.domain.query import QueryScope
from firstline.sources.alertmanager.client import AlertmanagerClient, GettableAlert, matcher
from firstline.sources.errors import SourceError
from firstline.sources.settings import AlertmanagerSettings

SOURCE = "alertmanager"


def _to_alert(item: GettableAlert) -> Alert:
    return Alert(
        source=SOURCE,
        name=item.labels.get("alertname", "unnamed"),
        status=AlertStatus.FIRING,
        labels=item.labels,
        annotations=item.annotations,
        starts_at=item.starts_at,
        fingerprint=item.fingerprint,
        generator_url=item.generator_url,
    )


class AlertmanagerBackend:
    name = SOURCE

    def __init__(
        self, settings: AlertmanagerSettings, client: AlertmanagerClient | None = None
    ) -> None:
        self.settings = settings
        self.client = client or AlertmanagerClient(settings)

    def _shared(self, alert: Alert) -> dict[str, str]:
        return {k: alert.labels[k] for k in self.settings.related_by if alert.labels.get(k)}

    async def related_alerts(self, scope: QueryScope) -> RelatedAlertsEvidence:
        """Other active alerts sharing any of the `related_by` label values. Filters in the
        API are ANDed, so one request per shared label, merged by fingerprint."""
        alert = scope.alert
        shared = self._shared(alert)
        filters = [matcher(k, v) for k, v in shared.items()]
        provenance = Provenance(
            source=SOURCE,
            query="GET /api/v2/alerts?active=true " + " | ".join(f"filter={f}" for f in filters),
            start=scope.start,
            end=scope.end,
        )
        if not shared:
            return RelatedAlertsEvidence(
                id="related_alerts", provenance=provenance, status=EvidenceStatus.NO_DATA,
                reason=f"the alert has none of the labels {', '.join(self.settings.related_by)}",
            )  # fmt: skip
        found: dict[str, GettableAlert] = {}
        try:
            for f in filters:
                for item in await self.client.alerts([f]):
                    found.setdefault(item.fingerprint, item)
        except SourceError as exc:
            return RelatedAlertsEvidence(
                id="related_alerts", provenance=provenance, status=EvidenceStatus.ERROR,
                reason=str(exc),
            )  # fmt: skip
        found.pop(alert.fingerprint, None)
        others = [_to_alert(i) for i in found.values() if i.labels.get("alertname") != alert.name
                  or i.labels != alert.labels]  # fmt: skip
        return RelatedAlertsEvidence(
            id="related_alerts",
            provenance=provenance,
            alerts=sorted(others, key=lambda a: a.starts_at),
        )

    async def alert_firing(self, alert: Alert) -> bool | None:
        filters = [matcher("alertname", alert.name)]
        try:
            # a silenced alert still fires: muting is not fixing
            active = await self.client.alerts(filters, include_muted=True)
        except SourceError:
            return None
        return any(a.fingerprint == alert.fingerprint or a.labels == alert.labels for a in active)

    async def probe(self) -> str:
        return await self.client.version()
