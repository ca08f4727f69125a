"""PrometheusBackend against a real Prometheus (Debian package) scraping an exporter whose
values the tests set. Fault cases use a deliberately broken local HTTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firstline.domain.evidence import EvidenceStatus
from firstline.domain.query import MetricQuery, QueryScope
from firstline.sources.prometheus.adapter import PrometheusBackend, choose_step
from firstline.sources.settings import PrometheusSettings
from tests.services.prometheus import Monitoring
from tests.services.stubs import Behaviour, misbehaving_server
from tests.unit.builders import alert

pytestmark = pytest.mark.integration

QUEUE = MetricQuery(
    name="queue_depth",
    promql='firstline_test_queue_depth{namespace="$namespace",service="$service"}',
)


def scope(namespace: str, service: str, minutes: float = 5) -> QueryScope:
    now = datetime.now(UTC)
    return QueryScope(
        alert=alert(namespace=namespace, service=service),
        namespace=namespace,
        service=service,
        start=now - timedelta(minutes=minutes),
        end=now,
    )


def backend(url: str, **kw: object) -> PrometheusBackend:
    return PrometheusBackend(PrometheusSettings(url=url, **kw))  # type: ignore[arg-type]


async def test_range_query_with_provenance(monitoring: Monitoring) -> None:
    monitoring.exporter.queue_depth.labels("range", "worker").set(42)
    monitoring.wait_for(
        lambda: bool(monitoring.instant('firstline_test_queue_depth{namespace="range"}')),
        what="the gauge to be scraped",
    )
    evidence = await backend(monitoring.prometheus_url).metric(QUEUE, scope("range", "worker"))
    assert evidence.status is EvidenceStatus.OK, evidence.reason
    assert evidence.points and evidence.points[-1].value == 42
    assert evidence.labels["service"] == "worker"
    assert evidence.provenance.source == "prometheus"
    assert 'namespace="range",service="worker"' in evidence.provenance.query
    assert evidence.provenance.start is not None and evidence.provenance.end is not None


async def test_empty_result_is_no_data(monitoring: Monitoring) -> None:
    evidence = await backend(monitoring.prometheus_url).metric(QUEUE, scope("nothing", "here"))
    assert evidence.status is EvidenceStatus.NO_DATA
    assert "no series" in (evidence.reason or "")


def test_step_caps_points_per_series() -> None:
    settings_ = PrometheusSettings(url="http://x", max_points=300, min_step_seconds=15)
    now = datetime.now(UTC)
    assert choose_step(now - timedelta(hours=1), now, settings_) == 15
    day = choose_step(now - timedelta(days=1), now, settings_)
    assert day == 288 and 86400 / day <= 300


async def test_bad_promql_is_rejected_with_the_servers_reason(monitoring: Monitoring) -> None:
    broken = MetricQuery(name="broken", promql="sum(rate(x[5m])")
    evidence = await backend(monitoring.prometheus_url).metric(broken, scope("a", "b"))
    assert evidence.status is EvidenceStatus.ERROR
    assert "HTTP 400" in (evidence.reason or "") and "parse error" in (evidence.reason or "")


# Label values as they occur in the wild, and the ones that break naive splicing.
TRICKY = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=24
).filter(lambda s: s.strip() != "")


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.lists(TRICKY, min_size=12, max_size=20, unique=True))
async def test_escaped_matchers_select_exactly_the_intended_series(
    monitoring: Monitoring, values: list[str]
) -> None:
    """Each value gets its own series; a query built from the alert's label must return that
    series and only it, whatever quotes, backslashes, braces or newlines it holds."""
    namespace = f"prop-{abs(hash(tuple(values))) % 10**8}"
    for index, value in enumerate(values):
        monitoring.exporter.queue_depth.labels(namespace, value).set(index)
    monitoring.wait_for(
        lambda: (
            len(monitoring.instant(f'firstline_test_queue_depth{{namespace="{namespace}"}}'))
            == len(values)
        ),
        what="all tricky series to be scraped",
    )
    prom = backend(monitoring.prometheus_url)
    for index, value in enumerate(values):
        evidence = await prom.metric(QUEUE, scope(namespace, value))
        assert evidence.status is EvidenceStatus.OK, (value, evidence.reason)
        assert evidence.labels["service"] == value
        assert evidence.reason is None, f"more than one series matched {value!r}"
        assert evidence.points[-1].value == index


async def test_rule_expression_comes_from_the_rules_api(monitoring: Monitoring) -> None:
    prom = backend(monitoring.prometheus_url)
    expr = await prom.rule_expression(alert("WorkerQueueBacklog", severity="warning"))
    assert expr is not None and "firstline_test_queue_depth > 100" in expr


async def test_rule_expression_falls_back_to_the_generator_url(monitoring: Monitoring) -> None:
    prom = backend(monitoring.prometheus_url)
    fired = alert("NotARuleHere").model_copy(
        update={"generator_url": "http://p:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1"}
    )
    assert await prom.rule_expression(fired) == "up == 0"


async def test_alert_condition_is_re_evaluated(monitoring: Monitoring) -> None:
    prom = backend(monitoring.prometheus_url)
    fired = alert("WorkerQueueBacklog", namespace="verify", service="jobs", severity="warning")
    gauge = monitoring.exporter.queue_depth.labels("verify", "jobs")
    gauge.set(500)
    monitoring.wait_for(
        lambda: bool(monitoring.instant('firstline_test_queue_depth{namespace="verify"} > 100')),
        what="the backlog to be scraped",
    )
    assert await prom.alert_condition_holds(fired) is True
    gauge.set(3)
    monitoring.wait_for(
        lambda: not monitoring.instant('firstline_test_queue_depth{namespace="verify"} > 100'),
        what="the backlog to clear",
    )
    assert await prom.alert_condition_holds(fired) is False
    assert await prom.alert_condition_holds(alert("NoSuchRule")) is None


async def test_unreachable_prometheus_is_error_evidence() -> None:
    from tests.services.process import free_port

    prom = backend(f"http://127.0.0.1:{free_port()}", retries=3)
    evidence = await prom.metric(QUEUE, scope("a", "b"))
    assert evidence.status is EvidenceStatus.ERROR
    assert "ConnectError" in (evidence.reason or "")


async def test_5xx_is_retried_then_reported() -> None:
    behaviour = Behaviour(status=503, body=b"overloaded")
    with misbehaving_server(behaviour) as url:
        evidence = await backend(url, retries=2).metric(QUEUE, scope("a", "b"))
    assert evidence.status is EvidenceStatus.ERROR
    assert "HTTP 503" in (evidence.reason or "") and "overloaded" in (evidence.reason or "")
    assert len(behaviour.hits) == 3, "one try and two retries"


async def test_4xx_is_not_retried() -> None:
    behaviour = Behaviour(status=401, body=b'{"error": "unauthorized"}')
    with misbehaving_server(behaviour) as url:
        evidence = await backend(url, retries=3).metric(QUEUE, scope("a", "b"))
    assert "HTTP 401" in (evidence.reason or "")
    assert len(behaviour.hits) == 1


async def test_slower_than_timeout_is_error_evidence() -> None:
    behaviour = Behaviour(delay_seconds=2.0)
    with misbehaving_server(behaviour) as url:
        evidence = await backend(url, timeout_seconds=0.3, retries=0).metric(QUEUE, scope("a", "b"))
    assert evidence.status is EvidenceStatus.ERROR
    assert "timeout" in (evidence.reason or "")


@pytest.mark.parametrize(
    "body",
    [
        b"<html>proxy error</html>",
        b'{"status": "success"}',
        b'{"status": "success", "data": {"resultType": "matrix", "result": [{"values": [[1, "x"]]}]}}',
    ],
)
async def test_malformed_answers_are_error_evidence(body: bytes) -> None:
    with misbehaving_server(Behaviour(body=body)) as url:
        evidence = await backend(url).metric(QUEUE, scope("a", "b"))
    assert evidence.status is EvidenceStatus.ERROR
    assert evidence.reason
