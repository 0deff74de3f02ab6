"""What a tired clerk met on an ordinary day, server-rendered: a sampling round named by its county, kind and period
(not its id), the shared-account warning naming cases by number and masked head, a payee change approved only with
its box ticked."""

from __future__ import annotations

import re

from deviation_helpers import both_found_ineligible, held_and_paid_in_a_round, ready_case
from factories import make_case, staff
from sqlalchemy import select

from verifier.cases.workflow import advance, load_case
from verifier.payments.models import Recovery
from verifier.store.tables import Case

ROUND_NAME = "示范县 · 按户抽样 · 2020-05-01 至 2020-06-30"


def _visible(html: str) -> str:
    """The page's text outside tags, attributes and the copyable `.mono` values (what a person reads)."""
    html = re.sub(r'<(dd|span|code|td|a) class="mono[^"]*"[^>]*>.*?</\1>', "", html, flags=re.S)
    html = re.sub(r"<code>.*?</code>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_a_sampling_round_is_named_by_county_kind_and_period(pages, ctx, users) -> None:  # type: ignore[no-untyped-def]
    sampled = held_and_paid_in_a_round(ctx, pages.client, users)
    held, paid, round_id = sampled.held, sampled.paid, sampled.round_id
    both_found_ineligible(ctx, pages.client, sampled, "2666.67")

    pages.login("reviewer")
    listing = pages.get("/sampling").text
    link = re.search(rf'<a href="/sampling/{round_id}"[^>]*>([^<]*)</a>', listing)
    assert link and link.group(1) == ROUND_NAME
    assert round_id not in _visible(listing)
    text = pages.get(f"/sampling/{round_id}").text
    assert f"<title>抽样复核 {ROUND_NAME}" in text and f"<h1>抽样复核：{ROUND_NAME}</h1>" in text
    assert round_id in text  # still there to copy, for `verifier sampling replay`

    pages.as_("sup2", "insurer_supervisor")
    text = pages.get(f"/cases/{held}").text
    hold = text.split('id="hold-open"')[1].split("</div>")[0]
    assert ROUND_NAME in hold and round_id not in _visible(hold) and f'href="/sampling/{round_id}"' in hold

    with ctx.db.read() as s:
        rec = s.scalars(select(Recovery).where(Recovery.case_id == paid)).one()
    pages.login("fin1")
    text = pages.get(f"/recoveries/{rec.id}").text
    assert f'由抽样复核 <a href="/sampling/{round_id}">{ROUND_NAME}</a> 发起' in text

    pages.as_("aud", "auditor")  # the audit list names the round too, its id below as for a case
    text = pages.get("/audit").text
    assert f'<a href="/sampling/{round_id}">抽样复核 {ROUND_NAME}</a>' in text
    pages.as_("adm", "admin")  # reads the log, not the rounds: the name without a link it could not follow
    text = pages.get("/audit").text
    assert f"抽样复核 {ROUND_NAME}" in text and f'href="/sampling/{round_id}"' not in text


def test_the_shared_account_warning_names_cases_by_number_and_masked_head(pages, ctx, users) -> None:  # type: ignore[no-untyped-def]
    clerk = staff(ctx).clerk
    ids = []
    for head in ("钱多多", "钱少少"):
        case_id = make_case(ctx, stage="determined", head_name=head, account_number="6222020200112233445")
        with ctx.db.begin() as session:
            case = load_case(session, case_id, None, for_update=True)
            for action in ("review_pass", "post_notice", "close_notice"):
                advance(session, case, action, actor=clerk, role="town_clerk", clock=ctx.clock)
        ids.append(case_id)
    # Both paid into one account: held until the county reviewer clears it (web/shared_accounts.py).
    pages.as_("rev1", "county_reviewer")
    form = pages.get("/shared-accounts").text
    action = re.search(r'action="(/shared-accounts/[0-9a-f]{64}/clear)"', form).group(1)  # type: ignore[union-attr]
    assert pages.post(action, {"note": "同一监护人代收"}).status_code == 303
    pages.as_("claims1", "insurer_claims")
    r = pages.post("/payments", {"county_code": "340223", "contract_id": "demo-2020"})
    url = r.headers["location"].split("?")[0]
    pages.as_("fin1", "finance")
    text = pages.get(url).text
    warning = text.split('id="shared-accounts"')[1].split("</section>")[0]
    with ctx.db.read() as s:
        numbers = [s.get(Case, i).number for i in ids]
    for case_id, number, masked in zip(ids, numbers, ("钱**户", "钱**户"), strict=True):
        assert number in warning and case_id not in _visible(warning) and f'href="/cases/{case_id}"' in warning
        assert masked in warning
    assert "钱多多" not in warning and "钱少少" not in warning and "3445" in warning


def test_an_objection_received_after_the_notice_period_is_refused_in_chinese(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    """The clerk typed today's date on a notice whose period had passed: the refusal was in English, beside the
    field. It now names the period's last day and what to check; the form keeps what was typed and says which days
    it takes."""
    a = make_case(ctx, stage="determined", village="东村", head_name="甲户主")
    pages.as_("clerk1", "town_clerk")
    today = clock.today().isoformat()
    assert pages.post(f"/cases/{a}/review", {"held_on": today, "result": "pass"}).status_code == 303
    r = pages.post("/notices/new", {"county_code": "340223", "town": "城关镇", "village": "东村", "posted_on": today})
    notice_url = r.headers["location"].split("?")[0]
    clock.advance(days=20)
    late = clock.today().isoformat()
    text = pages.get(notice_url).text
    assert "只登记公示期内（2020-06-01 至 2020-06-07）收到的异议；公示期已满" in text
    r = pages.post(notice_url + "/objections", {"case_id": a, "received_on": late, "summary": "家中有营运车辆"})
    assert r.status_code == 422
    error = re.search(r'<p class="error" id="received_on-error">([^<]*)</p>', r.text).group(1)
    assert error == "晚于公示期最后一天 2020-06-07：只登记公示期内收到的异议，请核对收到日期"
    assert f'value="{late}"' in r.text and "家中有营运车辆" in r.text


def test_a_message_without_chinese_never_reaches_a_form_or_a_page(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """The safety net under the tables of messages: a service's English sentence that no table knows yet is shown as a
    plain Chinese request to check (and logged), never as English; Chinese, and a label before its message, stay."""
    from verifier.web.labels import UNSAID, said_in_chinese
    from verifier.web.templating import _msg

    assert said_in_chinese("something new is wrong") == UNSAID and said_in_chinese("请填写金额") == "请填写金额"
    assert said_in_chinese("收到日期：an unknown problem", labelled=True) == f"收到日期：{UNSAID}"
    assert said_in_chinese("键 relief[0].cap：不能为负数：“-5.00”", labelled=True) == "键 relief[0].cap：不能为负数：“-5.00”"
    assert said_in_chinese("an unknown problem", labelled=True) == UNSAID and said_in_chinese(None) == ""
    assert _msg("batch X was changed meanwhile") == UNSAID and _msg("money must be a string of yuan") == "请填写金额（元），如 1200.50"


def test_the_cases_to_put_in_a_batch_are_named_by_their_numbers(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """The claims officer ticks the cases of a new batch: the list showed each case's internal id where its number
    belongs."""
    case_id = ready_case(ctx)
    pages.as_("claims1", "insurer_claims")
    text = pages.get("/payments/new?county_code=340223&contract_id=demo-2020").text
    form = text.split('id="choose"')[1].split("</form>")[0]
    with ctx.db.read() as s:
        number = s.get(Case, case_id).number
    assert f'<a class="mono small" href="/cases/{case_id}">{number}</a>' in form and "<th>案件编号</th>" in form
    assert case_id not in _visible(form)


def test_two_heads_of_one_name_are_told_apart_at_the_village_meeting(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """A village often has two heads of one name (王桂兰): the meeting's table showed the name alone, and the clerk
    could tick 不同意 on the wrong household. Each row now carries its case number."""
    ids = [make_case(ctx, village="东村", head_name="王桂兰") for _ in range(2)]
    pages.as_("clerk1", "town_clerk")
    form = pages.get("/meetings/new?county_code=340223&town=城关镇&village=东村").text
    with ctx.db.read() as s:
        numbers = [s.get(Case, i).number for i in ids]
    for case_id, number in zip(ids, numbers, strict=True):
        row = form.split(f'value="{case_id}"')[1].split("</tr>")[0]
        assert f'王桂兰</a><br><span class="mono small">{number}</span>' in row


def test_the_monthly_report_opens_on_this_month_or_says_what_to_choose(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """月报 opened on a bare form: a reviewer of one county now sees this month's report at once; one of several
    counties is told to choose."""
    make_case(ctx, stage="checked")
    pages.as_("rev-one", "county_reviewer")
    text = pages.get("/reports").text
    assert 'id="summary"' in text and "示范县（340223）· 2020-06 月报" in text and 'id="choose"' not in text
    pages.as_("rev-two", "county_reviewer", counties=("340223", "340999"))
    text = pages.get("/reports").text
    assert 'id="summary"' not in text and "请选择县（区）和月份，再点“查看”。" in text


def test_the_clerk_home_says_its_open_notices_are_notices(pages) -> None:  # type: ignore[no-untyped-def]
    """公示中 1 beside a case table saying 公示中 4: the card counts notices, and now says so."""
    pages.as_("clerk1", "town_clerk")
    assert "正在公示的公示（份），期满后结束公示" in pages.get("/").text
