"""manual_only and failover_database are never executed, only rendered as steps."""

from __future__ import annotations

import pytest

from firstline.actions.base import Reconciliation
from firstline.actions.catalog import make_action
from firstline.actions.manual import NEVER_AUTOMATIC, ManualExecutor
from firstline.actions.routing import RoutingExecutor
from firstline.domain.action import ActionType, Target

DB = Target(kind="database", name="orders-primary", namespace="shop")


@pytest.mark.parametrize("action_type", [ActionType.MANUAL_ONLY, ActionType.FAILOVER_DATABASE])
async def test_refused_at_preflight_and_execute(action_type: ActionType) -> None:
    ex = ManualExecutor()
    action = make_action(action_type, DB, rationale="primary down")
    assert ex.supports(action_type)
    checked = await ex.preflight(action)
    assert not checked.ok and checked.problems == [NEVER_AUTOMATIC]
    outcome = await ex.execute(action, "k")
    assert not outcome.ok and outcome.detail.startswith(NEVER_AUTOMATIC)
    assert (await ex.reconcile(action, "k")).state is Reconciliation.UNKNOWN


async def test_failover_without_steps_gets_the_generic_ones() -> None:
    action = make_action(ActionType.FAILOVER_DATABASE, DB, rationale="primary down")
    text = await ManualExecutor().dry_run(action)
    assert text.startswith(f"failover_database database/shop/orders-primary: {NEVER_AUTOMATIC}")
    assert "  1. Confirm the primary of database/shop/orders-primary is really unavailable" in text
    assert "Fence the old primary" in text and "pg_promote()" in text
    assert text.endswith("Why: primary down")


async def test_given_steps_are_rendered_exactly_in_order() -> None:
    steps = ["Page the DBA on call.", "Run `make failover DB=orders` from the ops host."]
    action = make_action(ActionType.FAILOVER_DATABASE, DB, rationale="x", steps=steps)
    lines = (await ManualExecutor().dry_run(action)).splitlines()
    assert lines[1:3] == [f"  1. {steps[0]}", f"  2. {steps[1]}"]
    assert "pg_promote" not in "\n".join(lines)


async def test_manual_only_without_steps_says_so() -> None:
    action = make_action(ActionType.MANUAL_ONLY, DB, rationale="")
    text = await ManualExecutor().dry_run(action)
    assert "No steps were given" in text


def test_takes_nothing_else() -> None:
    ex = ManualExecutor()
    assert not any(ex.supports(t) for t in ActionType if t not in {
        ActionType.MANUAL_ONLY, ActionType.FAILOVER_DATABASE})  # fmt: skip


async def test_routed_before_anything_else_it_still_refuses() -> None:
    routed = RoutingExecutor([ManualExecutor()])
    action = make_action(ActionType.FAILOVER_DATABASE, DB, rationale="x")
    assert not (await routed.preflight(action)).ok
