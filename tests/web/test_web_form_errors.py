"""A tired clerk's typos, sent through the pages: every wrong field is named at once, in Chinese, beside the field
(its `<p class="error" id="NAME-error">`), and what was typed in the other fields is shown again."""

from __future__ import annotations

import re

from factories import make_case


def field_errors(html: str) -> dict[str, str]:
    """{field id: its message} of the errors shown beside fields."""
    return {m.group(1): re.sub(r"<[^>]+>", "", m.group(2)).strip()
            for m in re.finditer(r'<p class="error" id="([^"]+)-error">(.*?)</p>', html, re.S)}


def test_the_application_edit_names_every_wrong_field_at_once(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """A household size in words used to hide the other mistakes until it was put right: the clerk fixed one field,
    sent, and only then learned of the next."""
    case_id = make_case(ctx, stage="received", head_name="钱七", town="城关镇", village="河口村")
    pages.as_("clerk1", "town_clerk")
    url = f"/applications/{case_id}/edit"
    before = _case(ctx, case_id)
    fields = {"name": "钱七", "town": "城关镇", "village": "河口村", "household_group": "exited_low_standard",
              "cause": "illness", "amount": "1000.00", "referred_on": "2020-05-29", "household_size": "3"}
    r = pages.post(url, {**fields, "household_size": "三口", "amount": "12.345", "phone": "1381234",
                         "referred_on": "2020-02-30", "note": "邻居反映情况属实"})
    assert r.status_code == 422
    errors = field_errors(r.text)
    assert set(errors) == {"household_size", "amount", "phone", "referred_on"}, errors
    assert errors["household_size"] == "应为整数"
    assert "两位小数" in errors["amount"] and "11 位" in errors["phone"] and "没有这一天：2020年2月30日" in errors["referred_on"]
    assert 'value="三口"' in r.text and 'value="12.345"' in r.text and "邻居反映情况属实" in r.text
    r = pages.post(url, {**fields, "household_size": "三口"})  # the size alone: still refused, nothing written
    assert r.status_code == 422 and set(field_errors(r.text)) == {"household_size"}
    assert _case(ctx, case_id) == before


def _case(ctx, case_id: str) -> tuple:  # type: ignore[no-untyped-def]
    from verifier.store.tables import Case

    with ctx.db.read() as session:
        case = session.get(Case, case_id)
        return case.version, case.reported_amount, case.referred_on


def test_a_refused_merge_keeps_the_households_found_and_names_every_missing_choice(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """Sent with nothing chosen, the merge form used to vanish with its error (the households found by the search were
    not found again), leaving a page that said nothing; and the choices were asked for one at a time."""
    from verifier.store.tables import Case

    home_case = make_case(ctx, stage="received", members=1, head_name="王建国")
    other_case = make_case(ctx, stage="received", members=1, head_name="李秀英")
    with ctx.db.read() as session:
        home, other = session.get(Case, home_case), session.get(Case, other_case)
        home_hh, other_hh, q = home.household_id, other.household_id, other.number[-4:]
    pages.as_("sup", "insurer_supervisor")
    url = f"/households/{home_hh}/merge"
    assert f'value="{other_hh}"' in pages.get(f"{url}?case={home_case}&q={q}").text
    refused = pages.post(url, {"case": home_case, "q": q, "keep": "this", "head_relation": "spouse", "reason": ""})
    assert refused.status_code == 422
    assert f'value="{other_hh}"' in refused.text and 'name="q" value="' + q + '"' in refused.text  # found again
    assert set(field_errors(refused.text)) == {"other", "reason", "confirm"}, field_errors(refused.text)
    # the box to tick is marked as the field to correct (app.js brings the first such field into view)
    assert 'name="confirm" value="yes" required aria-invalid="true" aria-describedby="confirm-error"' in refused.text
    alone = pages.post(url, {"case": home_case, "keep": "this", "reason": "夫妻重复登记"})  # no search behind it
    assert alone.status_code == 422 and "请先查找并选择另一户" in alone.text and "勾选确认" in alone.text


def test_a_refused_member_move_keeps_the_households_found(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    from verifier.store.tables import Case

    home_case = make_case(ctx, stage="received", members=2, head_name="赵大")
    other_case = make_case(ctx, stage="received", members=1, head_name="钱二")
    with ctx.db.read() as session:
        home_hh = session.get(Case, home_case).household_id
        other = session.get(Case, other_case)
        other_hh, q = other.household_id, other.number[-4:]
    pages.as_("sup", "insurer_supervisor")
    refused = pages.post(f"/households/{home_hh}/move", {"case": home_case, "q": q, "reason": "结婚"})
    assert refused.status_code == 422 and f'value="{other_hh}"' in refused.text
    assert {"member", "to"} <= set(field_errors(refused.text)) and "结婚</textarea>" in refused.text


def test_a_sampling_rate_is_taken_as_the_table_beside_it_shows_it(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """The contracts' table under the fields shows rates as "5%"; typed so (or with a full-width ％) it used to be
    refused as not a decimal."""
    from factories import COUNTY

    from verifier.sampling.models import SamplingRound

    for town in ("城关镇", "南山镇"):
        make_case(ctx, stage="checked", town=town, village=f"{town}一村")
    pages.as_("rev1", "county_reviewer")
    period = {"county_code": COUNTY, "checked_from": "2020-05-01", "checked_to": "2020-06-30", "kind": "attribute"}
    refused = pages.post("/sampling", {**period, "tolerable_rate": "五%", "confidence": "95%"})
    assert refused.status_code == 422 and set(field_errors(refused.text)) == {"tolerable_rate"}
    assert 'value="五%"' in refused.text and 'value="95%"' in refused.text
    r = pages.post("/sampling", {**period, "tolerable_rate": "5%", "confidence": "９５％", "expected_rate": "0.01"})
    assert r.status_code == 303, field_errors(r.text)
    round_id = r.headers["location"].split("/")[-1].split("?")[0]
    with ctx.db.read() as session:
        row = session.get(SamplingRound, round_id)
        assert (row.tolerable_rate, row.confidence, row.expected_rate) == ("0.05", "0.95", "0.01")


def test_a_new_sampling_round_names_its_wrong_days_and_rates_at_once(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """开始新一轮抽样 with a day that does not exist and a rate in words said the day alone; the rate was refused
    only on the next send. Every wrong field is said at once: a day, a period backwards or without checks, and the
    rates, each beside its field, nothing opened."""
    from sqlalchemy import func, select

    from factories import COUNTY

    from verifier.sampling.models import SamplingRound

    make_case(ctx, stage="checked")
    pages.as_("rev-once", "county_reviewer")
    period = {"county_code": COUNTY, "checked_from": "2020-05-01", "checked_to": "2020-06-30", "kind": "attribute"}
    rates = {"tolerable_rate": "五%", "confidence": "1.5", "expected_rate": "0.01"}
    for days, wrong in (({"checked_from": "2020-13-01"}, "checked_from"),  # the page's own check of the day
                        ({"checked_from": "2020-07-01"}, "checked_to"),  # backwards: the service's check
                        ({"checked_from": "2019-01-01", "checked_to": "2019-01-31"}, "checked_from")):  # no checks
        r = pages.post("/sampling", {**period, **days, **rates})
        assert r.status_code == 422 and set(field_errors(r.text)) == {wrong, "tolerable_rate", "confidence"}, (
            days, field_errors(r.text))
        assert 'value="五%"' in r.text and 'value="1.5"' in r.text
    assert "2019-01-01 至 2019-01-31 期间，示范县（340223）没有完成入户核查的案件" in r.text  # not 案件不存在
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(SamplingRound)) == 0
    assert pages.post("/sampling", {**period, "tolerable_rate": "5%"}).status_code == 303


def test_an_objection_sent_again_is_kept_once(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    """The back button (the browser keeps what was typed) or a stale tab sends the same objection again: it used to
    be recorded twice, and the clerk had two objections to resolve. Another objection against the same household,
    or the same words on another day, is still a new one."""
    from sqlalchemy import func, select

    from verifier.notices.models import Objection

    a = make_case(ctx, stage="determined", village="东村", head_name="甲户主")
    pages.as_("clerk1", "town_clerk")
    today = clock.today().isoformat()
    assert pages.post(f"/cases/{a}/review", {"held_on": today, "result": "pass"}).status_code == 303
    r = pages.post("/notices/new", {"county_code": "340223", "town": "城关镇", "village": "东村", "posted_on": today})
    notice_url = r.headers["location"].split("?")[0]
    objection = {"case_id": a, "received_on": today, "summary": "家中有营运车辆", "raised_by": "neighbour"}
    first = pages.post(notice_url + "/objections", objection)
    assert first.status_code == 303 and first.headers["location"].endswith("?done=objection")
    again = pages.post(notice_url + "/objections", objection)
    assert again.status_code == 303 and again.headers["location"].endswith("?done=objection_already")
    assert "这条异议此前已登记" in pages.get(again.headers["location"]).text
    other = pages.post(notice_url + "/objections", {**objection, "summary": "家中有人在外务工"})
    assert other.status_code == 303 and other.headers["location"].endswith("?done=objection")
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Objection).where(Objection.case_id == a)) == 2


def test_a_new_password_too_short_and_typed_differently_is_told_both_at_once(pages, users) -> None:  # type: ignore[no-untyped-def]
    """Passwords are never shown again: each refusal means typing them all again, so every mistake is told at once."""
    pages.as_("clerk1", "town_clerk")
    r = pages.post("/account/password", {"current_password": "", "new_password": "short", "new_password_again": "shorty"})
    assert r.status_code == 422
    assert set(field_errors(r.text)) == {"current_password", "new_password", "new_password_again"}, field_errors(r.text)
    assert "8 个字符" in field_errors(r.text)["new_password"] and "short" not in r.text.split("<main")[1]

    other = users.add("fin9", "finance", counties=("340223",))
    pages.as_("admin1", "admin", counties=())
    r = pages.post(f"/users/{other}/password", {"password": "short", "password_again": "shorty"})
    assert r.status_code == 422 and set(field_errors(r.text)) == {"password", "password_again"}, field_errors(r.text)


def test_the_check_form_names_member_mistakes_with_the_amount_mistakes(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    """An ID number one digit short and a member without relation or labour were told only after the amounts were
    put right: two rounds of corrections at the door, on a phone."""
    from pagekit import FACTORY_PASSWORD, officers_of
    from test_web_officer import _form, good_check

    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    data = good_check(_form(case_id, pages), clock)
    short = data["members[1].id_number"][:17]
    data.update({"members[1].id_number": short, "members[1].relation": "", "members[1].labour": "",
                 "income.wages": "3000.123", "income.business_net": "12a0"})
    r = pages.post(f"/cases/{case_id}/check", data)
    assert r.status_code == 422
    errors = field_errors(r.text)
    assert set(errors) == {"members-1-id_number", "members-1-relation", "members-1-labour", "income-wages",
                           "income-business_net"}, errors
    assert errors["members-1-id_number"] == "应为 18 位，现为 17 位" and "两位小数" in errors["income-wages"]
    assert f'value="{short}"' in r.text and "门口核对了医疗票据</textarea>" in r.text


def test_the_check_form_opened_again_after_it_was_sent_shows_the_case(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    """The back button, or the form's address from the history, after the check was sent: it used to say the case
    was not assigned to the officer who had just checked it."""
    from pagekit import FACTORY_PASSWORD, officers_of
    from test_web_officer import _form, good_check

    case_id = make_case(ctx, stage="scheduled")
    first, second = officers_of(ctx, case_id)[:2]
    pages.login(first, FACTORY_PASSWORD)
    r = pages.post(f"/cases/{case_id}/check", good_check(_form(case_id, pages), clock))
    assert r.status_code == 303
    again = pages.get(f"/cases/{case_id}/check")
    assert again.status_code == 303 and again.headers["location"] == f"/cases/{case_id}?done=check_done"
    assert "入户核查已提交，无需再填写" in pages.get(again.headers["location"]).text
    pages.login(second, FACTORY_PASSWORD)  # the other officer of the visit too
    assert pages.get(f"/cases/{case_id}/check").headers["location"] == f"/cases/{case_id}?done=check_done"
    pages.as_("someone-else", "field_officer")
    assert pages.get(f"/cases/{case_id}/check").status_code == 404


def test_a_form_sent_after_the_login_ended_is_said_to_be_unsaved(pages, users) -> None:  # type: ignore[no-untyped-def]
    """Logged out in another tab (or timed out), a clerk sends a form: the login page used to appear as after any
    page, and once logged in again nothing said that what was sent had not been kept."""
    from pagekit import csrf_of

    token = csrf_of(pages.get("/login").text)
    r = pages.client.post("/places", data={"town": "城关镇", "village": "新村", "confirm": "yes", "_csrf_token": token},
                          headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fplaces&unsaved=1"
    login = pages.get(r.headers["location"]).text
    assert "没有保存" in login and 'value="/places"' in login
    assert "没有保存" not in pages.get("/login?next=%2Fplaces").text  # a page opened, not a form sent


def test_a_visit_attempt_sent_again_from_a_stale_tab_is_kept_once(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """The same 未能核查 sent from a second tab (or the form opened again with the back button) used to end on an
    English 403 page: "case '…' is not assigned to you"."""
    from sqlalchemy import func, select

    from door_kit import door_files
    from pagekit import FACTORY_PASSWORD, officers_of
    from verifier.store.tables import VisitAttempt

    case_id = make_case(ctx, stage="scheduled")
    first, second = officers_of(ctx, case_id)[:2]
    pages.login(first, FACTORY_PASSWORD)
    url = f"/cases/{case_id}/visit-attempt"
    form = pages.get(url).text
    visited_on = re.search(r'name="visited_on" value="([^"]+)"', form).group(1)
    sent = {"visited_on": visited_on, "outcome": "not_home", "note": ""}
    assert pages.post(url, sent, files=door_files(visited_on)).headers["location"] == "/visits?done=attempt"
    again = pages.post(url, sent, files=door_files(visited_on))
    assert again.status_code == 303 and again.headers["location"] == "/visits?done=attempt_already"
    assert "此前已登记（重复提交未再保存）" in pages.get(again.headers["location"]).text
    assert pages.get(url).headers["location"] == "/visits?done=attempt_already"
    pages.login(second, FACTORY_PASSWORD)  # the other officer at the door
    assert pages.get(url).headers["location"] == "/visits?done=attempt_already"
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(VisitAttempt)
                              .where(VisitAttempt.case_id == case_id)) == 1
    pages.as_("someone-else", "field_officer")
    refused = pages.post(url, sent)
    assert refused.status_code in (403, 404) and "未分配给您" in refused.text and "assigned" not in refused.text


def test_an_error_page_never_shows_a_service_message_in_english() -> None:
    from verifier.web.errors import _chinese

    assert _chinese("a message no table knows yet", 409) == "当前状态不允许此操作，请刷新页面查看最新情况。"
    assert _chinese("a message no table knows yet", 403) == "您不能进行此操作。"
    from verifier.checks.service import NOT_ASSIGNED

    assert _chinese(NOT_ASSIGNED, 403) == NOT_ASSIGNED and "只有派定的两名核查员" in NOT_ASSIGNED  # the rule says it


def test_an_objection_or_a_visit_attempt_with_a_bad_day_names_the_other_mistakes_too(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    from pagekit import FACTORY_PASSWORD, officers_of

    a = make_case(ctx, stage="determined", village="东村")
    pages.as_("clerk1", "town_clerk")
    today = clock.today().isoformat()
    assert pages.post(f"/cases/{a}/review", {"held_on": today, "result": "pass"}).status_code == 303
    r = pages.post("/notices/new", {"county_code": "340223", "town": "城关镇", "village": "东村", "posted_on": today})
    notice_url = r.headers["location"].split("?")[0]
    r = pages.post(notice_url + "/objections", {"case_id": "", "received_on": "", "summary": ""})
    assert r.status_code == 422 and set(field_errors(r.text)) == {"case_id", "received_on", "summary"}

    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    r = pages.post(f"/cases/{case_id}/visit-attempt", {"visited_on": "2020-02-30", "outcome": "other", "note": ""})
    assert r.status_code == 422 and set(field_errors(r.text)) == {"visited_on", "note"}, field_errors(r.text)


def test_a_refused_new_round_comes_back_over_the_rounds_list_as_it_was(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """The start form sits above the rounds list: sent from the list searched for 按金额, a typo in a day comes back
    with what was typed and over that same searched list (the form carries the list's status, search and page),
    not over every round while the address still says the search."""
    from html import unescape

    from factories import COUNTY

    for town in ("城关镇", "南山镇"):
        make_case(ctx, stage="determined", town=town, village=f"{town}一村")
    pages.as_("rev1", "county_reviewer")
    period = {"county_code": COUNTY, "checked_from": "2020-05-01", "checked_to": "2020-06-30"}
    for kind in ("attribute", "monetary"):
        r = pages.post("/sampling", {**period, "kind": kind})
        assert r.status_code == 303, field_errors(r.text)
    every = pages.get("/sampling").text.split('id="round-search"', 1)[1]
    assert "按户抽样" in every and "按金额抽样" in every
    searched = pages.get("/sampling", params={"q": "按金额"}).text
    start = re.search(r'<form method="post" action="/sampling".*?</form>', searched, re.S).group(0)
    carried = dict(re.findall(r'<input type="hidden" name="(status|q|page)" value="([^"]*)">', start))
    assert carried == {"status": "", "q": "按金额", "page": "1"}
    refused = pages.post("/sampling", {**carried, **period, "checked_from": "2020-13-01", "kind": "monetary",
                                       "tolerable_rate": "0.07"})
    assert refused.status_code == 422 and set(field_errors(refused.text)) == {"checked_from"}
    assert 'value="2020-13-01"' in refused.text and 'value="0.07"' in refused.text  # as typed
    rounds = refused.text.split('id="round-search"', 1)[1]
    assert 'name="q" value="按金额"' in rounds
    listed = [unescape(t) for t in re.findall(r'<a href="/sampling/smp_[^"]+"[^>]*>([^<]+)</a>', rounds)]
    assert listed and all("按金额抽样" in t for t in listed), listed
