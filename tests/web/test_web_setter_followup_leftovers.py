"""What a follow-up recorded by a setter alone leaves elsewhere: waiting for the county's second look, its 未收到
alert on /receipt-alerts says why instead of offering the closing form (which the service refuses, 409); refused,
the household file marks it (县级复核已退回, as the page says) and no need is passed to a department from it — the
list hides 转交部门, the form says why instead of itself, and the API and a form sent anyway get a Chinese 409."""

from __future__ import annotations

import io

from insider.insider_kit import setter_alone_followup
from openpyxl import load_workbook
from pagekit import Pages
from sqlalchemy import select

from verifier.store.tables import Case


def test_a_waiting_follow_ups_alert_says_why_instead_of_the_closing_form(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    fid, _, _ = setter_alone_followup(ctx, client, users, received="no", note="户主说卡里没见到钱")
    pages = Pages(client, users)
    pages.login("rev")
    listed = pages.get("/receipt-alerts")
    assert listed.status_code == 200 and f'id="alert-{fid}"' in listed.text, listed.text
    assert f'id="alone-first-{fid}"' in listed.text and "回访待县级复核" in listed.text
    assert f"/receipt-alerts/{fid}/resolve" not in listed.text
    assert client.post(f"/api/followups/{fid}/setter-alone/confirm", headers=users.headers("rev")).status_code == 200
    after = pages.get("/receipt-alerts")
    assert f"/receipt-alerts/{fid}/resolve" in after.text and f'id="alone-first-{fid}"' not in after.text


def test_a_refused_follow_up_is_marked_in_the_file_and_passes_no_need(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    fid, cases, _ = setter_alone_followup(ctx, client, users, new_needs=["medical_assistance"])
    users.add("sup", "insurer_supervisor", counties=("340223",))
    pages = Pages(client, users)
    pages.login("sup")
    assert f"followup={fid}" in pages.get("/followups?all=1").text  # its 转交部门 while it stands
    assert client.post(f"/api/followups/{fid}/setter-alone/refuse", headers=users.headers("rev"),
                       json={"reason": "户主说没有人来回访"}).status_code == 200
    with ctx.db.read() as session:
        household = session.scalar(select(Case.household_id).where(Case.id == cases[0]))
    shown = pages.get(f"/households/{household}")
    assert shown.status_code == 200 and "县级复核已退回" in shown.text, shown.text
    sheet = pages.get(f"/households/{household}/file.xlsx")
    cells = {c.value for ws in load_workbook(io.BytesIO(sheet.content)) for row in ws.iter_rows() for c in row}
    assert "县级复核已退回，须重新回访" in cells and "县级复核" in cells

    assert f"followup={fid}" not in pages.get("/followups?all=1").text
    form = pages.get(f"/need-referrals/new?case={cases[0]}&followup={fid}")
    assert form.status_code == 200 and 'id="need-from-refused"' in form.text and "已被县级复核退回" in form.text
    assert 'action="/need-referrals/new"' not in form.text
    sent = pages.post("/need-referrals/new", {"case_id": cases[0], "followup_id": fid, "need": "medical_assistance",
                                               "note": "户主慢性病"})
    assert sent.status_code == 409 and "已被县级复核退回" in sent.text, sent.text
    api = client.post("/api/need-referrals", headers=users.headers("sup"),
                      json={"case_id": cases[0], "need": "medical_assistance", "source": "followup",
                            "followup_id": fid})
    assert api.status_code == 409 and "已被县级复核退回" in api.text, api.text


def test_a_setter_recording_alone_is_told_it_waits_for_the_countys_second_look(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from verifier.followups.models import Followup
    from verifier.payments.models import PaymentItem
    from verifier.store.tables import Check

    _, cases, _ = setter_alone_followup(ctx, client, users)
    with ctx.db.begin() as session:  # rev_off at the second case's door too: its setters are the county's all
        check = session.scalar(select(Check).where(Check.case_id == cases[1], Check.seq == 1))
        check.officer_ids = [*check.officer_ids, users.ids["rev_off"]]
        item = session.scalar(select(PaymentItem.id).where(PaymentItem.case_id == cases[1]))
    pages = Pages(client, users)
    pages.login("rev_off")
    form = pages.get(f"/followups/new?item={item}")  # told before typing, and again on saving
    assert form.status_code == 200 and 'id="followup-alone"' in form.text, form.text
    sent = pages.post("/followups", {"payment_item_id": item, "done_on": ctx.clock.today().isoformat(),
                                     "method": "phone", "received": "yes", "income_change": "same",
                                     "risk_remains": "no", "satisfaction": "satisfied", "note": "户主说钱收到了"})
    assert sent.status_code == 303 and "done=followup_alone" in sent.headers["location"], sent.text
    assert "待县级复核" in pages.get(sent.headers["location"]).text
    with ctx.db.read() as session:
        assert session.scalar(select(Followup.setter_alone).where(Followup.payment_item_id == item))
