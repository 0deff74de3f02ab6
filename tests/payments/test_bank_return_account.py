"""The bank's return naming an account (the optional account_number / 收款账号 column): a line whose account is not
the one the bank file sent is not accepted as paid (nor failed): the whole return is refused (422, the line and the
reference named, both accounts by their last four digits only), nothing stored. A bank that masks the middle of the
account is compared on the digits it shows, at the same places."""

from __future__ import annotations

import hashlib
import json

import pytest
from payment_helpers import People, ready_case, tx
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry
from verifier.domain.errors import ValidationFailed
from verifier.payments import bankfiles, service
from verifier.payments.bank import account_differs
from verifier.payments.models import BankReturn, PaymentItem

SENT = "6217001122334455667"
OTHER = "6217001122334459999"
COUNTY = "340223"


def _released(ctx, people: People) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    ready_case(ctx, account_number=SENT)
    batch = tx(ctx, lambda s: service.create_batch(s, county_code=COUNTY, contract_id=None, principal=people.claims,
                                                   clock=ctx.clock))
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    tx(ctx, lambda s: service.release(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    [item] = tx(ctx, lambda s: service.batch_items(s, batch.id, people.finance1, ctx.vault).items)
    return batch.id, item.reference


def _import(ctx, people: People, batch_id: str, data: bytes):  # type: ignore[no-untyped-def]
    return tx(ctx, lambda s: service.import_return(
        s, batch_id, bankfiles.parse_return(data), file_sha256=hashlib.sha256(data).hexdigest(), filename="r.csv",
        principal=people.finance2, clock=ctx.clock, vault=ctx.vault))[0]


def _nothing_stored(ctx, batch_id: str) -> None:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(BankReturn).where(BankReturn.batch_id == batch_id)) == 0
        assert set(s.scalars(select(PaymentItem.status).where(PaymentItem.batch_id == batch_id))) == {"sent"}


@pytest.mark.parametrize("status", ["success", "failed"])
def test_a_line_naming_another_account_is_refused(ctx, people: People, status: str) -> None:  # type: ignore[no-untyped-def]
    batch_id, ref = _released(ctx, people)
    data = f"reference,status,bank_reference,reason,account_number\n{ref},{status},B1,,{OTHER}\n".encode()
    with pytest.raises(ValidationFailed) as refused:
        _import(ctx, people, batch_id, data)
    [problem] = refused.value.errors
    assert problem.field == "account_number" and problem.row == 2 and ref in problem.message
    assert "尾号 9999" in problem.message and "尾号 5667" in problem.message and "不一致" in problem.message
    assert ("不能记为已支付" if status == "success" else "不能记为支付失败") in problem.message
    assert SENT not in problem.message and OTHER not in problem.message
    _nothing_stored(ctx, batch_id)


def test_the_account_sent_or_masked_alike_is_accepted_and_counted_in_the_audit(ctx, people: People) -> None:  # type: ignore[no-untyped-def]
    batch_id, ref = _released(ctx, people)
    for wrong in ("6217" + "*" * 11 + "9999", "62170012****5667", "6218" + "*" * 11 + "5667"):  # tail, head, head
        data = f"参考号,状态,银行流水号,原因,收款账号\n{ref},成功,B1,,{wrong}\n".encode()
        with pytest.raises(ValidationFailed, match="不一致"):
            _import(ctx, people, batch_id, data)
    _nothing_stored(ctx, batch_id)
    data = f"参考号,状态,银行流水号,原因,收款账号\n{ref},成功,B1,,6217***********5667\n".encode()
    out = _import(ctx, people, batch_id, data)
    assert out.succeeded == 1 and out.batch_status == "reconciled"
    with ctx.db.read() as s:
        [entry] = s.scalars(select(AuditEntry.entry).where(AuditEntry.action == "payment_batch.bank_return"))
    assert json.loads(entry)["payload"]["accounts_compared"] == 1 and SENT.encode() not in entry


def test_a_bank_masking_with_four_stars_whatever_the_length_is_accepted(ctx, people: People) -> None:  # type: ignore[no-untyped-def]
    batch_id, ref = _released(ctx, people)
    data = f"参考号,状态,银行流水号,原因,收款账号\n{ref},成功,B1,,6217****5667\n".encode()
    out = _import(ctx, people, batch_id, data)
    assert out.succeeded == 1 and out.batch_status == "reconciled"


def test_a_return_without_the_column_is_read_as_before(ctx, people: People) -> None:  # type: ignore[no-untyped-def]
    batch_id, ref = _released(ctx, people)
    out = _import(ctx, people, batch_id, f"reference,status,bank_reference,reason\n{ref},success,B1,\n".encode())
    assert out.succeeded == 1


def test_an_account_cell_that_is_no_account_is_a_line_problem() -> None:
    lines, problems = bankfiles.read_return(b"reference,status,bank_reference,reason,account_number\n"
                                            b"R1,success,B1,,12ab\nR2,success,B2,,\nR3,success,B3,,6217 0011 2233 4455\n")
    assert [(p.row, p.field) for p in problems] == [(2, "account_number")] and "8 至 30 位数字" in problems[0].message
    assert [ln.account for ln in lines] == [None, None, "6217001122334455"]


def test_account_differs() -> None:
    assert not account_differs(SENT, SENT) and account_differs(OTHER, SENT)
    assert not account_differs("6217***********5667", SENT) and not account_differs("***************5667", SENT)
    assert account_differs("6217*********5668", SENT) and account_differs("6218***********5667", SENT)


def test_a_mask_of_a_fixed_number_of_stars_compares_the_digits_it_shows() -> None:
    """A bank masking with 4 stars whatever the length (`6217****5667` for a 19-digit account): the leading and
    trailing digits shown are compared, at least 4 trailing; a mask showing fewer, or other digits, differs."""
    assert len(SENT) != len("6217****5667")
    assert not account_differs("6217****5667", SENT) and not account_differs("****5667", SENT)
    assert not account_differs(SENT[:6] + "****" + SENT[-4:], SENT)
    assert account_differs("6217****5668", SENT) and account_differs("6218****5667", SENT)
    assert account_differs("6217****667", SENT)  # 3 trailing digits: too few to tell
    assert account_differs("62171234567890123456****5667", SENT)  # more shown than the account holds


def test_the_api_compares_the_account(ctx, client, users, people: People) -> None:  # type: ignore[no-untyped-def]
    batch_id, ref = _released(ctx, people)
    users.add("fin-return", "finance", counties=(COUNTY,))
    data = f"reference,status,bank_reference,reason,account_number\n{ref},success,B1,,{OTHER}\n".encode()
    r = client.post(f"/api/payment-batches/{batch_id}/bank-return", headers=users.headers("fin-return"),
                    files={"file": ("r.csv", data, "text/csv")})
    assert r.status_code == 422, r.text
    assert "不一致" in json.dumps(r.json(), ensure_ascii=False) and OTHER not in r.text
    _nothing_stored(ctx, batch_id)
    data = f"reference,status,bank_reference,reason,account_number\n{ref},success,B1,,{SENT}\n".encode()
    r = client.post(f"/api/payment-batches/{batch_id}/bank-return", headers=users.headers("fin-return"),
                    files={"file": ("r2.csv", data, "text/csv")})
    assert r.status_code == 200 and r.json()["succeeded"] == 1, r.text
