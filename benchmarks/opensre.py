"""OpenSRE benchmark: firstline's whole incident graph on the 29 OpenSRE synthetic incidents.

    .venv/bin/python benchmarks/opensre.py [--json] [--keep DIR] [--data DIR]

Converts every case (benchmarks/opensre/convert.py) into a scenario bundle in a temporary
folder (or DIR with --keep, outside the repository, to rerun with `firstline eval DIR`), runs
firstline's own eval over them in-process (`firstline.evaluation.scenarios.evaluate`: mode
auto, a throwaway store per case) and prints, per case: the expected pattern, the top
hypothesis and its confidence, whether it is right, the top three when the eval result
exposes its ranked hypotheses, the first decision, whether firstline acted, and whether that
was harmful (an action the case forbids, or acting at all on a healthy or recovered case).

The headline is top-1 pattern accuracy and harmful actions; the eval's decision/action checks
are secondary (the expected decision is one SRE's judgement, see convert.RESPONSES).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.opensre.convert import REPO, convert_all, default_data

from firstline.evaluation.scenarios import ScenarioResult, evaluate
from firstline.wiring.settings import load_settings

HEALTHY = "no_real_incident"
ACTING = {"auto_remediate", "request_approval"}
WIDTH = 80


def _ranked(result: ScenarioResult) -> list[tuple[str, float, str]] | None:
    """The eval result's ranking (pattern, confidence, basis), best first, when it has one
    (`hypotheses`, added to the eval after this benchmark was written; None before)."""
    items = getattr(result, "hypotheses", None)
    if items is None:
        return None
    ranked = []
    for item in items:
        get = item.get if isinstance(item, dict) else (lambda k, i=item: getattr(i, k, None))
        pattern, confidence = get("pattern"), get("confidence")
        if pattern is not None:
            ranked.append((str(pattern), float(confidence or 0.0), str(get("basis") or "")))
    return ranked


def case_row(result: ScenarioResult, notes: list[str]) -> dict[str, Any]:
    ranked = _ranked(result)
    expected = result.expected_pattern
    if ranked:  # the ranking's first, whatever its confidence
        top1, confidence, basis = ranked[0]
        top1_right = bool(getattr(result, "top1_ok", top1 == expected))
        top3_right: bool | None = bool(
            getattr(result, "top3_ok", any(p == expected for p, _, _ in ranked[:3]))
        )
    else:  # no ranking: the eval's own (thresholded) prediction
        top1, confidence, basis = result.predicted_pattern, result.confidence, ""
        top1_right, top3_right = result.pattern_ok, None
    acting_types = [a for a in result.actions if a != "manual_only"]
    acted = (result.decision in ACTING and bool(acting_types)) or bool(result.unsafe_actions)
    healthy = expected == HEALTHY
    return {
        "case": result.scenario,
        "expected": expected,
        "top1": top1,
        "confidence": round(confidence, 3),
        "top1_basis": basis,
        "top1_right": top1_right,
        "top3": (
            [{"pattern": p, "confidence": round(c, 3), "basis": b} for p, c, b in ranked[:3]]
            if ranked
            else None
        ),
        "top3_right": top3_right,
        "eval_pattern": result.predicted_pattern,  # 'unknown' below the policy's threshold
        "eval_pattern_ok": result.pattern_ok,
        "decision": result.decision,
        "expected_decision": result.expected_decision,
        "actions": result.actions,
        "acted": acted,
        "forbidden_taken": result.unsafe_actions,
        "harmful": bool(result.unsafe_actions) or (healthy and acted),
        "healthy_case": healthy,
        "final_status": result.final_status,
        "conversion_notes": notes,
    }


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    top3_known = all(r["top3_right"] is not None for r in rows)
    return {
        "cases": n,
        "top1_right": sum(r["top1_right"] for r in rows),
        "top3_right": (
            sum(bool(r["top3_right"]) for r in rows)
            if top3_known
            else sum(bool(r["top3_right"] or r["top1_right"]) for r in rows)
        ),
        "top3_from_hypotheses": top3_known,
        "eval_pattern_ok": sum(r["eval_pattern_ok"] for r in rows),
        "healthy_cases": sum(r["healthy_case"] for r in rows),
        "healthy_acted_on": sum(r["healthy_case"] and r["acted"] for r in rows),
        "harmful_cases": sum(r["harmful"] for r in rows),
        "forbidden_actions_taken": sum(len(r["forbidden_taken"]) for r in rows),
        "decision_as_expected": sum(r["decision"] == r["expected_decision"] for r in rows),
    }


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


def print_table(rows: list[dict[str, Any]], total: dict[str, Any]) -> None:
    print(f"{'case':<40} {'decision':<16} {'acted':<5} harmful")
    print(f"    {'expected pattern':<26} -> top-1 (confidence)  right?   [top-3]")
    print("-" * WIDTH)
    for r in rows:
        harm = "YES" if r["harmful"] else "no"
        acted = "yes" if r["acted"] else "no"
        print(_cut(f"{_cut(r['case'], 40):<40} {r['decision']:<16} {acted:<5} {harm}", WIDTH))
        mark = "right" if r["top1_right"] else "WRONG"
        guess = " guess" if r["top1_basis"] == "alert" else ""
        top1 = f"{r['top1']} ({r['confidence']:.2f}{guess})"
        print(_cut(f"    {r['expected']:<26} -> {top1:<34} {mark}", WIDTH))
        if r["top3"] is not None:
            top3 = ", ".join(
                f"{h['pattern']} {h['confidence']:.2f}".replace(" 0.", " .") for h in r["top3"]
            )
            print(_cut(f"    [top-3 {top3}]", WIDTH))
        if r["forbidden_taken"]:
            print(_cut(f"    forbidden actions taken: {', '.join(r['forbidden_taken'])}", WIDTH))
    print("-" * WIDTH)
    n = total["cases"]
    how = "" if total["top3_from_hypotheses"] else " (no ranked hypotheses exposed: top-1 only)"
    print(f"top-1 right        {total['top1_right']}/{n}")
    print(f"top-3 right        {total['top3_right']}/{n}{how}")
    print(f"eval pattern_ok    {total['eval_pattern_ok']}/{n} (top-1 above the policy threshold)")
    print(f"healthy/recovered acted on  {total['healthy_acted_on']}/{total['healthy_cases']}")
    print(
        f"harmful            {total['harmful_cases']} cases,"
        f" {total['forbidden_actions_taken']} forbidden actions taken"
    )
    print(f"decision as expected {total['decision_as_expected']}/{n} (secondary)")


async def run(out: Path, data: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    notes = {c.bundle_id: c.notes for c in convert_all(data, out)}
    report = await evaluate(out, load_settings(None))
    rows = [case_row(r, notes.get(r.scenario, [])) for r in report.results]
    return rows, totals(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--keep", type=Path, default=None, help="write the bundles here, keep them")
    parser.add_argument("--data", type=Path, default=None, help="the OpenSRE data set")
    args = parser.parse_args(argv)
    data = args.data or default_data()
    if not data.is_dir():
        print(f"error: no OpenSRE data set at {data}", file=sys.stderr)
        return 2
    out = args.keep or Path(tempfile.mkdtemp(prefix="firstline-opensre-"))
    if out.resolve().is_relative_to(REPO):
        print(f"error: {out} is inside the repository", file=sys.stderr)
        return 2
    if args.keep is not None and out.is_dir() and any(out.iterdir()):
        print(f"error: {out} is not empty (eval would run what else is there)", file=sys.stderr)
        return 2
    try:
        rows, total = asyncio.run(run(out, data))
    finally:
        if args.keep is None:
            shutil.rmtree(out, ignore_errors=True)
    if args.json:
        print(json.dumps({"cases": rows, "totals": total}, indent=2))
    else:
        print_table(rows, total)
        if args.keep:
            print(f"bundles kept in {out} (rerun: firstline eval {out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
