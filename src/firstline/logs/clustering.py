"""Log lines clustered into templates with drain3, so that 10,000 lines differing only in ids
reach a report or a reasoner as one template with a count, first/last seen and examples.

Pure and deterministic: the miner is built in memory per call (no config file, no
persistence), and lines are fed oldest first in a stable order, so the same input always
gives the same templates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from drain3 import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig

from firstline.domain.evidence import LogEntry, LogTemplate
from firstline.logs.masking import mask

# Lines longer than this are clustered by their start: it bounds the regex and tokenising
# cost of one pathological line, and the start of a line is what identifies its kind.
MAX_LINE_CHARS = 2000
MAX_EXAMPLE_CHARS = 500
# drain3's defaults, written down so an upgrade cannot change our templates silently.
SIMILARITY = 0.4
DEPTH = 4
MAX_CHILDREN = 100


def _miner() -> TemplateMiner:
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    config.drain_sim_th = SIMILARITY
    config.drain_depth = DEPTH
    config.drain_max_children = MAX_CHILDREN
    config.drain_max_clusters = None  # no LRU eviction: an evicted cluster would lose its count
    config.drain_extra_delimiters = []
    config.parametrize_numeric_tokens = True
    config.mask_prefix, config.mask_suffix = "<", ">"
    config.masking_instructions = []  # masking.mask() runs first: typed, and tested alone
    return TemplateMiner(persistence_handler=None, config=config)


@dataclass
class _Tally:
    count: int
    first_seen: datetime
    last_seen: datetime
    examples: list[str] = field(default_factory=list)

    def add(self, ts: datetime, line: str, keep: int) -> None:
        self.count += 1
        self.first_seen = min(self.first_seen, ts)
        self.last_seen = max(self.last_seen, ts)
        if keep:  # the newest distinct lines, newest last
            if line in self.examples:
                self.examples.remove(line)
            self.examples.append(line)
            if len(self.examples) > keep:
                self.examples.pop(0)


def _clip(line: str, limit: int) -> str:
    return line if len(line) <= limit else line[:limit] + "…"


def example_text(line: str) -> str:
    """How a raw line appears among a template's examples."""
    return _clip(line.strip(), MAX_EXAMPLE_CHARS)


def cluster(entries: Sequence[LogEntry], max_templates: int, examples: int) -> list[LogTemplate]:
    """Templates over `entries`, most frequent first (ties: seen earlier, then by text),
    at most `max_templates` of them, each with up to `examples` distinct raw lines (the most
    recent). Counts are of the entries given; lines that are empty after stripping are
    ignored."""
    if max_templates <= 0:
        return []
    miner = _miner()
    tallies: dict[int, _Tally] = {}
    for entry in sorted(entries, key=lambda e: e.ts):  # stable: equal times keep input order
        text = entry.line.strip()
        if not text:
            continue
        cluster_id = int(miner.add_log_message(mask(_clip(text, MAX_LINE_CHARS)))["cluster_id"])
        tally = tallies.get(cluster_id)
        if tally is None:
            tally = tallies[cluster_id] = _Tally(0, entry.ts, entry.ts)
        tally.add(entry.ts, example_text(text), examples)
    # A cluster's template keeps generalising as lines arrive, so read it only at the end;
    # two clusters can end with the same text, and then they are one template to a reader.
    merged: dict[str, _Tally] = {}
    for cluster_id, tally in tallies.items():
        text = str(miner.drain.id_to_cluster[cluster_id].get_template())
        known = merged.get(text)
        merged[text] = _merge(known, tally, examples) if known else tally
    ranked = sorted(merged.items(), key=lambda kv: (-kv[1].count, kv[1].first_seen, kv[0]))
    return [
        LogTemplate(
            template=text,
            count=t.count,
            first_seen=t.first_seen,
            last_seen=t.last_seen,
            examples=list(reversed(t.examples)),
        )
        for text, t in ranked[:max_templates]
    ]


def _merge(a: _Tally, b: _Tally, keep: int) -> _Tally:
    newer, older = (a, b) if a.last_seen >= b.last_seen else (b, a)
    lines = list(dict.fromkeys(older.examples + newer.examples))
    return _Tally(
        count=a.count + b.count,
        first_seen=min(a.first_seen, b.first_seen),
        last_seen=max(a.last_seen, b.last_seen),
        examples=lines[-keep:] if keep else [],
    )
