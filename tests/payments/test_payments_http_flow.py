"""Over HTTP, from closed notices to a reconciled batch: roles, four-eyes, bank file, return, re-issue, the fund."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from payment_helpers import add_contract, ready_case, seed_ready_cases
from openpyxl import load_workbook

from verifier.audit.checkpoints import known_keys
from verifier.audit.verify import verify_log


def _yuan(text: str) -> Decimal:
    return Decimal(text)


def test_from_ready_to_pay_to_reconciled_over_http(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("claims", "insurer_claims", "finance")  # a small office: one person, two roles
    users.add("fin1", "finance")
    users.add("fin2", "finance")
    users.add("super", "insurer_supervisor")
    users.add("outsider", "finance", counties=("999999",))
    users.add("rev", "county_reviewer")
    h = {name: users.headers(name) for name in ("claims", "fin1", "fin2", "super", "outsider", "rev")}
    cases = [ready_case(ctx, account_number=f"62220202001122334{i}") for i in range(3)]

    # Claims staff prepare the batch (idempotently).
    key = {"Idempotency-Key": "create-1"}
    r = client.post("/api/payment-batches", json={"county_code": "340223"}, headers={**h["claims"], **key})
    assert r.status_code == 201, r.text
    batch = r.json()
    assert batch["status"] == "prepared" and batch["item_count"] == 3 and batch["signoff_required"] is False
    again = client.post("/api/payment-batches", json={"county_code": "340223"}, headers={**h["claims"], **key})
    assert (again.status_code, again.content) == (201, r.content)
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/payment-batches", json={"county_code": "340223", "contract_id": "demo-2020"},
                        headers={**h["claims"], **key})
    assert other.status_code == 422 and "此幂等键已用于另一个请求" in other.json()["errors"][0]["message"]
    assert client.post("/api/payment-batches", json={"county_code": "340223"}, headers=h["fin1"]).status_code == 403
    bid = batch["id"]

    # The preparer may not approve, whatever roles they hold; another finance officer approves.
    r = client.post(f"/api/payment-batches/{bid}/approve", headers=h["claims"])
    assert r.status_code == 403 and "制单人不能审批自己制作的批次" in r.json()["detail"]
    assert client.post(f"/api/payment-batches/{bid}/approve", headers=h["outsider"]).status_code == 404
    assert client.get(f"/api/payment-batches/{bid}/bank-file", headers=h["fin1"]).status_code == 409
    r = client.post(f"/api/payment-batches/{bid}/approve", headers=h["fin1"])
    assert r.status_code == 200 and r.json()["status"] == "approved"
    fund = client.get("/api/fund", params={"contract_id": "demo-2020"}, headers=h["fin1"]).json()
    assert fund["committed"] == batch["total"] and fund["paid"] == "0.00"
    assert _yuan(fund["balance"]) == _yuan(fund["budget"]) - _yuan(batch["total"])
    r = client.post(f"/api/payment-batches/{bid}/release", headers=h["fin2"])
    assert r.status_code == 200 and r.json()["status"] == "released"
    assert client.post(f"/api/payment-batches/{bid}/release", headers=h["fin2"]).status_code == 409

    # The bank file: full accounts, for finance only; the listing masks them.
    assert client.get(f"/api/payment-batches/{bid}/bank-file", headers=h["super"]).status_code == 403
    # (fin2, who released it, takes it to the bank; fin1 then imports the return: who took the file does not)
    r = client.get(f"/api/payment-batches/{bid}/bank-file", headers=h["fin2"])
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(b"reference,account_name,account_number,bank,amount,memo\r\n")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8"))))
    assert sorted(x["account_number"] for x in rows) == [f"62220202001122334{i}" for i in range(3)]
    assert sum(_yuan(x["amount"]) for x in rows) == _yuan(batch["total"])
    assert {x["memo"] for x in rows} == {"2020年防贫帮困保障金"}
    x = client.get(f"/api/payment-batches/{bid}/bank-file", params={"format": "xlsx"}, headers=h["fin2"])
    sheet = load_workbook(io.BytesIO(x.content), read_only=True).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()][1:]
    assert [r[:4] + r[5:] for r in cells] == [[*list(v.values())[:4], v["memo"]] for v in rows]
    assert [Decimal(str(r[4])) for r in cells] == [Decimal(v["amount"]) for v in rows]  # numbers, SUM adds them
    listing = client.get(f"/api/payment-batches/{bid}/items", headers=h["super"]).json()["items"]
    assert all("*" in i["payee"]["account_number"] for i in listing)
    assert "6222020200112233" not in client.get(f"/api/payment-batches/{bid}/items", headers=h["super"]).text

    # The bank's return: two paid, one failed; a bad file is refused whole, a repeated one answered the same.
    refs = [x["reference"] for x in rows]
    case_of = {i["reference"]: i["case_id"] for i in listing}
    bad = "reference,status,bank_reference,reason\n" + f"{refs[0]},success,B1,\nNOPE,success,B2,\n{refs[0]},failed,,x\n"
    r = client.post(f"/api/payment-batches/{bid}/bank-return", files={"file": ("r.csv", bad.encode(), "text/csv")},
                    headers=h["fin1"])
    assert r.status_code == 422 and [e["row"] for e in r.json()["errors"]] == [3, 4]
    good = "reference,status,bank_reference,reason\n" + f"{refs[0]},success,B1,\n{refs[1]},success,B2,\n" \
           f"{refs[2]},failed,,账户已冻结\n"
    r = client.post(f"/api/payment-batches/{bid}/bank-return", files={"file": ("r.csv", good.encode(), "text/csv")},
                    headers=h["fin1"])
    assert r.status_code == 200, r.text
    assert (r.json()["succeeded"], r.json()["failed"], r.json()["batch_status"]) == (2, 1, "reconciled")
    repeat = client.post(f"/api/payment-batches/{bid}/bank-return", files={"file": ("r.csv", good.encode(), "text/csv")},
                         headers=h["fin1"])
    assert (repeat.status_code, repeat.json()) == (200, r.json())
    failed_case = case_of[refs[2]]
    assert client.get(f"/api/cases/{failed_case}", headers=h["super"]).json()["status"] == "payment_failed"

    # Correct the payee; the case is paid in a later batch, once.
    r = client.post(f"/api/cases/{failed_case}/payee", headers=h["super"],
                    json={"account_name": "王秀英", "bank": "中国农业银行", "account_number": "6228480012345678901",
                          "reason": "户主委托女儿代收"})
    assert r.status_code == 201 and r.json()["status"] == "pending", r.text
    r = client.post(f"/api/payee-changes/{r.json()['id']}/approve", headers=h["rev"])
    assert r.status_code == 200 and r.json()["case_status"] == "ready_to_pay", r.text
    second = client.post("/api/payment-batches", json={"county_code": "340223"}, headers=h["claims"]).json()
    assert second["item_count"] == 1
    assert client.post(f"/api/payment-batches/{second['id']}/approve", headers=h["fin2"]).status_code == 200
    assert client.post(f"/api/payment-batches/{second['id']}/release", headers=h["fin2"]).status_code == 200
    file2 = client.get(f"/api/payment-batches/{second['id']}/bank-file", headers=h["fin2"]).content.decode()
    assert "6228480012345678901" in file2
    ref2 = file2.splitlines()[1].split(",")[0]
    r = client.post(f"/api/payment-batches/{second['id']}/bank-return", headers=h["fin1"],
                    files={"file": ("r2.csv", f"reference,status,bank_reference,reason\n{ref2},success,B9,\n".encode(),
                                    "text/csv")})
    assert r.json()["batch_status"] == "reconciled"
    payments = client.get(f"/api/cases/{failed_case}/payments", headers=h["super"]).json()
    assert [p["status"] for p in payments] == ["failed", "succeeded"]
    assert all(c_status == "paid" for c_status in
               (client.get(f"/api/cases/{c}", headers=h["super"]).json()["status"] for c in cases))

    # The fund, from the ledger: everything committed is settled, the fee is 15% of what was paid.
    fund = client.get("/api/fund", params={"contract_id": "demo-2020"}, headers=h["fin1"]).json()
    assert fund["committed"] == "0.00" and fund["paid"] == batch["total"]
    assert _yuan(fund["service_fee"]) == (_yuan(fund["paid"]) * Decimal("0.15")).quantize(Decimal("0.01"))
    assert _yuan(fund["balance"]) == _yuan(fund["budget"]) - _yuan(fund["paid"]) - _yuan(fund["service_fee"])
    moves = client.get("/api/fund/movements", params={"contract_id": "demo-2020"}, headers=h["fin1"]).json()["items"]
    assert [m["kind"] for m in moves][:2] == ["budget", "commit"]
    assert client.get("/api/fund", params={"contract_id": "demo-2020"}, headers=h["outsider"]).status_code == 404

    # Every step is in the log, which still verifies; no account number is in it.
    with ctx.db.read() as s:
        keys = known_keys(s)
        from sqlalchemy import select

        from verifier.audit.models import AuditEntry
        actions = [a for a in s.scalars(select(AuditEntry.action).order_by(AuditEntry.idx)) if "payment" in a
                   or a.startswith("fund.") or a.startswith("payee_change.") or a == "case.payee_corrected"]
        blob = b"".join(s.scalars(select(AuditEntry.entry)))
    assert actions == ["payment_batch.create", "fund.open", "payment_batch.approve", "payment_batch.release",
                       "payment_batch.bank_file", "payment_batch.bank_file", "payment_batch.bank_return",
                       "payee_change.request", "case.payee_corrected", "payee_change.approve", "payment_batch.create", "payment_batch.approve",
                       "payment_batch.release", "payment_batch.bank_file", "payment_batch.bank_return"]
    assert b"6228480012345678901" not in blob and b"622202020011223340" not in blob
    assert verify_log(ctx.db, keys).ok


def test_release_waits_for_the_county_signoff_over_http(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    c = add_contract(ctx, signoff_at="1000.00")
    county = c.county_codes[0]
    seed_ready_cases(ctx.db, ctx.vault, c, 2, relief=50_000, clock=ctx.clock)
    users.add("claims", "insurer_claims")
    users.add("fin", "finance")
    users.add("rev", "county_reviewer")
    h = {n: users.headers(n) for n in ("claims", "fin", "rev")}
    bid = client.post("/api/payment-batches", json={"county_code": county}, headers=h["claims"]).json()["id"]
    key = {**h["fin"], "Idempotency-Key": "approve-once"}
    first = client.post(f"/api/payment-batches/{bid}/approve", headers=key)
    assert first.status_code == 200
    repeat = client.post(f"/api/payment-batches/{bid}/approve", headers=key)  # a retry, not a second approval
    assert (repeat.status_code, repeat.content) == (200, first.content)
    assert client.post(f"/api/payment-batches/{bid}/approve", headers=h["fin"]).status_code == 409
    r = client.post(f"/api/payment-batches/{bid}/release", headers=h["fin"])
    assert r.status_code == 409 and "须经县级审核人员签批后方可发放" in r.json()["detail"]
    assert client.post(f"/api/payment-batches/{bid}/county-signoff", headers=h["fin"]).status_code == 403
    r = client.post(f"/api/payment-batches/{bid}/county-signoff", headers=h["rev"])
    assert r.status_code == 200 and r.json()["signed_off_by"] == users.ids["rev"]
    assert client.post(f"/api/payment-batches/{bid}/release", headers=h["fin"]).json()["status"] == "released"
    listed = client.get("/api/payment-batches", params={"county_code": county}, headers=h["rev"]).json()["items"]
    assert [b["id"] for b in listed] == [bid]


def test_an_empty_county_and_bad_input_get_clear_errors(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("claims", "insurer_claims")
    users.add("fin", "finance")
    r = client.post("/api/payment-batches", json={"county_code": "340223"}, headers=users.headers("claims"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "county_code"
    assert client.post("/api/payment-batches", json={"county_code": "34"}, headers=users.headers("claims")).status_code == 400
    r = client.post("/api/payment-batches/pb_nope/bank-return", json={}, headers=users.headers("fin"))
    assert r.status_code in (400, 422)
    r = client.post("/api/payment-batches/pb_nope/approve", headers={**users.headers("fin"), "Idempotency-Key": "a b"})
    assert r.status_code == 422 and "Idempotency-Key" in r.text
