"""The public alerting-rule corpus as Alertmanager would deliver its alerts.

Shared by the tests of this package and `benchmarks/alert_rules.py` (which puts the repo root
on sys.path, as the other benchmarks do). The corpus lives outside the repo, in
`../shared/datasets/alert-rules/rules.jsonl`; `ALERT_RULES_CORPUS` points elsewhere.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from firstline.domain.alert import Alert, fingerprint_labels

REPO = Path(__file__).resolve().parents[3]
DEFAULT_CORPUS = REPO.parent / "shared" / "datasets" / "alert-rules" / "rules.jsonl"
_TEMPLATE = re.compile(r"\{\{.*?\}\}", re.DOTALL)
STARTED = datetime(2026, 1, 1, tzinfo=UTC)


def corpus_path() -> Path:
    return Path(os.environ.get("ALERT_RULES_CORPUS", DEFAULT_CORPUS))


@dataclass(frozen=True)
class Rule:
    key: str
    source: str
    family: str  # the exporter directory (awesome) or the manifest (kube-prometheus)
    alertname: str
    expr: str
    labels: dict[str, str]
    annotations: dict[str, str]


def _family(record: dict[str, Any]) -> str:
    parts = str(record.get("file", "")).split("/")
    if record.get("source") == "kube-prometheus":
        return parts[-1].removesuffix("-prometheusRule.yaml")
    return parts[-2] if len(parts) >= 2 else parts[-1]


def load_rules(path: Path | None = None) -> list[Rule]:
    rules = []
    for line in (path or corpus_path()).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        rules.append(
            Rule(
                key=record["key"],
                source=record["source"],
                family=_family(record),
                alertname=record["alertname"],
                expr=record["expr"],
                labels={k: str(v) for k, v in (record.get("labels") or {}).items()},
                annotations={k: str(v) for k, v in (record.get("annotations") or {}).items()},
            )
        )
    return rules


def generator_url(expr: str) -> str:
    return f"http://prometheus:9090/graph?g0.expr={quote(expr, safe='')}&g0.tab=1"


def alert_of(rule: Rule) -> Alert:
    """The alert as it reaches firstline: the rule's labels plus alertname and a namespace,
    annotations with their templates rendered to `x`, the expression in the generatorURL."""
    labels = {**rule.labels, "alertname": rule.alertname, "namespace": "default"}
    annotations = {k: _TEMPLATE.sub("x", v) for k, v in rule.annotations.items()}
    return Alert(
        source="alertmanager",
        name=rule.alertname,
        labels=labels,
        annotations=annotations,
        starts_at=STARTED,
        fingerprint=fingerprint_labels(labels),
        generator_url=generator_url(rule.expr),
    )
