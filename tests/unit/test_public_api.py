"""firstline.api, the public plug-in API: every name resolves, importing it stays light, and
the example user pattern (examples/patterns/) loads through the real patterns_dir path, uses
nothing else, ranks first on its incident shape, stays out of look-alikes, and matches what
docs/plugins.md shows of it."""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

import firstline
from firstline.domain.alert import Alert, Severity
from firstline.domain.evidence import EvidenceSet, NodeCondition, NodeState, PodState
from firstline.domain.hypothesis import Analysis
from firstline.patterns.registry import PatternRegistry
from firstline.reasoning.base import ReasoningInput
from firstline.reasoning.rules import PatternReasoner
from firstline.wiring.settings import load_settings
from tests.unit.patterns.builders_a import alert, event, events, evidence, nodes, pod, pods, series

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "patterns"
EXAMPLE = EXAMPLES / "memory_pressure_eviction.py"
PLUGINS_DOC = ROOT / "docs" / "plugins.md"
EXAMPLE_ID = "memory_pressure_eviction"
HEAVY = ("langgraph", "fastapi", "uvicorn")


# -- (a) the names ---------------------------------------------------------------------------


def test_every_exported_name_resolves() -> None:
    api = importlib.import_module("firstline.api")
    assert api.__all__, "firstline.api exports nothing"
    assert len(set(api.__all__)) == len(api.__all__), "a name is exported twice"
    missing = [name for name in api.__all__ if getattr(api, name, None) is None]
    assert not missing


def test_the_module_says_what_is_stable() -> None:
    api = importlib.import_module("firstline.api")
    assert api.__doc__ is not None and "stable" in api.__doc__


# -- (b) importing it stays light ------------------------------------------------------------


def test_importing_the_api_pulls_in_no_graph_or_http_stack() -> None:
    code = (
        "import json, sys; import firstline.api; "
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    )
    src = str(Path(firstline.__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": src},
    )
    assert json.loads(done.stdout) == []


# -- (c) the example pattern, loaded as a user's patterns_dir --------------------------------

MEMORY = (
    "The node was low on resource: memory. Threshold quantity: 100Mi, available: 82Mi. "
    "Container cart was using 1431Mi, which exceeds its request of 256Mi."
)
DISK = (
    "The node was low on resource: ephemeral-storage. Threshold quantity: 10%, available: "
    "2.6%. Container cart was using 1.1Gi, request is 0."
)


def _node(name: str, **conditions: str) -> NodeState:
    found = [NodeCondition(type=kind, status=status) for kind, status in conditions.items()]
    return NodeState(name=name, conditions=[NodeCondition(type="Ready", status="True"), *found])


def _evicted(name: str, message: str, node: str = "ip-1") -> PodState:
    return pod(
        name,
        "cart",
        node=node,
        phase="Failed",
        ready=False,
        last_termination_reason="Evicted",
        last_termination_message=message,
    )


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> PatternRegistry:
    """The built-in patterns plus the example, loaded as `firstline --config` would."""
    config = tmp_path_factory.mktemp("config") / "firstline.yaml"
    config.write_text(f"patterns_dir: {json.dumps(str(EXAMPLES))}\n")
    settings = load_settings(config)
    assert settings.patterns_dir == EXAMPLES
    return PatternRegistry.load(settings.patterns_dir)


def _alert() -> Alert:
    return alert("KubeDeploymentReplicasMismatch", service=None, deployment="cart")


async def _analyze(registry: PatternRegistry, alert_: Alert, ev: EvidenceSet) -> Analysis:
    request = ReasoningInput(alert=alert_, severity=Severity.HIGH, evidence=ev)
    return await PatternReasoner(registry).analyze(request)


def test_the_example_loads_beside_the_built_in_patterns(registry: PatternRegistry) -> None:
    assert len(registry) == len(PatternRegistry.load()) + 1
    pattern = registry.get(EXAMPLE_ID)
    assert pattern is not None and pattern.metrics


async def test_it_ranks_first_with_its_cause_on_a_memory_eviction_storm(
    registry: PatternRegistry,
) -> None:
    ev = evidence(
        pods(
            _evicted("cart-7d9f8c6b5-x2k9p", MEMORY),
            _evicted("cart-7d9f8c6b5-q8w3e", MEMORY),
            _evicted("cart-7d9f8c6b5-m5t6y", MEMORY),
            pod("cart-7d9f8c6b5-z7m4n", "cart", node="ip-2"),
        ),
        events(
            event("Evicted", MEMORY, "pod/cart-7d9f8c6b5-x2k9p"),
            event("Evicted", MEMORY, "pod/search-5c8d7b6f9-r7n2q"),  # a neighbour: context
            event("EvictionThresholdMet", "Attempting to reclaim memory", "node/ip-1"),
        ),
        nodes(_node("ip-1", MemoryPressure="True"), _node("ip-2", MemoryPressure="False")),
        series("node_memory_available_ratio", 0.3, to=0.05, unit="ratio"),
    )
    analysis = await _analyze(registry, _alert(), ev)
    top = analysis.top
    assert top is not None and top.pattern == EXAMPLE_ID, analysis.hypotheses
    assert top.confidence >= 0.9
    assert top.verified and top.basis == "evidence"
    assert top.cause.startswith("node ip-1 ran short of memory and the kubelet evicted 3 pod(s)")
    assert "cart used 1431Mi, above its request of 256Mi" in top.cause
    assert top.affected_components == ["ip-1", "cart"]
    assert {"pods", "nodes", "events", "metric:node_memory_available_ratio"} <= set(
        top.evidence_refs
    )
    assert [(a.type.value, str(a.target)) for a in top.suggested_actions] == [
        ("manual_only", "node/ip-1")
    ]
    assert not any("search" in s for s in top.signals)  # the neighbour's eviction is not cited


@pytest.mark.parametrize(
    ("shape", "owner"),
    [
        pytest.param(
            lambda: evidence(
                pods(_evicted("cart-7d9f8c6b5-x2k9p", DISK), pod("cart-7d9f8c6b5-z", "cart")),
                events(
                    event("Evicted", DISK, "pod/cart-7d9f8c6b5-x2k9p"),
                    event(
                        "EvictionThresholdMet",
                        "Attempting to reclaim ephemeral-storage",
                        "node/ip-1",
                    ),
                ),
                nodes(_node("ip-1", MemoryPressure="False", DiskPressure="True")),
            ),
            "disk_pressure",
            id="evicted-for-disk",
        ),
        pytest.param(
            lambda: evidence(
                pods(
                    pod(
                        "cart-7d9f8c6b5-x2k9p",
                        "cart",
                        node="ip-1",
                        ready=False,
                        restart_count=5,
                        waiting_reason="CrashLoopBackOff",
                        last_termination_reason="OOMKilled",
                        last_exit_code=137,
                    )
                ),
                nodes(_node("ip-1", MemoryPressure="False")),
            ),
            "oom_kill_loop",
            id="oom-killed-at-its-limit",
        ),
    ],
)
async def test_it_does_not_claim_a_look_alike(
    registry: PatternRegistry, shape: Callable[[], EvidenceSet], owner: str
) -> None:
    analysis = await _analyze(registry, _alert(), shape())
    assert EXAMPLE_ID not in [h.pattern for h in analysis.hypotheses]
    out = next(r for r in analysis.ruled_out if r.pattern == EXAMPLE_ID)
    assert out.confidence < 0.05 and "no pod was evicted for node memory" in out.reason
    assert analysis.top is not None and analysis.top.pattern == owner


# -- (d) the example uses the public API only ------------------------------------------------


def test_the_example_imports_nothing_from_firstline_but_the_api() -> None:
    tree = ast.parse(EXAMPLE.read_text())
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            used.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import in a user pattern"
            used.add(node.module or "")
    from_firstline = {m for m in used if m == "firstline" or m.startswith("firstline.")}
    assert from_firstline == {"firstline.api"}


# -- (e) docs/plugins.md shows the example as it is ------------------------------------------

MARKER = "<!-- from examples/patterns/memory_pressure_eviction.py -->"
_BLOCK = re.compile(r"^" + re.escape(MARKER) + r"\n```python\n(.*?)^```$", re.M | re.S)


def test_the_documented_excerpts_are_in_the_example() -> None:
    doc = PLUGINS_DOC.read_text()
    blocks = _BLOCK.findall(doc)
    assert len(blocks) >= 3, "docs/plugins.md shows too little of the example"
    assert doc.count(MARKER) == len(blocks), "a marker is not followed by a python block"
    source = EXAMPLE.read_text()
    for block in blocks:
        # a method is shown dedented; every other excerpt is shown as it stands
        assert block in source or textwrap.indent(block, "    ") in source, block


def test_the_docs_link_the_example_and_the_api() -> None:
    doc = PLUGINS_DOC.read_text()
    assert "examples/patterns/memory_pressure_eviction.py" in doc
    assert "firstline.api" in doc
    assert "plugins.md" in (ROOT / "docs" / "patterns.md").read_text()
