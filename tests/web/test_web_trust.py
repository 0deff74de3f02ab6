"""Pages an office can trust: an action that cannot be undone asks for a ticked confirmation and stands apart from
the main action, a form being sent moves no button, a case's payments and history read in Chinese (names, local
times, labels), and no page is kept by the browser after 退出."""

from __future__ import annotations

from factories import COUNTY, ready_case
from pagekit import status_of
from sqlalchemy import select
from test_web_payments import BIG, _batch_url

from verifier.audit.models import AuditEntry
from verifier.web.templating import STATIC_DIR, moment

NOT_CONFIRMED = "请先勾选确认框"


def _section(html: str, anchor: str) -> str:
    return html.split(anchor, 1)[1].split("</section>", 1)[0]


def test_cancelling_a_batch_needs_a_ticked_confirmation_and_stands_apart(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    a = ready_case(ctx, head_name="甲户主")
    pages.as_("claims1", "insurer_claims")
    url = _batch_url(pages.post("/payments", {"county_code": COUNTY}))
    text = pages.get(url).text
    # the cancel form is its own panel at the foot of the page, after the items, behind a required box
    cancel = _section(text, 'id="cancel"')
    assert f'action="{url}/cancel"' in cancel and 'name="confirm" value="yes" required' in cancel
    assert text.index('id="cancel"') > text.index('id="items"') > text.index('id="actions"')
    assert f'action="{url}/cancel"' not in _section(text, 'id="actions"')

    # the insider's stray (or scripted) post without the box: refused, nothing changes
    for body in ({}, {"confirm": ""}, {"confirm": "on"}):
        r = pages.post(url + "/cancel", body)
        assert r.status_code == 422 and NOT_CONFIRMED in r.text, body
        assert status_of(ctx, a) == "in_batch"
    assert "待审批" in pages.get(url).text

    # the finance officer's approval commits the fund (undone only by cancelling the batch): it asks first, naming
    # the items and total; without the box nothing is approved and no money committed; a second post is refused
    pages.as_("fin1", "finance")
    approve = _section(pages.get(url).text, 'id="actions"')
    form = approve.split(f'action="{url}/approve"')[1].split("</form>")[0]
    assert 'name="confirm"' in form and "required" in form and "我已核对本批次 1 笔明细" in form
    for body in ({}, {"confirm": ""}):
        r = pages.post(url + "/approve", body)
        assert r.status_code == 422 and "审批通过后只能撤销整个批次：请先勾选确认框" in r.text, body
        assert "待审批" in pages.get(url).text and status_of(ctx, a) == "in_batch"
    assert pages.post(url + "/approve", {"confirm": "yes"}).status_code == 303
    again = pages.post(url + "/approve", {"confirm": "yes"})
    assert again.status_code == 409 and "已审批" in again.text
    assert status_of(ctx, a) == "in_batch" and "已审批" in pages.get(url).text
    r = pages.post(url + "/cancel")
    assert r.status_code == 422 and status_of(ctx, a) == "in_batch"
    r = pages.post(url + "/cancel", {"confirm": "yes"})
    assert r.status_code == 303 and status_of(ctx, a) == "ready_to_pay"


def test_signoff_and_release_need_their_confirmation(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    a = ready_case(ctx, medical=BIG, head_name="甲户主")
    ready_case(ctx, medical=BIG, head_name="乙户主")  # together at the county sign-off threshold
    pages.as_("claims1", "insurer_claims")
    url = _batch_url(pages.post("/payments", {"county_code": COUNTY}))
    pages.as_("fin1", "finance")
    assert pages.post(url + "/approve", {"confirm": "yes"}).status_code == 303

    pages.as_("rev1", "county_reviewer")
    form = pages.get(url).text.split(f'action="{url}/signoff"')[1].split("</form>")[0]
    assert 'name="confirm" value="yes" required' in form
    r = pages.post(url + "/signoff")
    assert r.status_code == 422 and NOT_CONFIRMED in r.text and "县级已签批" not in r.text.split("办理步骤")[0]
    assert pages.post(url + "/signoff", {"confirm": "yes"}).status_code == 303

    pages.as_("fin2", "finance")
    form = pages.get(url).text.split(f'action="{url}/release"')[1].split("</form>")[0]
    assert 'name="confirm" value="yes" required' in form and "不能撤回" in form
    r = pages.post(url + "/release")
    assert r.status_code == 422 and NOT_CONFIRMED in r.text
    assert pages.get(url + "/bank-file").status_code == 409  # not released
    assert pages.post(url + "/release", {"confirm": "yes"}).status_code == 303
    assert status_of(ctx, a) == "in_batch" and pages.get(url + "/bank-file").status_code == 200


def test_a_form_being_sent_moves_no_button() -> None:
    script = (STATIC_DIR / "app.js").read_text("utf-8")
    sending = script.split("one submission at a time")[1].split("Back to a page kept in memory")[0]
    assert "(posting && sending)" in sending  # the section that guards a form being sent
    assert "提交中" not in script and "textContent = " not in sending
    assert 'aria-busy' in script  # the button only looks busy
    assert "(posting && sending)" in script  # while one form is sent, no other form of the page is


def test_the_case_page_shows_its_payments_and_history_in_chinese(pages, ctx, users) -> None:  # type: ignore[no-untyped-def]
    a = ready_case(ctx, head_name="甲户主")
    pages.as_("claims1", "insurer_claims")
    url = _batch_url(pages.post("/payments", {"county_code": COUNTY}))
    pages.as_("fin1", "finance")
    assert pages.post(url + "/approve", {"confirm": "yes"}).status_code == 303
    pages.as_("fin2", "finance")
    assert pages.post(url + "/release", {"confirm": "yes"}).status_code == 303

    text = pages.get(f"/cases/{a}").text
    pay = text.split('id="payments"')[1].split("</table>")[0]
    assert "{'" not in text and "item_id" not in text and "account_number" not in text
    assert f'href="{url}"' in pay and "已发送银行" in pay and "已发放" in pay
    assert "***************3445" in pay and "6222020200112233445" not in text  # the account masked
    history = text.split("办理记录")[1]
    for code in ("payment_batch.", "case.", "prepared", "approved", "released", "usr_", "ready_to_pay"):
        assert code not in history.split("<p class=\"small muted\">")[0], code
    assert "生成支付批次" in history and "审批支付批次" in history and "发放支付批次" in history
    assert "待审批 → 已审批" in history and "已审批 → 已发放" in history
    assert "fin1" in history and "fin2" in history  # names, not ids

    # the clerk, who may not open batches, sees the table without the link
    pages.as_("clerk1", "town_clerk")
    pay = pages.get(f"/cases/{a}").text.split('id="payments"')[1].split("</table>")[0]
    assert f'href="{url}"' not in pay and "已发送银行" in pay


def test_the_audit_page_says_what_an_entry_records_in_chinese(pages, ctx, users) -> None:  # type: ignore[no-untyped-def]
    ready_case(ctx, head_name="甲户主")
    pages.as_("claims1", "insurer_claims")
    url = _batch_url(pages.post("/payments", {"county_code": COUNTY}))
    pages.as_("fin1", "finance")
    assert pages.post(url + "/approve", {"confirm": "yes"}).status_code == 303
    with ctx.db.read() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "payment_batch.approve"))
        index, at = entry.idx, entry.time
    pages.as_("aud1", "auditor", counties=())
    text = pages.get(f"/audit?index={index}").text
    summary = text.split('id="entry-summary"')[1].split("</dl>")[0]
    assert "审批支付批次" in summary and "fin1（财务）" in summary and "待审批 → 已审批" in summary
    assert users.ids["fin1"] not in summary and moment(at) in summary and "北京时间" in summary


def test_no_page_is_kept_by_the_browser(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    a = ready_case(ctx, head_name="甲户主")
    pages.as_("sup1", "insurer_supervisor")
    for path in ("/", "/cases", f"/cases/{a}", "/payments", "/notices", "/audit", "/cases/c_nope", "/users"):
        r = pages.get(path)
        assert r.headers.get("cache-control") == "no-store", (path, r.status_code, r.headers.get("cache-control"))
    assert pages.get("/login").headers["cache-control"] == "no-store"
    static = pages.get("/static/app.css")
    assert static.status_code == 200 and "max-age=31536000" in static.headers["cache-control"]
    # after 退出 the case page is not there to go back to
    assert pages.post("/logout").status_code == 303
    r = pages.get(f"/cases/{a}")
    assert r.status_code in (302, 303) and "/login" in r.headers["location"]
    assert r.headers.get("cache-control") == "no-store" and "甲户主" not in r.text
