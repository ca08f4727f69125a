"""Metric queries shared by several patterns. A query's `name` is the contract with scenario
bundles (metrics are keyed by it) and with reports; its PromQL is what a real Prometheus
source runs. Placeholders ($namespace, $service, $pod, $instance, $node, $job) are
filled with escaped alert label values."""

from __future__ import annotations

from firstline.domain.query import MetricQuery

_SVC = 'namespace="$namespace",service="$service"'
_POD = 'namespace="$namespace",pod=~"$service-.*"'

ERROR_RATE = MetricQuery(
    name="error_rate",
    unit="ratio",
    promql=(
        f'sum(rate(http_requests_total{{{_SVC},code=~"5.."}}[5m]))'
        f" / sum(rate(http_requests_total{{{_SVC}}}[5m]))"
    ),
    description="Share of requests answered with 5xx.",
)
LATENCY_P99 = MetricQuery(
    name="latency_p99",
    unit="seconds",
    promql=(
        "histogram_quantile(0.99, sum by (le) "
        f"(rate(http_request_duration_seconds_bucket{{{_SVC}}}[5m])))"
    ),
    description="99th percentile request latency.",
)
REQUEST_RATE = MetricQuery(
    name="request_rate",
    unit="req/s",
    promql=f"sum(rate(http_requests_total{{{_SVC}}}[5m]))",
    description="Requests per second.",
)
MEMORY_WORKING_SET = MetricQuery(
    name="memory_working_set",
    unit="bytes",
    promql=f'max(container_memory_working_set_bytes{{{_POD},container!=""}})',
    description="Largest container working set of the workload's pods.",
)
MEMORY_LIMIT = MetricQuery(
    name="memory_limit",
    unit="bytes",
    promql=f'max(kube_pod_container_resource_limits{{{_POD},resource="memory"}})',
)
CPU_USAGE = MetricQuery(
    name="cpu_usage",
    unit="cores",
    promql=f"sum(rate(container_cpu_usage_seconds_total{{{_POD}}}[5m]))",
)
CPU_THROTTLED = MetricQuery(
    name="cpu_throttled_ratio",
    unit="ratio",
    promql=(
        f"sum(rate(container_cpu_cfs_throttled_periods_total{{{_POD}}}[5m]))"
        f" / sum(rate(container_cpu_cfs_periods_total{{{_POD}}}[5m]))"
    ),
)
RESTARTS = MetricQuery(
    name="restarts",
    unit="restarts",
    promql=f"sum(increase(kube_pod_container_status_restarts_total{{{_POD}}}[15m]))",
)
NODE_CPU = MetricQuery(
    name="node_cpu_utilisation",
    unit="ratio",
    promql='1 - avg(rate(node_cpu_seconds_total{mode="idle",instance=~"$instance.*"}[5m]))',
)
