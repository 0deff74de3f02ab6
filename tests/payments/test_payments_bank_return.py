"""The bank's return: applied whole or not at all, once, and the failed transfers re-issued after a payee correction."""

from __future__ import annotations

import hashlib

import pytest
from payment_helpers import add_contract, seed_ready_cases, tx
from sqlalchemy import func, select

from verifier.store.reader import session_reader
from verifier.domain.errors import InvalidState, ValidationFailed
from verifier.payments import bankfiles, ledger, payees, service
from verifier.payments.ledger_models import FundMovement
from verifier.payments.models import BankReturn, PaymentItem
from verifier.store.tables import Case


def _released_batch(ctx, people, contract, n=4, relief=100_000):  # type: ignore[no-untyped-def]
    county = contract.county_codes[0]
    seed_ready_cases(ctx.db, ctx.vault, contract, n, relief=relief, clock=ctx.clock, seed=len(county) + n)
    batch = tx(ctx, lambda s: service.create_batch(s, county_code=county, contract_id=None, principal=people.claims,
                                                   clock=ctx.clock))
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    tx(ctx, lambda s: service.release(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    with ctx.db.read() as s:
        refs = list(s.scalars(select(PaymentItem.reference).where(PaymentItem.batch_id == batch.id)
                              .order_by(PaymentItem.seq)))
    return batch, refs


def _import(ctx, who, batch_id, text):  # type: ignore[no-untyped-def]
    data = text.encode("utf-8")
    lines, problems = bankfiles.read_return(data)  # as the API and the page read it
    return tx(ctx, lambda s: service.import_return(s, batch_id, lines, file_sha256=hashlib.sha256(data).hexdigest(),
                                                   filename="r.csv", principal=who, clock=ctx.clock,
                                                   line_problems=problems))


def _csv(*lines: str) -> str:
    return "reference,status,bank_reference,reason\n" + "".join(line + "\n" for line in lines)


def _state(ctx, batch_id):  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        items = s.execute(select(PaymentItem.reference, PaymentItem.status, Case.status)
                          .join(Case, Case.id == PaymentItem.case_id).where(PaymentItem.batch_id == batch_id)
                          .order_by(PaymentItem.seq)).all()
        return [tuple(r) for r in items], s.scalar(select(func.count()).select_from(FundMovement))


def test_success_and_failure_settle_items_cases_and_the_fund(ctx, people) -> None:
    c = add_contract(ctx, fee_rate="0.15")
    batch, refs = _released_batch(ctx, people, c, n=3, relief=100_001)
    out, repeated = _import(ctx, people.finance2, batch.id, _csv(f"{refs[0]},success,BK1,", f"{refs[1]},failed,,账户冻结"))
    assert not repeated
    assert (out.succeeded, out.failed, out.already_settled, out.batch_status) == (1, 1, 0, "released")
    assert (out.paid, out.released, out.service_fee) == ("1000.01", "1000.01", "150.00")
    items, _ = _state(ctx, batch.id)
    assert items == [(refs[0], "succeeded", "paid"), (refs[1], "failed", "payment_failed"), (refs[2], "sent", "in_batch")]
    # The rest arrives in a second file that repeats a settled line with the same result: fine, and reconciled.
    out2, _ = _import(ctx, people.finance2, batch.id, _csv(f"{refs[2]},success,BK3,", f"{refs[0]},success,BK1,"))
    assert (out2.succeeded, out2.already_settled, out2.batch_status) == (1, 1, "reconciled")
    assert out2.service_fee == "150.00"  # cumulative: 15% of 2000.02 = 300.00 (half up of 300.003)
    with ctx.db.read() as s:
        fund = ledger.balances(s, c.id)
        assert (fund.committed, fund.paid, fund.service_fee) == (0, 200_002, 30_000)
        assert fund.balance == fund.budget - fund.paid - fund.service_fee
        assert ledger.problems(s) == []
        item = s.scalar(select(PaymentItem).where(PaymentItem.reference == refs[1]))
        assert (item.failure_reason, item.bank_reference) == ("账户冻结", None)


def test_reimporting_the_same_file_answers_the_same_and_changes_nothing(ctx, people) -> None:
    c = add_contract(ctx)
    batch, refs = _released_batch(ctx, people, c, n=2)
    text = _csv(f"{refs[0]},success,BK1,", f"{refs[1]},failed,,户名不符")
    first, _ = _import(ctx, people.finance2, batch.id, text)
    before = _state(ctx, batch.id)
    second, repeated = _import(ctx, people.finance2, batch.id, text)
    assert repeated and second == first
    assert _state(ctx, batch.id) == before
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(BankReturn)) == 1


def _refused(ctx, people, batch_id, text):  # type: ignore[no-untyped-def]
    before = _state(ctx, batch_id)
    with pytest.raises(ValidationFailed) as err:
        _import(ctx, people.finance2, batch_id, text)
    assert _state(ctx, batch_id) == before  # nothing applied
    return [(e.row, e.field, e.message) for e in err.value.errors]


def test_unknown_duplicate_conflicting_and_mismatched_lines_are_all_reported_and_nothing_applies(ctx, people) -> None:
    c = add_contract(ctx)
    batch, refs = _released_batch(ctx, people, c, n=4)
    other, other_refs = _released_batch(ctx, people, add_contract(ctx), n=1)
    _import(ctx, people.finance2, batch.id, _csv(f"{refs[3]},failed,,账户冻结"))
    errors = _refused(ctx, people, batch.id, _csv(
        f"{refs[0]},success,BK1,",            # 2: fine on its own
        "NOSUCHREF,success,BK2,",              # 3: unknown
        f"{refs[1]},success,BK3,",            # 4: fine
        f"{refs[0]},success,BK1,",            # 5: duplicate of line 2
        f"{refs[3]},success,BK4,",            # 6: already failed, now success
        f"{other_refs[0]},success,BK5,",      # 7: another batch's item
    ))
    assert [(row, field) for row, field, _ in errors] == [(3, "reference"), (5, "reference"), (6, "status"),
                                                          (7, "reference")]
    assert errors[1][2] == f"参考号 {refs[0]} 与第 2 行重复"
    assert errors[2][2] == f"{refs[3]} 已按「支付失败」入账，不能再改为「支付成功」"
    assert other.code in errors[3][2]
    # Amounts, when the bank lists them, must be what was sent.
    with_amounts = ("reference,status,bank_reference,reason,amount\n"
                    f"{refs[0]},success,BK1,,1000.00\n{refs[1]},success,BK3,,999.99\n")
    assert [(r, f) for r, f, _ in _refused(ctx, people, batch.id, with_amounts)] == [(3, "amount")]


def test_a_return_for_a_batch_not_released_is_refused(ctx, people) -> None:
    c = add_contract(ctx)
    seed_ready_cases(ctx.db, ctx.vault, c, 1, relief=100_000, clock=ctx.clock)
    batch = tx(ctx, lambda s: service.create_batch(s, county_code=c.county_codes[0], contract_id=None,
                                                   principal=people.claims, clock=ctx.clock))
    with ctx.db.read() as s:
        ref = s.scalar(select(PaymentItem.reference).where(PaymentItem.batch_id == batch.id))
    with pytest.raises(InvalidState, match="银行回单只能导入已发放的批次（本批次当前为「待审批」）"):
        _import(ctx, people.finance1, batch.id, _csv(f"{ref},success,B,"))


def test_a_failed_transfer_is_corrected_and_paid_in_a_later_batch_exactly_once(ctx, people) -> None:
    c = add_contract(ctx)
    batch, refs = _released_batch(ctx, people, c, n=2, relief=250_000)
    _import(ctx, people.finance2, batch.id, _csv(f"{refs[0]},success,BK1,", f"{refs[1]},failed,,账号不存在"))
    with ctx.db.read() as s:
        failed_case = s.scalar(select(PaymentItem.case_id).where(PaymentItem.reference == refs[1]))
    # Not ready again until corrected; the correction is refused in any other state.
    with pytest.raises(ValidationFailed):
        tx(ctx, lambda s: service.create_batch(s, county_code=c.county_codes[0], contract_id=None,
                                               principal=people.claims, clock=ctx.clock))
    with pytest.raises(ValidationFailed) as bad:
        tx(ctx, lambda s: payees.request_change(s, failed_case, account_name=" ", bank="银行", account_number="12ab",
                                                principal=people.supervisor, vault=ctx.vault, clock=ctx.clock))
    assert {e.field for e in bad.value.errors} == {"account_name", "account_number"}
    asked = tx(ctx, lambda s: payees.request_change(
        s, failed_case, account_name="王秀英", bank="中国农业银行", account_number="6228 4800 1234 5678 9",
        reason="户主委托女儿代收", principal=people.supervisor, vault=ctx.vault, clock=ctx.clock))
    assert asked.status == "pending" and asked.payee.account_number.endswith("6789")
    assert "4800" not in asked.payee.account_number
    with ctx.db.read() as s:
        assert s.get(Case, failed_case).status == "payment_failed"  # nothing changes until a second person approves
    corrected = tx(ctx, lambda s: payees.approve_change(s, asked.id, principal=people.reviewer, vault=ctx.vault,
                                                        clock=ctx.clock))
    assert corrected.status == "approved" and corrected.case_status == "ready_to_pay"
    second = tx(ctx, lambda s: service.create_batch(s, county_code=c.county_codes[0], contract_id=None,
                                                    principal=people.claims, clock=ctx.clock))
    assert second.item_count == 1
    # While the case is in a batch its payee can no longer change.
    with pytest.raises(InvalidState, match="已列入支付批次"):
        tx(ctx, lambda s: payees.request_change(s, failed_case, account_name="王", bank="银行",
                                                account_number="62284800123456789", reason="x",
                                                principal=people.supervisor, vault=ctx.vault, clock=ctx.clock))
    tx(ctx, lambda s: service.approve(s, second.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock))
    tx(ctx, lambda s: service.release(s, second.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock))
    with ctx.db.read() as s:
        new_file = service.bank_file(s, second.id, principal=people.finance1, vault=ctx.vault).content.decode()
        new_ref = s.scalar(select(PaymentItem.reference).where(PaymentItem.batch_id == second.id))
    assert "62284800123456789,中国农业银行,2500.00" in new_file and "王秀英" in new_file
    _import(ctx, people.finance1, second.id, _csv(f"{new_ref},success,BK9,"))
    with ctx.db.read() as s:
        assert s.get(Case, failed_case).status == "paid"
        paid = s.scalars(select(PaymentItem.reference).where(PaymentItem.case_id == failed_case,
                                                             PaymentItem.status == "succeeded")).all()
        assert paid == [new_ref]
        fund = ledger.balances(s, c.id)
        assert (fund.paid, fund.committed) == (500_000, 0)
        assert fund.service_fee == 75_000 and ledger.problems(s) == []
        history = service.payments_for_case(session_reader(s), failed_case, ctx.vault)
    assert [(p["status"], p["payee"]["account_number"][-4:]) for p in history] == [("failed", history[0]["payee"]
                                                                                    ["account_number"][-4:]),
                                                                                   ("succeeded", "6789")]
    assert history[0]["failure_reason"] == "账号不存在"


def test_a_file_with_bad_lines_of_both_kinds_reports_them_all_in_one_upload(ctx, people) -> None:  # type: ignore[no-untyped-def]
    """Problems found reading the lines (status, amount, field count, no reference) and problems found against the
    batch (unknown reference, amount differs, duplicate) come back together, each with its line and field."""
    c = add_contract(ctx)
    batch, refs = _released_batch(ctx, people, c, n=4, relief=100_000)
    text = ("reference,status,bank_reference,reason,amount\n"
            f"{refs[0]},success,BK1,,1000.00\n"        # 2: fine
            f"{refs[1]},done,BK2,,1000.00\n"           # 3: status unknown
            "NOSUCHREF,success,BK3,,1000.00\n"         # 4: not in the batch
            f"{refs[2]},success,BK4,,999.00\n"         # 5: amount differs from what was sent
            f"{refs[3]},success,BK5,,abc\n"            # 6: amount unreadable
            ",success,BK6,,1000.00\n"                  # 7: no reference
            f"{refs[0]},success,BK1,,1000.00\n"        # 8: duplicate of line 2
            "too,few\n")                               # 9: field count
    errors = _refused(ctx, people, batch.id, text)
    assert [(row, field) for row, field, _ in errors] == [
        (3, "status"), (4, "reference"), (5, "amount"), (6, "amount"), (7, "reference"), (8, "reference"), (9, "line")]
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(BankReturn)) == 0  # nothing stored
    # Reading alone (as the API and the page do before their transaction) keeps the good lines for the batch check.
    lines, problems = bankfiles.read_return(text.encode())
    assert [p.row for p in problems] == [3, 6, 7, 9] and [x.row for x in lines if not x.flawed] == [2, 4, 5, 8]


def test_the_api_reports_every_bad_line_at_once(ctx, people, client, users) -> None:  # type: ignore[no-untyped-def]
    c = add_contract(ctx)
    batch, refs = _released_batch(ctx, people, c, n=2)
    users.add("fin", "finance")
    text = _csv(f"{refs[0]},maybe,BK1,", "NOSUCHREF,success,BK2,", f"{refs[1]},success,BK3,")
    r = client.post(f"/api/payment-batches/{batch.id}/bank-return", headers=users.headers("fin"),
                    files={"file": ("r.csv", text.encode(), "text/csv")})
    assert r.status_code == 422, r.text
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(2, "status"), (3, "reference")]
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(BankReturn)) == 0
        assert set(s.scalars(select(PaymentItem.status).where(PaymentItem.batch_id == batch.id))) == {"sent"}
