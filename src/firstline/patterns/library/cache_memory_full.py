"""Cache memory full: a Redis (or Memcached) server is at its memory limit and evicts keys
or, under maxmemory-policy noeviction, refuses every write.

Typical alerts: RedisOutOfConfiguredMaxmemory and RedisOutOfSystemMemory (the
redis_exporter rules of awesome-prometheus-alerts), MemcachedMemoryUsageHigh, and the
application errors that follow. Key signals: used memory at 90% or more of maxmemory
(`redis_memory_used_bytes / redis_memory_max_bytes`; of the host's memory when no maxmemory
is set), and the clients' own error "OOM command not allowed when used memory >
'maxmemory'" (or the server counting OOM errors). Corroborating: a rising key count
(something writes keys that never expire), used memory climbing, evictions.

The fix is to delete what filled it (usually one key prefix written without a TTL) and fix
the writer. Which keys are safe to delete is the owner's knowledge: a guessed prefix can log
out every customer or drop carts. So the pattern's own proposal is manual steps on the
cache; an operator who knows the prefix declares it in a policy runbook
(docs/policy.md#runbooks) and the decision engine then judges `clear_cache` of that pattern.
"""

from __future__ import annotations

from datetime import timedelta

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity, workload_of_pod
from firstline.domain.evidence import MetricEvidence
from firstline.domain.query import MetricQuery
from firstline.patterns.base import Pattern, PatternContext, Scorecard
from firstline.patterns.library import db_common as db

_AT = 'instance="$instance"'

CACHE_MEMORY_USED = MetricQuery(
    name="cache_memory_used_bytes",
    unit="bytes",
    promql=f"max(redis_memory_used_bytes{{{_AT}}}) or max(memcached_current_bytes{{{_AT}}})",
    description="Memory the cache server uses for its data.",
)
CACHE_MEMORY_MAX = MetricQuery(
    name="cache_memory_max_bytes",
    unit="bytes",
    promql=f"max(redis_memory_max_bytes{{{_AT}}}) or max(memcached_limit_bytes{{{_AT}}})",
    description="The cache's configured memory limit (Redis maxmemory; 0: none set).",
)
CACHE_SYSTEM_MEMORY = MetricQuery(
    name="cache_system_memory_bytes",
    unit="bytes",
    promql=f"max(redis_total_system_memory_bytes{{{_AT}}})",
    description="The memory of the host Redis runs on.",
)
CACHE_KEYS = MetricQuery(
    name="cache_keys",
    unit="keys",
    promql=f"sum(redis_db_keys{{{_AT}}}) or sum(memcached_current_items{{{_AT}}})",
    description="Keys held, over every logical database.",
)
CACHE_EVICTED_RATE = MetricQuery(
    name="cache_evicted_keys_rate",
    unit="keys/s",
    promql=(
        f"sum(rate(redis_evicted_keys_total{{{_AT}}}[5m]))"
        f" or sum(rate(memcached_items_evicted_total{{{_AT}}}[5m]))"
    ),
    description="Keys evicted to make room.",
)
CACHE_OOM_ERRORS_RATE = MetricQuery(
    name="cache_oom_errors_rate",
    unit="errors/s",
    promql=f'sum(rate(redis_errors_total{{{_AT},err="OOM"}}[5m]))',
    description="Commands Redis refused for lack of memory (INFO errorstats).",
)

OOM_LINES = (
    "oom command not allowed",
    "used memory > 'maxmemory'",
    "out of memory storing object",  # memcached
    "server_error out of memory",
)
FULL = 0.90
NEARLY_FULL = 0.97
ROOMY = 0.70


def _last(metric: MetricEvidence | None) -> float | None:
    return db.recent(metric, 3)


def _climbed(metric: MetricEvidence | None) -> bool:
    """Rose by 5% or more over the last half hour (a slow fill need not look anomalous)."""
    if metric is None or len(metric.points) < 2:
        return False
    since = metric.points[-1].ts - timedelta(minutes=30)
    earlier = next(p.value for p in metric.points if p.ts >= since)
    now = _last(metric)
    return now is not None and now >= 1.05 * earlier > 0


def _fill(ctx: PatternContext) -> tuple[float | None, str]:
    """Used memory as a share of its limit (maxmemory, else the host's), and of what."""
    ev = ctx.evidence
    used = _last(ev.metric(CACHE_MEMORY_USED.name))
    limit = _last(ev.metric(CACHE_MEMORY_MAX.name))
    if used is not None and limit:
        return used / limit, "maxmemory"
    system = _last(ev.metric(CACHE_SYSTEM_MEMORY.name))
    if used is not None and system:
        return used / system, "the host's memory"
    return None, ""


def cache_name(ctx: PatternContext) -> str:
    """The cache server: its pod's workload, the exporter's `addr` host, the alerted
    workload, then the instance host (bare IPs skipped)."""
    labels = ctx.alert.labels
    if owner := workload_of_pod(labels.get("pod", "")):
        return owner
    for value in (labels.get("addr", ""), None, labels.get("instance", "")):
        if value is None:
            if workload := ctx.workload():
                return workload
            continue
        host = value.split("://")[-1].split(":")[0]
        if host and not host.replace(".", "").isdigit():
            return host.split(".")[0]
    return "redis"


class CacheMemoryFull(Pattern):
    id = "cache_memory_full"
    title = "Cache at its memory limit"
    default_severity = Severity.HIGH
    alert_names = (
        r"Redis.*(Memory|Maxmemory|OOM).*",
        r"Memcached.*(Memory|Eviction).*",
        r".*Cache.*(Full|Memory|Evict).*",
    )
    metrics = (
        CACHE_MEMORY_USED,
        CACHE_MEMORY_MAX,
        CACHE_SYSTEM_MEMORY,
        CACHE_KEYS,
        CACHE_EVICTED_RATE,
        CACHE_OOM_ERRORS_RATE,
    )
    reads = ("logs",)
    confirm_with = (
        "redis-cli INFO memory: used_memory against maxmemory, and maxmemory_policy",
        "redis-cli --bigkeys / --memkeys: which key prefix holds the memory",
    )

    def has_evidence(self, ctx: PatternContext) -> bool:
        """The alert's own words are read too (db.texts: an OOM error quoted in its
        description). So an alert understood as pointing at other causes, with no cache
        series or logs, is judged as evidence against a full cache, not as a guess."""
        return super().has_evidence(ctx) or (ctx.alert_understood and self.suggestion(ctx) is None)

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        ev = ctx.evidence
        share, of_what = _fill(ctx)
        used_metric = ev.metric(CACHE_MEMORY_USED.name)
        ref = used_metric.id if used_metric else None
        key = False
        if share is not None and share >= FULL:
            note = f"the cache uses {share:.0%} of {of_what}"
            key = card.add(True, 3.0 if share >= NEARLY_FULL else 2.5, note, ref)
        oom_lines = db.log_count(ctx, *OOM_LINES)
        if oom_lines >= 2:
            card.add(
                True,
                1.0 if key else 3.0,
                f"{oom_lines} log lines of writes refused: OOM command not allowed",
                "logs",
            )
            key = True
        oom_errors = ev.metric(CACHE_OOM_ERRORS_RATE.name)
        refusing = oom_errors is not None and (db.peak(oom_errors) or 0.0) > 0
        if refusing and oom_errors is not None:
            card.add(
                True, 1.0 if key else 2.5, "the server counts OOM-refused commands", oom_errors.id
            )
            key = True
        keys = ev.metric(CACHE_KEYS.name)
        card.add(
            key and db.rising(keys),
            0.5,
            f"the key count {keys.findings[0].sentence}" if keys and keys.findings else "",
            keys.id if keys else None,
        )
        card.add(key and _climbed(used_metric), 0.5, "used memory climbed to the limit", ref)
        evicted = ev.metric(CACHE_EVICTED_RATE.name)
        card.add(
            key and (db.peak(evicted) or 0.0) > 0,
            0.5,
            "the cache evicts keys to make room",
            evicted.id if evicted else None,
        )
        card.add(
            share is not None and share < ROOMY and not oom_lines,
            -1.0,
            f"the cache uses only {share:.0%} of {of_what}" if share is not None else "",
            ref,
        )
        card.add(not key, -2.5, "the cache is not near its memory limit and refuses no writes")
        name = cache_name(ctx)
        if oom_lines or refusing:
            cause = f"cache {name} is full (maxmemory reached) and refuses writes"
        else:
            cause = f"cache {name} is at its memory limit and evicts or will refuse writes"
        return card, cause, [name]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        name = components[0]
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                Target(kind="cache", name=name, namespace=ctx.namespace),
                rationale="which keys are safe to delete is the cache owner's knowledge; a "
                "guessed purge can drop sessions or carts (declare a proven purge as a policy "
                "runbook to have firstline propose it)",
                steps=[
                    f"redis-cli -h {name} INFO memory  # used_memory, maxmemory, maxmemory_policy",
                    f"redis-cli -h {name} --memkeys --memkeys-samples 100  # the prefix that "
                    "holds the memory",
                    f"redis-cli -h {name} --scan --pattern '<prefix>:*' | head  # then check "
                    "TTL <key>: -1 means the writer sets no expiry",
                    f"delete only that prefix: redis-cli -h {name} --scan --pattern "
                    "'<prefix>:*' | xargs -L 500 redis-cli -h " + name + " UNLINK",
                    "fix the writer: give the keys a TTL or move them to a cache with an "
                    "eviction policy (allkeys-lru)",
                    f"only if the host has room: redis-cli -h {name} CONFIG SET maxmemory <bigger>",
                ],
            )
        ]


PATTERN = CacheMemoryFull()
