"""terminate_db_connections against a real PostgreSQL 15 cluster with real sessions.

Sessions are opened with psycopg as a non-superuser role and left idle in a transaction
(BEGIN; SELECT 1; then nothing), each with its own application_name; pg_stat_activity is
read back after every action. The executor connects as `ops`, a non-superuser granted
pg_signal_backend and pg_read_all_stats (the documented least privilege), except where a
test says otherwise.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pydantic import SecretStr

from firstline.actions.base import Reconciliation
from firstline.actions.catalog import make_action
from firstline.actions.postgres_sessions import PostgresSessionExecutor
from firstline.actions.settings import PostgresActionSettings
from firstline.domain.action import ActionType, ParamValue, RemediationAction, Target
from tests.integration.actions.policy_deny import assert_refused_by_rule, run_denied
from tests.services.postgres import PostgresCluster

pytestmark = pytest.mark.integration

DB = Target(kind="database", name="orders", namespace="shop")
IDLE = 1.5  # seconds; the seeded "old" sessions wait until they are idle longer than this

Open = Callable[..., Awaitable[psycopg.AsyncConnection[Any]]]


@pytest.fixture(scope="session")
def roles(postgres_cluster: PostgresCluster) -> Iterator[PostgresCluster]:
    with psycopg.connect(postgres_cluster.dsn(), autocommit=True) as conn:
        conn.execute("CREATE ROLE app LOGIN")
        conn.execute("CREATE ROLE weak LOGIN")
        conn.execute("CREATE ROLE ops LOGIN IN ROLE pg_signal_backend, pg_read_all_stats")
        conn.execute("CREATE ROLE admin LOGIN SUPERUSER")
    yield postgres_cluster


@pytest.fixture
async def open_session(roles: PostgresCluster) -> AsyncIterator[Open]:
    opened: list[psycopg.AsyncConnection[Any]] = []

    async def open_(
        user: str, app: str, *, in_transaction: bool = True
    ) -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(roles.dsn(user=user, application_name=app))
        opened.append(conn)
        await conn.execute("SELECT 1")  # psycopg opens the transaction (BEGIN) first
        if not in_transaction:
            await conn.commit()
        return conn

    yield open_
    for conn in opened:
        await conn.close()


def executor(
    cluster: PostgresCluster, user: str = "ops", **overrides: Any
) -> PostgresSessionExecutor:
    settings = PostgresActionSettings(
        enabled=True,
        targets={"shop/orders": SecretStr(cluster.dsn(user=user))},
        **({"min_idle_in_transaction_seconds": 0} | overrides),
    )
    return PostgresSessionExecutor(settings)


def terminate(**parameters: ParamValue) -> RemediationAction:
    return make_action(
        ActionType.TERMINATE_DB_CONNECTIONS, DB, rationale="lock pile-up", parameters=parameters
    )


def live_pids(cluster: PostgresCluster) -> dict[int, tuple[str, str, str]]:
    """Client sessions now, as pid -> (user, application, state), read as the superuser."""
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid, usename, application_name, state FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchall()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


async def idle_longer_than(cluster: PostgresCluster, pids: list[int], seconds: float) -> None:
    """Polls pg_stat_activity until every pid has been in its state longer than `seconds`."""
    deadline = time.monotonic() + seconds + 10
    while time.monotonic() < deadline:
        with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
            row = conn.execute(
                "SELECT min(extract(epoch FROM now() - state_change)) FROM pg_stat_activity"
                " WHERE pid = ANY(%s)",
                [pids],
            ).fetchone()
        if row and row[0] is not None and row[0] > seconds + 0.05:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"sessions {pids} never became idle for {seconds}s")


async def seed(cluster: PostgresCluster, open_session: Open) -> dict[str, int]:
    """Two old idle-in-transaction app sessions, an old superuser one, an idle (committed)
    app session, and a young idle-in-transaction one (opened after the wait)."""
    stuck = [await open_session("app", f"worker-{n}") for n in range(2)]
    su = await open_session("admin", "psql-admin")
    idle = await open_session("app", "web", in_transaction=False)
    pids = {
        "stuck0": stuck[0].info.backend_pid,
        "stuck1": stuck[1].info.backend_pid,
        "superuser": su.info.backend_pid,
        "idle": idle.info.backend_pid,
    }
    await idle_longer_than(cluster, [pids["stuck0"], pids["stuck1"], pids["superuser"]], IDLE)
    pids["young"] = (await open_session("app", "worker-young")).info.backend_pid
    return pids


async def test_terminates_exactly_the_old_idle_in_transaction_sessions(
    roles: PostgresCluster, open_session: Open
) -> None:
    pids = await seed(roles, open_session)
    action = terminate(idle_in_transaction_seconds=IDLE)
    ex = executor(roles)
    checked = await ex.preflight(action)
    assert checked.ok and not checked.no_change, checked.problems
    outcome = await ex.execute(action, "key-1")
    assert outcome.ok, outcome.detail
    assert sorted(outcome.report["pids"]) == sorted(str(pids[k]) for k in ("stuck0", "stuck1"))
    assert outcome.report["users"] == ["app"]
    assert outcome.report["applications"] == ["worker-0", "worker-1"]
    assert outcome.report["states"] == ["idle in transaction"]
    after = live_pids(roles)
    assert pids["stuck0"] not in after and pids["stuck1"] not in after
    assert after[pids["superuser"]] == ("admin", "psql-admin", "idle in transaction")
    assert after[pids["young"]][2] == "idle in transaction"
    assert after[pids["idle"]][2] == "idle"


async def test_superuser_sessions_are_spared_even_when_firstline_is_superuser(
    roles: PostgresCluster, open_session: Open
) -> None:
    """PostgreSQL itself would stop `ops` from ending a superuser session; as superuser,
    only firstline's own filter protects it."""
    pids = await seed(roles, open_session)
    outcome = await executor(roles, user="postgres").execute(
        terminate(idle_in_transaction_seconds=IDLE), "key-su"
    )
    assert outcome.ok
    assert str(pids["superuser"]) not in outcome.report["pids"]
    assert pids["superuser"] in live_pids(roles)


async def test_dry_run_lists_the_sessions_and_ends_none(
    roles: PostgresCluster, open_session: Open
) -> None:
    pids = await seed(roles, open_session)
    before = live_pids(roles)
    text = await executor(roles).dry_run(terminate(idle_in_transaction_seconds=IDLE))
    assert text.splitlines()[0].startswith("would terminate 2 sessions on database/shop/orders")
    assert f"pid={pids['stuck0']} user=app application=worker-0" in text
    assert f"pid={pids['superuser']}" not in text
    assert live_pids(roles) == before


async def test_application_cap_ends_the_oldest_beyond_it(
    roles: PostgresCluster, open_session: Open
) -> None:
    conns = [await open_session("app", "reports", in_transaction=False) for _ in range(4)]
    other = await open_session("app", "web", in_transaction=False)
    outcome = await executor(roles).execute(
        terminate(application_name="reports", max_sessions=1), "key-cap"
    )
    assert outcome.ok, outcome.detail
    ended = [c.info.backend_pid for c in conns[:3]]
    assert sorted(outcome.report["pids"]) == sorted(str(p) for p in ended)
    after = live_pids(roles)
    assert not set(ended) & set(after)
    assert conns[3].info.backend_pid in after and other.info.backend_pid in after


@pytest.mark.parametrize(
    ("user", "parameters", "reason"),
    [
        (
            "weak",
            {"idle_in_transaction_seconds": IDLE},
            "lacks pg_signal_backend and pg_read_all_stats",
        ),
        ("ops", {"max_sessions": 1}, "max_sessions needs application_name"),
        ("ops", {}, "give idle_in_transaction_seconds"),
    ],
)
async def test_refusals_change_nothing_and_name_the_reason(
    roles: PostgresCluster,
    open_session: Open,
    user: str,
    parameters: dict[str, ParamValue],
    reason: str,
) -> None:
    await seed(roles, open_session)
    before = live_pids(roles)
    checked = await executor(roles, user=user).preflight(terminate(**parameters))
    assert not checked.ok and reason in "; ".join(checked.problems)
    outcome = await executor(roles, user=user).execute(terminate(**parameters), "key-no")
    assert not outcome.ok and reason in outcome.detail
    assert live_pids(roles) == before


async def test_blast_radius_and_floor_refuse(roles: PostgresCluster, open_session: Open) -> None:
    await seed(roles, open_session)
    before = live_pids(roles)
    capped = await executor(roles, max_terminated=1).preflight(
        terminate(idle_in_transaction_seconds=IDLE)
    )
    assert not capped.ok and "above max_terminated=1" in capped.problems[0]
    floored = await executor(roles, min_idle_in_transaction_seconds=60).preflight(
        terminate(idle_in_transaction_seconds=IDLE)
    )
    assert not floored.ok and "below the floor" in floored.problems[0]
    assert live_pids(roles) == before


async def test_nothing_matching_is_no_change(roles: PostgresCluster, open_session: Open) -> None:
    await open_session("app", "web", in_transaction=False)
    checked = await executor(roles).preflight(terminate(idle_in_transaction_seconds=3600))
    assert checked.ok and checked.no_change


async def test_reconcile_after_a_crash(roles: PostgresCluster, open_session: Open) -> None:
    """A fresh executor judges from pg_stat_activity alone."""
    pids = await seed(roles, open_session)
    action = terminate(idle_in_transaction_seconds=IDLE)
    verdict = await executor(roles).reconcile(action, "k")
    assert verdict.state is Reconciliation.NOT_APPLIED and str(pids["stuck0"]) in verdict.detail
    # the crashed run ended one session before dying
    with psycopg.connect(roles.dsn(), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s, 5000)", [pids["stuck0"]])
    verdict = await executor(roles).reconcile(action, "k")
    assert verdict.state is Reconciliation.NOT_APPLIED and str(pids["stuck1"]) in verdict.detail
    assert (await executor(roles).execute(action, "k")).report["pids"] == [str(pids["stuck1"])]
    assert (await executor(roles).reconcile(action, "k")).state is Reconciliation.APPLIED
    assert pids["superuser"] in live_pids(roles)


async def test_a_target_outside_the_settings_is_refused(roles: PostgresCluster) -> None:
    """An alert cannot steer the action at a database firstline was not given."""
    other = Target(kind="database", name="orders", namespace="billing")
    action = make_action(
        ActionType.TERMINATE_DB_CONNECTIONS, other, rationale="x",
        parameters={"idle_in_transaction_seconds": 60},
    )  # fmt: skip
    checked = await executor(roles).preflight(action)
    assert not checked.ok and "not a configured PostgreSQL target" in checked.problems[0]
    assert not (await executor(roles).execute(action, "k")).ok


async def test_a_policy_denial_changes_nothing_and_names_the_rule(
    roles: PostgresCluster, open_session: Open, tmp_path: Path
) -> None:
    pids = await seed(roles, open_session)
    result, ctx = await run_denied(
        tmp_path, executor(roles), terminate(idle_in_transaction_seconds=IDLE)
    )
    assert_refused_by_rule(result, ctx)
    after = live_pids(roles)
    assert all(pid in after for pid in pids.values()), "every session is still there"
