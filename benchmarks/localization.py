"""Root-cause localisation on real fault injection (Nezha, metrics only): AS@1, AS@3, AS@5.

    python benchmarks/localization.py [--data DIR]          # the 52 Nezha development cases
    python benchmarks/localization.py --synthetic [--incidents N] [--services S]

DIR defaults to $FIRSTLINE_NEZHA_DATA, else ../shared/datasets/nezha-dev beside the
repository. AS@k is the paper's service-level score: the share of cases whose root-cause
service is among the first k; services with equal scores share the places they span (so
"everything scores 0" earns k/n, as random does). In the same run: firstline's ranking
(detection/ranking.py) with and without the call graph read from the edge metrics and
without its calls signal (the ranking before issue #15), the previous method
(detection/localize.py), the max-z baselines (robust: median/MAD; classic: mean/std; the
largest |z| of any metric after `at`), and random (its expectation, k/n).

Two more tables: the ranking's two constants (LINE, FLOOR) chosen on one system and scored
on the other beside the defaults, so a choice that only fits one system shows; and how many
root causes moved at all beyond their own last hour, the limit of any metrics-only ranking.
`--synthetic` runs the older generator-based benchmark instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from firstline.detection.localize import Component, localize
from firstline.detection.nezha import Case, load_cases
from firstline.detection.ranking import FLOOR, LINE, edges_from_names, move, rank

REPO = Path(__file__).resolve().parent.parent
KS = (1, 3, 5)
Method = Callable[[Case], Mapping[str, float]]
PUBLISHED = "published AS@1 (all faults): MicroRCA 16.1 / 20.0 %, PDiagnose 41.1 / 8.9 %, Nezha 92.9 / 86.7 % (OB / TT; Nezha also uses logs and traces)"


def data_dir(flag: str | None) -> Path:
    chosen = flag or os.environ.get("FIRSTLINE_NEZHA_DATA")
    return Path(chosen) if chosen else REPO.parent / "shared" / "datasets" / "nezha-dev"


def _services(case: Case) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    return {c.name: {m: (c.timestamps, v) for m, v in c.metrics.items()} for c in case.components}


def firstline(
    case: Case,
    graph: bool = True,
    *,
    line: float = LINE,
    floor: float = FLOOR,
    call_rates: bool = True,
) -> dict[str, float]:
    services = _services(case)
    edges = edges_from_names({n: list(m) for n, m in services.items()}) if graph else set()
    ranked = rank(services, case.at, edges, line=line, floor=floor, call_rates=call_rates)
    return {r.service: r.score for r in ranked}


def previous(case: Case) -> dict[str, float]:
    end = max(float(c.timestamps[-1]) for c in case.components)
    # localize() takes the moment an incident is noticed and how long before it trouble began
    ranking = localize(list(case.components), end, lookback=end - case.at + 60)
    return {s.component: s.score for s in ranking}


def max_z(case: Case, robust: bool) -> dict[str, float]:
    """The largest |z| of any metric after `at` against its own history; a metric whose
    history has no spread has no z."""
    out = {}
    for comp in case.components:
        out[comp.name] = max(
            (_z(comp, v, case.at, robust) for v in comp.metrics.values()), default=0
        )
    return out


def _z(comp: Component, values: np.ndarray, at: float, robust: bool) -> float:
    ok = np.isfinite(values)
    before = values[ok & (comp.timestamps < at)]
    after = values[ok & (comp.timestamps >= at)]
    if len(before) < 3 or not len(after):
        return 0.0
    if robust:
        centre = float(np.median(before))
        spread = 1.4826 * float(np.median(np.abs(before - centre)))
    else:
        centre, spread = float(np.mean(before)), float(np.std(before))
    return float(np.max(np.abs(after - centre))) / spread if spread > 0 else 0.0


def hit(scores: Mapping[str, float], root: str, k: int) -> float:
    """Probability that `root` is in the top k when ties are ordered at random."""
    mine = scores.get(root, 0.0)
    above = sum(1 for s in scores.values() if s > mine)
    tied = sum(1 for s in scores.values() if s == mine)
    return min(1.0, max(0.0, (k - above) / tied))


METHODS: dict[str, Method] = {
    "firstline": firstline,
    "firstline, no call graph": lambda c: firstline(c, graph=False),
    "firstline, no calls signal (before #15)": lambda c: firstline(c, call_rates=False),
    "previous (localize.py)": previous,
    "max robust z (median/MAD)": lambda c: max_z(c, robust=True),
    "max z (mean/std)": lambda c: max_z(c, robust=False),
    "random": lambda c: {comp.name: 0.0 for comp in c.components},
}


def _cell(values: Sequence[float]) -> str:
    return f"{100 * float(np.mean(values)):.1f}" if values else "-"


def nezha(root: Path) -> None:
    cases = load_cases(root)
    # results[method][group][k] -> per-case hit probabilities
    results: dict[str, dict[str, dict[int, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for case in cases:
        groups = ("all", case.system, f"{case.system} / {case.fault_type}")
        groups += (f"{case.system}, metric-visible",) if case.metric_visible else ()
        groups += ("all, metric-visible",) if case.metric_visible else ()
        for name, method in METHODS.items():
            scores = method(case)
            for k in KS:
                for group in groups:
                    results[name][group][k].append(hit(scores, case.root_cause, k))
    systems = sorted({c.system for c in cases})
    main_groups = [
        "all",
        *systems,
        "all, metric-visible",
        *(f"{s}, metric-visible" for s in systems),
    ]
    table = Table(title=f"Nezha development cases ({len(cases)}), AS@1 / AS@3 / AS@5 in %")
    table.add_column("method")
    for group in main_groups:
        n = len(results["random"][group][1])
        table.add_column(f"{group} ({n})", justify="right")
    for name in METHODS:
        table.add_row(
            name, *(" / ".join(_cell(results[name][g][k]) for k in KS) for g in main_groups)
        )
    console = Console(width=200)
    console.print(table)
    faults = Table(title="by system and fault type, AS@1 / AS@3 / AS@5 in %")
    for column in ("system / fault", "cases", "firstline", "max robust z", "max z", "random"):
        faults.add_column(column, justify="left" if column == "system / fault" else "right")
    keys = ("firstline", "max robust z (median/MAD)", "max z (mean/std)", "random")
    fault_groups = sorted(g for g in results["random"] if " / " in g)
    for group in fault_groups:
        faults.add_row(
            group,
            str(len(results["random"][group][1])),
            *(" / ".join(_cell(results[m][group][k]) for k in KS) for m in keys),
        )
    console.print(faults)
    console.print(PUBLISHED)
    console.print(cross_system(cases, systems))
    console.print(visibility(cases))


LINES = (3.0, 4.0, 5.0)
FLOORS = (0.02, 0.05, 0.1)


def cross_system(cases: Sequence[Case], systems: Sequence[str]) -> Table:
    """LINE and FLOOR picked by AS@1 (then AS@3, then the defaults) on one system, scored on
    the other, beside the defaults."""
    score: dict[tuple[float, float], dict[str, tuple[float, float]]] = {}
    for line in LINES:
        for floor in FLOORS:
            per: dict[str, list[tuple[float, float]]] = defaultdict(list)
            for case in cases:
                scores = firstline(case, line=line, floor=floor)
                pair = (hit(scores, case.root_cause, 1), hit(scores, case.root_cause, 3))
                per[case.system].append(pair)
            score[(line, floor)] = {
                sys_: (float(np.mean([h[0] for h in hs])), float(np.mean([h[1] for h in hs])))
                for sys_, hs in per.items()
            }
    table = Table(
        title=f"LINE x FLOOR ({LINES} x {FLOORS}) chosen on one system, AS@1 in % on each"
    )
    for column in ("chosen on", "LINE, FLOOR", *(f"{s} AS@1" for s in systems)):
        table.add_column(column, justify="left" if column == "chosen on" else "right")

    def row(label: str, key: tuple[float, float], chosen_on: str | None) -> None:
        cells = []
        for sys_ in systems:
            value = f"{100 * score[key][sys_][0]:.1f}"
            kind = "in-sample" if sys_ == chosen_on else "cross-system" if chosen_on else ""
            cells.append(f"{value} ({kind})" if kind else value)
        table.add_row(label, f"{key[0]:g}, {key[1]:g}", *cells)

    row("defaults (set before measuring)", (LINE, FLOOR), None)
    for sys_ in systems:
        best = max(
            score,
            key=lambda k: (score[k][sys_][0], score[k][sys_][1], k == (LINE, FLOOR)),
        )
        row(sys_, best, sys_)
    return table


def visibility(cases: Sequence[Case]) -> Table:
    """Per system and label: how many root causes have any metric (node metrics aside) whose
    sustained move after `at` passes LINE and goes beyond the largest sustained move the same
    metric made in the hour before; and how many other services do the same on average."""
    rows: dict[str, list[tuple[bool, int, int]]] = defaultdict(list)
    for case in cases:
        beyond = {comp.name: _beyond_history(comp, case.at) for comp in case.components}
        label = "metric-visible" if case.metric_visible else "not metric-visible"
        others = sum(1 for name, b in beyond.items() if b and name != case.root_cause)
        rows[f"{case.system}, {label}"].append((beyond[case.root_cause], others, len(beyond)))
    table = Table(
        title="Root causes that moved beyond their own last hour (the limit of metrics alone)"
    )
    for column in ("system, label", "cases", "root beyond its last hour", "other services too"):
        table.add_column(column, justify="left" if column == "system, label" else "right")
    for group in sorted(rows):
        items = rows[group]
        roots = sum(1 for r in items if r[0])
        share = float(np.mean([r[1] / max(r[2] - 1, 1) for r in items]))
        table.add_row(group, str(len(items)), str(roots), f"{100 * share:.0f} % of services")
    visible = sum(1 for c in cases if c.metric_visible)
    n = len(cases)
    hidden = Counter(c.system for c in cases if not c.metric_visible)
    table.caption = (
        f"{visible} of {n} cases are labelled metric-visible ({100 * visible / n:.1f} %). "
        f"55 % AS@1 is {0.55 * n:.1f} cases: with every visible one first, "
        f"{0.55 * n - visible:.1f} more must come from the {n - visible} not visible ("
        + ", ".join(f"{s} {k}" for s, k in sorted(hidden.items()))
        + ")."
    )
    return table


def _beyond_history(comp: Component, at: float) -> bool:
    for name, values in comp.metrics.items():
        if name.lower().startswith("node"):
            continue
        moved = move(name, comp.timestamps, values, at)
        if moved is not None and abs(moved.z) > _largest_held(comp.timestamps, values, at):
            return True
    return False


def _largest_held(stamps: np.ndarray, values: np.ndarray, at: float) -> float:
    """The largest |z| two consecutive samples of the hour before `at` both reach, against
    that hour's median and spread (as ranking.move measures the move after `at`)."""
    before = values[np.isfinite(values) & (stamps < at)]
    if len(before) < 3:
        return 0.0
    base = float(np.median(before))
    spread = max(1.4826 * float(np.median(np.abs(before - base))), FLOOR * abs(base), 1e-9)
    z = np.abs(before - base) / spread
    return float(np.max(np.minimum(z[1:], z[:-1])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="nezha-dev folder")
    parser.add_argument("--synthetic", action="store_true", help="the synthetic benchmark")
    parser.add_argument("--incidents", type=int, default=300)
    parser.add_argument("--services", type=int, default=14)
    args = parser.parse_args()
    if args.synthetic:
        from localization_synthetic import run_synthetic

        run_synthetic(args.incidents, args.services)
        return
    nezha(data_dir(args.data))


if __name__ == "__main__":
    main()
