"""Alert-knowledge coverage over 934 public alerting rules (kube-prometheus, awesome-prometheus-alerts).

    .venv/bin/python benchmarks/alert_rules.py [--json] [--by family]

Each rule becomes the alert Alertmanager would deliver (tests/unit/knowledge/corpus.py: the
rule's labels + alertname + namespace, rendered annotations, the expression in the
generatorURL) and goes through `firstline.knowledge.prior_for`. Columns: rules; known by
name (exact, alias or name pattern), of which by a family name pattern only; known by the
expression only; unknown; with at least one pattern suggested; heartbeats and inhibitors;
and "expression alone": rules the expression still explains when the alert is renamed to a
name the catalog does not know (what metrics.yaml covers). Then the first unknown names.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit.knowledge.corpus import alert_of, corpus_path, load_rules

from firstline.knowledge import AlertKind, load_catalog, prior_for

COLUMNS = (
    "rules",
    "by_name",
    "of_which_pattern",
    "by_expression",
    "unknown",
    "with_pattern",
    "heartbeat_inhibitor",
    "expression_alone",
)
UNKNOWN_NAME = "ZzUnknownAlertName"


def measure(by: str) -> tuple[dict[str, Counter[str]], list[str], float]:
    rows: dict[str, Counter[str]] = defaultdict(Counter)
    unknown: list[str] = []
    rules = load_rules()
    catalog = load_catalog()
    patterns = {source for _, source, _ in catalog.patterns}
    started = time.perf_counter()
    for rule in rules:
        alert = alert_of(rule)
        prior = prior_for(alert)
        # what metrics.yaml alone recovers when the name means nothing to the catalog
        alone = prior_for(alert.model_copy(update={"name": UNKNOWN_NAME}))
        group = rule.source if by == "source" else f"{rule.source}/{rule.family}"
        for key in (group, "total"):
            row = rows[key]
            row["rules"] += 1
            row["by_name"] += prior.matched_by == "name"
            row["of_which_pattern"] += prior.entry in patterns
            row["by_expression"] += prior.matched_by == "expression"
            row["unknown"] += prior.matched_by == "none"
            row["with_pattern"] += bool(prior.suggests)
            row["heartbeat_inhibitor"] += prior.kind in (AlertKind.HEARTBEAT, AlertKind.INHIBITOR)
            row["expression_alone"] += alone.matched_by == "expression"
        if prior.matched_by == "none" and rule.alertname not in unknown:
            unknown.append(rule.alertname)
    per_rule_ms = (time.perf_counter() - started) * 1000 / max(2 * len(rules), 1)
    return rows, unknown, per_rule_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--by", choices=("source", "family"), default="source")
    args = parser.parse_args()
    if not corpus_path().exists():
        sys.exit(f"corpus not found: {corpus_path()} (set ALERT_RULES_CORPUS)")
    catalog = load_catalog()
    rows, unknown, per_rule_ms = measure(args.by)
    if args.json:
        print(
            json.dumps(
                {
                    "rows": {k: dict(v) for k, v in rows.items()},
                    "unknown": unknown,
                    "entries": catalog.entry_count,
                    "aliases": catalog.alias_count,
                    "name_patterns": len(catalog.patterns),
                    "metric_entries": catalog.metric_count,
                    "ms_per_rule": round(per_rule_ms, 3),
                },
                indent=2,
            )
        )
        return
    table = Table(title=f"alert knowledge over {corpus_path().name}")
    table.add_column(args.by, no_wrap=True)
    for column in COLUMNS:
        table.add_column(column.replace("_", " "), justify="right")
    table.add_column("known %", justify="right")
    for key in [*sorted(k for k in rows if k != "total"), "total"]:
        row = rows[key]
        known = row["by_name"] + row["by_expression"]
        table.add_row(
            key, *(str(row[c]) for c in COLUMNS), f"{100 * known / max(row['rules'], 1):.1f}"
        )
    console = Console(width=150)
    console.print(table)
    console.print(
        f"catalog: {catalog.entry_count} alert entries, {catalog.alias_count} aliases, "
        f"{len(catalog.patterns)} name patterns, {catalog.metric_count} metric entries; "
        f"{per_rule_ms:.2f} ms per rule"
    )
    console.print(f"unknown names ({len(unknown)}), first 30: {', '.join(unknown[:30])}")


if __name__ == "__main__":
    main()
