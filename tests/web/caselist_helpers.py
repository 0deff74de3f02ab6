"""What the case-list tests read back: a case's number and its household's members with their ID numbers."""

from __future__ import annotations

from sqlalchemy import select

from verifier.store.tables import Case, Member


def number_of(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return session.scalar(select(Case.number).where(Case.id == case_id))


def members_of(ctx, case_id: str) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """(name, relation, ID number) of each member of the case's household, the head first."""
    with ctx.db.read() as session:
        hh = session.scalar(select(Case.household_id).where(Case.id == case_id))
        rows = session.execute(select(Member.name, Member.relation, Member.id_number_enc)
                               .where(Member.household_id == hh).order_by(Member.relation != "head", Member.id)).all()
    return [(name, relation, ctx.vault.open(sealed, "member.id_number")) for name, relation, sealed in rows]


def find(pages, q: str, **filters: str):  # type: ignore[no-untyped-def]
    """Search the case list as the search box does: POST the text, then open the list the answer sends to."""
    r = pages.post("/cases/search", {"q": q, **filters})
    assert r.status_code == 303, r.text[:300]
    return pages.get(r.headers["location"])
