"""Evidence gathering against the real Prometheus and Loki-API server (qryn on chdb).

One incident needing 10 queries (9 PromQL range queries + 1 LogQL query_range), gathered
concurrently, repeated; each query is also timed alone. Prints median and p95 gather time
and the overhead ratio (gather wall time / slowest single query of the same round).

    .venv/bin/python benchmarks/gather.py [--rounds 30]

Needs `make test-services` (Prometheus from Debian, qryn from npm).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.services.loki import start_loki
from tests.services.prometheus import start_monitoring
from tests.unit.builders import alert

from firstline.detection.detectors import get_detector
from firstline.domain.query import MetricQuery, QueryScope
from firstline.graph.gathering import gather
from firstline.sources.composite import CompositeSource
from firstline.sources.loki.adapter import LokiBackend
from firstline.sources.prometheus.adapter import PrometheusBackend
from firstline.sources.settings import LokiSettings, PrometheusSettings

SEL = 'namespace="$namespace",service="$service"'
QUERIES = [
    MetricQuery(name=f"q{i}", promql=expr)
    for i, expr in enumerate(
        [
            f"sum(rate(http_requests_total{{{SEL}}}[1m]))",
            f'sum(rate(http_requests_total{{{SEL},code=~"5.."}}[1m]))',
            f"sum by (code) (rate(http_requests_total{{{SEL}}}[1m]))",
            f"max(firstline_test_queue_depth{{{SEL}}})",
            f"avg_over_time(firstline_test_queue_depth{{{SEL}}}[1m])",
            "sum(up)",
            "count(up == 1)",
            "sum(rate(prometheus_http_requests_total[1m]))",
            "sum(process_resident_memory_bytes)",
        ]
    )
]


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


async def run(rounds: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="firstline-bench-"))
    monitoring = start_monitoring(work / "prom")
    loki = start_loki(work / "loki")
    try:
        now = datetime.now(UTC)
        monitoring.exporter.requests.labels("bench", "cart", "200").inc(100)
        monitoring.exporter.queue_depth.labels("bench", "cart").set(7)
        loki.push(
            {"namespace": "bench", "service": "cart"},
            [
                (now - timedelta(seconds=i / 10), f"request {i} failed: timeout")
                for i in range(2000)
            ],
        )
        loki.wait_for_lines(
            '{namespace="bench"}', now - timedelta(hours=1), now + timedelta(seconds=5), 2000
        )
        source = CompositeSource(
            metrics=PrometheusBackend(PrometheusSettings(url=monitoring.prometheus_url)),
            log_backend=LokiBackend(LokiSettings(url=loki.url)),
        )
        detector = get_detector("robust_shift")
        walls, ratios, slowest = [], [], []
        for _ in range(rounds):
            end = datetime.now(UTC)
            scope = QueryScope(alert=alert(namespace="bench", service="cart"), namespace="bench",
                               service="cart", start=end - timedelta(hours=1), end=end)  # fmt: skip
            singles = []
            for query in QUERIES:
                started = time.perf_counter()
                await source.metric(query, scope)
                singles.append(time.perf_counter() - started)
            started = time.perf_counter()
            await source.logs(scope)
            singles.append(time.perf_counter() - started)
            started = time.perf_counter()
            await gather(source, scope, QUERIES, detector)
            wall = time.perf_counter() - started
            walls.append(wall)
            slowest.append(max(singles))
            ratios.append(wall / max(singles))
        table = Table(title=f"Gather: 10 queries (9 PromQL + 1 LogQL), {rounds} rounds")
        for column in ("measure", "median", "p95"):
            table.add_column(column, justify="right")
        table.add_row("gather wall time (ms)", f"{statistics.median(walls) * 1000:.0f}",
                      f"{p95(walls) * 1000:.0f}")  # fmt: skip
        table.add_row("slowest single query (ms)", f"{statistics.median(slowest) * 1000:.0f}",
                      f"{p95(slowest) * 1000:.0f}")  # fmt: skip
        table.add_row("overhead ratio (wall / slowest)", f"{statistics.median(ratios):.2f}",
                      f"{p95(ratios):.2f}")  # fmt: skip
        Console().print(table)
    finally:
        monitoring.stop()
        loki.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    asyncio.run(run(parser.parse_args().rounds))


if __name__ == "__main__":
    main()
