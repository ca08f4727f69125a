"""Clustering log lines into templates: counts, first/last seen, examples, order."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from firstline.domain.evidence import LogEntry
from firstline.logs import cluster
from firstline.logs.clustering import MAX_EXAMPLE_CHARS

T0 = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)


def entries(texts: list[str], step_ms: int = 1) -> list[LogEntry]:
    return [
        LogEntry(ts=T0 + timedelta(milliseconds=i * step_ms), line=text)
        for i, text in enumerate(texts)
    ]


def noisy(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [
        f"GET /api/orders/{rng.randint(1, 99999)} user={uuid.UUID(int=rng.getrandbits(128))} "
        f"from 10.1.{rng.randint(0, 255)}.{rng.randint(1, 254)} in {rng.randint(1, 900)}ms "
        f'status={rng.choice([500, 502, 503])} err="upstream {rng.getrandbits(32):x} reset"'
        for _ in range(n)
    ]


def test_ten_thousand_lines_with_varying_ids_are_one_template() -> None:
    lines = entries(noisy(10_000))
    [template] = cluster(lines, max_templates=10, examples=3)
    assert template.count == 10_000
    assert template.template == (
        "GET /api/orders/<NUM> user=<UUID> from <IP> in <DURATION> status=<NUM> err=<STR>"
    )
    assert template.first_seen == lines[0].ts
    assert template.last_seen == lines[-1].ts
    assert template.examples == [lines[-1].line, lines[-2].line, lines[-3].line]


def test_different_messages_stay_apart_most_frequent_first() -> None:
    texts = (
        [f"connection refused to db-{i % 3}:5432" for i in range(30)]
        + [f"disk /data is {90 + i % 9}% full" for i in range(5)]
        + noisy(50)
        + ["panic: runtime error: index out of range [3] with length 3"]
    )
    random.Random(3).shuffle(texts)
    found = cluster(entries(texts), max_templates=10, examples=2)
    assert [t.count for t in found] == [50, 30, 5, 1]
    assert found[1].template == "connection refused to db-<NUM>:<NUM>"
    assert found[2].template == "disk /data is <NUM>% full"
    assert found[3].template.startswith("panic: runtime error")
    assert sum(t.count for t in found) == len(texts)


def test_max_templates_keeps_the_most_frequent() -> None:
    texts = ["alpha happened"] * 5 + ["beta went wrong"] * 3 + ["gamma is odd now"] * 1
    found = cluster(entries(texts), max_templates=2, examples=1)
    assert [(t.template, t.count) for t in found] == [
        ("alpha happened", 5),
        ("beta went wrong", 3),
    ]
    assert cluster(entries(texts), max_templates=0, examples=1) == []


def test_examples_are_distinct_newest_first_and_clipped() -> None:
    long_tail = "x" * (MAX_EXAMPLE_CHARS + 50)
    texts = ["job 1 failed", "job 2 failed", "job 1 failed", "job 3 failed"]
    [template] = cluster(entries(texts), max_templates=5, examples=5)
    assert template.examples == ["job 3 failed", "job 1 failed", "job 2 failed"]
    [none] = cluster(entries(texts), max_templates=5, examples=0)
    assert none.examples == [] and none.count == 4
    [clipped] = cluster(entries([f"trace {long_tail}"]), max_templates=1, examples=1)
    assert clipped.examples[0].endswith("…") and len(clipped.examples[0]) == MAX_EXAMPLE_CHARS + 1


def test_input_order_does_not_matter_for_times() -> None:
    lines = entries([f"tick {i}" for i in range(20)], step_ms=1000)
    [template] = cluster(list(reversed(lines)), max_templates=1, examples=1)
    assert template.first_seen == lines[0].ts and template.last_seen == lines[-1].ts
    assert template.examples == ["tick 19"]


def test_deterministic() -> None:
    texts = noisy(300, seed=5) + [f"cache miss for key k{i}" for i in range(40)]
    random.Random(9).shuffle(texts)
    lines = entries(texts)
    assert cluster(lines, 10, 3) == cluster(list(reversed(lines)), 10, 3)


def test_blank_lines_and_nothing_at_all() -> None:
    assert cluster([], max_templates=5, examples=3) == []
    assert cluster(entries(["", "   ", "\n"]), max_templates=5, examples=3) == []
    [one] = cluster(entries(["", "  ready  "]), max_templates=5, examples=3)
    assert one.count == 1 and one.examples == ["ready"]


def test_multiline_entries_cluster_by_their_words() -> None:
    trace = "Traceback (most recent call last):\n  File \"app.py\", line {n}, in handler\nKeyError: 'user'"
    [template] = cluster(entries([trace.format(n=n) for n in (10, 20, 30)]), 5, 1)
    assert template.count == 3
    assert "\n" not in template.template and "<NUM>" in template.template
