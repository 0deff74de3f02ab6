"""No single person can redirect a payment: a payee change is a request a second person approves, only an approved
change is paid, and whoever asked for or approved one may neither approve nor release the batch that pays it.

The two attacks reproduced on the demo are performed here over HTTP, as the insider would, and seen refused.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from factories import head_on_record, make_case, staff
from payment_helpers import People, add_contract, change_payee, ready_case, tx
from sqlalchemy import select

from verifier.demo import demo_bills
from verifier.audit.checkpoints import known_keys
from verifier.audit.models import AuditEntry
from verifier.audit.verify import verify_log
from verifier.cases.workflow import advance, load_case
from verifier.domain.errors import Forbidden, InvalidState, ValidationFailed
from verifier.payments import payees, service
from verifier.payments.models import PayeeCorrection

ACCOUNT = "6222020200112233445"  # the check's payee account (given to factories.make_case)
OWN = "6212260000000099999"  # an account of the insider's own


def _noticed(ctx, head: str, account: str = ACCOUNT) -> str:  # type: ignore[no-untyped-def]
    """A case in its public notice (determined by the services; review and notice by the lifecycle shortcut)."""
    case_id = make_case(ctx, stage="determined", head_name=head, account_number=account)
    clerk = staff(ctx).clerk
    with ctx.db.begin() as session:
        case = load_case(session, case_id, None, for_update=True)
        for action in ("review_pass", "post_notice"):
            advance(session, case, action, actor=clerk, role="town_clerk", clock=ctx.clock)
    return case_id


def _close_notice(ctx, case_id: str) -> None:  # type: ignore[no-untyped-def]
    with ctx.db.begin() as session:
        advance(session, load_case(session, case_id, None, for_update=True), "close_notice", actor=None,
                role="town_clerk", clock=ctx.clock)


def _staff(users) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    users.add("claims", "insurer_claims")
    users.add("fin1", "finance")
    users.add("fin2", "finance")
    users.add("super", "insurer_supervisor")
    users.add("rev", "county_reviewer")
    users.add("outsider", "finance", "county_reviewer", counties=("999999",))
    return {n: users.headers(n) for n in ("claims", "fin1", "fin2", "super", "rev", "outsider")}


def _bank_file(client, batch_id: str, h: dict[str, str]) -> str:  # type: ignore[no-untyped-def]
    r = client.get(f"/api/payment-batches/{batch_id}/bank-file", headers=h)
    assert r.status_code == 200, r.text
    return r.content.decode()


def test_attack_finance_sets_their_own_account_on_a_case_in_notice(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    h = _staff(users)
    case_id = _noticed(ctx, "甲户主")
    # finance1 puts an account of their own on the case while it is in its notice.
    body = {"account_name": "财务甲", "bank": "工商银行", "account_number": OWN}
    r = client.post(f"/api/cases/{case_id}/payee", json=body, headers=h["fin1"])
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["reason"]  # not a household member
    r = client.post(f"/api/cases/{case_id}/payee", json={**body, "reason": "亲属代收"}, headers=h["fin1"])
    assert r.status_code == 201, r.text
    change = r.json()
    assert change["status"] == "pending" and change["name_in_household"] is False
    assert change["approver_roles"] == ["county_reviewer"]
    assert change["old_payee"]["account_number"].endswith("3445") and OWN not in r.text
    # They cannot approve it themselves, nor can another finance officer (the name is not a household member).
    r = client.post(f"/api/payee-changes/{change['id']}/approve", headers=h["fin1"])
    assert r.status_code == 403 and "您不能审批自己提出的收款人变更申请" in r.json()["detail"]
    r = client.post(f"/api/payee-changes/{change['id']}/approve", headers=h["fin2"])
    assert r.status_code == 403 and "只能由县级审核人员批准" in r.json()["detail"]
    assert client.get(f"/api/payee-changes/{change['id']}", headers=h["fin1"]).json()["status"] == "pending"

    # The notice closes; claims prepares the batch; finance1 approves and releases it: the pending change pays no one.
    _close_notice(ctx, case_id)
    batch = client.post("/api/payment-batches", json={"county_code": "340223"}, headers=h["claims"]).json()
    assert batch["item_count"] == 1
    assert client.get(f"/api/payment-batches/{batch['id']}", headers=h["fin1"]).json()["payee_changes"] == []
    assert client.post(f"/api/payment-batches/{batch['id']}/approve", headers=h["fin1"]).status_code == 200
    assert client.post(f"/api/payment-batches/{batch['id']}/release", headers=h["fin1"]).status_code == 200
    paid_to = _bank_file(client, batch["id"], h["fin1"])
    assert ACCOUNT in paid_to and OWN not in paid_to and "财务甲" not in paid_to
    # The case is in a batch now: the change can no longer be approved.
    r = client.post(f"/api/payee-changes/{change['id']}/approve", headers=h["rev"])
    assert r.status_code == 409


def test_whoever_asked_for_or_approved_a_change_may_not_approve_or_release_its_batch(ctx, client,
                                                                                      users) -> None:  # type: ignore[no-untyped-def]
    h = _staff(users)
    case_id = _noticed(ctx, "乙户主")
    other = ready_case(ctx, head_name="丙户主")
    r = client.post(f"/api/cases/{case_id}/payee", headers=h["fin1"],
                    json={"account_name": "财务甲", "bank": "工商银行", "account_number": OWN, "reason": "亲属代收"})
    change = r.json()
    # A county reviewer approves (deceived, or in league): the change is now paid...
    r = client.post(f"/api/payee-changes/{change['id']}/approve", json={"note": "核对了委托书"}, headers=h["rev"])
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["decided_by"] == users.ids["rev"]
    _close_notice(ctx, case_id)
    batch = client.post("/api/payment-batches", json={"county_code": "340223"}, headers=h["claims"]).json()
    assert batch["item_count"] == 2
    # ...but the approver of the batch sees it before approving: who asked, who approved, old and new account masked.
    seen = client.get(f"/api/payment-batches/{batch['id']}", headers=h["fin2"]).json()["payee_changes"]
    assert len(seen) == 1 and seen[0]["case_id"] == case_id and seen[0]["change_id"] == change["id"]
    assert (seen[0]["requested_by"], seen[0]["approved_by"]) == (users.ids["fin1"], users.ids["rev"])
    assert seen[0]["old_payee"]["account_number"].endswith("3445") and ACCOUNT not in str(seen)
    assert seen[0]["payee"]["account_number"].endswith("9999") and OWN not in str(seen)
    assert other not in str(seen)
    # ...and the requester may neither approve nor release it.
    r = client.post(f"/api/payment-batches/{batch['id']}/approve", headers=h["fin1"])
    assert r.status_code == 403 and case_id in r.json()["detail"] and "您申请了案件" in r.json()["detail"]
    assert client.post(f"/api/payment-batches/{batch['id']}/approve", headers=h["fin2"]).status_code == 200
    r = client.post(f"/api/payment-batches/{batch['id']}/release", headers=h["fin1"])
    assert r.status_code == 403 and case_id in r.json()["detail"]
    assert client.get(f"/api/payment-batches/{batch['id']}", headers=h["fin1"]).json()["status"] == "approved"
    assert client.post(f"/api/payment-batches/{batch['id']}/release", headers=h["fin2"]).status_code == 200
    assert OWN in _bank_file(client, batch["id"], h["fin2"])  # paid as four different people decided


def test_an_approver_of_the_change_may_not_release_the_batch_either(ctx, people: People) -> None:
    case_id = ready_case(ctx, head_name="丁户主", account_number=ACCOUNT)
    change_payee(ctx, case_id, requester=people.supervisor, approver=people.finance1, account_name="丁户主",
                 bank="农业银行", account_number="6228480012340000")
    batch = tx(ctx, lambda s: service.create_batch(s, county_code="340223", contract_id=None,
                                                   principal=people.claims, clock=ctx.clock))
    with pytest.raises(Forbidden, match=f"您批准了案件 {case_id} 的收款人变更，按职责分离规定不能审批包含该案件的批次 "
                                        f"{batch.code}，须由其他财务人员办理。$"):
        tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock))
    with pytest.raises(Forbidden, match=f"{case_id} 的收款人变更，按职责分离规定不能发放包含该案件的批次 {batch.code}，"
                                        "须由其他财务人员办理。$"):
        tx(ctx, lambda s: service.release(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))


def test_the_county_reviewer_who_approved_a_change_may_not_sign_off_its_batch(ctx, people: People) -> None:
    case_id = ready_case(ctx, head_name="己户主", account_number=ACCOUNT)
    change_payee(ctx, case_id, requester=people.supervisor, approver=people.reviewer, account_name="己户主",
                 bank="农业银行", account_number="6228480012341111")
    batch = tx(ctx, lambda s: service.create_batch(s, county_code="340223", contract_id=None,
                                                   principal=people.claims, clock=ctx.clock))
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    # said as the sign-off it refuses (not 审批或发放, a finance officer's steps), naming who else may sign off
    with pytest.raises(Forbidden, match=f"您批准了案件 {case_id} 的收款人变更，按职责分离规定不能签批（或退回）包含该案件的"
                                        f"批次 {batch.code}，须由其他县级复核人员办理。$"):
        tx(ctx, lambda s: service.county_signoff(s, batch.id, principal=people.reviewer,
                                                 vault=ctx.vault, clock=ctx.clock))
    with pytest.raises(Forbidden, match="不能签批（或退回）包含该案件的批次"):
        tx(ctx, lambda s: service.refuse_signoff(s, batch.id, opinion="不同意", principal=people.reviewer,
                                                 vault=ctx.vault, clock=ctx.clock))


def _return(ref: str, status: str) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([["reference", "status", "bank_reference", "reason"],
                               [ref, status, "", "账户异常" if status == "failed" else ""]])
    return out.getvalue().encode()


def test_attack_a_made_up_failed_return_then_a_new_payee(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    h = _staff(users)
    case_id = ready_case(ctx, head_name="戊户主", account_number=ACCOUNT)
    batch = client.post("/api/payment-batches", json={"county_code": "340223"}, headers=h["claims"]).json()
    assert client.post(f"/api/payment-batches/{batch['id']}/approve", headers=h["fin2"]).status_code == 200
    assert client.post(f"/api/payment-batches/{batch['id']}/release", headers=h["fin1"]).status_code == 200
    ref = _bank_file(client, batch["id"], h["fin1"]).splitlines()[1].split(",")[0]
    # finance1, who released the batch, may not import its return (tests/insider/test_bank_return_releaser.py);
    # say the made-up return marking the transfer failed gets in through fin2, and finance1 asks for their own
    # account (in the household head's name, so that any second person could approve it).
    r = client.post(f"/api/payment-batches/{batch['id']}/bank-return", headers=h["fin1"],
                    files={"file": ("r.csv", _return(ref, "failed"), "text/csv")})
    assert r.status_code == 403
    r = client.post(f"/api/payment-batches/{batch['id']}/bank-return", headers=h["fin2"],
                    files={"file": ("r.csv", _return(ref, "failed"), "text/csv")})
    assert r.status_code == 200 and r.json()["failed"] == 1
    r = client.post(f"/api/cases/{case_id}/payee", headers=h["fin1"],
                    json={"account_name": "戊户主", "bank": "工商银行", "account_number": OWN})
    assert r.status_code == 201 and r.json()["name_in_household"] is True
    change = r.json()
    assert client.post(f"/api/payee-changes/{change['id']}/approve", headers=h["fin1"]).status_code == 403
    assert client.post(f"/api/payee-changes/{change['id']}/reject", headers=h["fin1"]).status_code == 403
    # Pending, the change puts nothing back to pay: no re-issue batch can be prepared.
    r = client.post("/api/payment-batches", json={"county_code": "340223"}, headers=h["claims"])
    assert r.status_code == 422
    assert client.get(f"/api/cases/{case_id}", headers=h["fin1"]).json()["status"] == "payment_failed"
    # The supervisor approves it; the re-issue batch may not be approved or released by finance1.
    r = client.post(f"/api/payee-changes/{change['id']}/approve", headers=h["super"])
    assert r.status_code == 200 and r.json()["case_status"] == "ready_to_pay"
    again = client.post("/api/payment-batches", json={"county_code": "340223"}, headers=h["claims"]).json()
    r = client.post(f"/api/payment-batches/{again['id']}/approve", headers=h["fin1"])
    assert r.status_code == 403 and case_id in r.json()["detail"]
    assert client.post(f"/api/payment-batches/{again['id']}/approve", headers=h["fin2"]).status_code == 200
    r = client.post(f"/api/payment-batches/{again['id']}/release", headers=h["fin1"])
    assert r.status_code == 403 and case_id in r.json()["detail"]
    assert client.get(f"/api/payment-batches/{again['id']}", headers=h["fin2"]).json()["status"] == "approved"


def test_the_requester_can_neither_approve_nor_reject_their_own_change(ctx, people: People) -> None:
    case_id = ready_case(ctx, head_name="己户主", account_number=ACCOUNT)
    asked = tx(ctx, lambda s: payees.request_change(s, case_id, account_name="己户主", bank="农业银行",
                                                    account_number="6228480012341111", principal=people.finance1,
                                                    vault=ctx.vault, clock=ctx.clock))
    for decide in (payees.approve_change, payees.reject_change):
        with pytest.raises(Forbidden, match="您不能审批自己提出的收款人变更申请"):
            tx(ctx, lambda s: decide(s, asked.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    # One pending change at a time, for the database as for the code.
    with pytest.raises(InvalidState, match="已有一项收款人变更申请待审批"):
        tx(ctx, lambda s: payees.request_change(s, case_id, account_name="己户主", bank="农业银行",
                                                account_number="6228480012342222", principal=people.supervisor,
                                                vault=ctx.vault, clock=ctx.clock))
    rejected = tx(ctx, lambda s: payees.reject_change(s, asked.id, note="账号与户主身份证不符",
                                                      principal=people.finance2, vault=ctx.vault, clock=ctx.clock))
    assert rejected.status == "rejected" and rejected.decided_by == people.finance2.id
    with pytest.raises(InvalidState, match="该变更申请已驳回"):
        tx(ctx, lambda s: payees.approve_change(s, asked.id, principal=people.reviewer, vault=ctx.vault,
                                                clock=ctx.clock))
    with ctx.db.read() as s:
        assert service.current_payee(s, case_id, ctx.vault, full=True)["account_number"] == ACCOUNT
    batch = tx(ctx, lambda s: service.create_batch(s, county_code="340223", contract_id=None,
                                                   principal=people.claims, clock=ctx.clock))
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1,
                                      vault=ctx.vault, clock=ctx.clock))  # rejected: no bar


def test_a_name_outside_the_household_needs_a_reason_and_the_county_reviewer(ctx, people: People) -> None:
    case_id = ready_case(ctx, head_name="庚户主", account_number=ACCOUNT)

    def ask(name: str, reason: str = "") -> object:
        return tx(ctx, lambda s: payees.request_change(s, case_id, account_name=name, bank="农业银行",
                                                       account_number="6228480012343333", reason=reason,
                                                       principal=people.finance1, vault=ctx.vault, clock=ctx.clock))

    with pytest.raises(ValidationFailed) as bad:
        ask("庚监护人")
    assert [e.field for e in bad.value.errors] == ["reason"]
    asked = ask("庚监护人", "户主年迈，由监护人代收")
    for approver in (people.finance2, people.supervisor):
        with pytest.raises(Forbidden, match="只能由县级审核人员批准"):
            tx(ctx, lambda s: payees.approve_change(s, asked.id, principal=approver, vault=ctx.vault, clock=ctx.clock))
    done = tx(ctx, lambda s: payees.approve_change(s, asked.id, principal=people.reviewer, vault=ctx.vault,
                                                   clock=ctx.clock))
    assert done.status == "approved" and done.decided_role == "county_reviewer"
    with ctx.db.read() as s:
        assert service.current_payee(s, case_id, ctx.vault)["account_name"] == "庚监护人"
    # A household member by the latest check (spaces do not count) needs no reason and any second person.
    member = tx(ctx, lambda s: payees.request_change(s, case_id, account_name="庚 户主", bank="农业银行",
                                                     account_number="6228480012344444", principal=people.finance1,
                                                     vault=ctx.vault, clock=ctx.clock))
    assert member.name_in_household and member.approver_roles == ["insurer_supervisor", "finance", "county_reviewer"]
    tx(ctx, lambda s: payees.approve_change(s, member.id, principal=people.supervisor, vault=ctx.vault,
                                            clock=ctx.clock))


def test_a_pending_change_is_not_paid(ctx, people: People) -> None:
    case_id = ready_case(ctx, head_name="辛户主", account_number=ACCOUNT)
    tx(ctx, lambda s: payees.request_change(s, case_id, account_name="辛户主", bank="工商银行", account_number=OWN,
                                            principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    with ctx.db.read() as s:
        assert service.current_payee(s, case_id, ctx.vault, full=True)["account_number"] == ACCOUNT
    batch = tx(ctx, lambda s: service.create_batch(s, county_code="340223", contract_id=None,
                                                   principal=people.claims, clock=ctx.clock))
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock))
    tx(ctx, lambda s: service.release(s, batch.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock))
    with ctx.db.read() as s:
        paid_to = service.bank_file(s, batch.id, principal=people.finance2, vault=ctx.vault).content.decode()
    assert ACCOUNT in paid_to and OWN not in paid_to


def test_a_change_approved_after_the_payee_moved_on_is_refused(ctx, people: People) -> None:
    case_id = ready_case(ctx, head_name="壬户主", account_number=ACCOUNT)
    first = tx(ctx, lambda s: payees.request_change(s, case_id, account_name="壬户主", bank="农业银行",
                                                    account_number="6228480012345555", principal=people.finance1,
                                                    vault=ctx.vault, clock=ctx.clock))

    def other_change_meanwhile(session):  # type: ignore[no-untyped-def]
        row = session.get(PayeeCorrection, first.id)
        row.status, row.decided_by, row.decided_at = "rejected", people.finance2.id, ctx.clock.now()

    tx(ctx, other_change_meanwhile)
    change_payee(ctx, case_id, requester=people.supervisor, approver=people.finance2, account_name="壬户主",
                 bank="农业银行", account_number="6228480012346666")
    with ctx.db.begin() as session:  # the first request, put back to pending, now names a stale old payee
        session.get(PayeeCorrection, first.id).status = "pending"
    with pytest.raises(InvalidState, match="收款信息在申请提出后已发生变化"):
        tx(ctx, lambda s: payees.approve_change(s, first.id, principal=people.reviewer, vault=ctx.vault,
                                                clock=ctx.clock))


def test_changes_are_listed_for_approvers_within_their_counties(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    h = _staff(users)
    users.add("auditor", "auditor")
    case_id = _noticed(ctx, "癸户主")
    key = {"Idempotency-Key": "payee-1"}
    body = {"account_name": "癸户主", "bank": "农业银行", "account_number": "6228 4800 1234 7777"}
    r = client.post(f"/api/cases/{case_id}/payee", json=body, headers={**h["super"], **key})
    again = client.post(f"/api/cases/{case_id}/payee", json=body, headers={**h["super"], **key})
    assert r.status_code == again.status_code == 201 and again.json()["id"] == r.json()["id"]
    listing = client.get("/api/payee-changes", params={"status": "pending", "county_code": "340223"},
                         headers=h["fin2"]).json()["items"]
    assert [c["id"] for c in listing] == [r.json()["id"]] and "48001234" not in str(listing)
    assert client.get("/api/payee-changes", headers=users.headers("auditor")).status_code == 200
    # Outside the caller's counties a change does not exist.
    out = h["outsider"]
    assert client.get("/api/payee-changes", params={"county_code": "340223"}, headers=out).status_code == 404
    assert client.get("/api/payee-changes", params={"status": "pending"}, headers=out).json()["items"] == []
    assert client.get(f"/api/payee-changes/{r.json()['id']}", headers=out).status_code == 404
    assert client.post(f"/api/payee-changes/{r.json()['id']}/approve", headers=out).status_code == 404
    assert client.post(f"/api/cases/{case_id}/payee", json=body, headers=out).status_code == 404
    # Claims staff and field officers neither ask nor decide.
    assert client.post(f"/api/cases/{case_id}/payee", json=body, headers=h["claims"]).status_code == 403
    assert client.post(f"/api/payee-changes/{r.json()['id']}/approve", headers=h["claims"]).status_code == 403
    key = {"Idempotency-Key": "reject-1"}
    r1 = client.post(f"/api/payee-changes/{r.json()['id']}/reject", json={"note": "账号有误"}, headers={**h["rev"], **key})
    r2 = client.post(f"/api/payee-changes/{r.json()['id']}/reject", json={"note": "账号有误"}, headers={**h["rev"], **key})
    assert r1.status_code == r2.status_code == 200 and r2.json() == r1.json() and r1.json()["status"] == "rejected"


def test_every_request_and_decision_is_logged_without_the_account(ctx, people: People) -> None:
    case_id = ready_case(ctx, head_name="子户主", account_number=ACCOUNT)
    number = "6228480012348888"
    a = tx(ctx, lambda s: payees.request_change(s, case_id, account_name="子户主", bank="农业银行",
                                                account_number=number, principal=people.finance1, vault=ctx.vault,
                                                clock=ctx.clock))
    tx(ctx, lambda s: payees.reject_change(s, a.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock))
    change_payee(ctx, case_id, requester=people.finance1, approver=people.supervisor, account_name="子户主",
                 bank="农业银行", account_number=number)
    with ctx.db.read() as s:
        keys = known_keys(s)
        rows = s.execute(select(AuditEntry.action, AuditEntry.entry).where(AuditEntry.subject == case_id)
                         .order_by(AuditEntry.idx)).all()
    actions = [action for action, _ in rows if action.startswith("payee_change.")]
    assert actions == ["payee_change.request", "payee_change.reject", "payee_change.request", "payee_change.approve"]
    blob = b"".join(entry for _, entry in rows)
    assert number.encode() not in blob and ACCOUNT.encode() not in blob and b"8888" in blob  # masked
    assert verify_log(ctx.db, keys).ok


def test_a_case_of_another_contract_county_is_scoped_too(ctx, people: People) -> None:
    from verifier.accounts.auth import principal_of
    from verifier.accounts.service import add_user

    c = add_contract(ctx)
    county = c.county_codes[0]
    case_id = ready_case(ctx, county=county, head_name="丑户主", account_number=ACCOUNT)
    with ctx.db.begin() as session:
        local = principal_of(add_user(session, username="local-fin", password="payments-password", roles=["finance"],
                                      counties=["340223"], clock=ctx.clock))
    with pytest.raises(Exception) as nf:
        tx(ctx, lambda s: payees.request_change(s, case_id, account_name="丑户主", bank="农业银行",
                                                account_number="6228480012349999", principal=local, vault=ctx.vault,
                                                clock=ctx.clock))
    assert type(nf.value).__name__ == "NotFound"


def _recheck(ctx, case_id: str, account_number: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """An objection upheld, the case checked again by its officer naming `account_number` (in the head's name) and
    the determination confirmed by the supervisor; the case then goes through its notice. (officer, supervisor)"""
    from verifier.accounts.auth import principal_of
    from verifier.checks import service as checks
    from verifier.domain.income import HouseholdIncome, RigidExpenditure
    from verifier.store.tables import User

    from verifier.cases import service as cases

    s = staff(ctx)
    with ctx.db.begin() as session:
        advance(session, load_case(session, case_id, None, for_update=True), "objection_upheld", actor=s.clerk,
                role="town_clerk", clock=ctx.clock)
    ctx.clock.advance(days=1)
    # scheduled again, for officers other than those objected to
    others = staff(ctx, team=1)
    with ctx.db.begin() as session:
        cases.schedule(session, case_id, officers=[others.officer1.id, others.officer2.id], visit_on=ctx.clock.today(),
                       vehicle="车01", principal=s.supervisor, clock=ctx.clock, reason="异议成立，换人重新核查")
    with ctx.db.read() as session:
        officer = principal_of(session.get(User, active_visit_officers(ctx, case_id)[0]))
    head, head_id = head_on_record(ctx, case_id)
    data = checks.CheckInput(
        visited_on=ctx.clock.today(), officers=active_visit_officers(ctx, case_id),
        members=[{"name": head, "id_number": head_id, "relation": "head", "labour": "full"}],
        income=HouseholdIncome(wages=300_000), rigid=RigidExpenditure(medical_self_paid=4_200_000),
        stable_income=False, payee={"account_name": head, "bank": "农村商业银行", "account_number": account_number},
        cross_checks=[], evidence=[], note="异议成立后重新核查",
        bills=demo_bills(case_id, "medical_self_paid", 4_200_000))
    with ctx.db.begin() as session:
        checks.record_check(session, case_id, data, vault=ctx.vault, principal=officer, clock=ctx.clock)
    with ctx.db.begin() as session:
        checks.determine(session, case_id, confirm=True, principal=s.supervisor, clock=ctx.clock)
    with ctx.db.begin() as session:
        case = load_case(session, case_id, None, for_update=True)
        for action in ("review_pass", "post_notice", "close_notice"):
            advance(session, case, action, actor=s.clerk, role="town_clerk", clock=ctx.clock)
    return officer.id, s.supervisor.id


def active_visit_officers(ctx, case_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    from verifier.cases.service import active_visit

    with ctx.db.read() as session:
        return list(active_visit(session, case_id).officer_ids)


def test_attack_a_recheck_after_an_upheld_objection_names_a_new_account(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The officer checking a household again after an upheld objection records an account of their choosing in the
    head's name: no payee change is asked for, yet the payee differs from the one first recorded. The batch lists it
    for the approvers (who recorded it, who confirmed it, old and new account masked), and neither the officer nor
    the confirming supervisor may approve or release the batch; a re-check naming the same account is not listed."""
    h = _staff(users)
    steered, same = _noticed(ctx, "戊户主", "6222020200112203445"), _noticed(ctx, "己户主")
    officer, supervisor = _recheck(ctx, steered, OWN)
    _recheck(ctx, same, ACCOUNT)
    batch = client.post("/api/payment-batches", json={"county_code": "340223"}, headers=h["claims"]).json()
    assert batch["item_count"] == 2
    seen = client.get(f"/api/payment-batches/{batch['id']}", headers=h["fin2"]).json()["payee_changes"]
    assert [(c["case_id"], c["source"], c["change_id"]) for c in seen] == [(steered, "check", None)]
    assert (seen[0]["requested_by"], seen[0]["approved_by"]) == (officer, supervisor)
    assert seen[0]["check_id"] and seen[0]["name_in_household"] is True
    assert seen[0]["old_payee"]["account_number"].endswith("3445") and ACCOUNT not in str(seen)
    assert seen[0]["payee"]["account_number"].endswith("9999") and OWN not in str(seen)

    # One person who both recorded (or confirmed) the re-check and holds the finance role may not pass the batch.
    for who in (officer, supervisor):
        both = staff(ctx).clerk.__class__(id=who, username="x", display_name="", roles=("finance",), counties=())
        with pytest.raises(Forbidden, match=f"了案件 {steered} 的重新核查"):
            tx(ctx, lambda s, p=both: service.approve(s, batch["id"], principal=p, vault=ctx.vault, clock=ctx.clock))
    assert client.post(f"/api/payment-batches/{batch['id']}/approve", headers=h["fin1"]).status_code == 200

    # The batch page shows it too.
    token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": "fin2", "password": "correct horse battery", "_csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/payments/{batch['id']}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "重新核查登记" in page.text and page.text.count("重新核查登记") == 1


def test_a_recheck_naming_a_member_it_typed_is_listed_as_outside_the_household_on_record(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The batch's list of payees a later check changed says whether the new payee is a member on record for the case,
    as a payee change does (`checks.on_record`): a name the re-check itself typed is its officer's word, not the
    household's record (a re-check recorded before the door refused such a name, as the upgrade to 0063 ties it)."""
    from verifier.store.tables import Check, Member

    h = _staff(users)
    steered = _noticed(ctx, "庚户主", "6222020200112203446")
    _recheck(ctx, steered, OWN)
    with ctx.db.begin() as session:
        recheck = session.scalars(select(Check).where(Check.case_id == steered).order_by(Check.seq.desc())).first()
        for member in session.scalars(select(Member).where(Member.name == "庚户主")):
            member.added_by_check_id = recheck.id
    batch = client.post("/api/payment-batches", json={"county_code": "340223"}, headers=h["claims"]).json()
    seen = client.get(f"/api/payment-batches/{batch['id']}", headers=h["fin2"]).json()["payee_changes"]
    assert [(c["case_id"], c["source"], c["name_in_household"]) for c in seen] == [(steered, "check", False)]


def test_the_list_of_payees_later_checks_changed_reads_the_names_on_record_once(ctx, client, users,  # type: ignore[no-untyped-def]
                                                                               monkeypatch) -> None:
    """The batch's list asks which names are on record for all its re-checks at once (`names_on_record_by_case`, a
    fixed number of statements), not once per item; each item still says its own."""
    from verifier.checks import on_record
    from verifier.store.tables import Check, Member

    h = _staff(users)
    typed, kept = _noticed(ctx, "辛户主", "6222020200112203447"), _noticed(ctx, "壬户主", "6222020200112203448")
    _recheck(ctx, typed, OWN)
    _recheck(ctx, kept, "6212260000000088888")
    with ctx.db.begin() as session:  # the first re-check typed its head's name (as the upgrade to 0063 ties it)
        recheck = session.scalars(select(Check).where(Check.case_id == typed).order_by(Check.seq.desc())).first()
        for member in session.scalars(select(Member).where(Member.name == "辛户主")):
            member.added_by_check_id = recheck.id
    batch = client.post("/api/payment-batches", json={"county_code": "340223"}, headers=h["claims"]).json()
    calls: list[list[str]] = []
    by_case = on_record.names_on_record_by_case

    def spy(session, listed):  # type: ignore[no-untyped-def]
        calls.append(sorted(listed))
        return by_case(session, listed)

    def one_by_one(*a, **kw):  # type: ignore[no-untyped-def]
        raise AssertionError("names read per item")

    monkeypatch.setattr(on_record, "names_on_record_by_case", spy)
    monkeypatch.setattr(on_record, "names_on_record", one_by_one)
    seen = client.get(f"/api/payment-batches/{batch['id']}", headers=h["fin2"]).json()["payee_changes"]
    assert sorted((c["case_id"], c["source"], c["name_in_household"]) for c in seen) == sorted(
        [(typed, "check", False), (kept, "check", True)])
    assert calls == [sorted([typed, kept])]


def _number(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    from verifier.store.tables import Case

    with ctx.db.read() as s:
        return str(s.scalar(select(Case.number).where(Case.id == case_id)))


def test_attack_a_payee_edited_between_the_batchs_approval_and_its_release(ctx, people: People) -> None:
    """Finance asks for their own account while the case waits; the batch is prepared and approved by others; the
    change would be approved just before release: refused while the case is in the batch, as is a new change. The
    batch pays the payee it was prepared and approved with."""
    case_id = ready_case(ctx, head_name="癸户主", account_number=ACCOUNT)
    change = tx(ctx, lambda s: payees.request_change(s, case_id, account_name="癸户主", bank="工商银行",
                                                     account_number=OWN, principal=people.finance1, vault=ctx.vault,
                                                     clock=ctx.clock))
    batch = tx(ctx, lambda s: service.create_batch(s, county_code="340223", contract_id=None,
                                                   principal=people.claims, clock=ctx.clock))
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock))
    with pytest.raises(InvalidState, match="已列入支付批次"):
        tx(ctx, lambda s: payees.request_change(s, case_id, account_name="癸户主", bank="工商银行",
                                                account_number="6212260000000088888", principal=people.supervisor,
                                                vault=ctx.vault, clock=ctx.clock))
    # the waiting one is not approved while in the batch (named by its case number and the batch's code)
    with pytest.raises(InvalidState, match=f"案件 {_number(ctx, case_id)} 已列入支付批次 {batch.code}.*不能在此期间批准"):
        tx(ctx, lambda s: payees.approve_change(s, change.id, principal=people.supervisor, vault=ctx.vault,
                                                clock=ctx.clock))
    tx(ctx, lambda s: service.release(s, batch.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock))
    with ctx.db.read() as s:
        paid_to = service.bank_file(s, batch.id, principal=people.finance2, vault=ctx.vault).content.decode()
    assert ACCOUNT in paid_to and OWN not in paid_to
