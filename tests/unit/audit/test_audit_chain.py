"""The audit log's hash chain: appends verify, and any change to the SQLite file is found.

Tampering is done the way an attacker with the file would do it: raw SQL on the database,
after dropping the append-only triggers (which firstline's own code cannot get past).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from firstline.cli.main import app
from firstline.store.audit import GENESIS, AuditKind, AuditLog
from firstline.store.incidents import IncidentStore


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "incidents.sqlite"
    IncidentStore(path)  # the audit log lives in the incident store's file
    log = AuditLog(path)
    log.append("inc-1", AuditKind.DECISION, {"outcome": "auto_remediate", "rule": "low_risk"})
    log.append("inc-1", AuditKind.DRY_RUN, {"diff": "would restart deployment/shop/checkout"})
    log.append("inc-2", AuditKind.APPROVAL, {"approved": True}, actor="alice")
    log.append("inc-1", AuditKind.ACTION, {"result": "succeeded", "report": {"pods": 3}})
    return path


def raw(path: Path, sql: str, *args: object) -> None:
    con = sqlite3.connect(path)
    con.execute("DROP TRIGGER IF EXISTS audit_no_update")
    con.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    con.execute(sql, args)
    con.commit()
    con.close()


def test_a_fresh_chain_verifies_and_links(db: Path) -> None:
    log = AuditLog(db)
    check = log.verify()
    assert check.ok and check.records == 4
    records = log.records()
    assert records[0].prev_hash == GENESIS
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]
    assert check.head_hash == records[-1].hash
    assert [r.seq for r in log.records("inc-1")] == [1, 2, 4]
    assert log.records("inc-2")[0].actor == "alice"


def test_firstline_itself_cannot_update_or_delete(db: Path) -> None:
    con = sqlite3.connect(db)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("DELETE FROM audit WHERE seq = 1")
    con.close()
    assert AuditLog(db).verify().ok


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("at", "2020-01-01T00:00:00+00:00"),
        ("incident_id", "inc-9"),
        ("kind", "undo"),
        ("actor", "mallory"),
        ("details", json.dumps({"diff": "would do nothing"})),
        ("details", "not json"),
        ("prev_hash", "f" * 64),
        ("hash", "0" * 64),
    ],
)
def test_modifying_any_field_breaks_the_chain_at_that_record(
    db: Path, column: str, value: str
) -> None:
    raw(db, f"UPDATE audit SET {column} = ? WHERE seq = 2", value)
    check = AuditLog(db).verify()
    assert (check.ok, check.broken_seq) == (False, 2)


def test_rehashing_a_modified_record_is_still_caught_by_its_successor(db: Path) -> None:
    from firstline.store.audit import record_hash

    log = AuditLog(db)
    r = log.records()[1]
    forged = {"diff": "would do nothing"}
    digest = record_hash(r.seq, r.at, r.incident_id, r.kind, r.actor, forged, r.prev_hash)
    canonical = json.dumps(forged, sort_keys=True, separators=(",", ":"))
    raw(db, "UPDATE audit SET details = ?, hash = ? WHERE seq = 2", canonical, digest)
    check = log.verify()
    assert (check.ok, check.broken_seq) == (False, 3)


def test_deleting_a_record_is_caught(db: Path) -> None:
    raw(db, "DELETE FROM audit WHERE seq = 2")
    check = AuditLog(db).verify()
    assert (check.ok, check.broken_seq) == (False, 2)
    assert "missing" in check.error


def test_deleting_the_newest_record_is_caught(db: Path) -> None:
    raw(db, "DELETE FROM audit WHERE seq = 4")
    check = AuditLog(db).verify()
    assert (check.ok, check.broken_seq) == (False, 4)


def test_appends_continue_the_chain_across_instances(db: Path) -> None:
    AuditLog(db).append("inc-3", AuditKind.UNDO, {"result": "succeeded"})
    check = AuditLog(db).verify()
    assert check.ok and check.records == 5


# -- the 17 edits of the attack on firstline serve (#14), each found by `audit verify` ----------
def _forge(path: Path, seq: int, details: dict[str, object], prev: str) -> tuple[str, str]:
    """What an attacker who knows the scheme computes: canonical details and their hash."""
    from firstline.store.audit import record_hash

    canonical = json.dumps(details, sort_keys=True, separators=(",", ":"))
    digest = record_hash(seq, "2026-01-01T00:00:00+00:00", "inc-1", "approval", "mallory",
                         details, prev)  # fmt: skip
    return canonical, digest


def _last_hash(path: Path) -> str:
    with sqlite3.connect(path) as con:
        return str(con.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()[0])


def _append_forged(path: Path) -> None:
    canonical, digest = _forge(path, 5, {"approved": True}, _last_hash(path))
    raw(path, "INSERT INTO audit (seq, at, incident_id, kind, actor, details, prev_hash, hash)"
              " VALUES (5, '2026-01-01T00:00:00+00:00', 'inc-1', 'approval', 'mallory', ?, ?, ?)",
        canonical, _last_hash(path), digest)  # fmt: skip


def _rewrite_newest(path: Path) -> None:
    with sqlite3.connect(path) as con:
        prev = con.execute("SELECT prev_hash FROM audit WHERE seq = 4").fetchone()[0]
    canonical, digest = _forge(path, 4, {"result": "failed"}, prev)
    raw(path, "UPDATE audit SET at = '2026-01-01T00:00:00+00:00', incident_id = 'inc-1',"
              " kind = 'approval', actor = 'mallory', details = ?, hash = ? WHERE seq = 4",
        canonical, digest)  # fmt: skip


def _script(path: Path, *statements: str) -> None:
    con = sqlite3.connect(path)
    con.execute("DROP TRIGGER IF EXISTS audit_no_update")
    con.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    con.execute("DROP TRIGGER IF EXISTS audit_head_no_delete")
    for statement in statements:
        con.execute(statement)
    con.commit()
    con.close()


EDITS = {
    # update
    "update details": lambda p: raw(
        p, "UPDATE audit SET details = '{\"approved\":false}' WHERE seq = 3"
    ),
    "update actor": lambda p: raw(p, "UPDATE audit SET actor = 'mallory' WHERE seq = 3"),
    "update and rehash a middle record": lambda p: raw(
        p,
        "UPDATE audit SET details = ?, hash = ? WHERE seq = 2",
        *_forge(p, 2, {"diff": "nothing"}, "0" * 64),
    ),
    "update and rehash the newest record": _rewrite_newest,
    # delete
    "delete a middle record": lambda p: raw(p, "DELETE FROM audit WHERE seq = 2"),
    "delete the first record": lambda p: raw(p, "DELETE FROM audit WHERE seq = 1"),
    "delete the newest record": lambda p: raw(p, "DELETE FROM audit WHERE seq = 4"),
    # insert
    "insert a forged record after the newest": _append_forged,
    "insert a record in a gap": lambda p: _script(
        p,
        "DELETE FROM audit WHERE seq = 2",
        "INSERT INTO audit SELECT 2, at, incident_id, kind, 'mallory', details, prev_hash, hash"
        " FROM audit WHERE seq = 3",
    ),
    # reorder
    "reorder two records": lambda p: _script(
        p,
        "UPDATE audit SET seq = 100 WHERE seq = 2",
        "UPDATE audit SET seq = 2 WHERE seq = 3",
        "UPDATE audit SET seq = 3 WHERE seq = 100",
    ),
    # truncate
    "truncate the table": lambda p: _script(p, "DELETE FROM audit"),
    "truncate the table and its sequence": lambda p: _script(
        p, "DELETE FROM audit", "DELETE FROM sqlite_sequence WHERE name = 'audit'"
    ),
    # drop
    "drop the table": lambda p: _script(p, "DROP TABLE audit"),
    # sequence reset
    "delete the newest records and the sequence row": lambda p: _script(
        p, "DELETE FROM audit WHERE seq >= 3", "DELETE FROM sqlite_sequence WHERE name = 'audit'"
    ),
    "delete the newest records and lower the sequence": lambda p: _script(
        p,
        "DELETE FROM audit WHERE seq >= 3",
        "UPDATE sqlite_sequence SET seq = 2 WHERE name = 'audit'",
    ),
    "delete the head record too": lambda p: _script(
        p,
        "DELETE FROM audit WHERE seq = 4",
        "UPDATE sqlite_sequence SET seq = 3 WHERE name = 'audit'",
        "DELETE FROM audit_head",
    ),
    # duplicate key: SQLite's json_extract reads the first, Python the last
    "duplicate key inside details": lambda p: raw(
        p, "UPDATE audit SET details = ? WHERE seq = 3", '{"approved":false,"approved":true}'
    ),
}


def test_the_attack_made_seventeen_edits() -> None:
    assert len(EDITS) == 17


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_every_edit_of_the_attack_is_found_by_audit_verify(db: Path, edit: str) -> None:
    EDITS[edit](db)
    code, _, err = cli(db, "verify")
    assert code == 1, f"{edit}: not detected"
    assert err.startswith("audit log broken at seq ")


def test_a_consistent_rewrite_of_table_and_head_is_found_with_an_external_anchor(db: Path) -> None:
    anchor = AuditLog(db).head()
    assert anchor is not None and anchor.count == 4
    _rewrite_newest(db)
    check = AuditLog(db).verify()
    with sqlite3.connect(db) as con:  # the attacker also rewrites the head to match
        con.execute("UPDATE audit_head SET hash = ?", (_last_hash(db),))
    assert not check.ok
    assert AuditLog(db).verify().ok, "the file alone cannot tell"
    code, _, err = cli(db, "verify", "--anchor", anchor.anchor)
    assert code == 1 and "anchored" in err
    assert cli(db, "verify", "--anchor", "4:nope")[0] == 2


def test_the_duplicate_key_edit_is_named(db: Path) -> None:
    raw(db, "UPDATE audit SET details = ? WHERE seq = 3", '{"approved":false,"approved":true}')
    check = AuditLog(db).verify()
    assert (check.ok, check.broken_seq) == (False, 3)
    assert "repeat the key approved" in check.error


def test_a_store_from_before_the_head_adopts_its_chain_once(tmp_path: Path) -> None:
    path = tmp_path / "incidents.sqlite"
    log = AuditLog(path)
    log.append("inc-1", AuditKind.DECISION, {"outcome": "escalate"})
    # as a store written by an older firstline: no head, and no record of migrations
    _script(path, "DROP TABLE audit_head", "DROP TABLE schema_migrations")
    assert AuditLog(path).verify().ok
    head = AuditLog(path).head()
    assert head is not None and head.count == 1


# -- the CLI ---------------------------------------------------------------------------------
def cli(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--data-dir", str(db.parent), "audit", *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_verify_ok_and_broken(db: Path) -> None:
    code, out, _ = cli(db, "verify")
    assert code == 0 and "4 record(s)" in out
    raw(db, "UPDATE audit SET actor = 'mallory' WHERE seq = 3")
    code, _, err = cli(db, "verify")
    assert code == 1
    assert err.strip() == (
        "audit log broken at seq 3: record 3: hash does not match its content (modified)"
    )
    code, out, _ = cli(db, "verify", "--json")
    assert code == 1 and json.loads(out)["broken_seq"] == 3


def test_cli_show(db: Path) -> None:
    code, out, _ = cli(db, "show", "inc-1", "--json")
    assert code == 0
    assert [r["kind"] for r in json.loads(out)] == ["decision", "dry_run", "action"]
    code, out, _ = cli(db, "show", "inc-1")
    assert code == 0 and "dry_run" in out and "auto_remediate" in out
    code, _, err = cli(db, "show", "inc-404")
    assert code == 2 and "no audit records" in err


def test_cli_without_a_store_is_a_user_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "none"), "audit", "verify"])
    assert result.exit_code == 2 and "no incident store" in result.stderr


def test_concurrent_writers_never_fork_the_chain(db: Path) -> None:
    """Separate connections in several threads, as separate processes would have."""
    from concurrent.futures import ThreadPoolExecutor

    def write(n: int) -> None:
        log = AuditLog(db)
        for i in range(20):
            log.append(f"inc-w{n}", AuditKind.ACTION, {"i": i})

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(4)))
    check = AuditLog(db).verify()
    assert check.ok and check.records == 4 + 80
