"""The guard rails of policy/actions.py, one rule kind at a time, as pure checks.

Every refusal must name its rule; every 'allowed' case checks that the same action passes
when the rule does not apply, so a test cannot pass by refusing everything.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from firstline.domain.action import ActionType, Target
from firstline.domain.alert import Severity
from firstline.domain.decision import Decision, Outcome
from firstline.policy.actions import (
    KILL_SWITCH_ENV,
    KILL_SWITCH_FILE_ENV,
    ActionContext,
    PastAction,
    check_action,
    check_actions,
    guard_decision,
)
from firstline.policy.schema import Policy, PolicyError, load_policy
from tests.unit.builders import action, alert

NOW = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)  # a Wednesday
CHECKOUT = Target(kind="deployment", name="checkout", namespace="shop")
COREDNS = Target(kind="deployment", name="coredns", namespace="kube-system")


def ctx(**kw: Any) -> ActionContext:
    base: dict[str, Any] = {
        "alert": alert(namespace="shop"),
        "severity": Severity.HIGH,
        "now": NOW,
    }
    return ActionContext(**(base | kw))


def policy(**raw: Any) -> Policy:
    return Policy.model_validate(raw)


def refusal(pol: Policy, act: Any = None, **kw: Any) -> str | None:
    found = check_action(act or action(target=CHECKOUT), ctx(**kw), pol)
    return None if found is None else str(found)


# -- default: no actions section -----------------------------------------------------------
def test_without_an_actions_section_every_catalog_action_may_run_anywhere() -> None:
    assert refusal(Policy()) is None
    assert refusal(Policy(), action(target=COREDNS)) is None  # cross-namespace: today's behaviour


# -- target guard --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "target",
    [
        Target(kind="deployment", name="kube-system/coredns", namespace="shop"),
        Target(kind="deployment", name="*", namespace="shop"),
        Target(kind="deployment", name="checkout coredns", namespace="shop"),
        Target(kind="deployment", name="../etc", namespace="shop"),
        Target(kind="deployment", name="checkout", namespace="kube-system/x"),
        Target(kind="deployment/x", name="checkout", namespace="shop"),
    ],
)
def test_a_target_that_is_not_one_object_name_is_refused_even_by_default(target: Target) -> None:
    found = refusal(Policy(), action(target=target))
    assert found is not None and found.startswith("target_guard.name: ")


def test_cross_namespace_needs_an_allow_rule_that_says_so() -> None:
    strict = policy(actions={"allow": [{"types": ["restart"]}]})
    found = refusal(strict, action(target=COREDNS))
    assert found is not None and found.startswith("target_guard.namespace: ")
    assert "outside the alert's namespace shop" in found
    assert refusal(strict) is None  # same namespace: allowed
    lenient = policy(actions={"allow": [{"types": ["restart"], "cross_namespace": True}]})
    assert refusal(lenient, action(target=COREDNS)) is None


def test_an_alert_without_namespace_cannot_reach_into_one() -> None:
    strict = policy(actions={"allow": [{}]})
    found = check_action(action(target=CHECKOUT), ctx(alert=alert(namespace="")), strict)
    # alert(namespace="") -> label "" is not "shop": cross-namespace
    assert found is not None and found.rule == "target_guard.namespace"


# -- allow / deny ---------------------------------------------------------------------------
def test_deny_wins_and_names_its_index() -> None:
    pol = policy(
        actions={
            "allow": [{}],
            "deny": [
                {"types": ["scale"]},
                {"targets": ["statefulset/*"]},
                {"types": ["restart"], "namespaces": ["kube-system"]},
            ],
        }
    )
    deny_alert = alert(namespace="kube-system")
    found = check_action(action(target=COREDNS), ctx(alert=deny_alert), pol)
    assert str(found) == "deny[2]: restart in kube-system"
    assert check_action(action(target=CHECKOUT), ctx(), pol) is None


def test_no_matching_allow_rule_refuses() -> None:
    pol = policy(actions={"allow": [{"types": ["restart"], "namespaces": ["team-*"]}]})
    found = refusal(pol)
    assert found == "allow: no allow rule matches restart deployment/shop/checkout at high"
    team = Target(kind="deployment", name="checkout", namespace="team-a")
    assert check_action(action(target=team), ctx(alert=alert(namespace="team-a")), pol) is None


def test_target_globs_match_kind_and_name() -> None:
    pol = policy(actions={"allow": [{"targets": ["deployment/check*"]}]})
    assert refusal(pol) is None
    cart = Target(kind="deployment", name="cart", namespace="shop")
    assert refusal(pol, action(target=cart)) is not None


def test_severity_scopes_a_rule() -> None:
    pol = policy(actions={"allow": [{}], "deny": [{"severities": ["critical"]}]})
    assert refusal(pol, severity=Severity.CRITICAL) == "deny[0]: any action at critical"
    assert refusal(pol, severity=Severity.HIGH) is None


def test_cluster_scoped_targets_match_only_a_star_namespace() -> None:
    node = Target(kind="node", name="ip-10-0-1-18")
    cordon = action(ActionType.CORDON_NODE, target=node)
    only_shop = policy(actions={"allow": [{"namespaces": ["shop"]}]})
    assert refusal(only_shop, cordon) is not None
    anywhere = policy(actions={"allow": [{"types": ["cordon_node"]}]})
    assert refusal(anywhere, cordon) is None


# -- freeze windows -------------------------------------------------------------------------
def test_weekly_freeze_refuses_inside_and_allows_outside() -> None:
    pol = policy(
        freeze_windows=[{"name": "midweek", "days": ["wed"], "start": "13:00", "end": "15:00"}]
    )
    assert (
        refusal(pol)
        == "freeze[0]: (midweek) change freeze wed 13:00-15:00 UTC: no automated action"
    )
    assert refusal(pol, now=NOW + timedelta(hours=1)) is None  # 15:00: the end is exclusive


def test_weekly_freeze_runs_past_midnight() -> None:
    pol = policy(freeze_windows=[{"days": ["tue"], "start": "22:00", "end": "16:00"}])
    assert refusal(pol) is not None  # Wednesday 14:00 is inside Tuesday 22:00 -> 16:00
    assert refusal(pol, now=NOW + timedelta(hours=2)) is None


def test_absolute_freeze() -> None:
    pol = policy(
        freeze_windows=[
            {
                "name": "launch",
                "starts_at": "2026-03-04T00:00:00Z",
                "ends_at": "2026-03-05T00:00:00Z",
            }
        ]
    )
    found = refusal(pol)
    assert found is not None and found.startswith("freeze[0]: (launch)")
    assert refusal(pol, now=NOW + timedelta(days=1)) is None


# -- kill switch ----------------------------------------------------------------------------
def test_kill_switch_in_the_policy() -> None:
    assert refusal(Policy(kill_switch=True)) == (
        "kill_switch: the policy's kill_switch is on: no action executes"
    )


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_kill_switch_from_the_environment(value: str) -> None:
    found = refusal(Policy(), environ={KILL_SWITCH_ENV: value})
    assert found is not None and found.startswith("kill_switch:")
    assert refusal(Policy(), environ={KILL_SWITCH_ENV: "0"}) is None


def test_kill_switch_file(tmp_path: Path) -> None:
    flag = tmp_path / "STOP"
    pol = Policy(kill_switch_file=flag)
    assert refusal(pol) is None
    assert refusal(Policy(), environ={KILL_SWITCH_FILE_ENV: str(flag)}) is None
    flag.touch()
    assert refusal(pol) == f"kill_switch: {flag} exists: no action executes"
    assert refusal(Policy(), environ={KILL_SWITCH_FILE_ENV: str(flag)}) is not None


def test_kill_switch_beats_every_allow_rule() -> None:
    pol = policy(kill_switch=True, actions={"allow": [{"cross_namespace": True}]})
    found = refusal(pol)
    assert found is not None and found.startswith("kill_switch")


# -- blast radius ---------------------------------------------------------------------------
def scale(to: int, frm: int | None = 3) -> Any:
    act = action(ActionType.SCALE, target=CHECKOUT)
    params: dict[str, int] = {"replicas": to} | ({"from_replicas": frm} if frm is not None else {})
    return act.model_copy(update={"parameters": params})


def test_max_replicas() -> None:
    pol = policy(blast_radius={"max_replicas": 5})
    assert refusal(pol, scale(6)) == (
        "blast_radius.max_replicas: scale deployment/shop/checkout to 6 replicas (max 5)"
    )
    assert refusal(pol, scale(5)) is None


def test_max_scale_factor_both_ways() -> None:
    pol = policy(blast_radius={"max_scale_factor": 2})
    assert refusal(pol, scale(6)) is None
    up = refusal(pol, scale(7))
    assert up is not None and up.startswith("blast_radius.max_scale_factor: scale deployment")
    assert refusal(pol, scale(1, frm=4)) is not None  # a 4x shrink is as big as a 4x growth
    unknown = refusal(pol, scale(4, frm=None))
    assert unknown is not None and "unknown" in unknown


def test_max_actions_per_incident() -> None:
    pol = policy(blast_radius={"max_actions_per_incident": 2})
    assert refusal(pol, incident_actions=1) is None
    assert refusal(pol, incident_actions=2) == (
        "blast_radius.max_actions_per_incident: 2 action(s) already recorded for this incident"
        " (max 2)"
    )


# -- rate limits ----------------------------------------------------------------------------
def past(target: Target, minutes_ago: float, kind: ActionType = ActionType.RESTART) -> PastAction:
    return PastAction(
        f"k{minutes_ago}", "inc-other", kind, target, NOW - timedelta(minutes=minutes_ago)
    )


def test_per_target_rate_limit_counts_only_that_target_within_the_window() -> None:
    pol = policy(rate_limits={"per_target": [{"types": ["restart"], "max": 3, "window": "1h"}]})
    cart = Target(kind="deployment", name="cart", namespace="shop")
    history = [
        past(CHECKOUT, 5),
        past(CHECKOUT, 30),
        past(cart, 10),
        past(cart, 11),
        past(CHECKOUT, 61),
    ]
    assert refusal(pol, history=history) is None  # two in the hour; the third is older
    history.append(past(CHECKOUT, 59))
    assert refusal(pol, history=history) == (
        "rate_limit.per_target[0]: 3 restarts of deployment/shop/checkout in 1h (max 3)"
    )


def test_rate_limit_counts_only_its_action_types() -> None:
    pol = policy(rate_limits={"per_target": [{"types": ["restart"], "max": 1, "window": "1h"}]})
    history = [past(CHECKOUT, 1, ActionType.SCALE)]
    assert refusal(pol, history=history) is None
    assert refusal(pol, scale(4), history=[past(CHECKOUT, 1)]) is None  # scale is not limited


def test_global_rate_limit_counts_every_target() -> None:
    pol = policy(rate_limits={"global": [{"max": 2, "window": "15m"}]})
    others = [past(Target(kind="deployment", name=n, namespace="x"), 3) for n in ("a", "b")]
    assert refusal(pol, history=others) == "rate_limit.global[0]: 2 actions in 15m (max 2)"
    assert refusal(pol, history=others[:1]) is None


def test_planned_actions_count_towards_the_limits_of_later_ones() -> None:
    pol = policy(rate_limits={"per_target": [{"types": ["restart"], "max": 1, "window": "1h"}]})
    refused = check_actions([action(target=CHECKOUT), action(target=CHECKOUT)], ctx(), pol)
    assert [str(r) for _, r in refused] == [
        "rate_limit.per_target[0]: 1 restarts of deployment/shop/checkout in 1h (max 1)"
    ]


# -- at decision time ----------------------------------------------------------------------
def test_an_acting_decision_with_a_refused_action_escalates_naming_the_rule() -> None:
    acting = Decision(
        outcome=Outcome.AUTO_REMEDIATE,
        rule="low_risk_automatic",
        reason="low",
        actions=[action(target=CHECKOUT)],
    )
    guarded, refused = guard_decision(acting, ctx(), Policy(kill_switch=True))
    assert guarded.outcome is Outcome.ESCALATE
    assert guarded.rule == "action_policy"
    assert guarded.would_have is Outcome.AUTO_REMEDIATE
    assert "refused by kill_switch" in guarded.reason
    assert len(refused) == 1
    unchanged, none = guard_decision(acting, ctx(), Policy())
    assert unchanged == acting and none == []


def test_decisions_that_do_not_act_are_not_checked() -> None:
    recommend = Decision(
        outcome=Outcome.RECOMMEND, rule="mode_observe", reason="r", actions=[action()]
    )
    assert guard_decision(recommend, ctx(), Policy(kill_switch=True)) == (recommend, [])


# -- the file -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("actions:\n  allow:\n    - types: [reboot]\n", "actions.allow.0.types"),
        (
            "rate_limits:\n  per_target:\n    - {max: 3, window: soon}\n",
            "rate_limits.per_target.0.window",
        ),
        ("freeze_windows:\n  - {days: [sat]}\n", "freeze_windows.0"),
        (
            "freeze_windows:\n  - {starts_at: 2026-01-01T00:00:00, ends_at: 2026-01-02T00:00:00}\n",
            "freeze_windows.0",
        ),
        ("blast_radius:\n  max_scale_factor: 0\n", "blast_radius.max_scale_factor"),
        (
            "freeze_windows:\n  - {days: [mon], start: 22:00, end: '23:00'}\n",
            "freeze_windows.0.start: Value error, write times of day in quotes",
        ),
        ("actions:\n  allow_all: true\n", "actions.allow_all"),
    ],
)
def test_a_malformed_guard_section_is_a_one_line_error(
    tmp_path: Path, text: str, where: str
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=f"policy file {path}: {where}"):
        load_policy(path)


def test_a_full_example_policy_loads(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        """
mode: auto
actions:
  allow:
    - types: [restart, scale, rollback]
      namespaces: [shop, "team-*"]
    - types: [restart]
      targets: [deployment/coredns]
      namespaces: [kube-system]
      cross_namespace: true
  deny:
    - namespaces: [kube-system]
      types: [scale, rollback]
rate_limits:
  per_target:
    - {types: [restart], max: 3, window: 1h}
  global:
    - {max: 20, window: 1h}
freeze_windows:
  - {name: weekend, days: [sat, sun], start: "00:00", end: "24:00"}
  - {name: launch, starts_at: "2026-12-01T00:00:00Z", ends_at: "2026-12-02T00:00:00Z"}
blast_radius: {max_scale_factor: 2, max_replicas: 30, max_actions_per_incident: 5}
kill_switch_file: /run/firstline/STOP
undo_on_failed_verification: true
"""
    )
    loaded = load_policy(path)
    assert loaded.actions is not None and len(loaded.actions.allow) == 2
    assert loaded.rate_limits.global_[0].max == 20
    assert loaded.undo_on_failed_verification
