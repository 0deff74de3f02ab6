"""A batch prepared before its payee account became shared (一账多户) or a staff member's own (工作人员本人账户) is
held again at each later step: approval, the county's sign-off, release and the bank file's download refuse (422,
in Chinese, naming the item's case number, nothing written) until a county reviewer clears the account, as at
preparation (payments/batch_recheck.py). The batch is never changed by the refusal: its count and total stay those
its approver and the county saw."""

from __future__ import annotations

import json

import pytest
from payment_helpers import People, add_contract, change_payee, ready_case, tx
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry
from verifier.domain.errors import ValidationFailed
from verifier.payments import one_account, service
from verifier.payments.ledger_models import FundMovement
from verifier.payments.models import PaymentBatch
from verifier.recusal import accounts as staff_accounts
from verifier.store.tables import Case

X = "6217001122334455667"  # household A's account in the batch; later named for household B too
COUNTY = "340223"


def _number(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        return str(s.scalar(select(Case.number).where(Case.id == case_id)))


def _audited(ctx, action: str) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)) or 0)


def _state(ctx, batch_id: str) -> tuple[str, int, int, str, int]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        b = s.get(PaymentBatch, batch_id)
        assert b is not None
        moves = s.scalar(select(func.count()).select_from(FundMovement).where(FundMovement.batch_id == batch_id))
        return b.status, b.item_count, b.total, b.items_sha256, int(moves or 0)


def _refused(ctx, run, batch_id: str, case_id: str, act: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    before = _state(ctx, batch_id)
    with pytest.raises(ValidationFailed) as refused:
        tx(ctx, run)
    [problem] = refused.value.errors
    assert problem.field == "items"
    assert f"案件 {_number(ctx, case_id)}" in problem.message and reason in problem.message
    with ctx.db.read() as s:
        code = s.get(PaymentBatch, batch_id).code  # type: ignore[union-attr]
    assert f"才能{act}批次 {code}" in problem.message and "县级审核人员" in problem.message
    assert X not in problem.message and X[-4:] not in problem.message  # the account is not even masked here
    assert _state(ctx, batch_id) == before  # nothing written: status, count, total, digest, the fund


def _clear(ctx, reviewer, index: str | None = None) -> None:  # type: ignore[no-untyped-def]
    index = index or one_account.account_index(ctx.vault, X)
    tx(ctx, lambda s: one_account.clear(s, index, note="同一监护人代收，已核实", principal=reviewer, vault=ctx.vault,
                                        clock=ctx.clock))


def test_approval_refused_when_a_new_case_names_the_account_after_preparation(ctx, people: People) -> None:  # type: ignore[no-untyped-def]
    a, honest = ready_case(ctx, account_number=X), ready_case(ctx)
    batch = tx(ctx, lambda s: service.create_batch(s, county_code=COUNTY, contract_id=None, principal=people.claims,
                                                   clock=ctx.clock))
    assert batch.item_count == 2 and batch.skipped == []
    b = ready_case(ctx, account_number=X)  # household B's new case, its check naming A's account
    approve = lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault,  # noqa: E731
                                        clock=ctx.clock)
    _refused(ctx, approve, batch.id, a, "审批", "收款账户与其他家庭相同")
    assert _audited(ctx, "payment_batch.approve") == 0
    # The next batch holds B out, as preparation always did.
    assert b not in {i.case_id for i in tx(ctx, lambda s: service.batch_items(s, batch.id, people.claims,
                                                                                ctx.vault).items)}
    # Cleared for both households by a county reviewer: approved as prepared.
    _clear(ctx, people.reviewer)
    done = tx(ctx, approve)
    assert done.status == "approved" and done.item_count == 2
    # A third household on the account after approval: held again at release, all the same.
    c = ready_case(ctx, account_number=X)
    release = lambda s: service.release(s, batch.id, principal=people.finance2, vault=ctx.vault,  # noqa: E731
                                        clock=ctx.clock)
    _refused(ctx, release, batch.id, a, "发放", "收款账户与其他家庭相同")
    assert _audited(ctx, "payment_batch.release") == 0
    _clear(ctx, people.reviewer)
    assert tx(ctx, release).status == "released"
    with ctx.db.read() as s:  # B and C wait for a batch of their own; A and the honest case were sent
        assert {cid: s.get(Case, cid).status for cid in (a, honest, b, c)} == {  # type: ignore[union-attr]
            a: "in_batch", honest: "in_batch", b: "ready_to_pay", c: "ready_to_pay"}


def test_a_prepared_batch_may_take_the_case_out_instead(ctx, people: People) -> None:  # type: ignore[no-untyped-def]
    a, honest = ready_case(ctx, account_number=X), ready_case(ctx)
    batch = tx(ctx, lambda s: service.create_batch(s, county_code=COUNTY, contract_id=None, principal=people.claims,
                                                   clock=ctx.clock))
    ready_case(ctx, account_number=X)
    approve = lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault,  # noqa: E731
                                        clock=ctx.clock)
    _refused(ctx, approve, batch.id, a, "审批", "收款账户与其他家庭相同")
    item = next(i for i in tx(ctx, lambda s: service.batch_items(s, batch.id, people.claims, ctx.vault).items)
                if i.case_id == a)
    tx(ctx, lambda s: service.remove_item(s, batch.id, item.id, reason="一账多户待核实", principal=people.claims,
                                          clock=ctx.clock))
    done = tx(ctx, approve)
    assert done.status == "approved" and done.item_count == 1
    with ctx.db.read() as s:
        assert s.get(Case, a).status == "ready_to_pay" and s.get(Case, honest).status == "in_batch"  # type: ignore[union-attr]


def test_signoff_refused_when_a_payee_change_puts_the_account_on_another_household(ctx, people: People) -> None:  # type: ignore[no-untyped-def]
    contract = add_contract(ctx, signoff_at="1.00")
    county = contract.county_codes[0]
    a = ready_case(ctx, county=county, account_number=X, team=7)
    b = ready_case(ctx, county=county, team=7)
    batch = tx(ctx, lambda s: service.create_batch(s, county_code=county, contract_id=None, principal=people.claims,
                                                   clock=ctx.clock, case_ids=[a]))
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    with ctx.db.read() as s:
        head = s.get(Case, b).household.head_name  # type: ignore[union-attr]
    change_payee(ctx, b, requester=people.supervisor, approver=people.finance2, account_name=head, bank="农业银行",
                 account_number=X)  # household B's payee becomes A's account (a colleague approves it)
    signoff = lambda s: service.county_signoff(s, batch.id, principal=people.reviewer,  # noqa: E731
                                               vault=ctx.vault, clock=ctx.clock)
    _refused(ctx, signoff, batch.id, a, "签批", "收款账户与其他家庭相同")
    assert _audited(ctx, "payment_batch.county_signoff") == 0
    # The county may still refuse its sign-off (the batch goes back to prepared, where the case can be taken out).
    refused = tx(ctx, lambda s: service.refuse_signoff(s, batch.id, opinion="一账多户待核实", principal=people.reviewer,
                                                       vault=ctx.vault, clock=ctx.clock))
    assert refused.status == "prepared"
    _clear(ctx, people.reviewer)
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    assert tx(ctx, signoff).status == "signed_off"


def test_release_refused_when_a_staff_member_declares_the_account_their_own(ctx, people: People) -> None:  # type: ignore[no-untyped-def]
    a = ready_case(ctx, account_number=X)
    batch = tx(ctx, lambda s: service.create_batch(s, county_code=COUNTY, contract_id=None, principal=people.claims,
                                                   clock=ctx.clock))
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    tx(ctx, lambda s: staff_accounts.declare(s, people.finance2.id, [X], principal=people.finance2, vault=ctx.vault,
                                             clock=ctx.clock))  # the releaser's own card, declared after approval
    release = lambda s: service.release(s, batch.id, principal=people.finance2, vault=ctx.vault,  # noqa: E731
                                        clock=ctx.clock)
    _refused(ctx, release, batch.id, a, "发放", staff_accounts.OWN_ACCOUNT)
    assert _audited(ctx, "payment_batch.release") == 0
    # The owner may not clear it; another county reviewer may, with a note.
    _clear(ctx, people.reviewer)
    assert tx(ctx, release).status == "released"


def test_the_bank_file_is_refused_when_the_account_is_shared_after_release(ctx, client, users, people: People) -> None:  # type: ignore[no-untyped-def]
    a = ready_case(ctx, account_number=X)
    batch = tx(ctx, lambda s: service.create_batch(s, county_code=COUNTY, contract_id=None, principal=people.claims,
                                                   clock=ctx.clock))
    users.add("fin-http", "finance", counties=(COUNTY,))
    fin = users.headers("fin-http")
    r = client.post(f"/api/payment-batches/{batch.id}/approve", headers=fin)
    assert r.status_code == 200, r.text
    tx(ctx, lambda s: service.release(s, batch.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock))
    assert client.get(f"/api/payment-batches/{batch.id}/bank-file", headers=fin).status_code == 200
    downloads = _audited(ctx, "payment_batch.bank_file")
    ready_case(ctx, account_number=X)  # another household's case names the account after release
    r = client.get(f"/api/payment-batches/{batch.id}/bank-file", headers=fin)
    assert r.status_code == 422, r.text
    said = json.dumps(r.json(), ensure_ascii=False)
    assert f"案件 {_number(ctx, a)}" in said and f"才能下载批次 {batch.code} 的银行文件" in said and X not in said
    assert _audited(ctx, "payment_batch.bank_file") == downloads  # not recorded: not handed out
    from web.pagekit import Pages

    pages = Pages(client, users)
    pages.login("fin-http")
    page = pages.get(f"/payments/{batch.id}/bank-file")
    assert page.status_code == 422 and "items" not in page.text and f"案件 {_number(ctx, a)}" in page.text and f"才能下载批次 {batch.code} 的银行文件" in page.text
    assert _audited(ctx, "payment_batch.bank_file") == downloads
    shown = pages.get(f"/payments/{batch.id}").text  # the batch page says why, before anyone clicks
    assert 'id="batch-accounts-held"' in shown and _number(ctx, a) in shown and "收款账户与其他家庭相同" in shown
    _clear(ctx, people.reviewer)
    assert client.get(f"/api/payment-batches/{batch.id}/bank-file", headers=fin).status_code == 200
    assert 'id="batch-accounts-held"' not in pages.get(f"/payments/{batch.id}").text


def test_the_api_refuses_approval_with_a_problem_naming_the_case(ctx, client, users, people: People) -> None:  # type: ignore[no-untyped-def]
    a = ready_case(ctx, account_number=X)
    batch = tx(ctx, lambda s: service.create_batch(s, county_code=COUNTY, contract_id=None, principal=people.claims,
                                                   clock=ctx.clock))
    ready_case(ctx, account_number=X)
    users.add("fin-api", "finance", counties=(COUNTY,))
    r = client.post(f"/api/payment-batches/{batch.id}/approve", headers=users.headers("fin-api"))
    assert r.status_code == 422, r.text
    said = json.dumps(r.json(), ensure_ascii=False)
    assert f"案件 {_number(ctx, a)}" in said and "收款账户与其他家庭相同" in said and f"才能审批批次 {batch.code}" in said
    assert _state(ctx, batch.id)[0] == "prepared"
