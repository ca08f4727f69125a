"""Service ranking for localisation: own metrics decide, a caller's latency explained by a
callee does not, and on Nezha's real cases it beats the max-z baseline on each system."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from firstline.detection.ranking import family, rank, served_rate
from firstline.detection.services import rank_services, services_from_evidence
from firstline.domain.evidence import EvidenceStatus, MetricEvidence, MetricPoint

NEZHA_DEV = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "nezha-dev"
START = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
AT = START + timedelta(minutes=60)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CpuUsageRate(%)", "cpu"),
        ("container_cpu_usage_seconds_total", "cpu"),
        ("MemoryUsage(Mi)", "memory"),
        ("PodServerLatencyP99(s)", "latency"),
        ("InLatencyP50(s)|from=frontend|reporter=source", "latency"),
        ("latency_p99", "latency"),
        ("PodClientLatencyP90(s)", "callee"),
        ("PodSuccessRate(%)", "errors"),
        ("error_rate", "errors"),
        ("PodWorkload(Ops)", "traffic"),
        ("NetworkTransmitBytes", "traffic"),
        ("NodeCpuUsageRate(%)", "node"),
        ("queue_depth", "other"),
    ],
)
def test_metric_families(name: str, expected: str) -> None:
    assert family(name) == expected


def series(level: float, noise: float, moves: dict[int, float], seed: int) -> list[MetricPoint]:
    """70 one-minute samples; `moves`: from minute m on, the level becomes the value."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(70):
        value = level
        for minute, new in sorted(moves.items()):
            if i >= minute:
                value = new
        out.append(MetricPoint(ts=START + timedelta(minutes=i), value=value + rng.normal(0, noise)))
    return out


def evidence(service: str, name: str, points: list[MetricPoint]) -> MetricEvidence:
    return MetricEvidence(
        id=f"{service}-{name}",
        name=name,
        labels={"service": service},
        points=points,
        provenance={"source": "test", "query": name},
    )


def frontend_incident() -> list[MetricEvidence]:
    """payments' CPU saturates at 14:00 and its latency follows; the frontend, which calls it,
    sees its latency rise a minute later, by more spreads (its latency is quieter), and its
    traffic drop; the catalogue is untouched."""
    return [
        evidence("frontend", "latency_p99", series(0.2, 0.002, {61: 0.6}, 1)),
        evidence("frontend", "request_rate", series(100, 2, {61: 70}, 2)),
        evidence("frontend", "cpu_usage", series(0.3, 0.02, {}, 3)),
        evidence("payments", "cpu_usage", series(0.2, 0.1, {60: 0.95}, 4)),
        evidence("payments", "latency_p99", series(0.05, 0.02, {60: 0.3}, 5)),
        evidence("catalog", "cpu_usage", series(0.4, 0.02, {}, 6)),
        evidence("catalog", "latency_p99", series(0.03, 0.003, {}, 7)),
    ]


def test_a_frontend_alert_is_traced_to_the_backend_that_moved_first() -> None:
    failed = evidence("ledger", "cpu_usage", series(0.1, 0.01, {60: 0.9}, 12))
    unlabelled = evidence("x", "cpu_usage", series(0.1, 0.01, {60: 0.9}, 13))
    items = [
        *frontend_incident(),
        failed.model_copy(update={"status": EvidenceStatus.ERROR}),
        unlabelled.model_copy(update={"labels": {}}),
    ]
    grouped = services_from_evidence(items)
    assert set(grouped) == {"frontend", "payments", "catalog"}
    ranking = rank_services(grouped, AT, call_edges=[("frontend", "payments")])
    top = ranking[0]
    assert top.rank == 1 and top.service == "payments"
    assert top.deciding is not None and top.deciding.family in ("cpu", "latency")
    assert top.deciding.first_moved == AT
    assert top.sentence().startswith("payments: ")
    frontend = next(r for r in ranking if r.service == "frontend")
    # its latency moved (and is listed) but is explained by payments, which moved first
    assert {m.metric for m in frontend.moved} >= {"latency_p99", "request_rate"}
    assert frontend.deciding is None and frontend.score == 0
    assert next(r for r in ranking if r.service == "catalog").moved == ()


def test_without_the_call_graph_the_louder_caller_wins() -> None:
    """The same incident, no edges: the frontend's latency moved by more spreads, so it leads;
    this is what the call graph corrects."""
    ranking = rank_services(services_from_evidence(frontend_incident()), AT)
    assert ranking[0].service == "frontend"
    assert ranking[1].service == "payments"


def test_edges_are_read_from_inbound_edge_metric_names() -> None:
    grouped = services_from_evidence(frontend_incident())
    grouped["payments"]["InLatencyP50(s)|from=frontend"] = series(0.05, 0.005, {60: 0.3}, 8)
    assert rank_services(grouped, AT)[0].service == "payments"


def test_traffic_and_blips_do_not_rank_a_service() -> None:
    blip = series(0.2, 0.01, {}, 9)
    blip[65] = MetricPoint(ts=blip[65].ts, value=5.0)  # one odd scrape after `at`
    grouped = {
        "busy": {"request_rate": series(100, 2, {60: 300}, 10)},
        "blippy": {"cpu_usage": blip},
        "quiet": {"cpu_usage": series(0.2, 0.01, {}, 11)},
    }
    ranking = {r.service: r for r in rank_services(grouped, AT)}
    assert ranking["busy"].score == 0 and ranking["busy"].moved[0].family == "traffic"
    assert ranking["blippy"].score == 0 and ranking["blippy"].moved == ()


@pytest.mark.skipif(not NEZHA_DEV.is_dir(), reason=f"Nezha development cases not at {NEZHA_DEV}")
def test_beats_max_z_on_each_system_of_the_nezha_cases() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
    from localization import firstline, hit, max_z

    from firstline.detection.nezha import load_cases

    cases = load_cases(NEZHA_DEV)
    assert len(cases) == 52
    for system in ("online-boutique", "train-ticket"):
        mine = [hit(firstline(c), c.root_cause, 1) for c in cases if c.system == system]
        classic = [
            hit(max_z(c, robust=False), c.root_cause, 1) for c in cases if c.system == system
        ]
        robust = [hit(max_z(c, robust=True), c.root_cause, 1) for c in cases if c.system == system]
        assert np.mean(mine) > max(np.mean(classic), np.mean(robust)), system
    visible = [hit(firstline(c), c.root_cause, 1) for c in cases if c.metric_visible]
    assert np.mean(visible) >= 0.8  # where the paper's labels say the fault shows in metrics


def caller_with_callees(
    callee_rates: dict[str, dict[int, float]], caller_moves: dict[int, float] | None = None
) -> dict[str, dict[str, list[MetricPoint]]]:
    """A frontend serving ~100 requests a minute that calls four backends; each backend's
    request rate is `level` x the frontend's from minute m on (`callee_rates[name]` =
    {m: level}, 1.0 before), plus a little noise; every service's CPU and latency are quiet."""
    front = series(100, 2, caller_moves or {}, 20)
    out: dict[str, dict[str, list[MetricPoint]]] = {
        "frontend": {
            "request_rate": front,
            "cpu_usage": series(0.3, 0.01, {}, 21),
            "latency_p99": series(0.2, 0.004, {}, 22),
        }
    }
    rng = np.random.default_rng(23)
    for i, name in enumerate(("cart", "catalog", "ads", "currency")):
        moves = callee_rates.get(name, {})
        points = []
        for j, p in enumerate(front):
            level = 1.0
            for minute, new in sorted(moves.items()):
                if j >= minute:
                    level = new
            points.append(MetricPoint(ts=p.ts, value=p.value * level * (1 + rng.normal(0, 0.01))))
        out[name] = {
            "request_rate": points,
            "cpu_usage": series(0.2, 0.01, {}, 30 + i),
            "latency_p99": series(0.05, 0.001, {}, 40 + i),
        }
    return out


EDGES = [("frontend", name) for name in ("cart", "catalog", "ads", "currency")]


def test_a_caller_that_stops_calling_most_callees_ranks_first() -> None:
    """An early return in the frontend: from 14:00 three of its four backends get a fifth of
    the calls per frontend request while the frontend's own traffic holds. Nothing else
    moved, so only the frontend's calls signal names it."""
    grouped = caller_with_callees({n: {60: 0.2} for n in ("cart", "catalog", "ads")})
    ranking = rank_services(grouped, AT, call_edges=EDGES)
    top = ranking[0]
    assert top.service == "frontend" and top.score >= 4
    assert top.deciding is not None and top.deciding.family == "calls"
    assert top.deciding.z < 0  # fewer calls per request
    assert "per request (3 of 4 callees moved)" in top.deciding.metric
    assert top.deciding.metric.startswith("calls to ")
    assert top.deciding.baseline == pytest.approx(1, abs=0.03)
    assert top.deciding.value == pytest.approx(0.2, abs=0.01)
    assert " fell from ~" in top.sentence()
    assert top.deciding.first_moved == AT
    # the backends' request rates fell, but traffic never ranks a service
    assert all(r.score == 0 for r in ranking[1:])
    # without the call graph there is no calls signal, and nothing ranks
    assert all(r.score == 0 for r in rank_services(grouped, AT))


def test_one_callee_alone_does_not_make_a_calls_signal() -> None:
    """Only the cart's calls per request changed (one of four): the cart may be the cause
    (rejecting, or retried by the frontend), so the frontend gets no calls signal."""
    grouped = caller_with_callees({"cart": {60: 3.0}})
    frontend = next(r for r in rank_services(grouped, AT, EDGES) if r.service == "frontend")
    assert frontend.score == 0 and frontend.deciding is None
    assert all(m.family != "calls" for m in frontend.moved)
    # a caller with a single callee never gets one either, however far the ratio moves
    single = {k: v for k, v in grouped.items() if k in ("frontend", "cart")}
    only = rank_services(single, AT, [("frontend", "cart")])
    assert all(m.family != "calls" for r in only for m in r.moved)


def test_more_traffic_through_the_same_code_path_is_no_calls_signal() -> None:
    """The frontend's traffic doubles from 14:00 and its backends' with it: per request the
    frontend calls them as before, so the ratio holds."""
    grouped = caller_with_callees({}, caller_moves={60: 200})
    frontend = next(r for r in rank_services(grouped, AT, EDGES) if r.service == "frontend")
    assert frontend.moved and all(m.family == "traffic" for m in frontend.moved)
    assert frontend.score == 0


def test_call_ratios_pair_samples_taken_a_few_seconds_apart() -> None:
    """Callees scraped 10 s after the caller still pair with its samples (nearest within
    half a step); `call_rates=False` leaves the signal out."""
    grouped = caller_with_callees({n: {60: 0.2} for n in ("cart", "catalog", "ads")})
    services = {
        name: {
            metric: (
                np.array([p.ts.timestamp() + (10 if name != "frontend" else 0) for p in pts]),
                np.array([p.value for p in pts]),
            )
            for metric, pts in metrics.items()
        }
        for name, metrics in grouped.items()
    }
    ranked = rank(services, AT.timestamp(), EDGES)
    assert ranked[0].service == "frontend" and ranked[0].deciding is not None
    assert ranked[0].deciding.family == "calls"
    assert all(r.score == 0 for r in rank(services, AT.timestamp(), EDGES, call_rates=False))


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (
            ["CpuUsage(m)", "NetworkReceiveBytes", "PodWorkload(Ops)", "SyscallRead"],
            "PodWorkload(Ops)",
        ),
        (["http_requests_per_second", "latency_p99"], "http_requests_per_second"),
        (["InLatencyP50(s)|from=frontend", "NetworkTransmitBytes", "cpu"], None),
        (["request_bytes_total"], None),
    ],
)
def test_the_served_request_rate_is_found_by_name(names: list[str], expected: str | None) -> None:
    assert served_rate(names) == expected
