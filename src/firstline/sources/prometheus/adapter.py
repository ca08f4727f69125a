"""Prometheus as a MetricBackend: range data for the pattern library's queries, and the
alert's own rule re-evaluated for verification."""

from __future__ import annotations

import math
from datetime import datetime
from urllib.parse import parse_qs, urlparse

from firstline.domain.alert import Alert
from firstline.domain.evidence import EvidenceStatus, MetricEvidence, MetricPoint, Provenance
from firstline.domain.query import MetricQuery, QueryScope
from firstline.sources.errors import SourceError
from firstline.sources.prometheus.client import PrometheusClient, Series
from firstline.sources.promql import render_template
from firstline.sources.settings import PrometheusSettings

SOURCE = "prometheus"
# Labels Prometheus adds to an alert that are not in the rule's result series.
_ALERT_ONLY_LABELS = {"alertname", "severity"}


def choose_step(start: datetime, end: datetime, settings: PrometheusSettings) -> float:
    """The smallest step that keeps a series under max_points, never below min_step."""
    window = max((end - start).total_seconds(), 1.0)
    return max(settings.min_step_seconds, math.ceil(window / settings.max_points))


def _pick(series: list[Series]) -> tuple[Series, str | None]:
    """One series per query: the templates aggregate, but if several come back, show the one
    with the highest latest value (the worst) and say so."""
    ranked = sorted(series, key=lambda s: s.points[-1][1] if s.points else -math.inf, reverse=True)
    note = f"{len(series)} series returned; showing the highest" if len(series) > 1 else None
    return ranked[0], note


class PrometheusBackend:
    name = SOURCE

    def __init__(
        self, settings: PrometheusSettings, client: PrometheusClient | None = None
    ) -> None:
        self.settings = settings
        self.client = client or PrometheusClient(settings)

    async def metric(self, query: MetricQuery, scope: QueryScope) -> MetricEvidence:
        promql = render_template(query.promql, scope.placeholders())
        step = choose_step(scope.start, scope.end, self.settings)
        provenance = Provenance(
            source=SOURCE, query=f"{promql} [step {step:g}s]", start=scope.start, end=scope.end
        )
        base = {"id": f"metric:{query.name}", "name": query.name, "unit": query.unit}
        try:
            series = await self.client.query_range(promql, scope.start, scope.end, step)
        except SourceError as exc:
            return MetricEvidence(
                **base, provenance=provenance, status=EvidenceStatus.ERROR, reason=str(exc)
            )
        series = [s for s in series if s.points]
        if not series:
            return MetricEvidence(
                **base, provenance=provenance, status=EvidenceStatus.NO_DATA,
                reason="the query returned no series in the window",
            )  # fmt: skip
        chosen, note = _pick(series)
        points = [MetricPoint(ts=t, value=v) for t, v in chosen.points if math.isfinite(v)]
        return MetricEvidence(
            **base, provenance=provenance, labels=chosen.labels, points=points, reason=note
        )

    async def rule_expression(self, alert: Alert) -> str | None:
        """The expression that fired: from the rules API, else from the generatorURL."""
        try:
            rules = await self.client.alerting_rules()
        except SourceError:
            rules = []
        for rule in rules:
            if rule.name == alert.name and all(
                alert.labels.get(k) == v for k, v in rule.labels.items()
            ):
                return rule.query
        if alert.generator_url:
            expr = parse_qs(urlparse(alert.generator_url).query).get("g0.expr")
            if expr:
                return expr[0]
        return None

    async def alert_condition_holds(self, alert: Alert) -> bool | None:
        expr = await self.rule_expression(alert)
        if expr is None:
            return None
        try:
            series = await self.client.query(expr)
        except SourceError:
            return None
        wanted = {k: v for k, v in alert.labels.items() if k not in _ALERT_ONLY_LABELS}
        return any(
            all(s.labels.get(k) == v for k, v in wanted.items() if k in s.labels) for s in series
        )

    async def probe(self) -> str:
        return await self.client.build_info()
