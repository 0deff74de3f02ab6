"""回避 where money is decided after the determination: writing the bank's answer for a batch, and merging or splitting households (which could take the relative out of the
household whose case the same person then decides). Each is refused (422, 与本户成员存在回避关系, nothing written) to a
person who declared a member of the household as a relative. (A sampled case's hold: tests/sampling/test_sampling_holds.py.)"""

from __future__ import annotations

import csv
import io

from deviation_helpers import person
from factories import make_case
from insider_kit import entries_but_refusals, refusals_of, released_batch
from sqlalchemy import func, select

from verifier.payments.models import BankReturn
from verifier.store.tables import Case, Household, Member

REFUSAL = "与本户成员存在回避关系"


def _relative(ctx, case_id: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """(household id, a member's ID number in clear)."""
    with ctx.db.read() as session:
        household = session.scalar(select(Case.household_id).where(Case.id == case_id))
        member = session.scalars(select(Member).where(Member.household_id == household).order_by(Member.id)).first()
        return household, ctx.vault.open(member.id_number_enc, "member.id_number")


def _declare(client, headers, id_number: str) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/recusal/mine", headers=headers,
                    json={"entries": [{"relation": "sibling", "id_number": id_number}]})
    assert r.status_code == 200, r.text


def _entries(ctx) -> int:  # type: ignore[no-untyped-def]
    """The audit entries but the refusals' own trace (`recusal.refused`, insider_kit)."""
    return entries_but_refusals(ctx)


def test_attack_finance_writes_the_bank_answer_for_a_batch_paying_his_sister(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    bid, cases = released_batch(ctx, client, users, ("fin3", "finance"))
    bank = client.get(f"/api/payment-batches/{bid}/bank-file", headers=users.headers("fin1"))
    refs = [row[0] for row in csv.reader(io.StringIO(bank.content.decode("utf-8")))][1:]
    _, sister = _relative(ctx, cases[1])
    _declare(client, users.headers("fin3"), sister)
    out = io.StringIO()
    csv.writer(out).writerows([["reference", "status", "bank_reference", "reason"],
                               [refs[0], "success", "BK1", ""], [refs[1], "failed", "", "账户异常"]])
    before = _entries(ctx)
    r = client.post(f"/api/payment-batches/{bid}/bank-return", headers=users.headers("fin3"),
                    files={"file": ("r.csv", out.getvalue().encode(), "text/csv")})
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    assert _entries(ctx) == before
    assert [r["step"] for r in refusals_of(ctx, users.ids["fin3"])] == ["bank_return"]
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(BankReturn)) == 0


def test_attack_a_supervisor_moves_his_relative_out_of_the_household(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    person(ctx, users, "sup", "insurer_supervisor")
    case_id, other_case = make_case(ctx), make_case(ctx)
    household, relative = _relative(ctx, case_id)
    other_household, _ = _relative(ctx, other_case)
    with ctx.db.read() as s:
        member_id = s.scalars(select(Member.id).where(Member.household_id == household, Member.relation != "head")
                              .order_by(Member.id)).first()
    assert member_id is not None
    _declare(client, users.headers("sup"), relative)
    before = _entries(ctx)
    r = client.post(f"/api/households/{household}/members/{member_id}/move", headers=users.headers("sup"),
                    json={"reason": "分户", "new_household": True})
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    r = client.post(f"/api/households/{other_household}/merge", headers=users.headers("sup"),
                    json={"from_household_id": household, "reason": "合户"})
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    assert _entries(ctx) == before
    assert [r["step"] for r in refusals_of(ctx, users.ids["sup"])] == ["member_move", "household_merge"]
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Household).where(Household.id == household)) == 1
        assert s.scalar(select(Member.household_id).where(Member.id == member_id)) == household
