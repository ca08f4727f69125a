"""The series names firstline exposes, read from a live registry (not a list kept here), and
the metric names a PromQL expression reads, parsed with promql-parser."""

from __future__ import annotations

import re
from typing import Any

import promql_parser
from prometheus_client import CollectorRegistry

from firstline.delivery.metrics import DeliveryCounters
from firstline.delivery.prometheus import register_delivery_metrics
from firstline.knowledge.promql import children
from firstline.service.metrics import ServiceMetrics

_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gauge": ("",),
    "info": ("_info",),
}
# Grafana's own interval variables, substituted as Grafana does before Prometheus sees them.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


class _NoOutbox:
    def counts(self) -> dict[str, int]:
        return {}


def registries() -> list[CollectorRegistry]:
    metrics = ServiceMetrics(
        queue_depth=dict, audit_head=lambda: None, oldest_queued_at=lambda: None
    )
    register_delivery_metrics(DeliveryCounters(), _NoOutbox(), metrics.registry)  # type: ignore[arg-type]
    return [metrics.registry]


def series_types() -> dict[str, str]:
    """Every series name firstline exposes -> its family's type."""
    found: dict[str, str] = {}
    for registry in registries():
        for family in registry.collect():
            for suffix in _SUFFIXES[family.type]:
                found[family.name + suffix] = family.type
    return found


def substitute(expression: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expression = expression.replace(variable, value)
    assert "$" not in expression, f"an unknown variable in {expression!r}"
    return expression


def parse(expression: str) -> Any:
    return promql_parser.parse(substitute(expression))


def selectors(expression: str) -> list[tuple[str, str | None]]:
    """(metric name, the range function applied to it or None) for every selector."""
    found: list[tuple[str, str | None]] = []
    stack: list[tuple[Any, str | None]] = [(parse(expression), None)]
    while stack:
        node, outer = stack.pop()
        if isinstance(node, promql_parser.VectorSelector):
            found.append((node.name, outer))
            continue
        if isinstance(node, promql_parser.Call):
            outer = node.func.name
        stack.extend((child, outer) for child in children(node))
    return found


def check_expression(expression: str, exposed: dict[str, str]) -> None:
    """Parses; reads only firstline's series (or Prometheus' own `up`/ALERTS); rate-like
    functions only over counters and histogram buckets, never over gauges."""
    for name, function in selectors(expression):
        assert name, f"a selector without a metric name in {expression!r}"
        if not name.startswith("firstline_"):
            continue
        assert name in exposed, f"{name} is not a series firstline exposes ({expression!r})"
        if function in {"rate", "irate", "increase"}:
            assert re.search(r"_(total|bucket|sum|count)$", name), f"{function} of gauge {name}"
            assert exposed[name] in {"counter", "histogram"}, f"{function} of {name}"
        if function == "histogram_quantile":
            assert name.endswith("_bucket")
