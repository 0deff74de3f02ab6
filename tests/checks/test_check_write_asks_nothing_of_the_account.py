"""Recording a check sends no statement about its payee account (一账多户, payments/one_account.py): the account's
blind index is computed in the process and written with the check; whether another household is paid into it is
asked by the reads where a person acts on it (the case read, the case page, the determination confirmation), not by
the check's write. Counted on the statements the database is sent (`before_cursor_execute`, which also sees the
prepared writes, store/writer.py) and the prepared reads (store/reader.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from factories import make_case
from sqlalchemy import event, select

from verifier.accounts.auth import principal_of
from verifier.payments import one_account
from verifier.store import reader as reader_module
from verifier.store.tables import Check, Referral, User, Visit

SHARED = "6228480012345678"  # another household's case is paid into it


def _login(client: Any, username: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": username, "password": "factory-password"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _body(ctx: Any, case_id: str) -> tuple[dict[str, Any], str]:
    with ctx.db.read() as session:
        officers = session.scalar(select(Visit.officer_ids).where(Visit.case_id == case_id, Visit.active.is_(True)))
        names = [session.get(User, o).username for o in officers]  # type: ignore[union-attr]
        r = session.scalar(select(Referral).where(Referral.case_id == case_id))
        id_number = ctx.vault.open(r.id_number_enc, "referral.id_number")  # type: ignore[union-attr]
        head = r.name  # type: ignore[union-attr]
    return {"visited_on": ctx.clock.today().isoformat(), "officers": officers,
            "members": [{"name": head, "id_number": id_number, "relation": "head", "labour": "partial"}],
            "income": {"wages": "3000.00"}, "rigid_expenditure": {"medical_self_paid": "42000.00"},
            "stable_income": False, "payee": {"account_name": head, "bank": "农村商业银行", "account_number": SHARED},
            "cross_checks": [{"source": "medical_insurance", "finding": "consistent", "note": ""}]}, names[0]


@pytest.mark.parametrize("litestar", [False, True], ids=["shortcut", "route"])
def test_a_check_naming_another_households_account_sends_no_statement_about_the_account(
        ctx, client, monkeypatch: pytest.MonkeyPatch, litestar: bool) -> None:  # type: ignore[no-untyped-def]
    paid = make_case(ctx, stage="determined", account_number=SHARED)
    case_id = make_case(ctx, stage="scheduled")
    body, officer = _body(ctx, case_id)
    headers = _login(client, officer)
    if litestar:  # an Idempotency-Key: the route, not its shortcut (checks/shortcut.py)
        headers["Idempotency-Key"] = f"k-{case_id}"
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        sent.append(statement)

    real_prepare = reader_module.Reader._prepare

    def prepare(self: Any, prepared: Any) -> Any:
        c = real_prepare(self, prepared)
        sent.append(c.sql)
        return c

    engines = {id(e): e for e in (ctx.db.engine, ctx.db.quick_engine)}.values()
    monkeypatch.setattr(reader_module.Reader, "_prepare", prepare)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", seen)
    try:
        r = client.post(f"/api/cases/{case_id}/check", headers=headers, json=body)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", seen)
    assert r.status_code == 201, r.text
    assert "payee_warning" not in r.json()
    # The counting sees the check's own write (on PostgreSQL one statement with the case's move): the index is
    # written with it, and no statement compares an account index with anything.
    assert [s for s in sent if re.search(r"INSERT INTO home_check\s*\([^)]*payee_account_index", s)]
    compared = [s for s in sent if re.search(r"account_index\s*(=|<>|!=|\bIN\b|\bIS\b)", s, re.I)]
    assert compared == [], compared
    # Nothing read of the account's other records: no payee change, no payment item, no clearance, no other check.
    about = [s for s in sent if any(t in s.lower() for t in ("payee_correction", "payment_item", "account_clearance"))]
    assert about == [], about
    with ctx.db.read() as session:
        check = session.scalars(select(Check).where(Check.case_id == case_id)).one()
        assert check.payee_account_index == one_account.account_index(ctx.vault, SHARED)
    # The warning is read afterwards, where a person acts on it (the case page, the determination page).
    with ctx.db.read() as session:
        user = session.scalars(select(User).where(User.username == officer)).one()
        warned = one_account.case_warning(session, case_id, principal_of(user), ctx.vault, ctx.clock.today())
    assert warned is not None and len(warned["case_numbers"]) == 1 and warned["account_number"].endswith("5678")
    assert paid != case_id
