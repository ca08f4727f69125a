"""Prompt tokens per incident in `hybrid` mode over the bundled scenario suite, and how much
the evidence digest compresses the raw evidence.

Each bundle runs through the whole graph (replayed world, mode auto, its own store) with
a HybridReasoner whose model is a recording stand-in: it answers the pattern engine's own
ranking as a valid verdict, so the run takes the normal path, and it counts what it was
sent. Tokens are counted as characters / 4 (rounded up), the approximation firstline uses
when a provider reports no usage; no tokenizer download is needed. A run that pauses for
approval is counted up to the pause (an approval adds no model call; a failed fix adds one
more analysis of about the same size).

    .venv/bin/python benchmarks/tokens.py [--digest-tokens 2500] [SCENARIOS_DIR]

Target: median prompt tokens per incident <= 3,000.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from firstline.domain.alert import Severity
from firstline.patterns.registry import PatternRegistry
from firstline.policy.schema import Mode
from firstline.reasoning.base import ReasoningInput
from firstline.reasoning.llm.digest import build_digest
from firstline.reasoning.llm.reasoner import HybridReasoner
from firstline.reasoning.llm.settings import LLMSettings
from firstline.reasoning.llm.usage import UsageLedger, estimate_tokens
from firstline.reasoning.rules import PatternReasoner
from firstline.scenarios.bundled import bundled_dir
from firstline.scenarios.loader import discover, load_bundle
from firstline.wiring.runtime import open_runtime
from firstline.wiring.settings import load_settings


class RecordingModel(BaseChatModel):
    """Answers the engine's ranking (read back from the digest) and records each prompt."""

    prompts: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "recording"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        prompt = "\n".join(str(m.content) for m in messages)
        self.prompts.append(prompt)
        ranked = [
            line.split()[1]
            for line in prompt.splitlines()
            if line.startswith("- ") and " score=" in line and "ruled_out" not in line
        ]
        answer = json.dumps(
            {
                "summary": "benchmark",
                "hypotheses": [
                    {
                        "pattern": p,
                        "cause": "as scored",
                        "confidence": 0.5,
                        "evidence": [],
                        "actions": [],
                    }
                    for p in ranked[:2]
                ],
            }
        )
        usage = {
            "input_tokens": estimate_tokens(prompt),
            "output_tokens": estimate_tokens(answer),
            "total_tokens": estimate_tokens(prompt) + estimate_tokens(answer),
        }
        return ChatResult(
            generations=[ChatGeneration(message=AIMessage(content=answer, usage_metadata=usage))]
        )


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def measure(root: Path, digest_tokens: int) -> list[dict[str, Any]]:
    registry = PatternRegistry.load()
    llm = LLMSettings(
        provider="openai_compatible", base_url="http://unused", digest_tokens=digest_tokens
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="firstline-tokens-") as tmp:
        for path in discover(root):
            bundle = load_bundle(path)
            settings = load_settings(store={"data_dir": Path(tmp) / bundle.id})
            ledger = UsageLedger()
            model = RecordingModel()
            reasoner = HybridReasoner(PatternReasoner(registry), model, llm, ledger=ledger)
            async with open_runtime(
                settings, scenario=path, mode=Mode.AUTO, reasoner=reasoner
            ) as rt:
                outcome = await rt.runner.start(bundle.primary_alert, scenario=path)
            state = outcome.state
            spent = ledger.spent(state.incident_id)
            evidence = state.evidence
            assert evidence is not None and state.analyses
            raw = estimate_tokens(evidence.model_dump_json())
            request = ReasoningInput(
                alert=state.alert,
                severity=state.severity or Severity.MEDIUM,
                candidates=state.candidates,
                evidence=evidence,
            )
            base = await PatternReasoner(registry).analyze(request)
            digest = build_digest(request, base, digest_tokens)
            rows.append(
                {
                    "scenario": bundle.id,
                    "prompt_tokens": spent.prompt_tokens,
                    "calls": spent.calls,
                    "raw": raw,
                    "digest": digest.tokens,
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, default=bundled_dir())
    parser.add_argument("--digest-tokens", type=int, default=2500)
    parser.add_argument("--per-scenario", action="store_true", help="Also list every scenario.")
    args = parser.parse_args()
    rows = asyncio.run(measure(args.root, args.digest_tokens))
    prompts = [float(r["prompt_tokens"]) for r in rows]
    digests = [float(r["digest"]) for r in rows]
    raws = [float(r["raw"]) for r in rows]
    ratios = [r["raw"] / r["digest"] for r in rows]
    console = Console()
    if args.per_scenario:
        detail = Table("scenario", "calls", "prompt tokens", "raw evidence", "digest", "ratio")
        for r in rows:
            detail.add_row(
                r["scenario"],
                str(r["calls"]),
                str(r["prompt_tokens"]),
                str(r["raw"]),
                str(r["digest"]),
                f"{r['raw'] / r['digest']:.1f}x",
            )
        console.print(detail)
    table = Table(
        "measure", "median", "p95", "max",
        title=f"hybrid mode, {len(rows)} scenarios, digest budget {args.digest_tokens} tokens (chars/4)",
    )  # fmt: skip
    for name, values in (
        ("prompt tokens per incident", prompts),
        ("digest tokens", digests),
        ("raw evidence tokens (EvidenceSet JSON)", raws),
    ):
        table.add_row(
            name, f"{statistics.median(values):.0f}", f"{_p95(values):.0f}", f"{max(values):.0f}"
        )
    table.add_row(
        "compression (raw / digest)",
        f"{statistics.median(ratios):.1f}x",
        f"{_p95(ratios):.1f}x",
        f"overall {sum(raws) / sum(digests):.1f}x",
    )
    console.print(table)
    target = "met" if statistics.median(prompts) <= 3000 else "MISSED"
    console.print(f"target median <= 3,000 prompt tokens per incident: {target}")


if __name__ == "__main__":
    main()
