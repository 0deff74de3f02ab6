"""Rigid expenditure claimed without bills: bills are optional at the door, so an officer could claim medical costs
(or schooling, a disaster loss) that no invoice backs, never compared with earlier cases, and make a household
eligible or raise its relief. The determination counts only what bills back; confirming one that rests on unbilled
amounts is refused, naming the kind and the shortfall; the check's own officers add the bills before it."""

from __future__ import annotations

from typing import Any

import pytest
from factories import case_status, make_case
from insider_kit import check_body, head_on_record, schedule, scheduled_visit
from sqlalchemy import select

from verifier.accounts.auth import principal_of
from verifier.audit.models import AuditEntry
from verifier.checks import late_bills
from verifier.domain.errors import ValidationFailed
from verifier.store.tables import Determination, User

INVOICE = {"kind": "medical", "issuer": "县人民医院", "number": "ZY-2020-7781", "amount": "25000.00"}
REST = {"kind": "medical", "issuer": "市第二人民医院", "number": "B-0091", "amount": "15000.00"}


def _unbilled_check(ctx: Any, client: Any, users: Any, **figures: Any) -> Any:
    """A screened case scheduled and checked with 40,000 yuan of medical costs and no bill."""
    v = scheduled_visit(ctx, client, users, make_case(ctx, stage="screened"))
    body = check_body(v.head, v.head_id, v.officers, v.today, **figures.get("income", {}))
    body["bills"] = []
    body["stable_income"] = figures.get("stable_income", False)
    r = client.post(f"/api/cases/{v.case_id}/check", headers=v.off, json=body)
    assert r.status_code == 201, r.text  # recorded at the door without the invoices
    return v


def _determine(client: Any, v: Any, confirm: bool) -> Any:
    return client.post(f"/api/cases/{v.case_id}/determination", headers=v.sup, json={"confirm": confirm})


def test_attack_an_officer_claims_medical_costs_with_no_bill_to_raise_the_relief(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    v = _unbilled_check(ctx, client, users)
    preview = _determine(client, v, confirm=False).json()
    assert preview["unbilled"] == [{"field": "medical_self_paid", "claimed": "40000.00", "billed": "0.00",
                                    "missing": "40000.00"}]
    assert preview["rests_on_unbilled"] and preview["relief"]["amount"] == "0.00"  # nothing billed, nothing priced
    r = _determine(client, v, confirm=True)
    assert r.status_code == 409, r.text
    assert "合规自付医疗费用申报 40,000.00 元，票据合计 0.00 元，差 40,000.00 元" in r.json()["detail"]
    assert case_status(ctx, v.case_id) == "checked"

    # The supervisor may not supply the bills they would confirm; nor may an officer who did not make the check.
    bill = {"bills": [INVOICE]}
    assert client.post(f"/api/cases/{v.case_id}/check/bills", headers=v.sup, json=bill).status_code == 403
    users.add("off3", "field_officer", counties=("340223",))
    r = client.post(f"/api/cases/{v.case_id}/check/bills", headers=users.headers("off3"), json=bill)
    assert r.status_code == 403 and "只有做本次核查的两名核查员可以补录票据" in r.json()["detail"], r.text
    r = client.post(f"/api/cases/{v.case_id}/check/bills", headers=v.off, json={"bills": []})
    assert r.status_code == 400 and "至少 1 项" in r.json()["detail"], r.text  # the API's body: at least one
    with ctx.db.begin() as session:  # the rule says so too, in Chinese, for a caller past the body
        officer = principal_of(session.get(User, v.officers[0]))
        with pytest.raises(ValidationFailed) as refused:
            late_bills.add_bills(session, v.case_id, [], principal=officer, clock=ctx.clock)
    assert [(e.field, e.message) for e in refused.value.errors] == [("bills", "请至少填写一张票据")]

    # The check's officer adds part of the bills: the rest is still missing and still refused.
    r = client.post(f"/api/cases/{v.case_id}/check/bills", headers=v.off, json=bill)
    assert r.status_code == 201 and [b["number"] for b in r.json()["bills"]] == ["ZY-2020-7781"], r.text
    r = _determine(client, v, confirm=True)
    assert r.status_code == 409 and "票据合计 25,000.00 元，差 15,000.00 元" in r.json()["detail"], r.text
    # More than the check claimed, or the same bill twice, is refused.
    over = {**REST, "amount": "15000.01"}
    r = client.post(f"/api/cases/{v.case_id}/check/bills", headers=v.off, json={"bills": [over]})
    assert r.status_code == 422 and "合计 40,000.01 元，超过核查填写的金额 40,000.00 元" in r.json()["errors"][0]["message"]
    assert "would add up" not in r.text, r.text
    r = client.post(f"/api/cases/{v.case_id}/check/bills", headers=v.off, json={"bills": [INVOICE]})
    assert r.status_code == 422 and "票据 ZY-2020-7781 已列在本次核查中" in r.text and "already" not in r.text, r.text

    r = client.post(f"/api/cases/{v.case_id}/check/bills", headers=users.headers("off2"), json={"bills": [REST]})
    assert r.status_code == 201, r.text
    r = _determine(client, v, confirm=True)
    assert r.status_code == 200 and r.json()["unbilled"] == [] and r.json()["relief"]["basis"] == "40000.00", r.text
    assert r.json()["relief"]["amount"] != "0.00" and len(r.json()["bills"]) == 2
    # Once determined, no bill is added (said in Chinese, the case's status named).
    late = {**REST, "number": "B-0092", "amount": "1.00"}
    r = client.post(f"/api/cases/{v.case_id}/check/bills", headers=v.off, json={"bills": [late]})
    assert r.status_code == 409 and "票据须在认定之前补录，案件现在是“已认定”" in r.json()["detail"], r.text
    with ctx.db.read() as session:
        added = session.scalars(select(AuditEntry).where(AuditEntry.subject == v.case_id,
                                                         AuditEntry.action == "case.add_bills")).all()
    assert [e.actor for e in added] == [users.ids["off1"], users.ids["off2"]]
    # Determined, the check takes no more bills.
    r = client.post(f"/api/cases/{v.case_id}/check/bills", headers=v.off,
                    json={"bills": [{**REST, "number": "B-0092"}]})
    assert r.status_code == 409, r.text


def test_attack_unbilled_costs_make_a_household_with_income_eligible_by_the_burden_rule(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Income well above the line and no stable source: 40,000 yuan of claimed costs 'clearly exceed' 30,000 of
    income only if they are counted; without a bill the household is not eligible, and confirming is refused."""
    v = _unbilled_check(ctx, client, users, income={"wages": "30000.00"})
    preview = _determine(client, v, confirm=False).json()
    assert preview["eligible"] is False and preview["rests_on_unbilled"] is True
    r = _determine(client, v, confirm=True)
    assert r.status_code == 409 and "差 40,000.00 元" in r.json()["detail"], r.text
    assert case_status(ctx, v.case_id) == "checked"


def test_a_determination_that_does_not_rest_on_the_unbilled_amount_is_confirmed_on_the_billed_figures(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A household with a stable income above the line is not eligible whatever it spent: the tired officer's
    missing bills do not hold the decision up, and the stored reason counts only billed expenditure."""
    v = _unbilled_check(ctx, client, users, income={"wages": "30000.00"}, stable_income=True)
    r = _determine(client, v, confirm=True)
    assert r.status_code == 200 and r.json()["eligible"] is False and r.json()["rests_on_unbilled"] is False, r.text
    with ctx.db.read() as session:
        det = session.scalar(select(Determination).where(Determination.case_id == v.case_id))
        assert det.basis == 0 and not det.eligible


def test_a_bill_added_later_is_counted_once_like_one_listed_at_the_door(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    v = _unbilled_check(ctx, client, users)
    r = client.post(f"/api/cases/{v.case_id}/check/bills", headers=v.off, json={"bills": [INVOICE, REST]})
    assert r.status_code == 201 and _determine(client, v, confirm=True).status_code == 200
    # The next household's check, recorded without bills, then given the first household's invoice.
    case_id = make_case(ctx, stage="screened")
    schedule(client, v.sup, case_id, v.officers, v.today)
    body = check_body(*head_on_record(ctx, case_id), v.officers, v.today)
    body["bills"] = []
    assert client.post(f"/api/cases/{case_id}/check", headers=v.off, json=body).status_code == 201
    r = client.post(f"/api/cases/{case_id}/check/bills", headers=v.off, json={"bills": [INVOICE]})
    assert r.status_code == 422 and "已在案件" in r.text and "同一票据只能计入一次" in r.text, r.text
    assert "already" not in r.text, r.text
    with ctx.db.read() as session:
        assert not session.scalar(select(AuditEntry.idx).where(AuditEntry.subject == case_id,
                                                               AuditEntry.action == "case.add_bills"))
