"""Helpers of the insider tests: a case checked over HTTP by a team the caller chooses."""

from __future__ import annotations

import itertools
import json
import secrets
from dataclasses import dataclass
from typing import Any

from factories import COUNTY, new_id_number
from recheck_kit import dated_photo, member_met, signed_form, upload, visit_api
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry


_bill_numbers = itertools.count(1)


def check_body(head: str, officers: list[str], visited_on: str, account: str | None = None,
               **income: str) -> dict[str, Any]:
    """A check's body; `account`: the payee's, by default the household's own (one account per household)."""
    account = account or f"622202{secrets.randbelow(10**9):09d}3445"
    return {
        "visited_on": visited_on, "officers": officers,
        "members": [{"name": head, "id_number": new_id_number(), "relation": "head", "labour": "partial"}],
        "income": {"wages": "3000.00", "business_net": "0.00", "property_net": "0.00", "transfer_net": "0.00",
                   "productive_costs": "0.00", **income},
        "rigid_expenditure": {"medical_self_paid": "40000.00", "schooling": "0.00", "disaster_loss": "0.00"},
        "stable_income": False,
        "payee": {"account_name": head, "bank": "农村商业银行", "account_number": account},
        "cross_checks": [], "evidence": [], "note": "",
        # The invoice behind the medical cost (a determination counts only what bills back).
        "bills": [{"kind": "medical", "issuer": "县人民医院", "number": f"K{next(_bill_numbers):08d}", "amount": "40000.00"}],
    }


def schedule(client: Any, headers: dict[str, str], case_id: str, officers: list[str], visit_on: str,
             vehicle: str = "车01") -> None:
    r = client.post(f"/api/cases/{case_id}/schedule", headers=headers,
                    json={"officers": officers, "visit_on": visit_on, "vehicle": vehicle})
    assert r.status_code == 200, r.text


def head_of(client: Any, headers: dict[str, str], case_id: str) -> str:
    r = client.get(f"/api/cases/{case_id}", headers=headers)
    assert r.status_code == 200, r.text
    return str(r.json()["referrals"][0]["name"])


@dataclass(frozen=True)
class Visit:
    """A screened case scheduled over HTTP for two officers today: who schedules, who records, the household head."""

    case_id: str
    sup: dict[str, str]  # the insurer supervisor's headers
    off: dict[str, str]  # the first officer's headers
    officers: list[str]
    head: str
    today: str


def scheduled_visit(ctx: Any, client: Any, users: Any, case_id: str) -> Visit:
    """`case_id` (screened) scheduled today for `off1` and `off2` by `sup`, the three added to the county."""
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    sup, today, officers = users.headers("sup"), ctx.clock.today().isoformat(), [users.ids["off1"], users.ids["off2"]]
    schedule(client, sup, case_id, officers, today)
    return Visit(case_id, sup, users.headers("off1"), officers, head_of(client, sup, case_id), today)


__all__ = ["COUNTY", "Visit", "check_body", "dated_photo", "head_of", "member_met", "schedule", "scheduled_visit",
           "signed_form", "upload", "visit_api"]


def entries_but_refusals(ctx: Any) -> int:
    """Audit entries other than the 回避 refusals' own trace (`recusal.refused`): what a refused action must not add."""
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action != "recusal.refused")))


def refusals_of(ctx: Any, actor: str) -> list[dict[str, Any]]:
    """The `recusal.refused` entries of one person, oldest first: (subject, payload)."""
    with ctx.db.read() as session:
        rows = session.execute(select(AuditEntry.subject, AuditEntry.entry, AuditEntry.county_code).where(
            AuditEntry.action == "recusal.refused", AuditEntry.actor == actor).order_by(AuditEntry.idx)).all()
    return [{"subject": s, "county_code": c, **json.loads(e)["payload"]} for s, e, c in rows]


def household_member(ctx: Any, case_id: str, head: bool = True) -> tuple[str, str, str]:
    """(household id, member id, the member's ID number in clear): the case's head, or another member."""
    from verifier.store.tables import Case, Member

    with ctx.db.read() as session:
        household = session.scalar(select(Case.household_id).where(Case.id == case_id))
        member = session.scalars(select(Member).where(Member.household_id == household,
                                                      (Member.relation == "head") if head else
                                                      (Member.relation != "head")).order_by(Member.id)).first()
        return household, member.id, ctx.vault.open(member.id_number_enc, "member.id_number")


def declare_ties(client: Any, headers: dict[str, str], *id_numbers: str) -> None:
    """The caller declares these ID numbers as relatives (回避申报, through the API)."""
    r = client.post("/api/recusal/mine", headers=headers,
                    json={"entries": [{"relation": "other", "id_number": n} for n in id_numbers]})
    assert r.status_code == 200, r.text


def count_rows(ctx: Any, model: Any, *where: Any) -> int:
    """How many rows of `model` match `where` (nothing written by a refused step: the count stays)."""
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)))


def case_status(ctx: Any, case_id: str) -> str:
    from verifier.store.tables import Case

    with ctx.db.read() as session:
        return str(session.scalar(select(Case.status).where(Case.id == case_id)))


def move_out(ctx: Any, member_id: str, household: str, to: str, when: Any, change_id: str) -> None:
    """A member moved from `household` to `to` at `when` (a `household_change` of kind move, as the move step writes)."""
    from verifier.households.models import HouseholdChange
    from verifier.store.tables import Member

    with ctx.db.begin() as session:
        session.execute(Member.__table__.update().where(Member.id == member_id).values(household_id=to))
        session.add(HouseholdChange(id=change_id, kind="move", county_code=COUNTY, from_household_id=household,
                                    to_household_id=to, member_id=member_id, members=[member_id],
                                    new_household=False, merged_cases=[], moved_cases=[], reason="迁出",
                                    changed_by="u_someone", changed_at=when))


def statements_of(ctx: Any, action: Any) -> list[str]:
    """Every statement sent while `action` runs: the ORM's and Core's (`before_cursor_execute`, every engine) and the
    prepared reads' (`readers.seen`: the session lookup)."""
    from sqlalchemy import event

    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engines = {ctx.db.engine, ctx.db.read_engine, ctx.db.quick_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", seen)
    ctx.db.readers.seen.append(statements.append)
    try:
        action()
    finally:
        ctx.db.readers.seen.remove(statements.append)
        for engine in engines:
            event.remove(engine, "before_cursor_execute", seen)
    return statements
