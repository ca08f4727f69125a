"""The bounded sample of entries: every kind of line, then the newest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firstline.domain.evidence import LogEntry
from firstline.logs import cluster, sample

T0 = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)


def entries(texts: list[str]) -> list[LogEntry]:
    return [LogEntry(ts=T0 + timedelta(seconds=i), line=t) for i, t in enumerate(texts)]


def test_every_template_is_represented_then_the_newest_fill_up() -> None:
    texts = [f"request {i} ok" for i in range(500)]
    texts[10] = "certificate has expired"
    texts[20] = "disk full on /data"
    lines = entries(texts)
    templates = cluster(lines, max_templates=10, examples=3)
    picked = sample(lines, templates, size=5)
    assert len(picked) == 5
    assert [e.line for e in picked] == [
        "certificate has expired",
        "disk full on /data",
        "request 497 ok",
        "request 498 ok",
        "request 499 ok",
    ]


def test_sample_is_chronological_and_bounded() -> None:
    lines = entries([f"event {i}" for i in range(50)])
    picked = sample(lines, cluster(lines, 5, 2), size=10)
    assert [e.line for e in picked] == [f"event {i}" for i in range(40, 50)]
    assert sample(lines, [], size=0) == []
    assert sample(lines, [], size=100) == lines


def test_templates_beyond_the_size_give_way_in_frequency_order() -> None:
    texts = ["alpha one"] * 3 + ["beta two"] * 2 + ["gamma three"]
    lines = entries(texts)
    picked = sample(lines, cluster(lines, 5, 1), size=2)
    assert [e.line for e in picked] == ["alpha one", "beta two"]
