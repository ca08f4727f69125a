"""Property: whatever an alert's label values hold, the LogQL selector firstline builds is
accepted by the real server and matches exactly the stream that carries those values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from firstline.domain.evidence import EvidenceStatus
from tests.integration.loki.helpers import backend, now_ms, scope_of, unique
from tests.services.loki import LokiServer

pytestmark = pytest.mark.integration

# Label values as they occur in the wild, and the ones that break naive splicing: quotes,
# backslashes, braces, newlines, control characters, and unicode up to the astral planes.
TRICKY = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=24
).filter(lambda s: s.strip() != "")

NASTY = [
    'say "hi"', "back\\slash", '\\"', "{brace}", "a}b{c", "new\nline", "tab\there", "\x00nul",
    "üñí€", "emoji 😀", '😀"\\\n{}', "`tick`", "=~!", "^$.*+?()[]|", "\\u0041", "\u2028",
    "\x1asub",  # qryn mangles U+001A in SQL; logql.matcher() goes around it
]  # fmt: skip


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.lists(TRICKY, min_size=8, max_size=16, unique=True))
@example(values=NASTY)
async def test_selectors_match_exactly_the_intended_stream(
    loki: LokiServer, values: list[str]
) -> None:
    """Stream i carries pod=values[i] and service=values[i+1]; an alert with those two
    values must get stream i back, and only it."""
    namespace = unique("prop")
    start = now_ms() - timedelta(minutes=1)
    pairs = [(value, values[(i + 1) % len(values)]) for i, value in enumerate(values)]
    loki.push_streams(
        [
            ({"namespace": namespace, "pod": pod, "service": service},
             [(start + timedelta(milliseconds=i), f"stream {i}")])
            for i, (pod, service) in enumerate(pairs)
        ]
    )  # fmt: skip
    loki.wait_for_lines(f'{{namespace="{namespace}"}}', start, now_ms(), at_least=len(values))
    logs = backend(loki.url)
    for i, (pod, service) in enumerate(pairs):
        evidence = await logs.logs(
            scope_of({"namespace": namespace, "pod": pod, "service": service})
        )
        assert evidence.status is EvidenceStatus.OK, (pod, service, evidence.reason)
        assert [e.line for e in evidence.entries] == [f"stream {i}"], evidence.provenance.query
        assert evidence.entries[0].labels == {
            "namespace": namespace,
            "pod": pod,
            "service": service,
        }
        assert evidence.provenance.query.isascii()
