"""The payment pages: claims ticks the cases of a new batch and takes one out before approval; the county reviewer
signs off with an opinion or refuses, and a refused batch is not released."""

from __future__ import annotations

import re

from factories import COUNTY, ready_case
from test_web_payments import BIG, _batch_url


def _item_ids(text: str) -> list[str]:
    return re.findall(r'id="remove-(pi_\w+)"', text)


def test_claims_chooses_cases_and_removes_one_then_the_county_refuses_the_signoff(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    a = ready_case(ctx, medical=BIG, head_name="甲户主")
    b = ready_case(ctx, medical=BIG, head_name="乙户主")
    c = ready_case(ctx, medical=BIG, head_name="丙户主")
    d = ready_case(ctx, head_name="丁户主")
    pages.as_("claims1", "insurer_claims")
    assert f"/payments/new?county_code={COUNTY}&amp;contract_id=demo-2020" in pages.get("/payments").text
    listing = pages.get(f"/payments/new?county_code={COUNTY}&contract_id=demo-2020").text
    assert all(f'name="case_ids" value="{x}" id="pick-{x}"' in listing for x in (a, b, c, d))
    assert listing.count("data-fen=") == 4 and listing.count(" checked>") == 4
    base = {"county_code": COUNTY, "contract_id": "demo-2020", "choose": "1"}
    r = pages.post("/payments", base)
    assert r.status_code == 422 and "请至少选择一户待支付案件" in r.text
    r = pages.post("/payments/new", {**base, "do": "create"})
    assert r.status_code == 422 and "请至少选择一户待支付案件" in r.text
    url = _batch_url(pages.post("/payments/new", {**base, "do": "create", "case_ids": [a, b, c]}))
    text = pages.get(url).text
    assert "300,000.00" in text and "丁户主" not in text  # the unticked case is not in the batch
    again = pages.get(f"/payments/new?county_code={COUNTY}&contract_id=demo-2020").text
    assert f'value="{d}"' in again and f'value="{a}"' not in again  # still ready to pay, offered again

    items = _item_ids(text)
    assert len(items) == 3
    r = pages.post(f"{url}/items/{items[1]}/remove", {"reason": "收款人待核实"})
    assert r.status_code == 422 and "不能撤回" in r.text  # no confirmation ticked: nothing changed
    assert 'name="reason" value="收款人待核实"' in r.text  # the reason typed comes back, its form open
    assert '<details class="remove-item" open>' in r.text
    r = pages.post(f"{url}/items/{items[1]}/remove", {"reason": "", "confirm": "yes"})
    assert r.status_code == 422 and "请填写移出原因" in r.text
    r = pages.post(f"{url}/items/{items[1]}/remove", {"reason": "收款人待核实", "confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == url + "?done=item_removed"
    text = pages.get(r.headers["location"]).text
    assert "已移出批次" in text and "已移出：claims1" in text and "原因：收款人待核实" in text
    assert "200,000.00" in text and len(_item_ids(text)) == 2

    pages.as_("fin1", "finance")
    assert pages.post(url + "/approve", {"confirm": "yes"}).status_code == 303
    pages.as_("claims1", "insurer_claims")
    r = pages.post(f"{url}/items/{items[0]}/remove", {"reason": "x", "confirm": "yes"})
    assert r.status_code == 409 and "只能在审批前移出明细" in r.text

    pages.as_("rev1", "county_reviewer")
    text = pages.get(url).text
    assert 'id="signoff-refuse"' in text and 'name="opinion"' in text
    r = pages.post(url + "/signoff-refuse", {"opinion": "", "confirm": "yes"})
    assert r.status_code == 422 and "请填写审核意见" in r.text
    r = pages.post(url + "/signoff-refuse", {"opinion": "票据不全，请核实"})  # the box not ticked
    assert r.status_code == 422 and 'required>票据不全，请核实</textarea>' in r.text  # the opinion comes back
    r = pages.post(url + "/signoff", {"opinion": "同意，请尽快发放"})
    assert r.status_code == 422 and 'placeholder="同意发放">同意，请尽快发放</textarea>' in r.text
    r = pages.post(url + "/signoff-refuse", {"opinion": "该户医疗费用票据不全", "confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == url + "?done=signoff_refused"
    text = pages.get(r.headers["location"]).text
    assert "该户医疗费用票据不全" in text and "不同意签批，批次已退回待审批" in text and "待审批" in text

    pages.as_("fin2", "finance")
    r = pages.post(url + "/release", {"confirm": "yes"})
    assert r.status_code == 409 and "不能发放" in r.text
    assert pages.post(url + "/approve", {"confirm": "yes"}).status_code == 303
    pages.as_("rev1", "county_reviewer")
    r = pages.post(url + "/signoff", {"opinion": "同意发放", "confirm": "yes"})
    assert r.status_code == 303
    text = pages.get(url).text
    assert "同意发放" in text
    # the refusal's opinion, replaced on the batch by the sign-off's, stays in its sign-off history, oldest first
    history = text.split('id="signoff-history"')[1].split("</section>")[0]
    rows = re.findall(r'<tr class="signoff-(\w+)">(.*?)</tr>', history, re.S)
    assert [how for how, _ in rows] == ["refused", "given"]
    assert "rev1" in rows[0][1] and "不同意签批" in rows[0][1] and "该户医疗费用票据不全" in rows[0][1]
    assert "同意签批" in rows[1][1] and "同意发放" in rows[1][1] and "该户医疗费用票据不全" not in rows[1][1]
    # and so does the API's batch (the batch's own `signoff_opinion` as before: the latest)
    batch_id = url.rsplit("/", 1)[1]
    shown = pages.client.get(f"/api/payment-batches/{batch_id}", headers=pages.users.headers("rev1")).json()
    assert shown["signoff_opinion"] == "同意发放"
    assert [(d["decision"], d["decided_by"], d["opinion"]) for d in shown["signoffs"]] == [
        ("refused", pages.users.ids["rev1"], "该户医疗费用票据不全"), ("given", pages.users.ids["rev1"], "同意发放")]


def test_approving_or_cancelling_a_searched_batch_keeps_its_item_search(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """Finance searched the batch's items for one payee, checked it and approved: the page came back with every item,
    the search gone. Each action's form carries the search (and page): refused or done, the batch comes back so."""
    ready_case(ctx, head_name="甲户主")
    ready_case(ctx, head_name="乙户主")
    pages.as_("claims-q", "insurer_claims")
    url = _batch_url(pages.post("/payments", {"county_code": COUNTY, "contract_id": "demo-2020"}))
    pages.as_("fin-q", "finance")
    searched = pages.get(url, params={"q": "甲户主"}).text
    approve = re.search(r'<form method="post" action="[^"]*/approve".*?</form>', searched, re.S).group(0)
    assert '<input type="hidden" name="q" value="甲户主">' in approve
    refused = pages.post(url + "/approve", {"q": "甲户主"})  # the box not ticked
    assert refused.status_code == 422 and 'id="f-q" name="q" value="甲户主"' in refused.text
    assert "乙户主" not in refused.text.split('id="items"')[1]
    r = pages.post(url + "/approve", {"q": "甲户主", "confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == url + "?q=%E7%94%B2%E6%88%B7%E4%B8%BB&done=batch_approved"
    shown = pages.get(r.headers["location"]).text
    assert "乙户主" not in shown.split('id="items"')[1] and '<input type="hidden" name="q" value="甲户主">' in shown
    r = pages.post(url + "/cancel", {"q": "甲户主", "page": "1", "confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == url + "?q=%E7%94%B2%E6%88%B7%E4%B8%BB&done=batch_cancelled"
    r = pages.post(url + "/cancel", {"q": "乙户主", "page": "2", "confirm": "yes"})  # sent again: refused, kept
    assert r.status_code == 409 and 'id="f-q" name="q" value="乙户主"' in r.text
