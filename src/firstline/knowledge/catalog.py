"""The alert catalog: what well-known alerts and metrics mean, as data, and the matching.

Three kinds of entries, read from `alerts/*.yaml` and `metrics.yaml` next to this module:
- alerts by name (with aliases for the spellings different rule collections use),
- name patterns (regexes for families such as `.*CertificateExpir.*`),
- metrics (exact name, prefix or regex, optionally conditioned on a matcher value) that give
  a meaning to an alert whose name is unknown, from the expression that fired it.
An entry may name a `family` whose fields it inherits (its own fields win). `prior_for`
turns an alert into an `AlertPrior`; it never raises, whatever the alert carries.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from firstline.domain.alert import Alert
from firstline.errors import InvalidInput
from firstline.knowledge import promql
from firstline.support.yamlfile import load_yaml_mapping

DEFAULT_PATH = Path(__file__).parent
MAX_NAME_FOR_PATTERNS = 200


class CatalogError(InvalidInput):
    """The catalog files are missing, malformed or inconsistent."""


class Strength(StrEnum):
    STRONG = "strong"
    LIKELY = "likely"
    POSSIBLE = "possible"

    @property
    def rank(self) -> int:
        """Higher is stronger."""
        return {"strong": 3, "likely": 2, "possible": 1}[self.value]


class AlertKind(StrEnum):
    INCIDENT = "incident"
    HEARTBEAT = "heartbeat"  # always firing on purpose: proves the alerting pipeline works
    INHIBITOR = "inhibitor"  # fires only to silence other alerts
    INFO = "info"  # capacity or housekeeping notice, not a failure


# Evidence worth gathering. Cluster and log evidence first, then metric-query names; the
# names of metric queries firstline already runs (firstline.patterns.queries and the
# pattern modules) are kept as they are so a hint can be looked up directly.
GATHER_HINTS: dict[str, str] = {
    "pods": "the workload's pods: phase, restarts, last termination reason",
    "events": "Kubernetes events of the object and its pods",
    "logs": "the workload's recent logs",
    "previous_logs": "logs of the previous (crashed) container",
    "rollout_history": "recent rollouts, revisions and config changes of the workload",
    "node_conditions": "node conditions (Ready, MemoryPressure, DiskPressure, PIDPressure)",
    "scheduling": "pending pods and their FailedScheduling reasons, allocatable capacity",
    "resource_quotas": "ResourceQuota and LimitRange usage in the namespace",
    "job_history": "the Job/CronJob's recent runs and their pods",
    "pvc": "PersistentVolumeClaims, their capacity and binding",
    "related_alerts": "other alerts firing now for the same namespace, node or service",
    "scrape_targets": "Prometheus targets and their last scrape error",
    "monitoring_config": "Prometheus/Alertmanager configuration, reloads and rule evaluation",
    "certificates": "certificates served or stored and their expiry",
    "probe_results": "blackbox or health-check probe results",
    "dns": "DNS resolution of the dependency and the cluster DNS health",
    "db_status": "database health: up, role, replication, locks, slow queries",
    "queue_status": "broker or queue health: consumers, backlog, partitions",
    "cluster_members": "membership and leader/quorum state of a clustered system",
    "hardware": "hardware sensors, RAID, SMART or power status",
    # metric queries
    "error_rate": "share of requests answered with 5xx",
    "latency_p99": "99th percentile request latency",
    "request_rate": "requests per second",
    "memory_working_set": "container memory working set",
    "memory_limit": "container memory limit",
    "cpu_usage": "container CPU usage",
    "cpu_limit_cores": "container CPU limit",
    "cpu_throttled_ratio": "share of CFS periods throttled",
    "restarts": "container restarts",
    "node_cpu_utilisation": "node CPU utilisation",
    "node_memory": "node memory available",
    "disk_free_ratio": "filesystem free space",
    "disk_inodes_free_ratio": "filesystem free inodes",
    "disk_pv_free_ratio": "persistent volume free space",
    "cert_expiry_seconds": "seconds until a certificate expires",
    "cert_probe_success": "TLS probe success",
    "dns_coredns_up": "CoreDNS up",
    "dns_forward_failures": "CoreDNS forward failures",
    "dns_servfail_rate": "DNS SERVFAIL rate",
    "db_connections": "database connections in use",
    "db_connections_active": "active database connections",
    "db_connections_max": "database max connections",
    "db_connections_idle_in_transaction": "connections idle in a transaction",
    "db_pool_active": "client pool connections in use",
    "db_pool_max": "client pool size",
    "db_pool_pending": "client pool waiters",
    "db_replication_lag": "replication lag of replicas",
    "db_storage_used": "database data volume usage",
    "db_cpu": "database CPU usage",
    "db_long_queries": "long-running queries and locks",
    "db_checkpoints": "checkpoint and WAL write activity",
    "db_role": "primary/replica role changes",
    "cache_memory_used_bytes": "cache (Redis, Memcached) memory used",
    "cache_memory_max_bytes": "cache memory limit (Redis maxmemory)",
    "cache_evicted_keys_rate": "keys the cache evicts to make room",
    "cache_oom_errors_rate": "writes the cache refuses for lack of memory",
}

_PATTERN_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_STRENGTH_VALUES = ", ".join(s.value for s in Strength)


def _compile(regex: str) -> re.Pattern[str]:
    try:
        return re.compile(regex)
    except re.error as exc:
        raise ValueError(f"invalid regex {regex!r}: {exc}") from exc


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fields(_Strict):
    """What an entry or a family says; None means 'inherit from the family, else default'."""

    family: str | None = None
    meaning: str | None = None
    kind: AlertKind | None = None
    suggests: dict[str, Strength] | None = None
    gather: list[str] | None = None
    workload_labels: list[str] | None = None
    reporter_labels: list[str] | None = None

    @field_validator("suggests")
    @classmethod
    def _pattern_ids(cls, value: dict[str, Strength] | None) -> dict[str, Strength] | None:
        for pattern in value or {}:
            if not _PATTERN_ID.match(pattern):
                raise ValueError(f"pattern id {pattern!r} is not snake_case")
        return value

    @field_validator("gather")
    @classmethod
    def _hints(cls, value: list[str] | None) -> list[str] | None:
        unknown = [hint for hint in value or [] if hint not in GATHER_HINTS]
        if unknown:
            raise ValueError(f"unknown gather hints {unknown} (see GATHER_HINTS)")
        return value


class AlertEntry(Fields):
    aliases: list[str] = Field(default_factory=list)


class NamePattern(Fields):
    regex: str

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        _compile(value)
        return value


class MetricEntry(Fields):
    """Matches a selector by metric name: exactly one of `metric`, `prefix`, `regex`. `when`
    requires a matcher on each label that selects one of the values (`=` equal, `=~` a regex
    that matches the value)."""

    id: str
    metric: str | None = None
    prefix: str | None = None
    regex: str | None = None
    when: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("when", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _one_selector(self) -> MetricEntry:
        given = [x for x in (self.metric, self.prefix, self.regex) if x]
        if len(given) != 1:
            raise ValueError(f"metric entry {self.id!r}: give exactly one of metric, prefix, regex")
        if self.regex:
            _compile(self.regex)
        return self


class CatalogFile(_Strict):
    """One YAML file; every section optional."""

    families: dict[str, Fields] = Field(default_factory=dict)
    alerts: dict[str, AlertEntry] = Field(default_factory=dict)
    name_patterns: list[NamePattern] = Field(default_factory=list)
    metrics: list[MetricEntry] = Field(default_factory=list)


class Knowledge(_Strict):
    """An entry with its family resolved: what a match contributes."""

    meaning: str
    kind: AlertKind
    suggests: dict[str, Strength]
    gather: list[str]
    workload_labels: list[str]
    reporter_labels: list[str]


class AlertPrior(_Strict):
    """What the catalog knows about one alert. A prior for scoring, never a verdict."""

    matched_by: Literal["name", "expression", "none"]
    entry: str | None
    meaning: str
    kind: AlertKind
    suggests: dict[str, Strength]
    gather: list[str]
    workload_labels: list[str]
    reporter_labels: list[str]
    metrics: list[str]

    @property
    def known(self) -> bool:
        return self.matched_by != "none"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.\s]", "", name).lower()


def _resolve(fields: Fields, families: dict[str, Fields], where: str) -> Knowledge:
    family = Fields()
    if fields.family is not None:
        if fields.family not in families:
            raise CatalogError(f"{where}: unknown family {fields.family!r}")
        family = families[fields.family]

    def pick(name: str) -> Any:
        own = getattr(fields, name)
        return own if own is not None else getattr(family, name)

    workload = list(pick("workload_labels") or [])
    return Knowledge(
        meaning=pick("meaning") or "",
        kind=pick("kind") or AlertKind.INCIDENT,
        suggests=dict(pick("suggests") or {}),
        gather=list(pick("gather") or []),
        workload_labels=workload,
        # a label an entry names as the workload is never also the messenger
        reporter_labels=[r for r in pick("reporter_labels") or [] if r not in workload],
    )


class _Metric:
    __slots__ = ("entry", "knowledge", "regex")

    def __init__(self, entry: MetricEntry, knowledge: Knowledge) -> None:
        self.entry = entry
        self.knowledge = knowledge
        self.regex = re.compile(entry.regex) if entry.regex else None

    def tier(self, name: str) -> int | None:
        """How specifically this entry names the metric: lower is more specific; None: no."""
        entry = self.entry
        if entry.metric is not None and entry.metric == name:
            return 0
        if self.regex is not None and self.regex.fullmatch(name):
            return 100  # a regex is written to name a few metrics: more specific than a prefix
        if entry.prefix is not None and name.startswith(entry.prefix):
            return 1000 - len(entry.prefix)  # longer prefixes first
        return None

    def condition_holds(self, selector: promql.Selector) -> bool:
        for label, values in self.entry.when.items():
            if not any(_selects(m, values) for m in selector.matchers if m.label == label):
                return False
        return True


def _selects(matcher: promql.Matcher, values: list[str]) -> bool:
    if matcher.op == "=":
        return matcher.value in values
    if matcher.op == "=~":
        pattern = _matcher_regex(matcher.value)
        return pattern is not None and any(pattern.fullmatch(value) for value in values)
    return False


@lru_cache(maxsize=1024)
def _matcher_regex(value: str) -> re.Pattern[str] | None:
    """A label matcher's regex (Prometheus anchors it: fullmatch); None if Python refuses it."""
    try:
        return re.compile(value)
    except re.error:
        return None


def _families(files: list[tuple[str, CatalogFile]]) -> dict[str, Fields]:
    families: dict[str, Fields] = {}
    for where, file in files:
        for key, family in file.families.items():
            if key in families:
                raise CatalogError(f"{where}: family {key!r} defined twice")
            if family.family is not None:
                raise CatalogError(f"{where}: family {key!r} cannot itself name a family")
            families[key] = family
    return families


class Catalog:
    """Loaded, resolved entries; build with `load_catalog`."""

    def __init__(self, files: list[tuple[str, CatalogFile]]) -> None:
        self.families = _families(files)
        self.names: dict[str, tuple[str, Knowledge]] = {}
        self.patterns: list[tuple[re.Pattern[str], str, Knowledge]] = []
        self._metrics: list[_Metric] = []
        self.alias_count = 0
        for where, file in files:
            for key, entry in file.alerts.items():
                self._add_alert(where, key, entry)
            for pattern in file.name_patterns:
                knowledge = _resolve(pattern, self.families, f"{where}: name pattern")
                self.patterns.append(
                    (re.compile(pattern.regex, re.IGNORECASE), pattern.regex, knowledge)
                )
            for metric in file.metrics:
                knowledge = _resolve(metric, self.families, f"{where}: metric {metric.id}")
                self._metrics.append(_Metric(metric, knowledge))
        ids = [m.entry.id for m in self._metrics]
        if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
            raise CatalogError(f"metric entry ids defined twice: {duplicates}")

    def _add_alert(self, where: str, key: str, entry: AlertEntry) -> None:
        knowledge = _resolve(entry, self.families, f"{where}: alert {key}")
        for name in [key, *entry.aliases]:
            norm = _normalise(name)
            if norm in self.names:
                if self.names[norm][0] == key:
                    continue  # a spelling that differs only in case or separators
                raise CatalogError(
                    f"{where}: alert name {name!r} also given by {self.names[norm][0]!r}"
                )
            self.names[norm] = (key, knowledge)
            self.alias_count += name != key

    @property
    def entry_count(self) -> int:
        return len({key for key, _ in self.names.values()})

    @property
    def metric_count(self) -> int:
        return len(self._metrics)

    def knowledge(self) -> list[Knowledge]:
        """Every resolved entry (names, patterns, metrics), for checks over the catalog."""
        out = [k for _, k in {key: k for key, k in self.names.values()}.items()]
        out += [k for _, _, k in self.patterns]
        out += [m.knowledge for m in self._metrics]
        return out

    def by_name(self, name: str) -> tuple[str, Knowledge] | None:
        if found := self.names.get(_normalise(name)):
            return found
        if len(name) > MAX_NAME_FOR_PATTERNS:
            return None  # no real alert name is this long; keeps regex work bounded
        for regex, source, knowledge in self.patterns:
            if regex.fullmatch(name):
                return source, knowledge
        return None

    def by_selectors(self, selectors: list[promql.Selector]) -> list[tuple[str, Knowledge]]:
        """The entries the selectors hit, most specific per selector, in expression order."""
        hits: list[tuple[str, Knowledge]] = []
        seen: set[str] = set()
        for selector in selectors:
            for name in selector.names():
                for metric in self._best(name, selector):
                    if metric.entry.id not in seen:
                        seen.add(metric.entry.id)
                        hits.append((metric.entry.id, metric.knowledge))
        return hits

    def _best(self, name: str, selector: promql.Selector) -> list[_Metric]:
        ranked: list[tuple[int, int, _Metric]] = []
        for index, metric in enumerate(self._metrics):
            tier = metric.tier(name)
            if tier is None:
                continue
            if metric.entry.when:
                if not metric.condition_holds(selector):
                    continue
                tier -= 1  # a satisfied condition is more specific than the bare metric
            ranked.append((tier, index, metric))
        if not ranked:
            return []
        best = min(tier for tier, _, _ in ranked)
        return [metric for tier, _, metric in sorted(ranked) if tier == best]


_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(path: Path) -> CatalogFile:
    data = _load_mapping(path)
    try:
        return CatalogFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        spot = ".".join(str(part) for part in first["loc"])
        raise CatalogError(
            f"alert catalog file {path}: {spot}: {first['msg']} ({exc.error_count()} error(s))"
        ) from exc


def _load_mapping(path: Path) -> dict[str, Any]:
    """Like firstline.support.yamlfile.load_yaml_mapping, with the C loader when PyYAML has it: the
    shipped catalog loads in ~0.1 s instead of ~1 s. Errors are reported by the same
    function, which also owns the messages."""
    try:
        loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return load_yaml_mapping(path, CatalogError, "alert catalog file")
    if not isinstance(loaded, dict):
        return load_yaml_mapping(path, CatalogError, "alert catalog file")
    return loaded


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise CatalogError(f"alert catalog {path} does not exist")
    found = sorted((path / "alerts").glob("*.yaml")) + sorted(path.glob("*.yaml"))
    if not found:
        raise CatalogError(f"alert catalog {path} holds no .yaml file")
    return found


def load_catalog(path: Path | None = None) -> Catalog:
    """The catalog in `path` (a directory with alerts/*.yaml and *.yaml, or one file); the
    shipped catalog when None, read once and cached."""
    if path is None:
        return _default_catalog()
    return Catalog([(str(file), _read(file)) for file in _files(path)])


@cache
def _default_catalog() -> Catalog:
    return load_catalog(DEFAULT_PATH)


_EXPR_KEYS = ("expr", "expression", "query")


def expression_of(alert: Alert) -> str | None:
    """The PromQL that fired the alert: the generatorURL's `g0.expr`, else an `expr`
    (`expression`, `query`) annotation or label; None when the alert carries none."""
    try:
        if alert.generator_url:
            query = parse_qs(urlsplit(alert.generator_url).query)
            values = [v for v in query.get("g0.expr", []) if v.strip()]
            if values:
                return values[0]
        for source in (alert.annotations, alert.labels):
            for key in _EXPR_KEYS:
                value = source.get(key)
                if value and value.strip():
                    return value
    except (ValueError, TypeError, AttributeError):
        return None
    return None


_UNKNOWN = Knowledge(
    meaning="",
    kind=AlertKind.INCIDENT,
    suggests={},
    gather=[],
    workload_labels=[],
    reporter_labels=[],
)
_CONSTANT = Knowledge(
    meaning="The expression reads no metric, so the alert always fires: a heartbeat that "
    "proves the alerting pipeline works.",
    kind=AlertKind.HEARTBEAT,
    suggests={"no_real_incident": Strength.STRONG},
    gather=[],
    workload_labels=[],
    reporter_labels=[],
)


def _prior(
    matched_by: Literal["name", "expression", "none"],
    entry: str | None,
    knowledge: Knowledge,
    metrics: list[str],
) -> AlertPrior:
    return AlertPrior(
        matched_by=matched_by,
        entry=entry,
        meaning=knowledge.meaning,
        kind=knowledge.kind,
        suggests=dict(knowledge.suggests),
        gather=list(knowledge.gather),
        workload_labels=list(knowledge.workload_labels),
        reporter_labels=list(knowledge.reporter_labels),
        metrics=metrics,
    )


def _merge(hits: list[tuple[str, Knowledge]]) -> Knowledge:
    """The first hit's meaning and kind; the strongest strength per pattern; hints and
    labels in order of first appearance."""
    first = hits[0][1]
    suggests: dict[str, Strength] = {}
    gather: list[str] = []
    workload: list[str] = []
    reporter: list[str] = []
    for _, knowledge in hits:
        for pattern, strength in knowledge.suggests.items():
            if pattern not in suggests or strength.rank > suggests[pattern].rank:
                suggests[pattern] = strength
        gather += [h for h in knowledge.gather if h not in gather]
        workload += [w for w in knowledge.workload_labels if w not in workload]
        reporter += [r for r in knowledge.reporter_labels if r not in reporter]
    reporter = [r for r in reporter if r not in workload]
    return Knowledge(
        meaning=first.meaning,
        kind=first.kind,
        suggests=suggests,
        gather=gather,
        workload_labels=workload,
        reporter_labels=reporter,
    )


def prior_for(
    alert: Alert, expression: str | None = None, catalog: Catalog | None = None
) -> AlertPrior:
    """What the catalog knows about `alert`: by name, else by the expression (given, or read
    from the alert with `expression_of`). Never raises on any alert."""
    catalog = catalog or load_catalog()
    try:
        if expression is None:
            expression = expression_of(alert)
        return _prior_of(alert.name, expression, catalog)
    except Exception:  # a prior is optional: no alert may fail because of it
        return _prior("none", None, _UNKNOWN, [])


@lru_cache(maxsize=4096)
def _prior_of(name: str, expression: str | None, catalog: Catalog) -> AlertPrior:
    """The prior depends on the name and the expression only; triage and analysis both ask,
    and a storm asks for the same few alerts thousands of times."""
    try:
        selectors = promql.parse_selectors(expression)
        metrics = promql.metric_names(selectors) if selectors else []
        if found := catalog.by_name(name):
            return _prior("name", found[0], found[1], metrics)
        if selectors is None:
            return _prior("none", None, _UNKNOWN, [])
        if not selectors:
            return _prior("expression", "constant", _CONSTANT, [])
        hits = catalog.by_selectors(selectors)
        if hits:
            return _prior("expression", hits[0][0], _merge(hits), metrics)
        return _prior("none", None, _UNKNOWN, metrics)
    except Exception:  # a prior is optional: no alert may fail because of it
        return _prior("none", None, _UNKNOWN, [])
