"""connection_pool_exhaustion: callers time out waiting for a connection from a full pool."""

from __future__ import annotations

from firstline.domain.action import Risk
from firstline.patterns.library.connection_pool_exhaustion import PATTERN

from .builders_a import (
    action_types,
    alert,
    bundle_verdict,
    evaluate,
    evidence,
    hypothesis,
    logs,
    ruled_out,
    ruled_out_or_weak,
    series,
    targets,
)

_APP = {"app": "cart", "pod": "cart-7f9-abc"}


def test_bundle_app_side_leak_restarts_the_app() -> None:
    _, _, verdict = bundle_verdict("connection-pool-leak-orders-api", PATTERN.id)
    h = hypothesis(verdict)
    assert h.pattern == "connection_pool_exhaustion"
    assert 0.9 <= h.confidence <= 0.98
    assert action_types(h) == ["restart"]
    assert targets(h) == ["deployment/orders/orders-api"]
    assert h.suggested_actions[0].risk is Risk.LOW
    assert {"logs", "metric:db_pool_active", "metric:db_pool_pending"} <= set(h.evidence_refs)


def test_bundle_idle_in_transaction_terminates_sessions_on_the_database() -> None:
    _, _, verdict = bundle_verdict("connection-pool-idle-in-transaction-billing", PATTERN.id)
    h = hypothesis(verdict)
    assert 0.85 <= h.confidence <= 0.99  # the server refusing clients counts too
    assert action_types(h) == ["terminate_db_connections"]
    assert targets(h) == ["database/billing/billing-postgres"]
    assert h.suggested_actions[0].risk is Risk.MEDIUM
    assert h.affected_components == ["billing-postgres"]
    assert "metric:db_connections_idle_in_transaction" in h.evidence_refs


def test_busy_database_without_idle_sessions_goes_to_a_person() -> None:
    ev = evidence(
        logs((-5, "FATAL: sorry, too many clients already", _APP), repeat=5),
        series("db_connections_active", 150, to=198, labels={"server": "shop-postgres"}),
        series("db_connections_max", 200),
        series("db_connections_idle_in_transaction", 1),
    )
    h = hypothesis(evaluate(PATTERN, alert("PostgresqlTooManyConnections"), ev))
    assert h.confidence >= 0.7
    assert action_types(h) == ["manual_only"]
    assert targets(h) == ["database/shop/shop-postgres"]


def test_timeouts_in_logs_alone_are_only_plausible() -> None:
    ev = evidence(
        logs((-5, "HikariPool-1 - Connection is not available, request timed out", _APP), repeat=4)
    )
    h = hypothesis(evaluate(PATTERN, alert("HighLatency"), ev))
    assert 0.4 <= h.confidence <= 0.7


def test_latency_without_pool_signals_is_ruled_out() -> None:
    ev = evidence(
        series("latency_p99", 0.2, to=2.5, unit="seconds"),
        series("db_pool_active", 12),
        series("db_pool_max", 40),
        logs((-5, "GET /cart 200 2300ms", _APP), repeat=10),
    )
    out = ruled_out(evaluate(PATTERN, alert("HighLatency"), ev))
    assert out.confidence < 0.2
    assert "no connection timeouts" in out.reason


def test_pool_near_max_under_load_without_timeouts_stays_weak() -> None:
    ev = evidence(series("db_pool_active", 30, to=39), series("db_pool_max", 40))
    assert ruled_out_or_weak(evaluate(PATTERN, alert("HighLatency"), ev), below=0.5)
