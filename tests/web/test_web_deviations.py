"""The pages of a sampled deviation's consequences: the held case and its re-determination, the round's assessment
record, and the recoveries list and page where finance records a repayment, another person confirms it and the
county reviewer waives the rest."""

from __future__ import annotations

import re

from deviation_helpers import both_found_ineligible, held_and_paid_in_a_round, person
from sqlalchemy import select

from verifier.payments.models import Recovery
from verifier.store.tables import Case

INCOME = "2666.67"


def test_the_held_case_the_round_and_the_recovery_pages(pages, ctx, users) -> None:  # type: ignore[no-untyped-def]
    sampled = held_and_paid_in_a_round(ctx, pages.client, users)
    person(ctx, users, "fin2", "finance")
    held, paid, round_id = sampled.held, sampled.paid, sampled.round_id
    assert {held, paid} <= set(sampled.drawn)
    both_found_ineligible(ctx, pages.client, sampled, INCOME)

    # the supervisor sees the hold on the case page and re-determines it; a refused form keeps what was typed
    pages.as_("sup2", "insurer_supervisor")
    text = pages.get(f"/cases/{held}").text
    assert 'id="hold-open"' in text and "暂停支付" in text and 'id="redetermination-form"' in text
    r = pages.post(f"/cases/{held}/redetermination", {"outcome": "proceed", "reason": "", "relief_amount": "12.345"})
    assert r.status_code == 422 and 'value="12.345"' in r.text
    r = pages.post(f"/cases/{held}/redetermination", {"outcome": "ineligible", "reason": "复核属实，有稳定工资收入"})
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{held}?done=redetermined"
    text = pages.get(r.headers["location"]).text
    assert 'id="hold-open"' not in text and "认定不符合条件" in text and "复核属实" in text

    # the round page keeps the assessment record
    pages.login("reviewer")
    text = pages.get(f"/sampling/{round_id}").text
    assert 'id="assessment"' in text and "认定结论偏差" in text and "追回中" in text and "已重新认定" in text

    # finance records a repayment; the recorder cannot confirm it; another finance officer does
    with ctx.db.read() as s:
        rec = s.scalars(select(Recovery).where(Recovery.case_id == paid)).one()
    pages.login("fin1")
    text = pages.get("/recoveries").text
    assert f'href="/recoveries/{rec.id}"' in text
    # the list is searched by the head's name or the case number (it had numbered pages and no search)
    with ctx.db.read() as s:
        head, number = s.get(Case, paid).household.head_name, s.get(Case, paid).number
    for q in (head, number[-6:]):
        assert f'href="/recoveries/{rec.id}"' in pages.get("/recoveries", params={"q": q}).text
    nothing = pages.get("/recoveries", params={"q": "不存在的户主"}).text
    assert f'href="/recoveries/{rec.id}"' not in nothing and "没有找到与“不存在的户主”相符的追回" in nothing
    kept = pages.get("/recoveries", params={"q": head, "status": "all"}).text
    assert '<option value="all" selected>全部</option>' in kept and f'href="/recoveries/{rec.id}"' in kept
    assert kept.count('<form method="get" action="/recoveries"') == 1  # status and search in one form
    none = pages.get("/recoveries", params={"status": "waived"}).text  # an empty filter says so, with a way back
    assert "没有符合条件的追回" in none and '<a href="/recoveries?status=all">显示全部追回</a>' in none
    url = f"/recoveries/{rec.id}"
    assert 'id="repayment-form"' in pages.get(url).text
    assert '<a href="/recoveries" data-list="/recoveries">← 追回</a>' in pages.get(url).text  # back to the list as left
    r = pages.post(url + "/repayments", {"amount": "abc", "paid_on": "2020-06-01", "reference": "BK-001"})
    assert r.status_code == 422 and 'value="BK-001"' in r.text
    # a day that does not exist is told with the other mistakes, not alone first
    r = pages.post(url + "/repayments", {"amount": "12.345", "paid_on": "2020-06-31", "reference": ""})
    errors = dict(re.findall(r'<p class="error" id="([^"]+)-error">([^<]*)</p>', r.text))
    assert r.status_code == 422 and set(errors) == {"amount", "paid_on", "reference"}, errors
    assert "没有这一天：2020年6月31日" in errors["paid_on"] and 'value="2020-06-31"' in r.text
    r = pages.post(url + "/repayments", {"amount": "100.00", "paid_on": "2020-06-01", "reference": "BK-001"})
    assert r.status_code == 303
    text = pages.get(url).text
    assert "这是您本人登记的还款" in text and "/confirm" not in text
    repayment_id = re.search(r'id="repayment-([^"]+)"', text).group(1)  # type: ignore[union-attr]
    r = pages.post(f"{url}/repayments/{repayment_id}/confirm")
    assert r.status_code == 403 and "四眼原则" in r.text  # the recorder alone: refused whatever the page offers
    pages.login("fin2")
    r = pages.post(f"{url}/repayments/{repayment_id}/confirm")
    assert r.status_code == 303 and "done=repayment_confirmed" in r.headers["location"]
    r = pages.post(f"{url}/repayments/{repayment_id}/confirm")
    assert r.status_code == 409 and "这笔还款已确认" in r.text  # a second click changes nothing

    # the county reviewer waives the rest; another county sees nothing
    pages.login("reviewer")
    r = pages.post(url + "/waive", {"reason": ""})
    assert r.status_code == 422
    r = pages.post(url + "/waive", {"reason": "农户确无偿还能力，经县级研究同意核销"})
    assert r.status_code == 303 and "done=recovery_waiver_requested" in r.headers["location"]
    text = pages.get(url).text
    assert "须由另一名县级复核人员确认" in text and "确认核销" not in text  # not theirs to confirm
    r = pages.post(url + "/waive", {"reason": "同意"})  # a stale tab: refused, said in Chinese
    assert r.status_code == 403 and "须由另一名县级复核人员确认" in r.text
    pages.as_("reviewer-b", "county_reviewer", counties=("340223",))
    assert "确认核销" in pages.get(url).text
    # writing the money off for good asks for its box, told with the other mistakes; nothing is waived meanwhile
    r = pages.post(url + "/waive", {"reason": "", "step": "confirm"})
    assert r.status_code == 422 and 'id="reason-error"' in r.text and "核销后尚未追回的金额不再追回" in r.text
    r = pages.post(url + "/waive", {"reason": "已核实，同意核销"})  # a hand-made POST without the box
    assert r.status_code == 422 and "请勾选确认框" in r.text and 'value="已核实，同意核销"' in r.text
    assert "追回中" in pages.get(url).text
    r = pages.post(url + "/waive", {"reason": "已核实，同意核销", "step": "confirm", "confirm": "yes"})
    assert r.status_code == 303 and "done=recovery_waived" in r.headers["location"]
    text = pages.get(url).text
    assert "已核销" in text
    # who asked and why, who confirmed, when and in what words: both shown beside each other
    asked = re.search(r'<tr id="waiver-asked">(.*?)</tr>', text, re.S).group(1)  # type: ignore[union-attr]
    confirmed = re.search(r'<tr id="waiver-confirmed">(.*?)</tr>', text, re.S).group(1)  # type: ignore[union-attr]
    assert "农户确无偿还能力" in asked and "（reviewer " in asked and "reviewer-b" not in asked and "申请核销" in asked
    assert "已核实，同意核销" in confirmed and "reviewer-b" in confirmed and "确认核销" in confirmed
    assert "未保存" not in confirmed
    # where the money went: what was written off beside what was repaid (尚未追回 reads 0.00 once waived)
    figures = dict(re.findall(r'<tr(?: id="[^"]+")?><th>([^<]+)</th><td class="num">([0-9,.]+) 元</td></tr>', text))
    due, repaid = (int(figures[k].replace(",", "").replace(".", "")) for k in ("应追回", "已追回（已确认）"))
    assert repaid == 10000 and figures["尚未追回"] == "0.00"
    left = due - repaid
    assert figures["已核销（不再追回）"] == f"{left // 100:,}.{left % 100:02d}"
    pages.as_("reviewer-c", "county_reviewer", counties=("340223",))
    r = pages.post(url + "/waive", {"reason": "同意", "step": "confirm"})  # too late, and no box: told it is closed
    assert r.status_code == 409 and "只能核销追回中的款项" in r.text and "请勾选确认框" not in r.text
    pages.as_("fin9", "finance", counties=("340999",))
    assert pages.get(url).status_code == 404
    assert rec.id not in pages.get("/recoveries?status=").text
