"""The policy's `runbooks`: loading and validation, and how a runbook's action meets the
decision rules (which it never bypasses)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Risk, Target
from firstline.domain.alert import Alert, Severity
from firstline.domain.decision import Outcome
from firstline.domain.hypothesis import Analysis
from firstline.patterns.registry import PatternRegistry
from firstline.policy.approvers import approval_refusal
from firstline.policy.decision import DecisionInput, decide
from firstline.policy.schema import Mode, Policy, PolicyError, load_policy
from firstline.wiring.runtime import build_policy
from firstline.wiring.settings import load_settings
from tests.unit.builders import alert, analysis
from tests.unit.patterns.builders_a import bundle_verdict

NODE = Target(kind="node", name="lab-host")
DISK_STEPS = make_action(ActionType.MANUAL_ONLY, NODE, rationale="free disk by hand")
CLEANUP: dict[str, Any] = {
    "id": "lab-disk-cleanup",
    "when": {"pattern": "disk_pressure", "alert": ["mountpoint=~/srv/lab(/.*)?"]},
    "action": "custom_script",
    "parameters": {"script": "cleanup-volume", "mountpoint": "{{ labels.mountpoint }}"},
    "risk": "medium",
}


def _policy(*runbooks: dict[str, Any], **fields: Any) -> Policy:
    return Policy.model_validate({"mode": Mode.AUTO, "runbooks": list(runbooks), **fields})


def _disk_alert(mountpoint: str = "/srv/lab/volume") -> Alert:
    return alert("HostOutOfDiskSpace", instance="lab-host:9100", mountpoint=mountpoint)


def _decide(
    policy: Policy,
    actions: list[RemediationAction] | None = None,
    confidence: float = 0.9,
    the_alert: Alert | None = None,
    pattern: str = "disk_pressure",
) -> Any:
    found = analysis(confidence, [DISK_STEPS] if actions is None else actions, pattern)
    return decide(
        DecisionInput(alert=the_alert or _disk_alert(), severity=Severity.HIGH, analysis=found),
        policy,
    )


# -- loading -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"action": "reboot_everything"}, "runbooks.0.action"),
        ({"action": "manual_only"}, "never executed by firstline"),
        ({"action": "failover_database"}, "never executed by firstline"),
        ({"parameters": {"script": "x", "m": "{{ labels.a | upper }}"}}, "only {{ labels.NAME }}"),
        ({"parameters": {"script": "x", "bad key": "v"}}, "not a plain word"),
        ({"parameters": {"script": "x", "m": "a\nb"}}, "control characters"),
        ({"parameters": {"script": "x", "m": "y" * 2000}}, "longer than"),
        ({"parameters": {"mountpoint": "/srv"}}, "names its script"),
        ({"when": {"pattern": "disk_pressure", "alert": ["mountpoint~/srv"]}}, "not a matcher"),
        ({"when": {"pattern": "disk_pressure", "alert": ["a=~("]}}, "runbooks.0.when.alert"),
        ({"when": {"pattern": "disk_pressure", "target": ["owner=me"]}}, "kind, name or namespace"),
        ({"id": "Has Spaces"}, "runbook id"),
        ({"risk": "tiny"}, "runbooks.0.risk"),
        ({"surprise": True}, "runbooks.0.surprise"),
    ],
)
def test_a_bad_runbook_is_refused_at_load_naming_the_spot(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump({"runbooks": [CLEANUP | change]}))
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_two_runbooks_may_not_share_an_id() -> None:
    with pytest.raises(ValueError, match="share the id"):
        _policy(CLEANUP, CLEANUP)


def test_an_unknown_pattern_is_refused_where_the_patterns_are_loaded(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "runbooks:\n  - id: typo\n    when: {pattern: disk_presure}\n    action: restart\n"
    )
    settings = load_settings(policy_file=path, store={"data_dir": tmp_path})
    assert build_policy(settings).runbooks[0].id == "typo"  # no registry: not checked
    with pytest.raises(PolicyError) as caught:
        build_policy(settings, registry=PatternRegistry.load())
    text = str(caught.value)
    assert "runbooks.0.when.pattern" in text and "'disk_presure'" in text
    assert "disk_pressure" in text  # the known ids are listed


# -- binding -----------------------------------------------------------------------------


def test_the_matching_runbook_replaces_the_manual_steps_and_is_named() -> None:
    decision = _decide(_policy(CLEANUP))
    assert [a.type for a in decision.actions] == [ActionType.CUSTOM_SCRIPT]
    supplied = decision.actions[0]
    assert supplied.runbook == "lab-disk-cleanup"
    assert supplied.target == NODE  # the hypothesis' target
    assert supplied.parameters == {"script": "cleanup-volume", "mountpoint": "/srv/lab/volume"}
    assert supplied.risk is Risk.MEDIUM
    assert decision.outcome is Outcome.REQUEST_APPROVAL
    assert decision.rule == "medium_risk_needs_approval"
    assert "the custom_script is from runbook lab-disk-cleanup" in decision.reason
    assert supplied.describe().endswith("[runbook lab-disk-cleanup]")


def test_matchers_are_anchored_and_a_miss_leaves_the_pattern_alone() -> None:
    for elsewhere in ("/srv/laboratory", "/var/srv/lab", "/"):
        decision = _decide(_policy(CLEANUP), the_alert=_disk_alert(elsewhere))
        assert [a.type for a in decision.actions] == [ActionType.MANUAL_ONLY], elsewhere
        assert decision.outcome is Outcome.ESCALATE
    other_pattern = _decide(_policy(CLEANUP), pattern="oom_kill_loop")
    assert [a.runbook for a in other_pattern.actions] == [None]


def test_target_matchers_and_an_explicit_target() -> None:
    only_nodes = CLEANUP | {
        "when": {"pattern": "disk_pressure", "target": ["kind=node", "name!=db-host"]},
        "target": {"kind": "volume", "name": "{{ labels.volume }}"},
    }
    labelled = alert("HostOutOfDiskSpace", mountpoint="/srv/lab", volume="lab-data")
    decision = _decide(_policy(only_nodes), the_alert=labelled)
    assert decision.actions[0].target == Target(kind="volume", name="lab-data")
    on_db_host = make_action(
        ActionType.MANUAL_ONLY, Target(kind="node", name="db-host"), rationale="by hand"
    )
    missed = _decide(_policy(only_nodes), actions=[on_db_host], the_alert=labelled)
    assert missed.actions == [on_db_host]


def test_never_below_the_confidence_threshold() -> None:
    decision = _decide(_policy(CLEANUP, confidence_threshold=0.8), confidence=0.79)
    assert decision.outcome is Outcome.ESCALATE
    assert decision.rule == "low_confidence"
    assert [a.type for a in decision.actions] == [ActionType.MANUAL_ONLY]
    assert "runbook" not in decision.reason


def test_a_high_risk_runbook_action_still_escalates() -> None:
    default_risk = {k: v for k, v in CLEANUP.items() if k != "risk"}  # custom_script: high
    decision = _decide(_policy(default_risk))
    assert decision.actions[0].risk is Risk.HIGH
    assert decision.outcome is Outcome.ESCALATE and decision.rule == "high_risk_action"


def test_a_script_on_a_stateful_target_still_escalates() -> None:
    on_db = make_action(
        ActionType.MANUAL_ONLY,
        Target(kind="persistentvolumeclaim", name="data-orders-postgres-0", namespace="shop"),
        rationale="by hand",
    )
    low = CLEANUP | {"risk": "low"}
    decision = _decide(_policy(low), actions=[on_db])
    assert decision.actions[0].type is ActionType.CUSTOM_SCRIPT
    assert decision.outcome is Outcome.ESCALATE and decision.rule == "stateful_target"


def test_approvers_still_apply_to_a_runbook_action() -> None:
    policy = _policy(
        CLEANUP,
        mode="approve",
        approvers=[{"principals": ["lead"], "types": ["restart"]}],
    )
    decision = _decide(policy)
    assert decision.outcome is Outcome.REQUEST_APPROVAL
    refused = approval_refusal(policy.approvers, "lead", decision.actions, Severity.HIGH)
    assert refused is not None and "may not approve custom_script" in refused


def test_it_never_lowers_the_risk_of_the_patterns_own_actions() -> None:
    rollback = make_action(
        ActionType.ROLLBACK, Target(kind="deployment", name="cart", namespace="shop"),
        rationale="bad release", risk=Risk.HIGH,
    )  # fmt: skip
    restart = CLEANUP | {
        "when": {"pattern": "deploy_regression"},
        "action": "restart",
        "parameters": {},
        "risk": "low",
    }
    kept = _decide(_policy(restart), actions=[rollback], pattern="deploy_regression")
    assert [(a.type, a.risk) for a in kept.actions] == [
        (ActionType.ROLLBACK, Risk.HIGH),
        (ActionType.RESTART, Risk.LOW),
    ]
    assert kept.outcome is Outcome.ESCALATE and kept.rule == "high_risk_action"
    replaced = _decide(
        _policy(restart | {"replace": True}), actions=[rollback], pattern="deploy_regression"
    )
    assert [a.type for a in replaced.actions] == [ActionType.RESTART]
    assert replaced.outcome is Outcome.AUTO_REMEDIATE


def test_a_missing_or_unsafe_label_leaves_the_manual_steps_and_says_why() -> None:
    missing = _decide(_policy(CLEANUP | {"when": {"pattern": "disk_pressure"}}), the_alert=alert(
        "HostOutOfDiskSpace"
    ))  # fmt: skip
    assert [a.type for a in missing.actions] == [ActionType.MANUAL_ONLY]
    assert "runbook lab-disk-cleanup matched but was not used" in missing.reason
    assert "no label mountpoint" in missing.reason
    crafted = _decide(_policy(CLEANUP), the_alert=_disk_alert("/srv/lab/x\x1b[2J"))
    assert crafted.actions == [DISK_STEPS]
    assert "control characters" in crafted.reason


def test_the_first_matching_runbook_wins() -> None:
    general = CLEANUP | {"id": "general", "when": {"pattern": "disk_pressure"}}
    decision = _decide(_policy(CLEANUP, general))
    assert [a.runbook for a in decision.actions] == ["lab-disk-cleanup"]
    decision = _decide(_policy(general, CLEANUP))
    assert [a.runbook for a in decision.actions] == ["general"]


def test_the_cache_bundle_with_the_owners_prefix_proposes_clear_cache() -> None:
    """cache_memory_full alone escalates with steps; with the runbook that names the prefix
    the shop knows is safe, the proposal is clear_cache of that prefix, approved by a person
    (clear_cache is medium risk)."""
    found, _, verdict = bundle_verdict("cache-maxmemory-noeviction-sessions", "cache_memory_full")
    assert verdict.hypothesis is not None
    purge = {
        "id": "sessions-page-cache",
        "when": {"pattern": "cache_memory_full", "alert": ["pod=sessions-cache-0"]},
        "action": "clear_cache",
        "parameters": {"pattern": "page:*"},
    }
    inp = DecisionInput(
        alert=found,
        severity=Severity.MEDIUM,
        analysis=Analysis(reasoner="test", hypotheses=[verdict.hypothesis]),
    )
    alone = decide(inp, _policy())
    assert alone.outcome is Outcome.ESCALATE
    decision = decide(inp, _policy(purge))
    assert decision.outcome is Outcome.REQUEST_APPROVAL
    [action] = decision.actions
    assert action.describe() == (
        "clear_cache cache/shop/sessions-cache (pattern=page:*) [runbook sessions-page-cache]"
    )


def test_a_rotation_script_replaces_the_issuers_renewal() -> None:
    """A certificate outside cert-manager: the operator's rotation script is the whole fix,
    so `replace: true` drops the pattern's own proposal whatever it was."""
    probe = alert("BlackboxSslCertificateWillExpireSoon", instance="https://127.0.0.1:8443")
    renew = make_action(
        ActionType.ROTATE_CERTIFICATE,
        Target(kind="certificate", name="127.0.0.1-8443", namespace="shop"),
        rationale="issuer",
    )
    rotate = {
        "id": "rotate-lab-tls",
        "when": {
            "pattern": "certificate_expiry",
            "alert": ["instance=~https://127\\.0\\.0\\.1:.*"],
        },
        "action": "custom_script",
        "parameters": {"script": "rotate-cert", "endpoint": "{{ labels.instance }}"},
        "risk": "medium",
        "replace": True,
    }
    decision = _decide(
        _policy(rotate), actions=[renew], the_alert=probe, pattern="certificate_expiry"
    )
    [action] = decision.actions
    assert action.type is ActionType.CUSTOM_SCRIPT
    assert action.target == renew.target
    assert action.parameters["endpoint"] == "https://127.0.0.1:8443"
