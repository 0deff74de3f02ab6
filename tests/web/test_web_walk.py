"""What a walk through every role's everyday pages found (README "Walked again: …"): the field officer's home counts
overdue visits as the visits page groups them; the browser's own request for /favicon.ico finds the icon."""

from __future__ import annotations

import re
from datetime import timedelta

from factories import make_case
from pagekit import FACTORY_PASSWORD, officers_of


def _cards(html: str) -> dict[str, int]:
    return {t: int(n) for n, t in re.findall(r'<div class="count">(\d+)</div>\s*<div class="title">([^<]+)</div>',
                                               html)}


def test_the_officer_home_counts_a_visit_past_its_due_date_as_overdue(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from verifier.store.tables import Visit

    past_due = make_case(ctx, stage="scheduled", head_name="周逾期")
    today = clock.today()
    with ctx.db.begin() as session:  # planned for a day after its due date (the demo's case 周文军 is such a one)
        session.execute(update(Visit).where(Visit.case_id == past_due, Visit.active.is_(True))
                        .values(visit_on=today + timedelta(days=2), due_on=today - timedelta(days=5)))
    officer = officers_of(ctx, past_due)[0]
    pages.login(officer, FACTORY_PASSWORD)
    visits = pages.get("/visits").text
    assert "已超过核查期限" in visits and "逾期 5 天" in visits
    cards = _cards(pages.get("/").text)
    assert cards["逾期未核查"] == 1 and cards["之后的走访"] == 0 and cards["今天的走访"] == 0


def test_the_browser_finds_its_icon_at_favicon_ico(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/favicon.ico", follow_redirects=False)
    assert r.status_code in (301, 302, 307, 308)
    icon = client.get(r.headers["location"])
    assert icon.status_code == 200 and "svg" in icon.headers["content-type"]


def test_a_notice_refuses_an_objection_phone_nobody_can_dial_and_keeps_what_was_typed(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from verifier.notices.models import Notice

    case_id = make_case(ctx, stage="determined", village="东村", head_name="甲户主")
    pages.as_("clerk1", "town_clerk")
    today = clock.today().isoformat()
    pages.post(f"/cases/{case_id}/review", {"held_on": today, "result": "pass"})
    typed = {"county_code": "340223", "town": "城关镇", "village": "东村", "posted_on": today,
             "objection_place": "城关镇民政办", "number": "城政〔2026〕12号"}
    for wrong, said in (("0551-abc", "电话号码只能填写数字和短横线"), ("1380000", "手机号应为以 1 开头的 11 位数字"),
                        ("0556-12", "固定电话应为含区号的 7 至 12 位数字")):
        r = pages.post("/notices/new", {**typed, "objection_phone": wrong})
        assert r.status_code == 422 and said in r.text, wrong
        field = r.text.split('id="f-objection_phone"')[1].split("</div>")[0]
        assert said in field  # beside its field
        assert "<details open>" in r.text  # the part of the form that holds it is open
        assert 'value="城关镇民政办"' in r.text and 'value="城政〔2026〕12号"' in r.text
    with ctx.db.read() as session:
        assert session.scalar(select(Notice.id)) is None  # nothing half-written
    # a landline typed with a full-width input method, and the national hotline, are taken
    r = pages.post("/notices/new", {**typed, "objection_phone": "０５５６－１２３４５６７"})
    assert r.status_code == 303
    with ctx.db.read() as session:
        assert session.scalar(select(Notice.objection_phone)) == "0556-1234567"


def test_a_hotline_is_a_phone_on_the_wall_but_not_a_household_phone() -> None:
    import pytest

    from verifier.domain.cell_values import BadCell, phone_text

    assert phone_text("12317", hotline=True) == "12317"
    assert phone_text("+86 138 0013 8000") == "13800138000"
    with pytest.raises(BadCell):
        phone_text("12317")
    with pytest.raises(BadCell):
        phone_text("1231", hotline=True)


def test_a_day_the_calendar_has_not_is_told_as_such_not_as_a_wrong_format() -> None:
    from verifier.domain.errors import FieldError
    from verifier.web import labels
    from verifier.web.common import parse_day

    for typed, said in (("2026/2/30", "没有这一天：2026年2月30日，请核对月份和日期"),
                        ("２０２６年１３月１日", "没有这一天：2026年13月1日，请核对月份和日期"),
                        ("20260431", "没有这一天：2026年4月31日，请核对月份和日期"),
                        ("0000-01-01", "没有这一天：0000年1月1日，请核对月份和日期"),
                        ("0202/2/30", "没有这一天：0202年2月30日，请核对月份和日期"),
                        ("12/05/2026", "日期格式应为 年-月-日，如 2026-12-05 或 2026年12月5日")):
        problems: list[FieldError] = []
        assert parse_day(typed, "done_on", problems) is None
        assert [(p.field, labels.message_zh(p.message)) for p in problems] == [("done_on", said)], typed
    problems = []
    assert str(parse_day("2028/2/29", "done_on", problems)) == "2028-02-29" and problems == []



def test_a_day_box_with_one_day_to_take_says_only_that_day() -> None:
    from litestar.plugins.jinja import JinjaTemplateEngine

    from verifier.web.common import FormState
    from verifier.web.templating import TEMPLATE_DIR, _register

    engine = JinjaTemplateEngine(directory=TEMPLATE_DIR)
    _register(engine)
    box = engine.engine.from_string('{% import "_forms.html" as f %}{{ f.day(form, "done_on", "回访日期", min=a, max=b) }}')
    one = box.render(form=FormState(), a="2026-12-05", b="2026-12-05")
    assert "只能填 2026-12-05" in one and "至" not in one.split("只能填")[1].split("；")[0]
    assert "可填 2026-12-04 至 2026-12-05" in box.render(form=FormState(), a="2026-12-04", b="2026-12-05")
