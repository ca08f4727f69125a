"""Root-cause localisation on synthetic multi-service incidents: AS@1, AS@3, AS@5.

    python benchmarks/localization.py --synthetic [--incidents N] [--services S]

The generator and the method it was written beside share their assumptions, so this is a
check that the code works, not a measure of how it does on real systems (see localization.py
for the Nezha cases).

AS@k: the share of incidents whose origin is among the first k components of the ranking.
Each incident comes from firstline.detection.synthetic (call graph, CPU / memory / latency /
error faults that reach callers diluted and a little late, per-service noise, red herrings).
Peers: random order (median of five seeds) and the largest z-score of any metric.
`timing only` is firstline without the dilution cue, to show what each cue contributes.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

import numpy as np
from rich.console import Console
from rich.table import Table

from firstline.detection.localize import largest_z, localize
from firstline.detection.synthetic import KINDS, make_incident

KS = (1, 3, 5)


def run_synthetic(incidents: int, services: int) -> None:
    ranks: dict[str, list[int]] = defaultdict(list)
    by_kind: dict[str, list[int]] = defaultdict(list)
    for seed in range(incidents):
        incident = make_incident(seed, services=services)
        names = [c.name for c in incident.components]
        orders = {
            "firstline": [s.component for s in localize(incident.components, incident.noticed)],
            "timing only": [
                s.component for s in localize(incident.components, incident.noticed, dilution=False)
            ],
            "largest z-score": largest_z(incident.components, incident.noticed),
        }
        for seed_r in range(5):
            rng = np.random.default_rng([seed, seed_r])
            orders[f"random #{seed_r}"] = [str(n) for n in rng.permutation(names)]
        for name, order in orders.items():
            ranks[name].append(order.index(incident.root))
        by_kind[incident.kind].append(orders["firstline"].index(incident.root))

    def at_k(positions: list[int], k: int) -> float:
        return float(np.mean(np.array(positions) < k))

    table = Table(title=f"Localisation, {incidents} incidents, {services} services")
    for column in ("method", *(f"AS@{k}" for k in KS)):
        table.add_column(column, justify="left" if column == "method" else "right")
    for name in ("firstline", "timing only", "largest z-score"):
        table.add_row(name, *(f"{at_k(ranks[name], k):.3f}" for k in KS))
    randoms = [name for name in ranks if name.startswith("random")]
    table.add_row(
        "random (median of 5)",
        *(f"{statistics.median(at_k(ranks[r], k) for r in randoms):.3f}" for k in KS),
    )
    Console().print(table)
    kinds = Table(title="firstline by fault kind")
    for column in ("fault", "incidents", *(f"AS@{k}" for k in KS)):
        kinds.add_column(column, justify="left" if column == "fault" else "right")
    for kind in KINDS:
        kinds.add_row(kind, str(len(by_kind[kind])), *(f"{at_k(by_kind[kind], k):.3f}" for k in KS))
    Console().print(kinds)
