"""Confirming a roster counts its change against the roster in force before the write transaction, not inside it (at
100,000 people that count held SQLite's write lock over a second): inside, only a cheap re-check that the import is
still pending and the roster in force is still the one counted against. The audit entry is as it was."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from factories import COUNTY, new_id_number
from pipeline_spy import statements_sent
from roster_kit import import_confirmed, post_roster, reviewer, roster_csv, second_reviewer
from sqlalchemy import event, func, select, update

from verifier.audit.canonical import decode_entry
from verifier.audit.models import AuditEntry
from verifier.domain.errors import InvalidState
from verifier.roster import service as roster
from verifier.roster.models import RosterImport


@contextmanager
def _write_transactions_spied(ctx) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """The SQL of every statement sent inside a write transaction (`Database.begin`) while the block runs, on either
    database (SQLAlchemy's cursor, and on PostgreSQL the pipelined writes of store/pgwrite.py)."""
    inside: list[str] = []
    monkeypatch = pytest.MonkeyPatch()
    piped = statements_sent(monkeypatch)
    open_blocks = [0]
    real_begin = ctx.db.begin

    @contextmanager
    def begin() -> Iterator[object]:
        start = len(piped)
        open_blocks[0] += 1
        try:
            with real_begin() as session:
                yield session
        finally:
            open_blocks[0] -= 1
            inside.extend(s.decode(errors="replace") for s in piped[start:])

    def on_execute(conn, cursor, statement, *rest) -> None:  # type: ignore[no-untyped-def]
        if open_blocks[0]:
            inside.append(statement)

    engines = {ctx.db.engine, ctx.db.read_engine}
    monkeypatch.setattr(ctx.db, "begin", begin)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield inside
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", on_execute)
        monkeypatch.undo()


def _confirm_entries(ctx) -> list[dict]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return [decode_entry(e.entry).payload for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "roster.confirm").order_by(AuditEntry.idx))]


def test_the_change_is_counted_before_the_write_transaction_and_logged_as_before(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    stay, move, leave, come = (new_id_number() for _ in range(4))
    import_confirmed(ctx, roster_csv([(stay, "脱贫户"), (move, "脱贫户"), (leave, "边缘易致贫户")]))
    users.add("rev-a", "county_reviewer", counties=(COUNTY,))
    users.add("rev-b", "county_reviewer", counties=(COUNTY,))
    r = post_roster(client, users.headers("rev-a"), roster_csv([(stay, "脱贫户"), (move, "边缘易致贫户"), (come, "脱贫户")]))
    assert r.status_code == 201, r.text
    import_id = r.json()["import_id"]
    with _write_transactions_spied(ctx) as inside:
        r = client.post(f"/api/roster/imports/{import_id}/confirm", headers=users.headers("rev-b"))
    assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text
    assert inside, "the confirmation wrote in a transaction"
    assert any("roster_import" in s for s in inside) and not any("roster_entry" in s for s in inside), inside
    entry = _confirm_entries(ctx)[-1]
    assert (entry["added"], entry["removed"], entry["changed"]) == (1, 1, 1), entry
    assert sorted(entry) == ["added", "changed", "county_code", "imported_by", "removed", "replaces", "rows", "sha256"]


def test_a_roster_put_in_force_between_the_count_and_the_write_is_refused_and_nothing_is_written(
        ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Only the pending import changes the county's roster, so this cannot happen through the service; by hand (a
    restore, a direct edit) it can, and then the counts are stale: the confirmation is refused, not logged wrong."""
    old = import_confirmed(ctx, roster_csv([(new_id_number(), "脱贫户")]))
    with ctx.db.begin() as session:  # imported the day before (the test's clock stands still)
        session.execute(update(RosterImport).where(RosterImport.id == old.import_id)
                        .values(imported_at=ctx.clock.now() - timedelta(days=1)))
    pending = roster.import_roster(ctx.db, vault=ctx.vault, data=roster_csv([(new_id_number(), "边缘易致贫户")]),
                                   filename="b.csv", county_code=COUNTY, principal=reviewer(ctx, "rev-a"),
                                   clock=ctx.clock, limits=ctx.settings.imports)
    users.add("rev-b", "county_reviewer", counties=(COUNTY,))
    real_compare = roster.compare

    def compare_then_the_roster_changes(db, import_id, principal):  # type: ignore[no-untyped-def]
        counted = real_compare(db, import_id, principal)
        with ctx.db.begin() as session:  # another confirmed import, older than the pending one, newer than `old`
            at = session.scalar(select(RosterImport.imported_at).where(RosterImport.id == pending.import_id))
            session.add(RosterImport(id="ros-by-hand", county_code=COUNTY, filename="c.csv", file_sha256="c" * 64,
                                     rows=0, imported_by="by-hand", imported_at=at - timedelta(seconds=1),
                                     status="confirmed", confirmed_by="by-hand", confirmed_at=at))
        return counted

    for attempt in ("service", "api", "page"):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(roster, "compare", compare_then_the_roster_changes)
            if attempt == "service":
                with pytest.raises(InvalidState, match="现行名册在核对之后已经变更"):
                    roster.confirm_import(ctx.db, pending.import_id, principal=second_reviewer(ctx), clock=ctx.clock)
            else:
                url = (f"/api/roster/imports/{pending.import_id}/confirm" if attempt == "api"
                       else f"/roster/{pending.import_id}/confirm")
                r = client.post(url, headers=users.headers("rev-b"), follow_redirects=False)
                assert r.status_code == 409 and "现行名册在核对之后已经变更" in r.text, r.text
        with ctx.db.begin() as session:  # as it was: the by-hand roster gone
            session.execute(RosterImport.__table__.delete().where(RosterImport.id == "ros-by-hand"))
            assert session.scalar(select(RosterImport.status).where(RosterImport.id == pending.import_id)) == "pending"
        assert len(_confirm_entries(ctx)) == 1  # the first roster's only
    roster.confirm_import(ctx.db, pending.import_id, principal=second_reviewer(ctx), clock=ctx.clock)
    assert _confirm_entries(ctx)[-1]["replaces"] == old.import_id
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(RosterImport)
                              .where(RosterImport.status == "confirmed")) == 2


@contextmanager
def _all_statements(ctx) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """The SQL of every statement sent while the block runs (reads and writes, either database)."""
    seen: list[str] = []
    monkeypatch = pytest.MonkeyPatch()
    piped = statements_sent(monkeypatch)

    def on_execute(conn, cursor, statement, *rest) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    engines = {ctx.db.engine, ctx.db.read_engine, ctx.db.quick_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        seen.extend(s.decode(errors="replace") for s in piped)
        for engine in engines:
            event.remove(engine, "before_cursor_execute", on_execute)
        monkeypatch.undo()


def test_a_refused_or_repeated_confirm_counts_nothing(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The count of the roster (100,000 people) runs only for a confirm that may go ahead: not for the importer's,
    refused as before, nor for a repeat of an answered confirm under the same Idempotency-Key."""
    stay, come = new_id_number(), new_id_number()
    import_confirmed(ctx, roster_csv([(stay, "脱贫户")]))
    users.add("rev-a", "county_reviewer", counties=(COUNTY,))
    users.add("rev-b", "county_reviewer", counties=(COUNTY,))
    r = post_roster(client, users.headers("rev-a"), roster_csv([(stay, "脱贫户"), (come, "脱贫户")]))
    assert r.status_code == 201, r.text
    import_id = r.json()["import_id"]
    with _all_statements(ctx) as sent:
        r = client.post(f"/api/roster/imports/{import_id}/confirm", headers=users.headers("rev-a"))
    assert r.status_code == 403 and "导入" in r.text, r.text
    assert sent and not any("roster_entry" in s for s in sent), sent
    keyed = {**users.headers("rev-b"), "Idempotency-Key": "confirm-once"}
    first = client.post(f"/api/roster/imports/{import_id}/confirm", headers=keyed)
    assert first.status_code == 200 and first.json()["status"] == "confirmed", first.text
    with _all_statements(ctx) as sent:
        again = client.post(f"/api/roster/imports/{import_id}/confirm", headers=keyed)
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.content == first.content
    assert sent and not any("roster_entry" in s for s in sent), sent
