"""Matching: names and aliases, name patterns, expressions, and never raising."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from firstline.domain.alert import Alert
from firstline.knowledge import (
    AlertKind,
    CatalogError,
    Strength,
    expression_of,
    load_catalog,
    prior_for,
)
from firstline.knowledge.promql import parse_selectors


def make(
    name: str,
    expr: str | None = None,
    *,
    url: str | None = None,
    annotations: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
) -> Alert:
    if expr is not None:
        url = f"http://prometheus:9090/graph?g0.expr={quote(expr, safe='')}&g0.tab=1"
    return Alert(
        source="alertmanager",
        name=name,
        labels=labels or {},
        annotations=annotations or {},
        starts_at=datetime(2026, 1, 1, tzinfo=UTC),
        fingerprint="f",
        generator_url=url,
    )


@pytest.mark.parametrize("name", ["KubePodCrashLooping", "KubernetesPodCrashLooping"])
def test_both_spellings_of_crash_looping(name: str) -> None:
    prior = prior_for(make(name))
    assert prior.matched_by == "name"
    assert prior.entry == "KubePodCrashLooping"
    assert prior.suggests["crash_loop_bad_config"] is Strength.LIKELY
    assert prior.suggests["oom_kill_loop"] is Strength.LIKELY  # the name says why not
    assert prior.workload_labels == ["namespace", "pod", "container"]
    assert "job" in prior.reporter_labels


def test_name_matching_ignores_case_and_separators() -> None:
    assert prior_for(make("kube_pod_crash_looping")).entry == "KubePodCrashLooping"
    assert prior_for(make("KUBEJOBFAILED")).entry == "KubeJobFailed"


def test_job_failed() -> None:
    prior = prior_for(make("KubeJobFailed"))
    assert prior.suggests == {"job_failure": Strength.STRONG}
    assert prior.workload_labels[-1] == "job_name"


def test_replicas_mismatch_suggests_rollout_stuck_and_its_causes() -> None:
    suggests = prior_for(make("KubeDeploymentReplicasMismatch")).suggests
    assert suggests["rollout_stuck"] is Strength.LIKELY
    for cause in (
        "pod_pending_resources",
        "crash_loop_bad_config",
        "image_pull_failure",
        "resource_quota_exceeded",
    ):
        assert suggests[cause] is Strength.POSSIBLE


@pytest.mark.parametrize("name", ["Watchdog", "DeadMansSwitch", "DeadMansSnitch", "AlwaysFiring"])
def test_heartbeats(name: str) -> None:
    prior = prior_for(make(name, "vector(1)"))
    assert prior.kind is AlertKind.HEARTBEAT
    assert prior.suggests == {"no_real_incident": Strength.STRONG}


def test_info_inhibitor_and_capacity_notices() -> None:
    assert prior_for(make("InfoInhibitor")).kind is AlertKind.INHIBITOR
    overcommit = prior_for(make("KubeCPUOvercommit"))
    assert overcommit.kind is AlertKind.INFO
    assert overcommit.suggests == {}


def test_host_out_of_memory_is_not_a_pod_oom() -> None:
    prior = prior_for(make("HostOutOfMemory"))
    assert prior.matched_by == "name"
    assert "oom_kill_loop" not in prior.suggests


def test_name_pattern() -> None:
    prior = prior_for(make("AcmeCertificateExpiringIn3Days"))
    assert prior.matched_by == "name"
    assert prior.entry is not None and "Expir" in prior.entry
    assert prior.suggests["certificate_expiry"] is Strength.STRONG


def test_expression_with_matcher_condition() -> None:
    expr = 'sum by (namespace, pod) (kube_pod_container_status_waiting_reason{reason="ImagePullBackOff"}) > 0'
    prior = prior_for(make("MyTeamPodsStuck", expr))
    assert prior.matched_by == "expression"
    assert prior.entry == "container_waiting_image_pull"
    assert prior.suggests == {"image_pull_failure": Strength.STRONG}
    assert prior.metrics == ["kube_pod_container_status_waiting_reason"]


def test_regex_matcher_selects_every_named_condition() -> None:
    expr = 'kube_pod_container_status_waiting_reason{reason=~"CrashLoopBackOff|ErrImagePull"} == 1'
    suggests = prior_for(make("Custom", expr)).suggests
    assert suggests["crash_loop_bad_config"] is Strength.STRONG
    assert suggests["image_pull_failure"] is Strength.STRONG


def test_negative_matcher_does_not_satisfy_a_condition() -> None:
    expr = 'kube_pod_container_status_waiting_reason{reason!="CrashLoopBackOff"} == 1'
    prior = prior_for(make("Custom", expr))
    assert prior.entry == "container_waiting"
    assert prior.suggests["image_pull_failure"] is Strength.POSSIBLE


def test_node_ready_condition() -> None:
    expr = 'kube_node_status_condition{condition="Ready",status="true"} == 0'
    assert prior_for(make("NodeGone", expr)).suggests == {"node_not_ready": Strength.STRONG}


def test_merging_keeps_the_strongest_and_the_first_meaning() -> None:
    expr = (
        "rate(container_cpu_usage_seconds_total[5m]) > 1"
        ' and on(pod) rate(container_cpu_cfs_throttled_periods_total{container!=""}[5m]) > 0.5'
        " and on(pod) kube_pod_container_status_restarts_total > 3"
    )
    prior = prior_for(make("Custom", expr))
    assert prior.entry == "container_cpu"  # the first selector's entry gives the meaning
    assert prior.suggests["cpu_saturation"] is Strength.LIKELY  # possible + likely -> likely
    assert prior.suggests["crash_loop_bad_config"] is Strength.LIKELY
    assert prior.gather[:2] == ["cpu_usage", "cpu_throttled_ratio"]
    assert len(prior.metrics) == 3


def test_name_wins_over_expression_but_metrics_are_read() -> None:
    prior = prior_for(make("KubeJobFailed", "kube_node_status_condition == 0"))
    assert prior.entry == "KubeJobFailed"
    assert prior.metrics == ["kube_node_status_condition"]


def test_constant_expression_is_a_heartbeat() -> None:
    prior = prior_for(make("SomethingOdd", "vector(1)"))
    assert prior.matched_by == "expression"
    assert prior.kind is AlertKind.HEARTBEAT


@pytest.mark.parametrize(
    "expr",
    [
        "",
        "   ",
        "rate(foo[5m]",
        "foo{{ $labels.x }}",
        'sum(rate(http_requests_total{job="{{ .Values.job }}"}[5m])) > 1',
        "foo > $threshold",
        "holt_winters(x[5m], 0.1, 0.1)",
        "\x00\x01 garbage ]]]",
        "(" * 3000 + "x" + ")" * 3000,
    ],
)
def test_unreadable_expressions_give_unknown(expr: str) -> None:
    prior = prior_for(make("TotallyUnknownAlert", expr))
    assert prior.matched_by == "none"
    assert prior.entry is None
    assert prior.meaning == ""
    assert prior.kind is AlertKind.INCIDENT
    assert prior.suggests == {}


@pytest.mark.parametrize(
    "name",
    ["[", "(((", "a" * 20_000 + "CertificateExpiry", "Watchdog\n", "🔥", "*", "\\"],
)
def test_odd_names_never_raise(name: str) -> None:
    started = time.perf_counter()
    prior = prior_for(make(name, "up == 0"))
    assert time.perf_counter() - started < 0.5
    assert prior.matched_by in ("name", "expression")


def test_unknown_name_and_unknown_metric() -> None:
    prior = prior_for(make("TotallyUnknownAlert", "acme_widgets_broken_total > 0"))
    assert prior.matched_by == "none"
    assert prior.metrics == ["acme_widgets_broken_total"]


def test_templated_expression_keeps_name_match() -> None:
    prior = prior_for(make("KubeJobFailed", "kube_job_failed{job={{ $job }}} > 0"))
    assert prior.matched_by == "name"
    assert prior.metrics == []


def test_huge_expression_is_bounded() -> None:
    huge = " + ".join(f'metric_{i}{{a="b"}}' for i in range(5000))
    started = time.perf_counter()
    prior = prior_for(make("TotallyUnknownAlert", huge))
    assert time.perf_counter() - started < 1.0
    assert prior.matched_by == "none"
    assert parse_selectors(huge) is None
    long_but_fine = " or ".join(f'up{{job="j{i}"}}' for i in range(150))
    selectors = parse_selectors(long_but_fine)
    assert selectors is not None and len(selectors) == 150


def test_selectors_of_nested_expression() -> None:
    selectors = parse_selectors(
        'sum by (a) (rate(foo{x="y"}[5m])) / on(a) group_left max_over_time(bar[10m:1m])'
        ' or absent({__name__="baz", z=~"q|r"})'
    )
    assert selectors is not None
    assert [s.names() for s in selectors] == [["foo"], ["bar"], ["baz"]]
    assert selectors[2].matchers[1].op == "=~"


# --- expression_of


def test_expression_from_generator_url_is_decoded() -> None:
    expr = 'sum(rate(http_requests_total{code=~"5.."}[5m])) > 0.1 & x'
    assert expression_of(make("A", expr)) == expr


def test_expression_from_generator_url_with_plus_and_other_params() -> None:
    url = "http://prom/graph?g0.tab=1&g0.expr=up+%3D%3D+0&g1.expr=other"
    assert expression_of(make("A", url=url)) == "up == 0"


def test_generator_url_without_expression() -> None:
    assert expression_of(make("A", url="http://grafana/alerting/list?view=state")) is None
    assert expression_of(make("A", url="http://prom/graph?g0.expr=&g0.tab=1")) is None
    assert expression_of(make("A", url="not a url at all ::: ?? %%")) is None
    assert expression_of(make("A")) is None


def test_expression_from_annotation_or_label() -> None:
    assert expression_of(make("A", annotations={"expr": "up == 0"})) == "up == 0"
    assert expression_of(make("A", labels={"expr": "up == 0"})) == "up == 0"


def test_explicit_expression_overrides_the_alert() -> None:
    alert = make("Unknown", "up == 0")
    prior = prior_for(alert, expression="kube_job_failed > 0")
    assert prior.entry == "job_failed"


# --- loading


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_a_custom_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
families:
  mine: {gather: [logs], workload_labels: [app]}
alerts:
  AcmeDown:
    family: mine
    aliases: [AcmeIsDown]
    meaning: The Acme service is down.
    suggests: {upstream_dependency_failure: likely}
metrics:
  - id: acme
    prefix: acme_
    meaning: Acme is unhappy.
""",
    )
    catalog = load_catalog(path)
    prior = prior_for(make("acme-is-down"), catalog=catalog)
    assert prior.entry == "AcmeDown"
    assert prior.gather == ["logs"]
    assert prior.workload_labels == ["app"]
    assert prior_for(make("X", "acme_errors > 1"), catalog=catalog).entry == "acme"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("alerts:\n  A:\n    meaning: x.\n    colour: red\n", "colour"),
        ("alerts:\n  A:\n    suggests: {oom_kill_loop: certain}\n", "suggests"),
        ("alerts:\n  A:\n    gather: [tea_leaves]\n", "gather"),
        ("alerts:\n  A:\n    kind: emergency\n", "kind"),
        ("alerts:\n  A:\n    family: nope\n", "unknown family"),
        ("alertz: {}\n", "alertz"),
        ("metrics:\n  - id: m\n    meaning: x.\n", "exactly one"),
        ("metrics:\n  - id: m\n    metric: a\n    prefix: b\n", "exactly one"),
        ("name_patterns:\n  - regex: '(['\n", "regex"),
        ("alerts:\n  A: {}\n  B: {aliases: [a]}\n", "also given"),
        ("- just\n- a list\n", "mapping"),
        ("alerts: [\n", "malformed"),
    ],
)
def test_bad_catalog_is_rejected(tmp_path: Path, text: str, error: str) -> None:
    with pytest.raises(CatalogError, match=error):
        load_catalog(_write(tmp_path, text))


def test_missing_catalog(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        load_catalog(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CatalogError, match=r"no \.yaml"):
        load_catalog(tmp_path / "empty")


def test_default_catalog_is_cached() -> None:
    assert load_catalog() is load_catalog()
