"""The county reviewers' page of follow-ups recorded by a setter of the payee account alone (/setter-followups,
回访待县级复核): the home card counts those the reader may decide and links to that list; a reader who took part in
paying the item sees it marked and gets no form, and a form sent anyway is refused on the page; a refusal needs its
reason; a confirmation moves it to 已复核; the search finds it by the head's name; the case page says 待县级复核."""

from __future__ import annotations

import re

from insider.insider_kit import setter_alone_followup
from pagekit import FACTORY_PASSWORD, Pages
from sqlalchemy import select

from verifier.store.tables import Case, Household, User

_CARD = re.compile(r'<a class="card" href="/setter-followups\?to_decide=1">\s*<div class="count">(\d+)</div>')


def _card(pages: Pages) -> int:
    home = pages.get("/")
    assert home.status_code == 200, home.text
    found = _CARD.search(home.text)
    assert found, home.text
    return int(found.group(1))


def test_the_county_reviewers_page_of_follow_ups_recorded_by_a_setter_alone(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    fid, cases, _ = setter_alone_followup(ctx, client, users)
    with ctx.db.read() as session:
        head = session.scalar(select(Household.head_name).join(Case, Case.household_id == Household.id)
                              .where(Case.id == cases[0]))
    pages = Pages(client, users)
    pages.login("signer")  # signed off the batch
    assert _card(pages) == 0
    mine = pages.get("/setter-followups?to_decide=1")
    assert mine.status_code == 200 and "没有等待您复核的回访" in mine.text and "另有 1 次" in mine.text, mine.text
    listed = pages.get("/setter-followups")
    assert f'id="alone-{fid}"' in listed.text and "签批了支付批次" in listed.text
    assert f"/setter-followups/{fid}/confirm" not in listed.text
    sent = pages.post(f"/setter-followups/{fid}/confirm", {"q": "", "page": "1"})
    assert sent.status_code == 403 and "须由未参与这笔保障金支付的县级审核人员办理" in sent.text, sent.text
    case_page = pages.get(f"/cases/{cases[0]}")
    assert case_page.status_code == 200 and "alone-waits" in case_page.text and "待县级复核" in case_page.text

    pages.login("rev")
    assert _card(pages) == 1
    mine = pages.get("/setter-followups?to_decide=1")
    assert "共 1 条" in mine.text and f"/setter-followups/{fid}/confirm" in mine.text, mine.text
    assert f'id="alone-{fid}"' in pages.get("/setter-followups", params={"q": head}).text
    assert "没有找到与" in pages.get("/setter-followups", params={"q": "查无此人"}).text
    blank = pages.post(f"/setter-followups/{fid}/refuse", {"reason": "  ", "q": "", "page": "1", "to_decide": "1"})
    assert blank.status_code == 422 and "退回理由" in blank.text, blank.text
    done = pages.post(f"/setter-followups/{fid}/confirm", {"q": "", "page": "1", "to_decide": "1"})
    assert done.status_code == 303 and "done=followup_alone_confirmed" in done.headers["location"], done.text
    after = pages.get(done.headers["location"])
    assert after.status_code == 200 and "已确认这次回访" in after.text and "没有等待您复核的回访" in after.text
    decided = pages.get("/setter-followups?status=done")
    assert f'id="alone-{fid}"' in decided.text and "县级已复核确认" in decided.text
    assert _card(pages) == 0
    assert "alone-confirmed" in pages.get(f"/cases/{cases[0]}").text


def test_the_supervisor_assigns_a_refused_follow_up_on_its_page(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    fid, cases, _ = setter_alone_followup(ctx, client, users)
    users.add("sup", "insurer_supervisor", counties=("340223",))
    assert client.post(f"/api/followups/{fid}/setter-alone/refuse", headers=users.headers("rev"),
                       json={"reason": "户主说没有人来回访"}).status_code == 200
    pages = Pages(client, users)
    pages.login("sup")
    done = pages.get("/setter-followups?status=done")
    found = re.search(r'href="/setter-followups/assign\?item=([^"]+)"', done.text)
    assert done.status_code == 200 and found and "县级复核已退回" in done.text, done.text
    form = pages.get(f"/setter-followups/assign?item={found.group(1)}")
    assert form.status_code == 200 and 'id="assign-form"' in form.text, form.text
    officer = re.search(r'<option value="([^"]+)"', form.text).group(1)
    blank = pages.post("/setter-followups/assign", {"payment_item_id": found.group(1), "officer_id": officer,
                                                    "reason": ""})
    assert blank.status_code == 422 and "指派理由" in blank.text, blank.text
    sent = pages.post("/setter-followups/assign", {"payment_item_id": found.group(1), "officer_id": officer,
                                                   "reason": "本县只有这几名核查员"})
    assert sent.status_code == 303 and "done=followup_assigned" in sent.headers["location"], sent.text
    assert "已指派" in pages.get(sent.headers["location"]).text
    back = pages.get(f"/setter-followups/assign?item={found.group(1)}")  # Back after assigning: said, not offered
    assert back.status_code == 200 and 'id="assign-standing"' in back.text and "无需再指派" in back.text, back.text
    assert f'<option value="{officer}"' not in back.text
    with ctx.db.read() as session:
        name = session.get(User, officer).username
    officer_pages = Pages(client, users)
    officer_pages.login(name, *(() if name in users.ids else (FACTORY_PASSWORD,)))
    own = officer_pages.get("/followups").text  # the officer's own list says who sent him and what follows
    row = own[own.index(f'id="due-{found.group(1)}"'):own.index("<h2>最近的回访</h2>")]
    assert "主管已指派" in row and "录入后待县级复核" in row, row
