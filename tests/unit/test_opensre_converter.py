"""The OpenSRE converter (benchmarks/opensre/convert.py) against the data set itself.

Expected values are read from the source JSON here, never from the converter's output.
`benchmarks` imports as a namespace package because pytest puts the repository root on
sys.path (tests/ is a package, so its rootdir is inserted); no conftest is needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from benchmarks.opensre import convert

from firstline.scenarios.loader import load_bundle

DATA = convert.default_data()
pytestmark = pytest.mark.skipif(
    not (DATA / "eks").is_dir(), reason=f"the OpenSRE data set is not at {DATA}"
)


def src(family: str, case: str, name: str) -> Any:
    return json.loads((DATA / family / case / name).read_text(encoding="utf-8"))


def converted(family: str, case: str) -> convert.Converted:
    return convert.convert_case(convert.load_case(DATA / family / case))


def by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(i for i in items if i["name"] == name)


# -- overlay ---------------------------------------------------------------------------------


def test_a_case_inherits_the_base_files_it_lacks_and_its_own_win() -> None:
    case = convert.load_case(DATA / "eks" / "001-oomkilled-crashloop")
    assert not (case.path / "eks_deployments.json").exists()
    assert case.evidence["eks_deployments"] == src("eks", "000-healthy", "eks_deployments.json")
    assert case.evidence["eks_node_health"] == src("eks", "000-healthy", "eks_node_health.json")
    own_pods = src("eks", "001-oomkilled-crashloop", "eks_pods.json")
    assert own_pods != src("eks", "000-healthy", "eks_pods.json")
    assert case.evidence["eks_pods"] == own_pods
    assert "eks_pods" in case.own and "eks_deployments" not in case.own


def test_case_metadata_is_the_base_overlaid_key_by_key() -> None:
    case = convert.load_case(DATA / "rds_postgres" / "003-storage-full")
    own = yaml.safe_load((case.path / "scenario.yml").read_text(encoding="utf-8"))
    base = yaml.safe_load((DATA / "rds_postgres" / "000-healthy" / "scenario.yml").read_text())
    assert (
        case.meta["db_instance_identifier"]
        == own["db_instance_identifier"]
        != base["db_instance_identifier"]
    )
    assert case.meta["engine_version"] == base["engine_version"]
    assert "base" not in case.meta


def test_a_base_keeps_one_file_per_metric_and_a_cases_metrics_file_replaces_them_whole() -> None:
    base_dir = DATA / "rds_postgres" / "000-healthy"
    parts = sorted(base_dir.glob("aws_cloudwatch_metrics_*.json"))
    base = convert.load_case(base_dir)
    names = {
        r["metric_name"] for r in base.evidence["aws_cloudwatch_metrics"]["metric_data_results"]
    }
    assert len(names) == len(parts) - 1  # less the envelope
    case = convert.load_case(DATA / "rds_postgres" / "008-storage-full-missing-metric")
    own = src("rds_postgres", "008-storage-full-missing-metric", "aws_cloudwatch_metrics.json")
    assert case.evidence["aws_cloudwatch_metrics"] == own
    assert "FreeStorageSpace" in names
    assert "FreeStorageSpace" not in {r["metric_name"] for r in own["metric_data_results"]}
    assert "db_free_storage" not in converted(
        "rds_postgres", "008-storage-full-missing-metric"
    ).scenario.get("metrics", {})


# -- EKS mapping -------------------------------------------------------------------------------


def test_eks_oom_case_maps_pods_events_logs_and_deployments_faithfully() -> None:
    pod_src = src("eks", "001-oomkilled-crashloop", "eks_pods.json")["pods"][0]
    container = pod_src["containers"][0]
    event_src = src("eks", "001-oomkilled-crashloop", "eks_events.json")["warning_events"][0]
    dep_src = src("eks", "000-healthy", "eks_deployments.json")["deployments"][0]
    c = converted("eks", "001-oomkilled-crashloop")
    cluster = c.scenario["cluster"]

    pod = by_name(cluster["pods"], pod_src["name"])
    assert pod["namespace"] == pod_src["namespace"]
    assert pod["phase"] == pod_src["phase"]
    assert pod["node"] == pod_src["node_name"]
    assert pod["restart_count"] == container["restart_count"] == 8
    assert pod["waiting_reason"] == container["state"]["reason"] == "CrashLoopBackOff"
    assert pod["waiting_message"] == container["state"]["message"]
    assert pod["last_exit_code"] == container["state"]["exit_code"] == 137
    assert pod["last_termination_reason"] == "OOMKilled"  # said in the waiting message
    assert pod["container"] == container["name"]
    assert pod["ready"] is False
    assert pod["owner"] == "payments-api"
    assert pod["started_at"] == pod_src["start_time"]
    ready = next(x for x in pod_src["conditions"] if x["type"] == "Ready")
    assert {
        "type": "Ready",
        "status": "False",
        "reason": ready["reason"],
        "message": ready["message"],
    } in pod["conditions"]

    event = next(e for e in cluster["events"] if e["reason"] == event_src["reason"])
    assert event["object"] == "pod/" + event_src["involved_object"].split("/", 1)[1]
    assert event["count"] == event_src["count"]
    assert event["type"] == event_src["type"]
    assert event["message"] == event_src["message"]
    assert event["first_seen"] == event_src["first_time"]
    assert event["last_seen"] == event_src["last_time"]

    (dep,) = cluster["deployments"]
    assert (dep["name"], dep["replicas"], dep["ready_replicas"]) == (
        dep_src["name"],
        dep_src["desired"],
        dep_src["ready"],
    )
    assert dep["unavailable_replicas"] == dep_src["unavailable"]

    log_src = src("eks", "001-oomkilled-crashloop", "eks_pod_logs.json")
    kernel = next(line for line in log_src["logs"].splitlines() if "[kernel]" in line)
    stamp, _, text = kernel.partition(" ")
    entry = next(e for e in c.scenario["logs"] if e["line"] == text)
    assert entry["at"] == stamp
    assert entry["labels"] == {
        "pod": log_src["pod_name"],
        "namespace": log_src["namespace"],
        "container": container["name"],
    }
    marker = "[container terminated with exit code 137]"
    assert marker in log_src["logs"]
    assert next(e for e in c.scenario["logs"] if e["line"] == marker)["at"] == stamp


def test_eks_nodes_and_firing_monitors_only() -> None:
    nodes_src = src("eks", "007-node-not-ready", "eks_node_health.json")["nodes"]
    c = converted("eks", "007-node-not-ready")
    for node_src in nodes_src:
        node = by_name(c.scenario["cluster"]["nodes"], node_src["name"])
        assert {"type": "Ready", "status": node_src["ready"]} in node["conditions"]
        assert {"type": "MemoryPressure", "status": node_src["memory_pressure"]} in node[
            "conditions"
        ]
    assert c.alert["alerts"][0]["labels"]["node"] == "ip-10-0-1-73.us-east-1.compute.internal"

    monitors = src("eks", "004-liveness-probe-killing", "datadog_monitors.json")["monitors"]
    firing = [m for m in monitors if m["overall_state"] == "Alert"]
    related = converted("eks", "004-liveness-probe-killing").scenario["related_alerts"]
    assert [r["name"] for r in related] == [m["name"] for m in firing]
    assert related[0]["annotations"]["query"] == firing[0]["query"]
    assert related[0]["labels"] == {"pod": firing[0]["tags"][0].split(":", 1)[1]}


def test_eks_alert_labels_are_the_ones_real_alerts_carry() -> None:
    ann = src("eks", "001-oomkilled-crashloop", "alert.json")["commonAnnotations"]
    labels = converted("eks", "001-oomkilled-crashloop").alert["alerts"][0]["labels"]
    assert labels["pod"] == ann["kube_pod"]
    assert labels["deployment"] == ann["kube_deployment"]
    assert labels["namespace"] == "payments"
    assert "pipeline_name" not in labels and "workload_name" not in labels
    # 005 names no pod: none is made up
    assert "pod" not in converted("eks", "005-resource-quota-exceeded").alert["alerts"][0]["labels"]


# -- RDS mapping -------------------------------------------------------------------------------


def test_rds_metrics_are_renamed_and_scaled_by_their_source_unit() -> None:
    cw = src("rds_postgres", "002-connection-exhaustion", "aws_cloudwatch_metrics.json")
    series = {r["metric_name"]: r for r in cw["metric_data_results"]}
    metrics = converted("rds_postgres", "002-connection-exhaustion").scenario["metrics"]

    cpu = series["CPUUtilization"]
    assert cpu["unit"] == "Percent"
    assert metrics["db_cpu_utilisation"]["unit"] == "ratio"
    assert metrics["db_cpu_utilisation"]["points"][-1] == [
        cpu["timestamps"][-1],
        pytest.approx(cpu["values"][-1] / 100),
    ]
    write = series["WriteLatency"]
    assert write["unit"] == "Seconds"  # this case gives seconds, others milliseconds
    assert metrics["db_write_latency"]["points"][0][1] == pytest.approx(write["values"][0])
    read = series["ReadLatency"]
    assert read["unit"] == "Milliseconds"
    assert metrics["db_read_latency"]["points"][0][1] == pytest.approx(read["values"][0] / 1000)
    conns = series["DatabaseConnections"]
    assert [p[1] for p in metrics["db_connections"]["points"]] == conns["values"]
    assert (
        metrics["db_connections"]["labels"]["dbinstance_identifier"]
        == conns["dimensions"][0]["Value"]
    )
    assert (
        metrics["db_replica_lag"]["labels"]["dbinstance_identifier"]
        == (series["ReplicaLag"]["dimensions"][0]["Value"])
    )
    assert set(metrics) == {convert.CLOUDWATCH_METRICS[n][0] for n in series}


def test_rds_events_and_performance_insights() -> None:
    events_src = src("rds_postgres", "002-connection-exhaustion", "aws_rds_events.json")["events"]
    pi = src("rds_postgres", "002-connection-exhaustion", "aws_performance_insights.json")
    c = converted("rds_postgres", "002-connection-exhaustion")
    events = c.scenario["cluster"]["events"]
    assert len(events) == len(events_src)
    for got, want in zip(events, events_src, strict=True):
        assert got["object"] == f"dbinstance/{want['source_identifier']}"
        assert got["reason"] == want["event_categories"][0].capitalize()
        assert got["message"] == want["message"]
        assert got["last_seen"] == want["date"]
    assert events[1]["type"] == "Warning"  # a "failure" category

    (db,) = c.scenario["databases"]
    assert db["instance"] == pi["db_instance_identifier"]
    assert [v for _, v in db["load"]] == pi["db_load"]["values"]
    assert db["wait_events"] == {w["name"]: w["db_load_avg"] for w in pi["top_wait_events"]}
    top = pi["top_sql"][0]
    assert db["statements"][0]["statement"] == top["statement"]
    assert db["statements"][0]["load"] == top["db_load_avg"]
    assert db["statements"][0]["wait_events"] == {
        w["name"]: w["db_load_avg"] for w in top["wait_events"]
    }
    labels = c.alert["alerts"][0]["labels"]
    assert labels["dbinstance_identifier"] == "payments-prod"


# -- every case ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[convert.Converted]]:
    out = tmp_path_factory.mktemp("opensre")
    return out, convert.convert_all(DATA, out)


def test_the_answer_leaking_annotations_are_dropped(
    everything: tuple[Path, list[convert.Converted]],
) -> None:
    _, cases = everything
    assert len(cases) == 29
    for c in cases:
        source = c.case.alert["commonAnnotations"]
        alert = c.alert["alerts"][0]
        assert not convert.LEAKING_ANNOTATIONS & set(alert["annotations"]), c.bundle_id
        assert "pipeline_name" not in alert["labels"]
        for kept in ("summary", "description", "error"):
            if source.get(kept):
                assert alert["annotations"][kept] == source[kept]
    leaked = {
        k for c in cases for k in c.case.alert["commonAnnotations"]
    } & convert.LEAKING_ANNOTATIONS
    assert leaked  # the data set does carry them


def test_every_bundle_loads_with_firstlines_loader(
    everything: tuple[Path, list[convert.Converted]],
) -> None:
    out, cases = everything
    for c in cases:
        bundle = load_bundle(out / c.bundle_id)
        assert bundle.spec.expected.pattern == c.scenario["expected"]["pattern"]
        assert bundle.now.isoformat().replace("+00:00", "Z") == c.scenario["now"]


def test_the_healthy_check_arrives_resolved(
    everything: tuple[Path, list[convert.Converted]],
) -> None:
    _, cases = everything
    for c in cases:
        normal = c.case.alert.get("state") == "normal"
        assert (c.alert["alerts"][0]["status"] == "resolved") is normal
        assert c.scenario["alert_firing"] is not normal


def test_the_failure_mode_table_covers_the_data_set(
    everything: tuple[Path, list[convert.Converted]],
) -> None:
    _, cases = everything
    modes = {str(c.case.meta["failure_mode"]) for c in cases}
    assert modes <= set(convert.FAILURE_MODE_PATTERN)
    assert set(convert.FAILURE_MODE_PATTERN.values()) | set(
        convert.CASE_PATTERN_OVERRIDES.values()
    ) <= set(convert.RESPONSES)
    assert set(convert.CASE_PATTERN_OVERRIDES) <= {c.case.key for c in cases}
    for c in cases:
        exp = c.scenario["expected"]
        assert "failover_database" in exp["forbidden_actions"]
        if exp["pattern"] == "no_real_incident":
            assert set(exp["forbidden_actions"]) == {a.value for a in convert.ACTING}


def test_the_clock_is_the_latest_own_evidence_and_the_alert_fires_at_the_end_of_the_bad_period() -> (
    None
):
    c = converted("eks", "001-oomkilled-crashloop")
    log = src("eks", "001-oomkilled-crashloop", "eks_pod_logs.json")["logs"]
    latest_log = max(line.split(" ", 1)[0] for line in log.splitlines() if line[:4].isdigit())
    assert c.scenario["now"] == latest_log
    events = src("eks", "001-oomkilled-crashloop", "eks_events.json")["warning_events"]
    assert c.alert["alerts"][0]["startsAt"] == max(e["last_time"] for e in events)

    rds = converted("rds_postgres", "001-replication-lag")
    cw = src("rds_postgres", "001-replication-lag", "aws_cloudwatch_metrics.json")
    assert rds.alert["alerts"][0]["startsAt"] == cw["end_time"]
    rds_events = src("rds_postgres", "001-replication-lag", "aws_rds_events.json")["events"]
    assert rds.scenario["now"] == max(e["date"] for e in rds_events)
