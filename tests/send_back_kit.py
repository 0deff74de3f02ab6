"""A check sent back and the case visited again, as the send-back tests (tests/e2e/test_send_back.py) and the
insider tests of what comes after it share: the send-back itself, other officers scheduled, and their check."""

from __future__ import annotations

from typing import Any

from factories import COUNTY, staff
from sqlalchemy import select

from verifier.checks import service as checks
from verifier.demo import demo_bills
from verifier.domain.income import HouseholdIncome, RigidExpenditure
from verifier.store.tables import Case, Member


def send_back(client: Any, case_id: str, headers: dict[str, str], reason: str) -> None:
    """The holder of `headers` sends the case's check back, with `reason` (200)."""
    r = client.post(f"/api/cases/{case_id}/send-back", json={"reason": reason}, headers=headers)
    assert r.status_code == 200, r.text


def recheck(ctx: Any, case_id: str, officers: Any, *, note: str, visited_on: Any = None) -> None:
    """The second visit's check, by `officers` (the household's members as the first check found them), visited
    `visited_on` (today by default; an earlier day is recorded with a reason for the late entry)."""
    with ctx.db.begin() as session:
        household_id = session.get(Case, case_id).household_id
        rows = session.scalars(select(Member).where(Member.household_id == household_id).order_by(Member.id)).all()
        members = [{"name": m.name, "id_number": ctx.vault.open(m.id_number_enc, "member.id_number"),
                    "relation": m.relation, "labour": m.labour or "full"} for m in rows]
        data = checks.CheckInput(
            visited_on=visited_on or ctx.clock.today(), officers=[officers.officer1.id, officers.officer2.id],
            members=members,
            income=HouseholdIncome(wages=800_000), rigid=RigidExpenditure(medical_self_paid=4_200_000),
            stable_income=False, payee=None, cross_checks=[], evidence=[], note=note,
            bills=demo_bills(case_id, "medical_self_paid", 4_200_000),
            late_entry_reason="纸质记录回到乡镇才补录" if visited_on else "")
        checks.record_check(session, case_id, data, vault=ctx.vault, principal=officers.officer1, clock=ctx.clock)


def visited_again(ctx: Any, client: Any, case_id: str, headers: dict[str, str], *, team: int, visit_on: str,
                  note: str, visited_on: Any = None) -> Any:
    """The case whose check was sent back, scheduled by the holder of `headers` on `visit_on` for staff team `team`
    (officers new to the case, vehicle 车`team`), and their check recorded (`recheck`, dated `visited_on`): that
    team's officers."""
    others = staff(ctx, COUNTY, team=team)
    r = client.post(f"/api/cases/{case_id}/schedule", headers=headers,
                    json={"officers": [others.officer1.id, others.officer2.id], "visit_on": visit_on,
                          "vehicle": f"车{team}"})
    assert r.status_code in (200, 201), r.text
    recheck(ctx, case_id, others, note=note, visited_on=visited_on)
    return others
