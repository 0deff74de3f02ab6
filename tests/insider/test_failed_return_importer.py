"""Who wrote that a transfer failed then redirects it. The batch's releaser and whoever took its bank file may not
import its return, but the finance officer who does could write a made-up 失败 for a transfer the bank paid and
then ask for the case's new payee himself (his own card, under the head's name so that any second person may
approve it): the approver sees a failed transfer and a household's new card, nothing telling that the failure is the
requester's own word. Paid once by the bank, the case was paid again to him. The importer of the return that marked
the case's transfer failed now neither asks for nor decides its payee change (403, kept on 回避拦截记录 with the
other payee-change refusals); someone else does, and the re-issue keeps its four eyes."""

from __future__ import annotations

import csv
import io

from deviation_helpers import person
from insider_kit import entries_but_refusals, head_of, refusals_of, released_batch
from sqlalchemy import select
from web.pagekit import Pages

from verifier.store.tables import Case

OWN_CARD = "6222020000000055551"


def _refs(client, users, batch_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    bank = client.get(f"/api/payment-batches/{batch_id}/bank-file", headers=users.headers("fin1"))
    assert bank.status_code == 200, bank.text
    return [row[0] for row in csv.reader(io.StringIO(bank.content.decode("utf-8")))][1:]


def _return(refs: list[str], failed: str) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([["reference", "status", "bank_reference", "reason"],
                               *[[r, "failed" if r == failed else "success", "" if r == failed else f"BK{i}",
                                  "账户已销户" if r == failed else ""] for i, r in enumerate(refs)]])
    return out.getvalue().encode()


def _change(client, users, case_id: str, who: str, account: str):  # type: ignore[no-untyped-def]
    return client.post(f"/api/cases/{case_id}/payee", headers=users.headers(who), json={
        "account_name": head_of(client, users.headers("sup"), case_id), "bank": "农村商业银行",
        "account_number": account, "reason": "户主说旧卡已销户"})


def test_attack_the_importer_marks_a_transfer_failed_and_asks_for_the_new_payee(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    for name, role in (("fin3", "finance"), ("sup", "insurer_supervisor"), ("sup2", "insurer_supervisor")):
        person(ctx, users, name, role)
    bid, cases = released_batch(ctx, client, users)
    refs = _refs(client, users, bid)  # fin1 released the batch and took its file: fin3 imports the return
    r = client.post(f"/api/payment-batches/{bid}/bank-return", headers=users.headers("fin3"),
                    files={"file": ("bank.csv", _return(refs, refs[0]), "text/csv")})
    assert r.status_code == 200 and r.json()["failed"] == 1, r.text
    with ctx.db.read() as session:
        household = session.scalar(select(Case.household_id).where(Case.id == cases[0]))
        assert session.get(Case, cases[0]).status == "payment_failed"
    before = entries_but_refusals(ctx)

    # fin3 asks for the new payee onto his own card: refused, nothing written but the refusal's trace.
    r = _change(client, users, cases[0], "fin3", OWN_CARD)
    assert r.status_code == 403, r.text
    assert "银行回单" in r.json()["detail"] and "不能申请" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before
    # The page tells him so in place of the form (it once offered the form, which he filled in and lost to the 403),
    # and showing it is no attempt on record (the refusals are counted below); the supervisor gets the form.
    pages = Pages(client, users)
    pages.login("fin3")
    shown = pages.get(f"/cases/{cases[0]}/payee")
    assert shown.status_code == 200 and 'id="payee-barred"' in shown.text, shown.text[:2000]
    assert "银行回单" in shown.text and "不能申请" in shown.text
    assert f'action="/cases/{cases[0]}/payee"' not in shown.text
    pages.login("sup")
    assert f'action="/cases/{cases[0]}/payee"' in pages.get(f"/cases/{cases[0]}/payee").text

    # A supervisor asks (the household's own new card); fin3 may neither approve nor reject it.
    r = _change(client, users, cases[0], "sup", "6222020000000044441")
    assert r.status_code == 201, r.text
    change = r.json()["id"]
    # On the list of changes: no button for fin3, the reason instead.
    pages.login("fin3")
    listed = pages.get("/payee-changes?status=pending").text.split(f'id="change-{change}"')[1].split("</tr>")[0]
    assert "/approve" not in listed and "/reject" not in listed and "银行回单" in listed and "不能审批" in listed
    for verb in ("approve", "reject"):
        r = client.post(f"/api/payee-changes/{change}/{verb}", headers=users.headers("fin3"), json={})
        assert r.status_code == 403 and "银行回单" in r.json()["detail"], r.text
    assert [(k["step"], k["subject"], k["households"]) for k in refusals_of(ctx, users.ids["fin3"])] == [
        ("payee_request", cases[0], [household]), ("payee_decide", cases[0], [household]),
        ("payee_decide", cases[0], [household])]

    # Sent from a page opened before (a stale tab), before the box: told why, in Chinese.
    pages.get("/payee-changes")
    r = pages.post(f"/payee-changes/{change}/approve", {"note": ""})
    assert r.status_code == 403 and "银行回单" in r.text and "不能审批" in r.text, r.text[:2000]

    # Another person approves it: the case is ready to pay again, its re-issue with its own four eyes.
    r = client.post(f"/api/payee-changes/{change}/approve", headers=users.headers("sup2"), json={})
    assert r.status_code == 200 and r.json()["case_status"] == "ready_to_pay", r.text


def test_the_importers_second_account_neither_asks_for_nor_decides_the_new_payee(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """fin3 imported the failure; fin_pal's password was last set by fin3 (who knew it): the rule reads the link."""
    from verifier.store.tables import User

    for name, role in (("fin3", "finance"), ("fin_pal", "finance"), ("sup", "insurer_supervisor")):
        person(ctx, users, name, role)
    with ctx.db.begin() as session:
        session.get(User, users.ids["fin_pal"]).password_set_by = users.ids["fin3"]
    bid, cases = released_batch(ctx, client, users)
    refs = _refs(client, users, bid)
    r = client.post(f"/api/payment-batches/{bid}/bank-return", headers=users.headers("fin3"),
                    files={"file": ("bank.csv", _return(refs, refs[0]), "text/csv")})
    assert r.status_code == 200 and r.json()["failed"] == 1, r.text
    r = _change(client, users, cases[0], "fin_pal", OWN_CARD)
    assert r.status_code == 403 and "密码关联" in r.json()["detail"] and "不能申请" in r.json()["detail"], r.text
    pages = Pages(client, users)
    pages.login("fin_pal")
    shown = pages.get(f"/cases/{cases[0]}/payee").text
    assert 'id="payee-barred"' in shown and "密码关联" in shown and f'action="/cases/{cases[0]}/payee"' not in shown
    r = _change(client, users, cases[0], "sup", "6222020000000044441")
    assert r.status_code == 201, r.text
    r = client.post(f"/api/payee-changes/{r.json()['id']}/approve", headers=users.headers("fin_pal"), json={})
    assert r.status_code == 403 and "密码关联" in r.json()["detail"], r.text
    assert [k["step"] for k in refusals_of(ctx, users.ids["fin_pal"])] == ["payee_request", "payee_decide"]
