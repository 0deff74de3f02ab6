"""Bank files a person can open (UTF-8 with BOM, GBK) beside the program's plain CSV; payees of several cases sharing
one account are pointed out before approval, the account masked."""

from __future__ import annotations

import csv
import io
import json

from payment_helpers import ready_case
from sqlalchemy import select

from verifier.audit.models import AuditEntry

SHARED = "6228480012345678"


def _batch(client, users, accounts: list[str]) -> tuple[dict, str]:  # type: ignore[type-arg]
    users.add("claims", "insurer_claims")
    users.add("fin1", "finance")
    users.add("fin2", "finance")
    users.add("super", "insurer_supervisor")
    users.add("rev", "county_reviewer")
    # One account on several households is held out of a batch until the county clears it (one_account.py): the
    # county reviewer clears every such account first, so that the batch's own warning is what is seen here.
    for group in client.get("/api/shared-accounts", headers=users.headers("rev")).json()["items"]:
        r = client.post(f"/api/shared-accounts/{group['account']}/clear", headers=users.headers("rev"),
                        json={"note": "监护人代收，已核实"})
        assert r.status_code == 200, r.text
    r = client.post("/api/payment-batches", json={"county_code": "340223"}, headers=users.headers("claims"))
    assert r.status_code == 201, r.text
    return r.json(), r.json()["id"]


def test_four_payees_on_one_account_are_warned_before_approval(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    shared = [ready_case(ctx, account_number=SHARED) for _ in range(4)]
    own = ready_case(ctx, account_number="6217000000000000001")
    _, bid = _batch(client, users, [])
    for who in ("super", "fin1", "claims"):
        r = client.get(f"/api/payment-batches/{bid}", headers=users.headers(who))
        assert r.status_code == 200
        [warning] = r.json()["shared_accounts"]
        assert warning["cases"] == 4 and sorted(warning["case_ids"]) == sorted(shared) and own not in warning["case_ids"]
        assert warning["account_number"].endswith("5678") and "*" in warning["account_number"]
        assert SHARED not in r.text and "62284800" not in r.text  # never unmasked
    # The page says so too, with the cases to check.
    page = _page(client, users, f"/payments/{bid}")
    assert "多户共用同一银行账号" in page and "4 户" in page and all(c in page for c in shared)
    assert SHARED not in page
    # Once released the warning is gone (nothing left to decide), the bank file has the full accounts.
    assert client.post(f"/api/payment-batches/{bid}/approve", headers=users.headers("fin1")).status_code == 200
    assert client.get(f"/api/payment-batches/{bid}", headers=users.headers("fin1")).json()["shared_accounts"]
    assert client.post(f"/api/payment-batches/{bid}/release", headers=users.headers("fin2")).status_code == 200
    assert client.get(f"/api/payment-batches/{bid}", headers=users.headers("fin1")).json()["shared_accounts"] == []


def test_distinct_accounts_get_no_warning(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    for i in range(3):
        ready_case(ctx, account_number=f"62220202001122334{i}")
    # The same account written with spaces is the same account.
    ready_case(ctx, account_number="6222 0202 0011 2233 40")
    _, bid = _batch(client, users, [])
    [warning] = client.get(f"/api/payment-batches/{bid}", headers=users.headers("fin1")).json()["shared_accounts"]
    assert warning["cases"] == 2


def test_an_item_without_an_account_index_is_compared_with_the_indexed_ones(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The warning compares the items' blind indexes; an item sealed before they were kept (index NULL) is opened and
    indexed on reading, so it still counts beside the indexed items on the same account, and alone it warns of
    nothing."""
    from sqlalchemy import update

    from verifier.payments.models import PaymentItem

    old, new = ready_case(ctx, account_number=SHARED), ready_case(ctx, account_number=SHARED)
    lone = ready_case(ctx, account_number="6217000000000000009")
    _, bid = _batch(client, users, [])
    with ctx.db.begin() as s:
        s.execute(update(PaymentItem).where(PaymentItem.case_id.in_([old, lone])).values(payee_account_index=None))
    [warning] = client.get(f"/api/payment-batches/{bid}", headers=users.headers("fin1")).json()["shared_accounts"]
    assert warning["cases"] == 2 and sorted(warning["case_ids"]) == sorted([old, new])
    assert warning["account_number"].endswith("5678")


def _page(client, users, path: str) -> str:  # type: ignore[no-untyped-def]
    token = users.headers("fin1")
    r = client.get(path, headers={**token, "Accept": "text/html"})
    assert r.status_code == 200, r.text
    return r.text


def test_bank_file_variants_for_excel(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    ready_case(ctx, account_number="6222020200112233440", head_name="王秀英")
    ready_case(ctx, account_number="6222020200112233441", head_name="李建国")
    _, bid = _batch(client, users, [])
    assert client.post(f"/api/payment-batches/{bid}/approve", headers=users.headers("fin1")).status_code == 200
    assert client.post(f"/api/payment-batches/{bid}/release", headers=users.headers("fin2")).status_code == 200
    fin = users.headers("fin1")
    plain = client.get(f"/api/payment-batches/{bid}/bank-file", headers=fin)
    assert plain.status_code == 200 and not plain.content.startswith(b"\xef\xbb\xbf")  # programs get INTERFACE.md's file
    excel = client.get(f"/api/payment-batches/{bid}/bank-file", params={"format": "csv-excel"}, headers=fin)
    assert excel.status_code == 200 and excel.content == b"\xef\xbb\xbf" + plain.content
    assert excel.headers["content-disposition"].endswith('-excel.csv"')
    gbk = client.get(f"/api/payment-batches/{bid}/bank-file", params={"format": "csv-gbk"}, headers=fin)
    assert gbk.status_code == 200 and "gb18030" in gbk.headers["content-type"]
    assert gbk.content.decode("gbk") == plain.content.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(gbk.content.decode("gbk"))))
    assert {r["account_name"] for r in rows} == {"王秀英", "李建国"}
    assert client.get(f"/api/payment-batches/{bid}/bank-file", params={"format": "csv-utf16"},
                      headers=fin).status_code == 400
    assert client.get(f"/api/payment-batches/{bid}/bank-file", params={"format": "csv-gbk"},
                      headers=users.headers("super")).status_code == 403
    with ctx.db.read() as s:
        formats = [json.loads(e)["payload"]["format"] for e in s.scalars(
            select(AuditEntry.entry).where(AuditEntry.action == "payment_batch.bank_file").order_by(AuditEntry.idx))]
    assert formats == ["csv", "csv-excel", "csv-gbk"]  # every download logged, with its variant
    # The page offers both, to finance.
    page = _page(client, users, f"/payments/{bid}")
    assert "format=csv-excel" in page and "format=csv-gbk" in page
