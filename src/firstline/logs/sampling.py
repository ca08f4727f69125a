"""A bounded sample of log entries that still shows every kind of line.

The newest N lines alone would be 10,000 copies of the noisiest message; a pattern looking
for the one "certificate has expired" line would never see it. So each template (most
frequent first) contributes its newest line, and the newest lines fill the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

from firstline.domain.evidence import LogEntry, LogTemplate
from firstline.logs.clustering import example_text


def sample(
    entries: Sequence[LogEntry], templates: Sequence[LogTemplate], size: int
) -> list[LogEntry]:
    """At most `size` entries, oldest first: the newest line of each template, in template
    order, then the newest remaining lines."""
    if size <= 0:
        return []
    newest_first = sorted(range(len(entries)), key=lambda i: entries[i].ts, reverse=True)
    # a template's first example is its newest line, as cluster() records it
    wanted = {t.examples[0]: rank for rank, t in enumerate(templates) if t.examples}
    first_of: dict[int, int] = {}
    for index in newest_first:
        rank = wanted.get(example_text(entries[index].line))
        if rank is not None and rank not in first_of:
            first_of[rank] = index
    chosen = [first_of[rank] for rank in sorted(first_of)][:size]
    taken = set(chosen)
    for index in newest_first:
        if len(chosen) >= size:
            break
        if index not in taken:
            chosen.append(index)
            taken.add(index)
    chosen.sort(key=lambda i: (entries[i].ts, i))
    return [entries[i] for i in chosen]
