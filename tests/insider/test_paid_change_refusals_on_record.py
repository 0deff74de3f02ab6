"""Who took part in paying a misdirected relief is refused the payee change before its supplement (asking, approving,
rejecting) and the supplement's confirmation: 403, but nothing kept, so someone trying again and again to choose
where the supplement goes was seen by no reviewer. Those refusals are now on 回避拦截记录 with the others: the
person, the case, the step tried, appended once the refused transaction rolled back, nothing else written."""

from __future__ import annotations

from deviation_helpers import person
from insider_kit import entries_but_refusals, head_of, receipt_followup, refusals_of
from sqlalchemy import select
from web.pagekit import Pages

from verifier.store.tables import Case, User


def test_attack_who_moved_the_money_tries_to_steer_the_supplement_and_is_on_record(ctx, client, users, sly_paid) -> None:  # type: ignore[no-untyped-def]
    cases, _ = sly_paid
    case_id = cases[0]
    fid = receipt_followup(client, users, case_id, ctx.clock.today().isoformat(), "no", "0")
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev1"),
                    json={"note": "银行流水显示钱进了别人的卡", "outcome": "misdirected"})
    assert r.status_code == 200, r.text
    sup = r.json()["supplement_id"]
    person(ctx, users, "rev_pal", "county_reviewer")
    person(ctx, users, "sup3", "insurer_supervisor")
    with ctx.db.begin() as session:
        session.get(User, users.ids["rev_pal"]).password_set_by = users.ids["rev1"]
        household = session.scalar(select(Case.household_id).where(Case.id == case_id))
    before = entries_but_refusals(ctx)

    for who in ("rev1", "rev_pal"):  # the closer, and the account whose password the closer set
        r = client.post(f"/api/supplements/{sup}/confirm", headers=users.headers(who))
        assert r.status_code == 403, r.text
    head = head_of(client, users.headers("sup3"), case_id)
    body = {"account_name": head, "bank": "农村商业银行", "account_number": "6222020000000088882", "reason": "户主换卡"}
    r = client.post(f"/api/cases/{case_id}/payee", headers=users.headers("sly"), json=body)
    assert r.status_code == 403, r.text
    assert entries_but_refusals(ctx) == before  # nothing but the refusals' trace
    assert client.post(f"/api/supplements/{sup}/confirm", headers=users.headers("rev2")).status_code == 200
    r = client.post(f"/api/cases/{case_id}/payee", headers=users.headers("sup3"), json=body)
    assert r.status_code == 201, r.text
    change = r.json()["id"]
    for who, verb in (("rev1", "approve"), ("sup2", "reject")):
        r = client.post(f"/api/payee-changes/{change}/{verb}", headers=users.headers(who), json={})
        assert r.status_code == 403, (who, r.text)

    steps = {who: [(k["step"], k["subject"], k["households"]) for k in refusals_of(ctx, users.ids[who])]
             for who in ("rev1", "rev_pal", "sly", "sup2")}
    assert steps == {"rev1": [("supplement_confirm", case_id, [household]), ("payee_decide", case_id, [household])],
                     "rev_pal": [("supplement_confirm", case_id, [household])],
                     "sly": [("payee_request", case_id, [household])],
                     "sup2": [("payee_decide", case_id, [household])]}, steps
    # The county's reviewer reads them on 回避拦截记录, by step.
    pages = Pages(client, users)
    pages.login("rev2")
    listed = pages.get("/recusal-refusals?person=sly")
    assert listed.status_code == 200 and "申请变更收款人" in listed.text, listed.text[:2000]
    assert "确认补发" in pages.get("/recusal-refusals?person=rev_pal").text
