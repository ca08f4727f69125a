"""log_signals: one signal per family and workload, counted once whether the lines arrive as
entries, templates, or both; and fast enough for 10,000 lines."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from firstline.domain.evidence import LogEntry, LogEvidence, LogTemplate, Provenance
from firstline.signals.log_library import FAMILIES, default_library
from firstline.signals.logs import log_families, log_signals, workload_of_labels

T0 = datetime(2026, 3, 12, 14, 0, tzinfo=UTC)
EXPIRED = (
    "tls: failed to verify certificate: x509: certificate has expired or is not yet valid: "
    "current time 2026-03-12T14:02:11Z is after 2026-03-10T00:00:00Z"
)
REFUSED = (
    'level=error msg="db ping failed" err="dial tcp 10.0.0.5:5432: connect: connection refused"'
)


def _logs(
    entries: list[LogEntry] | None = None, templates: list[LogTemplate] | None = None
) -> LogEvidence:
    return LogEvidence(
        id="logs",
        provenance=Provenance(source="test", query='{namespace="shop"}'),
        entries=entries or [],
        templates=templates or [],
    )


def _entry(minute: int, line: str, **labels: str) -> LogEntry:
    return LogEntry(ts=T0 + timedelta(minutes=minute), line=line, labels=labels)


@pytest.mark.parametrize(
    ("labels", "workload"),
    [
        ({"pod": "checkout-7d9f8c6b5-x2k9p"}, "checkout"),
        ({"pod": "orders-db-0"}, "orders-db"),
        ({"pod": "standalone"}, "standalone"),
        ({"app": "payments", "pod": "checkout-7d9f8c6b5-x2k9p"}, "payments"),
        ({"app_kubernetes_io_name": "orders", "container": "main"}, "orders"),
        ({"container": "cart", "service_name": "cart-svc"}, "cart"),
        ({"service_name": "inventory"}, "inventory"),
        ({"job": "shop/cart"}, "cart"),
        ({"app": "  ", "service": "search"}, "search"),
        ({"namespace": "shop"}, None),
    ],
)
def test_the_workload_comes_from_the_labels(labels: dict[str, str], workload: str | None) -> None:
    assert workload_of_labels(labels) == workload


def test_entries_give_one_signal_per_family_and_workload() -> None:
    logs = _logs(
        [
            _entry(7, EXPIRED, pod="checkout-7d9f8c6b5-x2k9p"),
            _entry(2, EXPIRED, pod="checkout-7d9f8c6b5-abcde"),  # earlier, listed later
            _entry(5, EXPIRED, pod="checkout-7d9f8c6b5-x2k9p"),
            _entry(3, REFUSED, app="cart"),
            _entry(4, "GET /healthz 200", app="cart"),
        ]
    )
    signals = log_signals(logs)
    assert [(s.family, s.workload, s.count) for s in signals] == [
        ("cert_expired", "checkout", 3),
        ("connection_refused", "cart", 1),
    ]
    cert = signals[0]
    assert (cert.first_seen, cert.last_seen) == (
        T0 + timedelta(minutes=2),
        T0 + timedelta(minutes=7),
    )
    assert cert.ref == "logs"
    assert cert.subject == "logs/checkout"
    assert cert.attributes == {
        "not_after": "2026-03-10T00:00:00Z",
        "signature": "go_x509_expired",
        "example": EXPIRED,
    }
    assert cert.summary.startswith(
        '3 log lines from checkout: TLS certificate has expired (x509) — "tls: failed to verify'
    )
    assert signals[1].attributes["target"] == "10.0.0.5:5432"
    assert signals[1].summary.startswith("1 log line from cart: Connection refused (Go dial)")


def test_the_same_family_in_two_workloads_gives_two_signals() -> None:
    logs = _logs([_entry(1, REFUSED, app="cart"), _entry(2, REFUSED, app="orders")])
    assert {(s.workload, s.count) for s in log_signals(logs)} == {("cart", 1), ("orders", 1)}


def test_lines_without_workload_labels_are_still_counted() -> None:
    [signal] = log_signals(_logs([_entry(1, REFUSED)]))
    assert (signal.workload, signal.subject) == (None, "logs")
    assert signal.summary.startswith("1 log line: ")


def test_templates_alone_count_their_lines() -> None:
    template = LogTemplate(
        template="dial tcp <IP>: connect: connection refused",
        count=40,
        first_seen=T0,
        last_seen=T0 + timedelta(minutes=9),
        examples=["dial tcp 10.0.0.5:5432: connect: connection refused"],
    )
    [signal] = log_signals(_logs(templates=[template]))
    assert (signal.family, signal.count) == ("connection_refused", 40)
    assert (signal.first_seen, signal.last_seen) == (T0, T0 + timedelta(minutes=9))
    assert signal.attributes["target"] == "10.0.0.5:5432"  # from the example, not the mask


def test_a_template_without_examples_matches_on_its_text() -> None:
    template = LogTemplate(
        template="FATAL: sorry, too many clients already", count=7, first_seen=T0, last_seen=T0
    )
    [signal] = log_signals(_logs(templates=[template]))
    assert (signal.family, signal.count) == ("db_connection_limit", 7)


def test_templates_of_the_entries_are_not_counted_twice() -> None:
    entries = [_entry(m, REFUSED, app="cart") for m in range(3)]
    covered = LogTemplate(
        template="level=error msg=<STR> err=<STR>",
        count=3,
        first_seen=T0,
        last_seen=T0 + timedelta(minutes=2),
        examples=[REFUSED],
    )
    wider = LogTemplate(  # clustered from lines the entries do not hold
        template="Error: connect ECONNREFUSED <IP>",
        count=25,
        first_seen=T0 - timedelta(minutes=30),
        last_seen=T0 + timedelta(minutes=1),
        examples=["Error: connect ECONNREFUSED 127.0.0.1:6379"],
    )
    signals = log_signals(_logs(entries, [covered, wider]))
    by_workload = {s.workload: s for s in signals}
    assert by_workload["cart"].count == 3
    assert by_workload[None].count == 25
    assert by_workload[None].first_seen == T0 - timedelta(minutes=30)
    assert sum(s.count for s in signals) == 28


def test_a_clipped_template_example_is_recognised_among_the_entries() -> None:
    long_line = REFUSED + " " + "x" * 600
    covered = LogTemplate(
        template="<*>", count=1, first_seen=T0, last_seen=T0, examples=[long_line[:500] + "…"]
    )
    [signal] = log_signals(_logs([_entry(0, long_line, app="cart")], [covered]))
    assert signal.count == 1
    assert len(signal.attributes["example"]) == 300


def test_several_signatures_of_one_family_are_listed() -> None:
    logs = _logs(
        [
            _entry(1, "Error: connect ECONNREFUSED 127.0.0.1:6379", app="cart"),
            _entry(2, REFUSED, app="cart"),
            _entry(3, REFUSED, app="cart"),
        ]
    )
    [signal] = log_signals(logs)
    assert signal.attributes["signature"] == "node_econnrefused"  # the earliest line's
    assert signal.attributes["signatures"] == "go_dial_refused,node_econnrefused"
    assert signal.attributes["target"] == "127.0.0.1:6379"


def test_weak_families_say_so() -> None:
    [signal] = log_signals(_logs([_entry(0, "Traceback (most recent call last):", app="cart")]))
    assert (signal.family, signal.attributes["weak"]) == ("crash", "true")


def test_no_logs_no_signals() -> None:
    assert log_signals(None) == []
    assert log_signals(_logs()) == []


def test_log_families_lists_the_library() -> None:
    assert log_families() == FAMILIES


ERROR_LINES = [
    EXPIRED,
    REFUSED,
    "Caused by: java.net.UnknownHostException: db.orders.svc",
    "HikariPool-1 - Connection is not available, request timed out after 30000ms.",
    "2026-03-12 14:02:11.123 UTC [4321] FATAL:  sorry, too many clients already",
    "upstream timed out (110: Connection timed out) while reading response header from upstream",
    "panic: runtime error: invalid memory address or nil pointer dereference",
    "Error: EACCES: permission denied, mkdir '/app/uploads'",
]
BUSY_LINES = [
    "GET /healthz 200",
    'level=info msg="request completed" method=GET path=/api/orders status=200 duration=12ms',
    '{"level":"info","ts":"2026-03-12T14:02:11Z","msg":"order created","order_id":"a1b2c3","user":"u42"}',
    "2026-03-12 14:02:11.123  INFO 1 --- [nio-8080-exec-3] c.e.shop.OrderController : placed order 42 for customer 17",
    "I0312 14:02:11.123456       1 leaderelection.go:250] attempting to acquire leader lease kube-system/lock...",
    '10.0.0.1 - - [12/Mar/2026:14:02:11 +0000] "GET /static/app.js HTTP/1.1" 200 5123 "-" "Mozilla/5.0"',
    "cache miss for key session:9f8e7d, fetching from redis",
    "retrying request to inventory in 200ms (attempt 2 of 5)",
]


def test_ten_thousand_lines_are_matched_quickly() -> None:
    lines = [*ERROR_LINES, *BUSY_LINES * 11]  # about one line in twelve is an error
    entries = [
        _entry(0, f"{lines[n % len(lines)]} seq={n}", pod=f"checkout-7d9f8c6b5-{n % 7:05d}")
        for n in range(10_000)
    ]
    logs = _logs(entries)
    default_library()  # loading is once per process; the bound is on matching
    started = time.perf_counter()
    signals = log_signals(logs)
    elapsed = time.perf_counter() - started
    print(f"\nlog_signals over 10,000 lines: {elapsed * 1000:.0f} ms")
    assert sum(s.count for s in signals) == sum(
        1 for e in entries if any(e.line.startswith(x) for x in ERROR_LINES)
    )
    assert elapsed < 2.0
