"""A follow-up a relative may not record (回避) is said before anything is typed: the form's address says why instead
of the form, by the rule the form sent is refused by (`followups.service.refuse_recorder`). Being told is a try: the
page view is kept on 回避拦截记录 as a form sent is. The due list does not mark it (a list marking the households of
every number one declares would map them onto the county, unrecorded): it lists the payment as any other."""

from __future__ import annotations

import re

from factories import COUNTY, count_rows
from insider_kit import declare_ties, household_member, refusals_of
from sqlalchemy import select
from web.pagekit import Pages

REFUSAL = "与本户成员存在回避关系"


def test_a_relatives_followup_is_refused_up_front_kept_on_record_and_not_marked_on_the_list(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from followups.followup_kit import pay_cases

    from verifier.followups.models import Followup
    from verifier.payments.models import PaymentItem

    mother, other = pay_cases(ctx, 2)
    with ctx.db.read() as session:
        items = dict(session.execute(select(PaymentItem.case_id, PaymentItem.id)
                                     .where(PaymentItem.case_id.in_([mother, other]))).tuples().all())
    users.add("kin", "field_officer", counties=(COUNTY,))
    declare_ties(client, users.headers("kin"), household_member(ctx, mother, head=False)[2])
    pages = Pages(client, users)
    pages.login("kin")

    listed = pages.get("/followups?all=1")
    assert listed.status_code == 200, listed.text
    assert "须由其他人员回访" not in listed.text, listed.text
    assert f"/followups/new?item={items[mother]}" in listed.text
    assert f"/followups/new?item={items[other]}" in listed.text
    due = {d["case_id"]: d["refused"] for d in client.get("/api/followups", headers=users.headers("kin")).json()["due"]}
    assert due[mother] is None and due[other] is None, due
    assert refusals_of(ctx, users.ids["kin"]) == []  # listing the county's follow-ups is no try

    opened = pages.get(f"/followups/new?item={items[mother]}")
    assert opened.status_code == 200 and 'id="followup-refused"' in opened.text and REFUSAL in opened.text
    assert "保存回访" not in opened.text and 'href="/followups">返回回访列表' in opened.text
    assert [(e["step"], e["case_id"]) for e in refusals_of(ctx, users.ids["kin"])] == [("followup", mother)]
    said = re.search(r'id="followup-refused"><strong>须由其他人员回访：</strong>([^<]+)<', opened.text)

    today = ctx.clock.today().isoformat()
    sent = pages.post("/followups", {"payment_item_id": items[mother], "done_on": today, "method": "phone",
                                     "income_change": "same", "risk_remains": "no", "satisfaction": "satisfied",
                                     "received": "yes", "note": "电话里户主说钱到了"})
    assert sent.status_code == 422 and "电话里户主说钱到了" in sent.text, sent.text
    assert said and said.group(1) in sent.text  # the very words the form sent is refused with
    assert [(e["step"], e["case_id"]) for e in refusals_of(ctx, users.ids["kin"])] == [("followup", mother)] * 2
    assert count_rows(ctx, Followup) == 0

    free = pages.get(f"/followups/new?item={items[other]}")
    assert free.status_code == 200 and "保存回访" in free.text and 'id="followup-refused"' not in free.text
    assert len(refusals_of(ctx, users.ids["kin"])) == 2
