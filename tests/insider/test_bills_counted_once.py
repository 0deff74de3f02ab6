"""The same bills recorded again on a new case: a household's medical invoices priced one case would price another
(next year's, another household's), deducting the same cost twice. A bill counted by a determined or paid case is
refused, by its issuer and number, however they are typed; the refusal names the earlier case."""

from __future__ import annotations

from deviation_helpers import pay, person
from factories import make_case, staff
from insider_kit import COUNTY, check_body, head_on_record, schedule
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry
from verifier.cases.workflow import advance, load_case
from verifier.checks.models import CheckBill
from verifier.store.tables import Case

X = {"kind": "medical", "issuer": "县人民医院", "number": "3401-0012345", "amount": "25000.00"}
Y = {"kind": "medical", "issuer": "县中医院", "number": "A77", "amount": "15000.00"}
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(200))  # a photo of the invoices


def _team(users) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    for name, role in (("o1", "field_officer"), ("o2", "field_officer"), ("sup", "insurer_supervisor")):
        if name not in users.ids:
            users.add(name, role, counties=(COUNTY,))
    return users.ids["o1"], users.ids["o2"]


def _check(ctx, client, users, case_id: str, bills: list[dict], medical: str,  # type: ignore[no-untyped-def,type-arg]
           photo: bytes | None = None):
    officers = list(_team(users))
    today = ctx.clock.today().isoformat()
    sup = users.headers("sup")
    if client.get(f"/api/cases/{case_id}", headers=sup).json()["status"] == "screened":
        schedule(client, sup, case_id, officers, today)
    body = check_body(*head_on_record(ctx, case_id), officers, today)
    body["rigid_expenditure"]["medical_self_paid"] = medical
    body["bills"] = bills
    if photo is not None:
        r = client.post(f"/api/cases/{case_id}/evidence", headers=users.headers("o1"),
                        files={"file": ("p.png", photo, "image/png")})
        assert r.status_code == 201, r.text
        body["evidence"] = [r.json()["sha256"]]
    return client.post(f"/api/cases/{case_id}/check", headers=users.headers("o1"), json=body)


def _determine(client, users, case_id: str, confirm: bool = True):  # type: ignore[no-untyped-def]
    return client.post(f"/api/cases/{case_id}/determination", headers=users.headers("sup"), json={"confirm": confirm})


def _number(client, users, case_id: str) -> str:  # type: ignore[no-untyped-def]
    return str(client.get(f"/api/cases/{case_id}", headers=users.headers("sup")).json()["number"])


def _bill_rows(ctx, case_id: str) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(CheckBill).where(CheckBill.case_id == case_id)))


def test_attack_the_bills_of_a_paid_case_are_recorded_again_on_a_new_case(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    first = make_case(ctx, stage="screened")
    assert _check(ctx, client, users, first, [X, Y], "40000.00").status_code == 201
    r = _determine(client, users, first)
    assert r.status_code == 200 and r.json()["eligible"], r.text
    assert [(b["number"], b["amount"], b["counted_in"]) for b in r.json()["bills"]] == [
        ("3401-0012345", "25000.00", None), ("A77", "15000.00", None)]
    first_no = _number(client, users, first)

    # Another household's new case (or this household's next one) with the same invoice, typed a little differently:
    # full-width digits, spaces, the issuer spelt out longer with the same number and amount.
    second = make_case(ctx, stage="screened")
    again = {**X, "issuer": " 县人民 医院", "number": "３４０１-００１２３４５"}
    renamed = {**Y, "issuer": "某某县中医院"}
    r = _check(ctx, client, users, second, [again, renamed], "40000.00")
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail.count(f"已在案件 {first_no}（已认定）中计入") == 2, detail
    # Nothing of the refused check was written: no check, no bill, no entry; the case waits for its check.
    assert _bill_rows(ctx, second) == 0
    assert client.get(f"/api/cases/{second}", headers=users.headers("sup")).json()["status"] == "scheduled"
    with ctx.db.read() as session:
        assert not session.scalar(select(AuditEntry.idx).where(AuditEntry.subject == second,
                                                               AuditEntry.action == "record_check"))

    # Paid, the bills stay counted; the refusal names the paid case.
    clerk = staff(ctx).clerk
    with ctx.db.begin() as session:
        case = load_case(session, first, None, for_update=True)
        for action in ("review_pass", "post_notice", "close_notice"):
            advance(session, case, action, actor=clerk, role="town_clerk", clock=ctx.clock)
    pay(ctx, person(ctx, users, "claims1", "insurer_claims"), person(ctx, users, "fin1", "finance"), [first])
    r = _check(ctx, client, users, second, [again], "25000.00")
    assert r.status_code == 422 and f"已在案件 {first_no}（已支付）中计入" in r.json()["detail"], r.text
    # A new bill of its own is fine.
    new = {**X, "number": "3401-0099999"}
    assert _check(ctx, client, users, second, [new], "25000.00").status_code == 201
    assert _bill_rows(ctx, second) == 1


def test_two_cases_checked_with_the_same_bill_are_determined_once(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Both checks are recorded before either is determined: the first determination counts the bill, the second is
    refused, naming the first case; its preview shows where the bill is counted."""
    a, b = make_case(ctx, stage="screened"), make_case(ctx, stage="screened")
    assert _check(ctx, client, users, a, [X], "25000.00").status_code == 201
    assert _check(ctx, client, users, b, [X], "25000.00").status_code == 201
    assert _determine(client, users, a).status_code == 200
    a_no = _number(client, users, a)
    preview = _determine(client, users, b, confirm=False)
    assert preview.status_code == 200 and preview.json()["bills"][0]["counted_in"] == a_no
    r = _determine(client, users, b)
    assert r.status_code == 409 and f"已在案件 {a_no}（已认定）中计入" in r.json()["detail"], r.text
    with ctx.db.read() as session:
        assert session.get(Case, b).status == "checked"


def test_the_bills_add_up_to_the_amount_and_are_listed_once(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="screened")
    r = _check(ctx, client, users, case_id, [X, Y], "90000.00")  # the bills show 40,000.00
    assert r.status_code == 422 and "票据合计 40,000.00 元，与填写的金额 90,000.00 元不一致" in r.json()["detail"], r.text
    r = _check(ctx, client, users, case_id, [X, {**X, "number": "3401 0012345".replace(" ", "-")}], "50000.00")
    assert r.status_code == 422 and "第 2 张票据号码：与第 1 张票据相同" in r.json()["detail"], r.text
    r = _check(ctx, client, users, case_id, [{**X, "amount": "-1.00"}], "0.00")
    assert r.status_code == 422
    assert _bill_rows(ctx, case_id) == 0


def test_a_bill_counted_in_another_county_is_refused_without_naming_the_case(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from api.county_helpers import OTHER, add_county

    add_county(ctx)
    there = make_case(ctx, stage="screened", county=OTHER)
    for name, role in (("t1", "field_officer"), ("t2", "field_officer"), ("tsup", "insurer_supervisor")):
        users.add(name, role, counties=(OTHER,))
    today = ctx.clock.today().isoformat()
    tsup = users.headers("tsup")
    schedule(client, tsup, there, [users.ids["t1"], users.ids["t2"]], today, vehicle="车09")
    body = check_body(*head_on_record(ctx, there), [users.ids["t1"], users.ids["t2"]], today)
    body["rigid_expenditure"]["medical_self_paid"] = "25000.00"
    body["bills"] = [X]
    assert client.post(f"/api/cases/{there}/check", headers=users.headers("t1"), json=body).status_code == 201
    assert client.post(f"/api/cases/{there}/determination", headers=tsup, json={"confirm": True}).status_code == 200
    other_no = client.get(f"/api/cases/{there}", headers=tsup).json()["number"]

    here = make_case(ctx, stage="screened")
    r = _check(ctx, client, users, here, [X], "25000.00")
    assert r.status_code == 422 and "已在其他县（区）的案件中计入" in r.json()["detail"], r.text
    assert other_no not in r.text


def test_the_same_photo_of_the_papers_on_another_case_is_pointed_out_at_determination(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The officers leave the bills out but attach the very photo of the invoices the first case was priced on: the
    confirming supervisor is shown which case already holds it."""
    a, b = make_case(ctx, stage="screened"), make_case(ctx, stage="screened")
    assert _check(ctx, client, users, a, [X], "25000.00", photo=PHOTO).status_code == 201
    assert _determine(client, users, a).status_code == 200
    assert _check(ctx, client, users, b, [], "25000.00", photo=PHOTO).status_code == 201
    shown = _determine(client, users, b, confirm=False).json()["evidence_elsewhere"]
    assert [(e["case_number"], e["case_status"], e["same_household"]) for e in shown] == [
        (_number(client, users, a), "determined", False)]
    other = make_case(ctx, stage="screened")
    assert _check(ctx, client, users, other, [], "25000.00", photo=PHOTO + b"\0").status_code == 201
    assert _determine(client, users, other, confirm=False).json()["evidence_elsewhere"] == []
