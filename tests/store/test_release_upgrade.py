"""A database made by the previous release (its migration head, the demo's rows) upgrades to today's head keeping
every row and every value, and its audit log still verifies, on SQLite and PostgreSQL. The fixture is made by
release_fixture.py at release time."""

from __future__ import annotations

from release_fixture import _encode, latest, load, read
from sqlalchemy import MetaData, select

from verifier.audit.checkpoints import known_keys
from verifier.audit.verify import verify_log
from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade


def test_the_previous_release_upgrades_keeping_every_row_and_a_verifying_log(database_url: str) -> None:
    doc = read(latest())
    db = Database(database_url)
    try:
        upgrade(db, doc["revision"])
        with db.engine.begin() as conn:
            counts = load(conn, doc)
        assert counts["audit_entry"] > 100 and counts["relief_case"] > 10  # the demo, not an empty shell

        upgrade(db)
        assert current_revision(db) == head_revision()

        meta = MetaData()
        with db.engine.connect() as conn:
            meta.reflect(conn)
            for name, rows in doc["tables"].items():
                assert name in meta.tables, f"table {name} is gone after the upgrade"
                table = meta.tables[name]
                order = list(table.primary_key.columns) or list(table.columns)
                after = [{k: _encode(v) for k, v in row.items()}
                         for row in conn.execute(select(table).order_by(*order)).mappings()]
                assert len(after) == len(rows), f"{name}: {len(rows)} rows before, {len(after)} after"
                kept = [c for c in rows[0] if c in table.columns] if rows else []
                for before_row, after_row in zip(rows, after, strict=True):
                    assert {c: _same(before_row[c]) for c in kept} == {c: _same(after_row[c]) for c in kept}, name

        with db.read() as session:
            keys = known_keys(session)
        result = verify_log(db, keys)
        assert result.ok, result.message
        assert result.entries == counts["audit_entry"]
    finally:
        db.dispose()


def _same(value):  # type: ignore[no-untyped-def]
    """A value as both databases give it back: datetimes compared without a time zone (stored as UTC)."""
    if isinstance(value, dict) and "$dt" in value:
        return value["$dt"][:19]
    return value
