"""Convert OpenSRE's synthetic incidents (tests/synthetic of Tracer-Cloud/opensre, Apache-2.0)
into firstline scenario bundles.

    python benchmarks/opensre/convert.py [--data DIR] [--out DIR] [--verbose]

DIR defaults to $FIRSTLINE_OPENSRE_DATA, else ../shared/datasets/opensre-synthetic beside the
repository. The data set is read where it lies and never copied into the repository; bundles
are written to --out (default: a new temporary folder), one folder per case named
`<family>-<case>` (e.g. `eks-001-oomkilled-crashloop`), each with `alert.json` (an
Alertmanager v4 webhook payload) and `scenario.yaml`.

The conversion is faithful: every fact in a bundle comes from the case's files. What the
scenario format cannot hold is skipped and said in the bundle's conversion notes
(`--verbose` prints them); nothing is invented.

Rules, in the order a reader meets them:

- **Overlay.** A case whose scenario.yml names `base: 000-healthy` starts from the healthy
  case of its family: its evidence is the base's evidence sources overlaid with its own (an
  own file wins, whole). Its metadata is the base's scenario.yml overlaid key by key with its
  own. alert.json and answer.yml are always the case's own. A base keeps its CloudWatch
  metrics in one file per metric (`aws_cloudwatch_metrics_<Metric>.json` plus an envelope);
  those files together are the one source `aws_cloudwatch_metrics`, which a case's
  `aws_cloudwatch_metrics.json` replaces whole. So a case that leaves a metric out (008 has no
  FreeStorageSpace, 010 no ReplicaLag) has none: inheriting the base's series, from another
  day, would fill exactly the gap the case was written to have. A source a case's
  `available_evidence` does not list is not loaded (as OpenSRE's harness does).
- **Times.** OpenSRE's alerts carry no time. `now` (the investigation) is the latest time in
  the case's *own* evidence files: the snapshot was taken after everything it records (an
  inherited base file has its own, unrelated dates and does not move the clock). The alert
  fires at the end of the bad period: `startsAt` is, for RDS, the end of the case's own
  CloudWatch query window (the alarm evaluated that window); for EKS, the last time of its own
  Warning events, else of its own warn/error log lines; else `now`. firstline's evidence
  window ends at `now`, so metric series that stop before `now` are still read.
- **State `normal`.** The healthy base cases are a "Scheduled Health Check ... passed"
  notification in state `normal`. A real sender delivers a passed check or a monitor back in
  OK as a recovery: in an Alertmanager payload that is `status: resolved` with `endsAt` set
  (here = `startsAt`), and the bundle's `alert_firing` is false.
- **Labels and annotations** are described at `_labels` and `LEAKING_ANNOTATIONS`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run by path: make `benchmarks` importable like the others
    sys.path.insert(0, str(REPO))

from firstline.domain.action import ActionType  # noqa: E402
from firstline.policy.severity import severity_from_label  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "datasets" / "opensre-synthetic"
FAMILIES = ("eks", "rds_postgres")
CW_SOURCE = "aws_cloudwatch_metrics"
CW_PART = "aws_cloudwatch_metrics_"  # a base's one-file-per-metric parts
CW_ENVELOPE = "aws_cloudwatch_metrics_envelope"

# OpenSRE's own annotations that name the answer. They are the data set's labels for scoring
# and routing (which failure mode it staged, what symptom to suspect, which harness pipeline
# and evidence sources to use), not anything a real alert carries; kept, they would hand the
# diagnosis its answer. summary/description/error stay: real alerts carry those.
LEAKING_ANNOTATIONS = frozenset(
    {
        "k8s_failure_mode",
        "rds_failure_mode",
        "suspected_symptom",
        "context_sources",
        "pipeline_name",
    }
)
LEAKING_LABELS = frozenset({"pipeline_name"})  # the harness's routing label, same reason

# OpenSRE failure_mode (scenario.yml) -> firstline pattern id. OpenSRE's answer categories
# (resource_exhaustion, configuration_error, ...) are coarser; failure_mode is the staged fault.
FAILURE_MODE_PATTERN: dict[str, str] = {
    # the container exceeds its memory limit: exit 137, OOMKilled, CrashLoopBackOff
    "oom_killed": "oom_kill_loop",
    "image_pull_backoff": "image_pull_failure",
    # 003 is Unschedulable on Insufficient cpu; the only pending case in the set
    "pending_pod": "pod_pending_resources",
    # 004: the liveness probe kills a healthy process (exit 0); not a crash loop
    "probe_failure": "probe_failure",
    # 005: the HPA scale-up is refused at admission by a ResourceQuota, no pod ever exists.
    # OpenSRE's own alert annotation calls it deployment_rollout_stuck; its failure_mode and
    # answer say quota, and so does the evidence.
    "resource_quota_exceeded": "resource_quota_exceeded",
    "dns_resolution_failure": "dns_resolution_failure",
    "node_not_ready": "node_not_ready",
    # Ambiguous. 008: the new revision crashes on a config error (env var removed) and the
    # rollout stalls at ProgressDeadlineExceeded. crash_loop_bad_config (the pods' cause) and
    # deploy_regression (a deploy broke it) are defensible; OpenSRE stages the stuck rollout,
    # and the remedy (undo the rollout) is the same for all three.
    "deployment_rollout_stuck": "rollout_stuck",
    # healthy includes the "recovered" traps (eks 009-013, rds 007, 013): nothing to do now
    "healthy": "no_real_incident",
    "replication_lag": "db_replication_lag",
    # Ambiguous. Server-side max_connections exhaustion (002: idle-in-transaction sessions;
    # 009: a client pool leak that also drives CPU). firstline's connection_pool_exhaustion
    # covers both the pool and the server's ceiling; no separate db_* pattern exists.
    "connection_exhaustion": "connection_pool_exhaustion",
    "storage_full": "db_storage_full",
    # Ambiguous. 004 is a runaway full-table-scan query. 011 is compositional: an analytics
    # query saturates CPU *and* an independent audit_log bulk insert fills storage; its
    # failure_mode names CPU, so db_runaway_query, with db_storage_full a fair second (the
    # top-3 column shows it). 014 is overridden below.
    "cpu_saturation": "db_runaway_query",
    # 005: a Multi-AZ failover that already completed; the alert is the connection drop
    "failover": "db_failover",
}

# Cases whose failure_mode names the symptom, not the cause, by OpenSRE's own answer.yml: 014's
# reference answer says "A runaway VACUUM FREEZE ... triggered checkpoint storms ... This is NOT
# a cpu_saturation event ... The CPU spike is a symptom". The only per-case entry anywhere.
CASE_PATTERN_OVERRIDES: dict[str, str] = {
    "rds_postgres/014-checkpoint-storm-cpu-saturation": "db_checkpoint_storm",
}

A = ActionType
ACTING = frozenset(t for t in ActionType if t is not ActionType.MANUAL_ONLY)
# Kubernetes actions on a workload or node; an RDS alert names no workload, so none applies.
KUBE_ACTIONS = frozenset(
    {A.RESTART, A.ROLLBACK, A.SCALE, A.DELETE_POD, A.PAUSE_ROLLOUT, A.RESUME_ROLLOUT, A.CORDON_NODE}
)
DB_ACTIONS = frozenset({A.FAILOVER_DATABASE, A.TERMINATE_DB_CONNECTIONS})


@dataclass(frozen=True)
class Response:
    """What an SRE would decide (policy in auto mode), must propose, and must never do."""

    decision: str
    actions: tuple[ActionType, ...]
    forbidden: frozenset[ActionType]


# By firstline pattern (so an override like 014 gets its own cause's response).
# failover_database is forbidden everywhere: in this set a failover never helps (a lagging
# replica would lose writes, a standby has the same storage and the same load, and 005 has
# already failed over: a second one is a second outage). The exception would be a primary
# that is down and has not failed over on its own, which no case stages.
# rollback is forbidden wherever no rollout of the alerted workload is at fault.
RESPONSES: dict[str, Response] = {
    # raise the memory limit of a replica that outgrows it; restarting only resets the loop
    "oom_kill_loop": Response(
        "request_approval",
        (A.RAISE_RESOURCE_LIMIT,),
        DB_ACTIONS | {A.ROLLBACK, A.CORDON_NODE, A.CUSTOM_SCRIPT},
    ),
    # undo the rollout to a tag that exists; restarting/deleting the old pods cuts capacity
    "image_pull_failure": Response(
        "request_approval",
        (A.ROLLBACK,),
        DB_ACTIONS | {A.RESTART, A.DELETE_POD, A.RAISE_RESOURCE_LIMIT, A.CORDON_NODE},
    ),
    # the cluster is out of CPU: a person adds capacity. Scaling adds pending pods, raising
    # requests makes it worse, cordoning removes capacity.
    "pod_pending_resources": Response(
        "escalate",
        (A.MANUAL_ONLY,),
        DB_ACTIONS
        | {A.SCALE, A.RESTART, A.ROLLBACK, A.RAISE_RESOURCE_LIMIT, A.CORDON_NODE, A.CUSTOM_SCRIPT},
    ),
    # fix the probe; restarting feeds the kill loop, more memory cures nothing
    "probe_failure": Response(
        "escalate",
        (A.MANUAL_ONLY,),
        DB_ACTIONS | {A.RESTART, A.RAISE_RESOURCE_LIMIT, A.SCALE, A.CORDON_NODE},
    ),
    # raise the quota or right-size: scaling is what the quota refuses, a rolling restart
    # needs surge pods the quota refuses, higher limits use more quota
    "resource_quota_exceeded": Response(
        "escalate",
        (A.MANUAL_ONLY,),
        DB_ACTIONS | {A.SCALE, A.RESTART, A.ROLLBACK, A.RAISE_RESOURCE_LIMIT, A.CORDON_NODE},
    ),
    # cluster DNS is a platform fix; the database behind the name is fine (a restart of the
    # resolver may be right, so restart is not forbidden)
    "dns_resolution_failure": Response(
        "escalate",
        (A.MANUAL_ONLY,),
        DB_ACTIONS | {A.ROLLBACK, A.SCALE, A.RAISE_RESOURCE_LIMIT, A.CORDON_NODE},
    ),
    # the node needs a person; restarting the workload's healthy pods cuts what is left
    # (scaling up to cover the lost node is fair, so it is not forbidden)
    "node_not_ready": Response(
        "escalate",
        (A.MANUAL_ONLY,),
        DB_ACTIONS | {A.RESTART, A.ROLLBACK, A.RAISE_RESOURCE_LIMIT},
    ),
    # undo the broken revision; restarting the old pods that still serve is harmful
    "rollout_stuck": Response(
        "request_approval",
        (A.ROLLBACK,),
        DB_ACTIONS | {A.RESTART, A.DELETE_POD, A.SCALE, A.RAISE_RESOURCE_LIMIT, A.CORDON_NODE},
    ),
    "no_real_incident": Response("dismiss", (), ACTING),
    # throttle the write burst at its source; killing the bulk UPDATE rolls it back and writes
    # yet more WAL; promoting the lagging replica loses writes
    "db_replication_lag": Response(
        "escalate", (A.MANUAL_ONLY,), KUBE_ACTIONS | DB_ACTIONS | {A.RAISE_RESOURCE_LIMIT}
    ),
    # end the idle-in-transaction / leaked sessions; a reboot or failover drops everyone
    "connection_pool_exhaustion": Response(
        "request_approval",
        (A.TERMINATE_DB_CONNECTIONS,),
        KUBE_ACTIONS | {A.FAILOVER_DATABASE},
    ),
    # grow the allocated storage (online on RDS); a reboot or failover frees nothing
    "db_storage_full": Response(
        "request_approval", (A.RAISE_RESOURCE_LIMIT,), KUBE_ACTIONS | {A.FAILOVER_DATABASE}
    ),
    # cancel the runaway statement
    "db_runaway_query": Response(
        "request_approval",
        (A.TERMINATE_DB_CONNECTIONS,),
        KUBE_ACTIONS | {A.FAILOVER_DATABASE},
    ),
    # an anti-wraparound VACUUM FREEZE must not be killed; tune checkpoints / throttle it
    "db_checkpoint_storm": Response(
        "escalate", (A.MANUAL_ONLY,), KUBE_ACTIONS | DB_ACTIONS | {A.RAISE_RESOURCE_LIMIT}
    ),
    # the failover is over: check the clients reconnected, find why it failed over
    "db_failover": Response(
        "escalate", (A.MANUAL_ONLY,), KUBE_ACTIONS | DB_ACTIONS | {A.RAISE_RESOURCE_LIMIT}
    ),
}

# CloudWatch AWS/RDS metric -> (firstline metric name, firstline unit).
CLOUDWATCH_METRICS: dict[str, tuple[str, str]] = {
    "DatabaseConnections": ("db_connections", "connections"),
    "CPUUtilization": ("db_cpu_utilisation", "ratio"),
    "FreeStorageSpace": ("db_free_storage", "bytes"),
    "ReplicaLag": ("db_replica_lag", "seconds"),
    "ReadIOPS": ("db_read_iops", "iops"),
    "WriteIOPS": ("db_write_iops", "iops"),
    "ReadLatency": ("db_read_latency", "seconds"),
    "WriteLatency": ("db_write_latency", "seconds"),
    "DiskQueueDepth": ("db_disk_queue_depth", "requests"),
    "FreeableMemory": ("db_freeable_memory", "bytes"),
    "SwapUsage": ("db_swap_usage", "bytes"),
    "TransactionLogsGeneration": ("db_transaction_log_generation", "bytes/s"),
    "MaximumUsedTransactionIDs": ("db_transaction_ids_used", "transactions"),
    "NetworkReceiveThroughput": ("db_network_receive", "bytes/s"),
    "NetworkTransmitThroughput": ("db_network_transmit", "bytes/s"),
    "WriteThroughput": ("db_write_throughput", "bytes/s"),
    "ReadThroughput": ("db_read_throughput", "bytes/s"),
    "CommitLatency": ("db_commit_latency", "seconds"),
    "CommitThroughput": ("db_commit_throughput", "commits/s"),
    "BinLogDiskUsage": ("db_binlog_disk_usage", "bytes"),
}
# (CloudWatch unit, firstline unit) -> factor. A pair not listed is skipped, never guessed:
# the set mixes Milliseconds and Seconds for the same latency metric across cases.
UNIT_FACTORS: dict[tuple[str, str], float] = {
    ("Percent", "ratio"): 0.01,
    ("Milliseconds", "seconds"): 0.001,
    ("Microseconds", "seconds"): 0.000001,
    ("Seconds", "seconds"): 1.0,
    ("Bytes", "bytes"): 1.0,
    ("Bytes/Second", "bytes/s"): 1.0,
    ("Count", "connections"): 1.0,
    ("Count", "requests"): 1.0,
    ("Count", "transactions"): 1.0,
    ("Count/Second", "iops"): 1.0,
    ("Count/Second", "commits/s"): 1.0,
}

# Datadog tag keys -> the label names Kubernetes-side logs carry; other tags keep their key.
DATADOG_TAGS = {
    "kube_namespace": "namespace",
    "kube_deployment": "deployment",
    "pod_name": "pod",
    "kube_pod": "pod",
    "kube_node": "node",
    "kube_cluster": "cluster",
    "kube_replicaset": "replicaset",
}
FIRING_MONITOR_STATES = {"alert", "warn"}  # Datadog overall_state; OK / No Data are not firing
WARNING_RDS_CATEGORIES = {"failure", "low storage", "warning"}
BAD_LOG_LEVELS = {"warn", "warning", "error", "fatal", "critical", "emergency"}
_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))\s+(.*)$")
_LEVEL_WORD = re.compile(r"^(?:\[\w+\]\s*)?(WARN|WARNING|ERROR|FATAL|CRITICAL)\b")
_LAST_TERMINATED = re.compile(r"last terminated:\s*reason=(\w+)")
_HASHED_POD = re.compile(r"^(?P<owner>.+)-[a-z0-9]{6,10}-[a-z0-9]{5}$")


# -- reading a case ----------------------------------------------------------------------------


@dataclass
class Case:
    family: str
    name: str
    path: Path
    meta: dict[str, Any]
    alert: dict[str, Any]
    answer: dict[str, Any]
    evidence: dict[str, Any]  # source name (file stem) -> parsed JSON, after the overlay
    own: set[str]  # sources from the case's own files
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.family}/{self.name}"

    @property
    def bundle_id(self) -> str:
        return f"{self.family}-{self.name}"


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _yaml(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    return loaded if isinstance(loaded, dict) else {}


def _evidence_files(folder: Path) -> dict[str, Any]:
    """The evidence sources in one folder, a base's per-metric files joined into one."""
    sources: dict[str, Any] = {}
    parts: list[Any] = []
    envelope: dict[str, Any] = {}
    for path in sorted(folder.glob("*.json")):
        stem = path.stem
        if stem == "alert":
            continue
        if stem == CW_ENVELOPE:
            envelope = _json(path)
        elif stem.startswith(CW_PART):
            parts.append(_json(path))
        else:
            sources[stem] = _json(path)
    if parts:
        sources[CW_SOURCE] = {**envelope, "metric_data_results": parts}
    return sources


def load_case(path: Path) -> Case:
    meta = _yaml(path / "scenario.yml")
    evidence = _evidence_files(path)
    own = set(evidence)
    base_name = meta.pop("base", None)
    notes: list[str] = []
    if base_name:
        base_dir = path.parent / str(base_name)
        base_meta = _yaml(base_dir / "scenario.yml")
        meta = {**base_meta, **meta}
        evidence = {**_evidence_files(base_dir), **evidence}
        inherited = sorted(set(evidence) - own)
        if inherited:
            notes.append(f"inherited from {base_name}: {', '.join(inherited)}")
    declared = meta.get("available_evidence")
    if isinstance(declared, list):
        undeclared = sorted(s for s in evidence if s not in declared)
        for source in undeclared:
            del evidence[source]
        if undeclared:
            notes.append(f"not in available_evidence, not loaded: {', '.join(undeclared)}")
    return Case(
        family=path.parent.name,
        name=path.name,
        path=path,
        meta=meta,
        alert=_json(path / "alert.json"),
        answer=_yaml(path / "answer.yml"),
        evidence=evidence,
        own=own & set(evidence),
        notes=notes,
    )


def discover_cases(data: Path) -> list[Path]:
    found = [
        p
        for family in FAMILIES
        for p in sorted((data / family).iterdir())
        if p.is_dir() and (p / "scenario.yml").is_file() and (p / "alert.json").is_file()
    ]
    if not found:
        raise FileNotFoundError(f"no OpenSRE cases under {data}")
    return found


# -- times ---------------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_TIME_KEYS = {"timestamp", "date", "first_time", "last_time", "start_time", "end_time"}
_TIME_KEYS |= {"started_at", "finished_at", "deletion_timestamp", "timestamps"}


def _times_in(node: Any, key: str = "") -> Iterator[datetime]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _times_in(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from _times_in(item, key)
    elif isinstance(node, str):
        parsed = parse_time(node) if key in _TIME_KEYS else None
        if parsed is not None:
            yield parsed
        if key == "logs":
            for line in node.splitlines():
                match = _LOG_LINE.match(line)
                stamp = parse_time(match.group(1)) if match else None
                if stamp is not None:
                    yield stamp


def _latest(times: Iterable[datetime]) -> datetime | None:
    return max(times, default=None)


def clock(case: Case) -> tuple[datetime, datetime]:
    """(startsAt, now) by the rule in the module docstring."""
    own = [case.evidence[s] for s in sorted(case.own)]
    now = _latest(t for source in own for t in _times_in(source))
    if now is None:
        raise ValueError(f"{case.key}: no time anywhere in its own evidence")
    return _alert_time(case) or now, now


def _alert_time(case: Case) -> datetime | None:
    if CW_SOURCE in case.own:
        cw = case.evidence[CW_SOURCE]
        end = parse_time(cw.get("end_time"))
        stamps = [t for r in cw.get("metric_data_results", []) for t in _times_in(r)]
        return end or _latest(stamps)
    events = case.evidence.get("eks_events", {}) if "eks_events" in case.own else {}
    warnings = [
        parse_time(e.get("last_time"))
        for e in events.get("warning_events", [])
        if e.get("type") == "Warning"
    ]
    if latest := _latest(t for t in warnings if t):
        return latest
    return _latest(t for t, _, level in _own_log_lines(case) if level in BAD_LOG_LEVELS)


def _own_log_lines(case: Case) -> Iterator[tuple[datetime, str, str]]:
    if "datadog_logs" in case.own:
        for entry in case.evidence["datadog_logs"].get("logs", []):
            stamp = parse_time(entry.get("timestamp"))
            if stamp:
                yield stamp, entry.get("message", ""), str(entry.get("status", "")).lower()
    if "eks_pod_logs" in case.own:
        for stamp, line in _split_pod_log(case.evidence["eks_pod_logs"].get("logs", ""))[0]:
            level = _LEVEL_WORD.match(line)
            yield stamp, line, level.group(1).lower() if level else ""


def _split_pod_log(text: str) -> tuple[list[tuple[datetime, str]], int]:
    """Lines with their own timestamps; a line without one (a runtime's "[container
    terminated ...]" marker) takes the previous line's. Returns (lines, lines dropped)."""
    lines: list[tuple[datetime, str]] = []
    dropped = 0
    last: datetime | None = None
    for raw in text.splitlines():
        if not raw.strip():
            continue
        match = _LOG_LINE.match(raw)
        stamp = parse_time(match.group(1)) if match else None
        if match and stamp:
            last = stamp
            lines.append((stamp, match.group(2)))
        elif last is not None:
            lines.append((last, raw.strip()))
        else:
            dropped += 1
    return lines, dropped


# -- the alert -------------------------------------------------------------------------------------


def _labels(case: Case) -> dict[str, str]:
    """commonLabels minus the harness's own, plus the labels real Alertmanager alerts carry
    for what the source names: kube-state-metrics' `pod`, `deployment`, `node`; CloudWatch
    exporters' `dbinstance_identifier`. Only where the source gives them."""
    common = case.alert.get("commonLabels", {}) or {}
    ann = case.alert.get("commonAnnotations", {}) or {}
    labels = {k: str(v) for k, v in common.items() if k not in LEAKING_LABELS and v != ""}
    if ann.get("kube_namespace") and "namespace" not in labels:
        labels["namespace"] = str(ann["kube_namespace"])
    if ann.get("kube_pod"):
        labels["pod"] = str(ann["kube_pod"])
    deployment = ann.get("kube_deployment")
    if str(common.get("workload_type", "")).lower() == "deployment":
        deployment = deployment or common.get("workload_name")
        labels.pop("workload_type", None)  # said by `deployment` now
        labels.pop("workload_name", None)
    if deployment:
        labels["deployment"] = str(deployment)
    node = labels.pop("kube_node", None) or ann.get("kube_node")
    if node:
        labels["node"] = str(node)
    if ann.get("db_instance_identifier"):
        labels["dbinstance_identifier"] = str(ann["db_instance_identifier"])
    return labels


def _annotations(case: Case) -> dict[str, str]:
    ann = case.alert.get("commonAnnotations", {}) or {}
    kept = {k: str(v) for k, v in ann.items() if k not in LEAKING_ANNOTATIONS and v != ""}
    if case.alert.get("title"):
        kept["title"] = str(case.alert["title"])  # the notification's subject line
    return kept


def alert_payload(case: Case, starts_at: datetime) -> dict[str, Any]:
    labels = _labels(case)
    resolved = str(case.alert.get("state", "")).lower() in {"normal", "ok", "resolved"}
    status = "resolved" if resolved else "firing"
    alert = {
        "status": status,
        "labels": labels,
        "annotations": _annotations(case),
        "startsAt": rfc3339(starts_at),
        "endsAt": rfc3339(starts_at) if resolved else "0001-01-01T00:00:00Z",
    }
    return {
        "version": "4",
        "status": status,
        "receiver": "firstline",
        "groupLabels": {"alertname": labels.get("alertname", "")},
        "commonLabels": labels,
        "commonAnnotations": alert["annotations"],
        "externalURL": "",
        "alerts": [alert],
    }


# -- Kubernetes evidence ------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _conditions(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for c in items:
        cond: dict[str, Any] = {"type": str(c["type"]), "status": str(c["status"])}
        if _text(c.get("reason")):
            cond["reason"] = str(c["reason"])
        if _text(c.get("message")):
            cond["message"] = str(c["message"])
        out.append(cond)
    return out


_POD_KEYS = {"name", "namespace", "phase", "node_name", "start_time", "containers", "conditions"}
_POD_KEYS |= {"deletion_timestamp"}  # noted where it occurs
_CONTAINER_KEYS = {"name", "ready", "restart_count", "state"}
_STATE_KEYS = {"waiting", "running", "terminated", "reason", "message", "exit_code"}
_STATE_KEYS |= {"started_at", "finished_at"}
_DEPLOYMENT_KEYS = {"name", "namespace", "desired", "ready", "updated", "unavailable"}
_DEPLOYMENT_KEYS |= {"conditions", "available"}  # available is noted


def _unmapped(what: str, obj: dict[str, Any], known: set[str], notes: list[str]) -> None:
    """Say which fields of a source object the conversion does not carry."""
    extra = [f"{k}={obj[k]}" for k in obj if k not in known]
    if extra:
        notes.append(f"{what}: {', '.join(extra)} have no field")


def _owner(case: Case, pod_name: str) -> str | None:
    workload = case.meta.get("workload_name")
    if workload and pod_name.startswith(f"{workload}-"):
        return str(workload)
    match = _HASHED_POD.match(pod_name)
    return match.group("owner") if match else None


def _container_facts(pod: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    containers = pod.get("containers", [])
    if not containers:
        return {}
    if len(containers) > 1:
        notes.append(f"pod {pod['name']}: only the first of {len(containers)} containers kept")
    c = containers[0]
    state = c.get("state", {}) or {}
    _unmapped(f"pod {pod['name']} container {c['name']}", c, _CONTAINER_KEYS, notes)
    _unmapped(f"pod {pod['name']} container state", state, _STATE_KEYS, notes)
    facts: dict[str, Any] = {
        "container": c["name"],
        "restart_count": int(c.get("restart_count", 0)),
    }
    if state.get("waiting"):
        if _text(state.get("reason")):
            facts["waiting_reason"] = state["reason"]
        if _text(state.get("message")):
            facts["waiting_message"] = state["message"]
            last = _LAST_TERMINATED.search(state["message"])
            if last:
                facts["last_termination_reason"] = last.group(1)
    if state.get("terminated"):
        facts["last_termination_reason"] = _text(state.get("reason"))
        facts["last_termination_message"] = _text(state.get("message"))
        facts["last_termination_at"] = _text(state.get("finished_at"))
    if state.get("exit_code") is not None:  # on a waiting/running state: the last exit's code
        facts["last_exit_code"] = int(state["exit_code"])
    if state.get("running") and state.get("started_at") and facts["restart_count"]:
        notes.append(
            f"pod {pod['name']}: the running container's started_at {state['started_at']}"
            " (its last restart) has no field"
        )
    return {k: v for k, v in facts.items() if v is not None}


def convert_pod(case: Case, pod: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    _unmapped(f"pod {pod['name']}", pod, _POD_KEYS, notes)
    conditions = _conditions(pod.get("conditions", []))
    ready_cond = next((c for c in conditions if c["type"] == "Ready"), None)
    containers = pod.get("containers", [])
    ready = (
        ready_cond["status"] == "True"
        if ready_cond
        else bool(containers) and all(bool(c.get("ready")) for c in containers)
    )
    spec: dict[str, Any] = {
        "name": pod["name"],
        "namespace": pod["namespace"],
        "phase": pod.get("phase", "Unknown"),
        "ready": ready,
    }
    node = pod.get("node_name")
    if node and node != "unscheduled":  # OpenSRE's placeholder for "no node yet"
        spec["node"] = node
    owner = _owner(case, pod["name"])
    if owner:
        spec["owner"] = owner
        spec["owner_kind"] = "Deployment"  # a ReplicaSet-hashed name; the set has only these
    spec.update(_container_facts(pod, notes))
    if pod.get("start_time"):
        spec["started_at"] = pod["start_time"]
    if conditions:
        spec["conditions"] = conditions
    if pod.get("deletion_timestamp"):
        notes.append(
            f"pod {pod['name']}: deletion_timestamp {pod['deletion_timestamp']} (Terminating)"
            " has no field"
        )
    return spec


def convert_event(event: dict[str, Any]) -> dict[str, Any]:
    kind, _, name = str(event["involved_object"]).partition("/")
    spec: dict[str, Any] = {
        "type": event.get("type", "Normal"),
        "reason": event["reason"],
        "message": event.get("message", ""),
        "object": f"{kind.lower()}/{name}",
        "count": int(event.get("count", 1)),
        "last_seen": event.get("last_time") or event.get("first_time"),
    }
    if event.get("first_time"):
        spec["first_seen"] = event["first_time"]
    return spec


def convert_deployment(dep: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    _unmapped(f"deployment {dep['name']}", dep, _DEPLOYMENT_KEYS, notes)
    spec: dict[str, Any] = {
        "name": dep["name"],
        "namespace": dep["namespace"],
        "kind": "Deployment",
    }
    if dep.get("desired") is not None:
        spec["replicas"] = int(dep["desired"])
    if dep.get("ready") is not None:
        spec["ready_replicas"] = int(dep["ready"])
    if dep.get("updated") is not None:
        spec["updated_replicas"] = int(dep["updated"])
    if dep.get("unavailable") is not None:
        spec["unavailable_replicas"] = int(dep["unavailable"])
    if dep.get("conditions"):
        spec["conditions"] = _conditions(dep["conditions"])
    if dep.get("available") is not None:
        notes.append(
            f"deployment {dep['name']}: available={dep['available']} has no field"
            " (ready and unavailable are kept)"
        )
    return spec


_NODE_CONDITIONS = {
    "ready": "Ready",
    "memory_pressure": "MemoryPressure",
    "disk_pressure": "DiskPressure",
    "pid_pressure": "PIDPressure",
    "network_unavailable": "NetworkUnavailable",
}


def convert_node(node: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    conditions = [
        {"type": kind, "status": str(node[key])}
        for key, kind in _NODE_CONDITIONS.items()
        if key in node
    ]
    _unmapped(f"node {node['name']}", node, {"name", *_NODE_CONDITIONS}, notes)
    return {"name": node["name"], "conditions": conditions}


def pod_log_specs(case: Case, notes: list[str]) -> list[dict[str, Any]]:
    source = case.evidence.get("eks_pod_logs")
    if not source:
        return []
    pod_name = source.get("pod_name")
    labels = {"pod": pod_name, "namespace": source.get("namespace")}
    pods = case.evidence.get("eks_pods", {}).get("pods", [])
    pod = next((p for p in pods if p.get("name") == pod_name), None)
    if pod and len(pod.get("containers", [])) == 1:
        labels["container"] = pod["containers"][0]["name"]
    labels = {k: str(v) for k, v in labels.items() if v}
    lines, dropped = _split_pod_log(source.get("logs", ""))
    if dropped:
        notes.append(f"eks_pod_logs: {dropped} lines before any timestamp dropped")
    return [{"at": rfc3339(t), "line": line, "labels": labels} for t, line in lines]


def _tag_labels(tags: list[str], notes: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for tag in tags:
        key, sep, value = str(tag).partition(":")
        if not sep:
            notes.append(f"datadog tag {tag!r} has no value, skipped")
            continue
        labels[DATADOG_TAGS.get(key, key)] = value
    return labels


def datadog_log_specs(case: Case, notes: list[str]) -> list[dict[str, Any]]:
    specs = []
    for entry in case.evidence.get("datadog_logs", {}).get("logs", []):
        labels = _tag_labels(entry.get("tags", []), notes)
        for key in ("service", "host"):
            if entry.get(key):
                labels[key] = str(entry[key])
        if entry.get("status"):
            labels["level"] = str(entry["status"])
        specs.append({"at": entry["timestamp"], "line": entry["message"], "labels": labels})
    return specs


def related_alert_specs(case: Case, starts_at: datetime, notes: list[str]) -> list[dict[str, Any]]:
    specs = []
    skipped = 0
    for monitor in case.evidence.get("datadog_monitors", {}).get("monitors", []):
        if str(monitor.get("overall_state", "")).lower() not in FIRING_MONITOR_STATES:
            skipped += 1
            continue
        annotations = {"summary": monitor.get("message", ""), "query": monitor.get("query", "")}
        specs.append(
            {
                "name": monitor["name"],
                "labels": _tag_labels(monitor.get("tags", []), notes),
                "annotations": {k: str(v) for k, v in annotations.items() if v},
                # a monitor's state carries no time: it was read when the alert fired
                "starts_at": rfc3339(starts_at),
            }
        )
    if skipped:
        notes.append(f"datadog_monitors: {skipped} not firing (OK / No Data), not related alerts")
    return specs


# -- RDS evidence ---------------------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def cloudwatch_series(case: Case, notes: list[str]) -> dict[str, dict[str, Any]]:
    metrics: dict[str, dict[str, Any]] = {}
    for result in case.evidence.get(CW_SOURCE, {}).get("metric_data_results", []):
        cw_name = str(result.get("metric_name") or result.get("label"))
        mapped = CLOUDWATCH_METRICS.get(cw_name)
        if mapped is None:
            notes.append(f"CloudWatch {cw_name}: no firstline metric, skipped")
            continue
        name, unit = mapped
        factor = UNIT_FACTORS.get((str(result.get("unit")), unit))
        if factor is None:
            notes.append(
                f"CloudWatch {cw_name}: unit {result.get('unit')!r} -> {unit} unknown, skipped"
            )
            continue
        if name in metrics:
            same = metrics[name]["points"][-1][1] == round(float(result["values"][-1]) * factor, 12)
            what = "a duplicate of the first" if same else "one series per name"
            notes.append(f"CloudWatch {cw_name}: a second series, skipped ({what})")
            continue
        labels = {}
        for dim in result.get("dimensions", []):
            key = (
                "dbinstance_identifier"
                if dim["Name"] == "DBInstanceIdentifier"
                else _snake(dim["Name"])
            )
            labels[key] = str(dim["Value"])
        if result.get("stat"):
            labels["statistic"] = str(result["stat"])
        if result.get("status_code") not in (None, "Complete"):
            notes.append(f"CloudWatch {cw_name}: status {result['status_code']}, kept as given")
        points = [
            [t, round(float(v) * factor, 12)]
            for t, v in zip(result["timestamps"], result["values"], strict=True)
        ]
        metrics[name] = {"unit": unit, "labels": labels, "points": points}
    return metrics


def database_specs(case: Case, notes: list[str]) -> list[dict[str, Any]]:
    pi = case.evidence.get("aws_performance_insights")
    if not pi:
        return []
    load = pi.get("db_load", {}) or {}
    statements = []
    for sql in pi.get("top_sql", []):
        stmt: dict[str, Any] = {
            "statement": sql["statement"],
            "load": float(sql.get("db_load_avg", 0.0)),
            "wait_events": {w["name"]: float(w["db_load_avg"]) for w in sql.get("wait_events", [])},
        }
        if sql.get("calls_per_sec") is not None:
            stmt["calls_per_sec"] = float(sql["calls_per_sec"])
        statements.append(stmt)
    unmapped = [k for k in ("top_users", "top_hosts") if pi.get(k)]
    if unmapped:
        notes.append(f"aws_performance_insights: {', '.join(unmapped)} have no field")
    engine = str(case.meta.get("engine", "postgres"))
    return [
        {
            "instance": str(
                pi.get("db_instance_identifier") or case.meta.get("db_instance_identifier")
            ),
            "engine": "postgresql" if engine in {"postgres", "postgresql"} else engine,
            "load": [
                [t, float(v)]
                for t, v in zip(load.get("timestamps", []), load.get("values", []), strict=True)
            ],
            "wait_events": {
                w["name"]: float(w["db_load_avg"]) for w in pi.get("top_wait_events", [])
            },
            "statements": statements,
        }
    ]


def rds_event_specs(case: Case, notes: list[str]) -> list[dict[str, Any]]:
    specs = []
    for event in case.evidence.get("aws_rds_events", {}).get("events", []):
        categories = [str(c) for c in event.get("event_categories", [])]
        if not categories:
            notes.append(f"RDS event at {event.get('date')}: no category, reason 'Notification'")
        kind = str(event.get("source_type", "db-instance")).replace("-", "")
        specs.append(
            {
                # RDS events have no type; a failure, low-storage or warning category is a
                # Warning in Kubernetes terms, the rest Normal
                "type": "Warning" if WARNING_RDS_CATEGORIES & set(categories) else "Normal",
                "reason": (categories[0] if categories else "notification").capitalize(),
                "message": event.get("message", ""),
                "object": f"{kind}/{event['source_identifier']}",
                "count": 1,
                "last_seen": event["date"],
                "first_seen": event["date"],
            }
        )
    return specs


# -- expected outcome -----------------------------------------------------------------------------


def expected_pattern(case: Case) -> str:
    if case.key in CASE_PATTERN_OVERRIDES:
        return CASE_PATTERN_OVERRIDES[case.key]
    mode = str(case.meta.get("failure_mode"))
    if mode not in FAILURE_MODE_PATTERN:
        raise KeyError(f"{case.key}: failure_mode {mode!r} is not in FAILURE_MODE_PATTERN")
    return FAILURE_MODE_PATTERN[mode]


def expected(case: Case, labels: dict[str, str]) -> dict[str, Any]:
    pattern = expected_pattern(case)
    response = RESPONSES[pattern]
    severity = severity_from_label(labels.get("severity"))
    out: dict[str, Any] = {
        "pattern": pattern,
        "severity": (severity.value if severity else "medium"),
        "decision": response.decision,
        "actions": [a.value for a in response.actions],
        "forbidden_actions": sorted(a.value for a in response.forbidden),
    }
    component = _component(case, pattern, labels)
    if component:
        out["component"] = component
    return out


def _component(case: Case, pattern: str, labels: dict[str, str]) -> str | None:
    if pattern == "no_real_incident":
        return None
    if case.family == "rds_postgres":
        return labels.get("dbinstance_identifier") or case.meta.get("db_instance_identifier")
    if pattern == "node_not_ready":
        return labels.get("node")
    return labels.get("deployment") or labels.get("service")


# -- one bundle ------------------------------------------------------------------------------------


@dataclass
class Converted:
    case: Case
    alert: dict[str, Any]
    scenario: dict[str, Any]
    notes: list[str]

    @property
    def bundle_id(self) -> str:
        return self.case.bundle_id


def _cluster(case: Case, notes: list[str]) -> dict[str, Any]:
    pods = [convert_pod(case, p, notes) for p in case.evidence.get("eks_pods", {}).get("pods", [])]
    kube_events = case.evidence.get("eks_events", {}).get("warning_events", [])
    events = [convert_event(e) for e in kube_events]
    namespaces = sorted({str(e["namespace"]) for e in kube_events if e.get("namespace")})
    if namespaces:
        notes.append(f"eks_events: the events' namespace ({', '.join(namespaces)}) has no field")
    events += rds_event_specs(case, notes)
    deployments = [
        convert_deployment(d, notes)
        for d in case.evidence.get("eks_deployments", {}).get("deployments", [])
    ]
    nodes = [
        convert_node(n, notes) for n in case.evidence.get("eks_node_health", {}).get("nodes", [])
    ]
    parts = {"deployments": deployments, "pods": pods, "events": events, "nodes": nodes}
    return {k: v for k, v in parts.items() if v}


def convert_case(case: Case) -> Converted:
    notes = list(case.notes)
    starts_at, now = clock(case)
    payload = alert_payload(case, starts_at)
    labels = payload["alerts"][0]["labels"]
    firing = payload["alerts"][0]["status"] == "firing"
    logs = pod_log_specs(case, notes) + datadog_log_specs(case, notes)
    logs.sort(key=lambda entry: str(entry["at"]))
    scenario: dict[str, Any] = {
        "title": str(case.alert.get("title") or case.key),
        "description": (
            f"OpenSRE synthetic case {case.key} (Apache-2.0), converted by"
            f" benchmarks/opensre/convert.py. failure_mode: {case.meta.get('failure_mode')};"
            f" OpenSRE category: {case.answer.get('root_cause_category')}."
        ),
        "tags": ["opensre", case.family, str(case.meta.get("failure_mode"))],
        "now": rfc3339(now),
        "alert_firing": firing,
        "metrics": cloudwatch_series(case, notes),
        "logs": logs,
        "cluster": _cluster(case, notes),
        "related_alerts": related_alert_specs(case, starts_at, notes),
        "databases": database_specs(case, notes),
        "expected": expected(case, labels),
    }
    scenario = {k: v for k, v in scenario.items() if v not in ({}, [])}
    return Converted(case=case, alert=payload, scenario=scenario, notes=notes)


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_bundle(converted: Converted, out: Path) -> Path:
    folder = out / converted.bundle_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alert.json").write_text(
        json.dumps(converted.alert, indent=2) + "\n", encoding="utf-8"
    )
    text = yaml.dump(
        converted.scenario, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=100
    )
    (folder / "scenario.yaml").write_text(text, encoding="utf-8")
    return folder


def default_data() -> Path:
    return Path(os.environ.get("FIRSTLINE_OPENSRE_DATA") or DEFAULT_DATA)


def convert_all(data: Path, out: Path) -> list[Converted]:
    if out.resolve().is_relative_to(REPO):
        raise ValueError(f"{out} is inside the repository; bundles are written outside it")
    converted = [convert_case(load_case(p)) for p in discover_cases(data)]
    for c in converted:
        write_bundle(c, out)
    return converted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="the data set (default: shared/)")
    parser.add_argument(
        "--out", type=Path, default=None, help="where to write (default: a temp dir)"
    )
    parser.add_argument("--verbose", action="store_true", help="print every conversion note")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="firstline-opensre-"))
    converted = convert_all(args.data or default_data(), out)
    for c in converted:
        print(f"{c.bundle_id}: {c.scenario['expected']['pattern']} ({len(c.notes)} notes)")
        if args.verbose:
            for note in c.notes:
                print(f"    - {note}")
    print(f"{len(converted)} bundles in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
