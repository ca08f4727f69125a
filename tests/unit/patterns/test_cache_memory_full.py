"""cache_memory_full: Redis/Memcached at its memory limit, evicting or refusing writes."""

from __future__ import annotations

from firstline.domain.alert import Alert
from firstline.patterns.library.cache_memory_full import PATTERN

from .builders_a import (
    action_types,
    alert,
    bundle_verdict,
    evaluate,
    evidence,
    hypothesis,
    logs,
    ruled_out_or_weak,
    series,
    targets,
)

MIB = 1024**2
OOM = "SET session:1 failed: OOM command not allowed when used memory > 'maxmemory'."
REDIS_LABELS = {"instance": "10.0.0.5:9121", "pod": "sessions-cache-0"}


def _alert(name: str = "RedisOutOfConfiguredMaxmemory") -> Alert:
    return alert(name, service=None, **REDIS_LABELS)


def test_bundle_maxmemory_noeviction_escalates_with_steps_on_the_cache() -> None:
    _, _, verdict = bundle_verdict("cache-maxmemory-noeviction-sessions", PATTERN.id)
    h = hypothesis(verdict)
    assert h.confidence >= 0.9
    assert h.affected_components == ["sessions-cache"]
    assert "refuses writes" in h.cause
    # no purge of a guessed prefix: a person picks the keys
    assert action_types(h) == ["manual_only"]
    assert targets(h) == ["cache/shop/sessions-cache"]
    assert any("--memkeys" in step for step in h.suggested_actions[0].steps)
    assert {"metric:cache_memory_used_bytes", "logs"} <= set(h.evidence_refs)


def test_at_maxmemory_without_refused_writes_is_still_the_cause() -> None:
    ev = evidence(
        series("cache_memory_used_bytes", 300 * MIB, to=505 * MIB, unit="bytes"),
        series("cache_memory_max_bytes", 512 * MIB, unit="bytes"),
        series("cache_evicted_keys_rate", 0.0, to=40.0, unit="keys/s"),
    )
    h = hypothesis(evaluate(PATTERN, _alert(), ev))
    assert h.confidence >= 0.6
    assert "evicts" in h.cause and "refuses" not in h.cause
    assert any("evicts keys" in s for s in h.signals)


def test_refused_writes_in_logs_alone_point_at_the_cache() -> None:
    ev = evidence(logs((-3, OOM, {"app": "storefront"}), repeat=5))
    h = hypothesis(evaluate(PATTERN, alert("HighErrorRate", service="storefront"), ev))
    assert h.confidence >= 0.6
    assert "refuses writes" in h.cause


def test_host_memory_counts_when_no_maxmemory_is_set() -> None:
    ev = evidence(
        series("cache_memory_used_bytes", 7000 * MIB, to=7600 * MIB, unit="bytes"),
        series("cache_memory_max_bytes", 0.0, unit="bytes"),
        series("cache_system_memory_bytes", 8000 * MIB, unit="bytes"),
    )
    h = hypothesis(evaluate(PATTERN, _alert("RedisOutOfSystemMemory"), ev))
    assert h.confidence >= 0.6
    assert any("of the host's memory" in s for s in h.signals)


def test_a_roomy_cache_is_ruled_out_even_when_the_alert_names_memory() -> None:
    ev = evidence(
        series("cache_memory_used_bytes", 120 * MIB, unit="bytes"),
        series("cache_memory_max_bytes", 512 * MIB, unit="bytes"),
    )
    assert ruled_out_or_weak(evaluate(PATTERN, _alert(), ev), below=0.3)


def test_the_cache_is_named_from_the_exporter_address_when_there_is_no_pod() -> None:
    ev = evidence(logs((-3, OOM, {"app": "storefront"}), repeat=5))
    labelled = alert(
        "RedisOutOfConfiguredMaxmemory",
        service=None,
        instance="redis-exporter:9121",
        addr="redis://carts-redis.shop.svc:6379",
    )
    h = hypothesis(evaluate(PATTERN, labelled, ev))
    assert h.affected_components == ["carts-redis"]
