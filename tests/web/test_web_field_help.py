"""Field help: the visit card shows the household's address and phone (in full, with a tel: link, only to the
officers at the door), overdue visits stand out and come first, evidence photos show as thumbnails, and the import
page offers a template with the Chinese headers and explains each column."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
from factories import make_case
from pagekit import FACTORY_PASSWORD, officers_of
from sqlalchemy import select

from verifier.referrals.template import COLUMNS
from verifier.store.tables import Case, Evidence, Household, Visit

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _set_phone(ctx, case_id: str, phone: str) -> None:  # type: ignore[no-untyped-def]
    with ctx.db.begin() as session:
        household = session.get(Household, session.get(Case, case_id).household_id)
        household.phone_enc = ctx.vault.seal(phone, "household.phone")


def test_the_visit_card_shows_address_phone_and_overdue_first(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    on_time = make_case(ctx, stage="scheduled", head_name="周一", town="城关镇", village="东村")
    late = make_case(ctx, stage="scheduled", head_name="吴二", town="南山镇", village="西村",
                     referred_on=clock.today() - timedelta(days=60))
    _set_phone(ctx, on_time, "13912345678")
    with ctx.db.read() as session:
        due = session.scalar(select(Visit.due_on).where(Visit.case_id == late, Visit.active.is_(True)))
    days = (clock.today() - due).days
    assert days > 0
    officer = officers_of(ctx, on_time)[0]
    pages.login(officer, FACTORY_PASSWORD)
    text = pages.get("/visits").text
    assert "地址：城关镇 东村" in text and '<a href="tel:13912345678">13912345678</a>' in text
    pages.login(officers_of(ctx, late)[0], FACTORY_PASSWORD)
    text = pages.get("/visits").text
    assert f"逾期 {days} 天" in text and "已超过核查期限" in text and "地址：南山镇 西村" in text and "未登记" in text

    # a reviewer reading the case sees the phone masked at most, never the full number
    pages.as_("rev1", "county_reviewer")
    assert "13912345678" not in pages.get(f"/cases/{on_time}").text


def test_overdue_visits_come_first_for_their_officers(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    cases = [make_case(ctx, stage="scheduled", head_name=f"冯{i}", referred_on=clock.today() - timedelta(days=d))
             for i, d in enumerate((3, 40, 70))]
    officer = officers_of(ctx, cases[0])[0]
    mine = [c for c in cases if officer in officers_of(ctx, c)]
    pages.login(officer, FACTORY_PASSWORD)
    text = pages.get("/visits").text
    with ctx.db.read() as session:
        dues = {c: session.scalar(select(Visit.due_on).where(Visit.case_id == c, Visit.active.is_(True)))
                for c in mine}
    order = sorted(mine, key=lambda c: dues[c])  # the most overdue (earliest due) first
    positions = [text.index(f'id="visit-{c}"') for c in order]
    overdue = [c for c in order if dues[c] < clock.today()]
    assert positions[:len(overdue)] == sorted(positions[:len(overdue)])
    assert all(text.index(f'id="visit-{c}"') < min((text.index(f'id="visit-{o}"') for o in mine if o not in overdue),
                                                  default=len(text)) for c in overdue)


def test_photos_show_as_thumbnails_through_the_evidence_path(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    from test_web_officer import _form, good_check
    data = good_check(_form(case_id, pages), clock)
    r = pages.post(f"/cases/{case_id}/check", data, files=[("photos", ("a.png", PNG, "image/png"))])
    assert r.status_code == 303
    with ctx.db.read() as session:
        sha = session.scalar(select(Evidence.sha256).where(Evidence.case_id == case_id))
    pages.as_("sup1", "insurer_supervisor")
    text = pages.get(f"/cases/{case_id}").text
    img = f'<img class="thumb" src="/cases/{case_id}/evidence/{sha}" loading="lazy"'
    assert img in text
    r = pages.get(f"/cases/{case_id}/evidence/{sha}")
    assert r.status_code == 200 and r.content == PNG
    pages.as_("clerk1", "town_clerk")  # no evidence reader: no thumbnail, and the file itself is refused
    assert img not in pages.get(f"/cases/{case_id}").text
    assert pages.get(f"/cases/{case_id}/evidence/{sha}").status_code in (403, 404)


def test_the_import_page_offers_a_template_and_explains_the_columns(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    pages.as_("sup1", "insurer_supervisor")
    text = pages.get("/referrals/import").text
    assert 'href="/referrals/import/template.xlsx"' in text and "各列的含义" in text
    assert all(f"<th>{c.header}</th>" in text for c in COLUMNS) and "因病、因灾 或 因学" in text
    r = pages.get("/referrals/import/template.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    headers = [c.value for c in book.worksheets[0][1]]
    assert headers == ["身份证号", "姓名", "乡镇", "村", "户类型", "原因", "金额", "日期", "家庭人口", "联系电话", "备注"]
    assert book.worksheets[0].max_row == 1 and book.sheetnames[1] == "填写说明"
    pages.as_("off1", "field_officer")
    assert pages.get("/referrals/import/template.xlsx").status_code in (403, 404)

    # filled in as it is, the template imports
    sheet = book.worksheets[0]
    from factories import new_id_number
    sheet.append([new_id_number(), "陈九", "城关镇", "东村", "非高标准脱贫户", "因病", "8000.00", "2020-05-20", "3",
                  "13700001111", ""])
    out = io.BytesIO()
    book.save(out)
    pages.as_("sup1", "insurer_supervisor")
    r = pages.post("/referrals/import", {"channel": "medical_insurance", "county_code": "340223"},
                   files=[("file", ("模板.xlsx", out.getvalue(), "application/octet-stream"))])
    assert r.status_code == 303, r.text[-2000:]
    assert "已导入 1 行" in pages.get(r.headers["location"]).text
