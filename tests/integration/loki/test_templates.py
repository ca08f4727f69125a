"""Lines read back from the real server are clustered into templates before anyone sees them."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest

from firstline.domain.evidence import EvidenceStatus
from tests.integration.loki.helpers import backend, lines_every_ms, now_ms, scope_of, unique
from tests.services.loki import LokiServer

pytestmark = pytest.mark.integration


def noisy_line(rng: random.Random, i: int) -> str:
    request = uuid.UUID(int=rng.getrandbits(128))
    return (
        f"payment {request} failed for order={rng.randint(1, 10**6)} "
        f"from 10.0.{i % 256}.{rng.randint(1, 254)}:{rng.randint(1024, 65535)} "
        f"after {rng.randint(1, 999)}ms trace={rng.getrandbits(64):016x}"
    )


async def test_ten_thousand_lines_become_one_template(loki: LokiServer) -> None:
    namespace = unique("noisy")
    rng = random.Random(7)
    start = now_ms() - timedelta(minutes=2)
    lines = lines_every_ms(start, [noisy_line(rng, i) for i in range(10_000)])
    loki.push({"namespace": namespace, "service": "payments"}, lines)
    window = scope_of({"namespace": namespace, "service": "payments"})
    loki.wait_for_lines(f'{{namespace="{namespace}"}}', window.start, window.end, 5000)

    evidence = await backend(loki.url, {"limit": 10_000}).logs(window)

    assert evidence.status is EvidenceStatus.OK, evidence.reason
    assert evidence.total_lines == 10_000 and evidence.reason is None
    assert len(evidence.templates) == 1
    template = evidence.templates[0]
    assert template.count == 10_000
    assert template.template == (
        "payment <UUID> failed for order=<NUM> from <IP> after <DURATION> trace=<HEX>"
    )
    assert template.first_seen == lines[0][0]
    assert template.last_seen == lines[-1][0]
    assert template.examples[0] == lines[-1][1]  # the newest first
    assert 1 < len(template.examples) <= 3
    assert len(evidence.entries) == 100  # the sample stays bounded
    assert evidence.entries[-1].line == lines[-1][1]


async def test_a_rare_line_survives_the_noise(loki: LokiServer) -> None:
    """The one line a pattern looks for is in the sample even when it is not among the
    newest, and its template stands apart from the noise."""
    namespace = unique("rare")
    rng = random.Random(11)
    start = now_ms() - timedelta(minutes=2)
    rare = "x509: certificate has expired or is not yet valid: current time 2026-03-04T14:00:00Z"
    texts = [noisy_line(rng, i) for i in range(3000)]
    texts[100] = rare
    loki.push({"namespace": namespace}, lines_every_ms(start, texts))
    window = scope_of({"namespace": namespace})
    loki.wait_for_lines(f'{{namespace="{namespace}"}}', window.start, window.end, 3000)

    evidence = await backend(loki.url, {"limit": 5000}, max_entries=20).logs(window)

    assert [t.count for t in evidence.templates] == [2999, 1]
    assert evidence.templates[1].template.startswith("x509: certificate has expired")
    assert evidence.templates[1].examples == [rare]
    assert len(evidence.entries) == 20
    assert evidence.count_matching("certificate has expired") == 1
    assert [e.ts for e in evidence.entries] == sorted(e.ts for e in evidence.entries)
