"""ManyRows on both databases: rows come back exactly as written, whatever the text holds
and however many rows there are (chunked VALUES on SQLite, unnest arrays on PostgreSQL)."""

from __future__ import annotations

from firstline.store.database import Database, ManyRows

ROWS = ManyRows("INSERT INTO probe (n, body)", "(?, ?)", " ON CONFLICT DO NOTHING")
HOSTILE = ["plain", 'it\'s "quoted"', "back\\slash", "50% ? done", "naïve ✓ 日本", '{"a": [1]}', ""]


def test_many_rows_round_trip_hostile_text_in_chunks(database: Database) -> None:
    with database.transaction() as db:
        db.execute("CREATE TABLE probe (n TEXT PRIMARY KEY, body TEXT NOT NULL)")
    rows = [(f"{i:05d}", HOSTILE[i % len(HOSTILE)]) for i in range(1_203)]  # > one chunk
    with database.transaction() as db:
        ROWS.write(db, database.dialect, rows)
        ROWS.write(db, database.dialect, rows[:10])  # repeats are ignored, as the tail says
    with database.connect() as db:
        back = [
            (r["n"], r["body"])
            for r in db.execute("SELECT n, body FROM probe ORDER BY n").fetchall()
        ]
    assert back == rows
