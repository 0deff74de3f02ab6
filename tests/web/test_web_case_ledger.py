"""案件台账: the case list as xlsx, every matching case (not one page), masked for every role, scoped to the
caller's counties, formula-safe, amounts as numbers."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
from caselist_helpers import members_of, number_of
from factories import make_case, new_id_number, staff
from pagekit import FACTORY_PASSWORD, officers_of
from sqlalchemy import select, update

from verifier.cases.ledger import HEADERS
from verifier.domain.masking import mask_id
from verifier.referrals.service import import_file
from verifier.store.tables import Case, Household


def sheet(content: bytes):  # type: ignore[no-untyped-def]
    wb = openpyxl.load_workbook(io.BytesIO(content))
    assert wb.sheetnames == ["案件台账"]
    ws = wb["案件台账"]
    assert [c.value for c in ws[1]] == list(HEADERS) and ws.freeze_panes == "A2"
    return ws


def rows_of(ws) -> list[dict]:  # type: ignore[no-untyped-def]
    return [dict(zip(HEADERS, r)) for r in ws.iter_rows(min_row=2, values_only=True)]


def test_the_ledger_has_every_matching_case_with_the_office_columns(pages, ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from verifier.web import cases as case_pages

    monkeypatch.setattr(case_pages, "PAGE_SIZE", 1)  # the page shows one; the ledger has all
    paid = make_case(ctx, stage="determined", head_name="欧阳修远", referred_on=date(2020, 5, 25))
    late = make_case(ctx, stage="received", head_name="司马光明", referred_on=date(2020, 5, 1))
    make_case(ctx, stage="received", head_name="别类丙", cause="disaster")
    pages.as_("clerk1", "town_clerk")
    html = pages.get("/cases", params={"cause": "illness", "sort": "-received"}).text
    assert 'href="/cases/ledger.xlsx?cause=illness&amp;sort=-received"' in html
    r = pages.get("/cases/ledger.xlsx", params={"cause": "illness", "sort": "-received"})
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert unquote(r.headers["content-disposition"]).endswith("案件台账-340223-2020-06-01.xlsx")
    assert r.headers["cache-control"] == "no-store"
    ws = sheet(r.content)
    got = rows_of(ws)
    assert [g["案件编号"] for g in got] == [number_of(ctx, paid), number_of(ctx, late)]
    first, second = got
    head_id = members_of(ctx, paid)[0][2]
    assert first["户主"] == "欧阳修远" and first["证件号"] == mask_id(head_id) and first["证件号"] != head_id
    assert (first["乡镇"], first["村"], first["致贫原因"], first["户类型"], first["状态"]) == (
        "城关镇", "东村", "因病", "非高标准脱贫户", "已认定")
    assert first["受理日期"] == datetime(2020, 5, 25) and first["核查期限"] == datetime(2020, 6, 4)
    assert first["核查日期"] == datetime(2020, 6, 1) and first["是否逾期"] == "否" and first["认定结果"] == "符合"
    assert isinstance(first["救助金额"], (int, float)) and Decimal(str(first["救助金额"])) > 0
    amount_cell = ws.cell(row=2, column=HEADERS.index("救助金额") + 1)
    assert amount_cell.data_type == "n" and amount_cell.number_format == "#,##0.00"
    assert first["发放状态"] is None
    assert second["核查日期"] is None and second["是否逾期"] == "是" and second["救助金额"] is None
    assert second["认定结果"] is None


def test_the_ledger_is_masked_for_every_role_even_the_officer_at_the_door(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled", head_name="欧阳修远")
    head_id = members_of(ctx, case_id)[0][2]
    officer = officers_of(ctx, case_id)[0]
    pages.login(officer, FACTORY_PASSWORD)
    assert head_id in pages.get(f"/cases/{case_id}").text  # at the door: the full number on the case page
    for who in (officer, "clerk1", "super1", "audit1"):
        if who != officer:
            pages.as_(who, {"clerk1": "town_clerk", "super1": "insurer_supervisor", "audit1": "auditor"}[who])
        for q in ("", head_id):  # a search by the full number unmasks nothing either
            got = rows_of(sheet(pages.get("/cases/ledger.xlsx", params={"q": q}).content))
            assert [g["证件号"] for g in got] == [mask_id(head_id)], who
    # every download is in the audit log: who, the filters, the file's hash; never the searched ID number
    import hashlib
    import json

    from verifier.audit.models import AuditEntry

    content = pages.get("/cases/ledger.xlsx", params={"q": head_id, "status": "scheduled"}).content
    with ctx.db.read() as session:
        logged = [json.loads(e) for e in session.scalars(select(AuditEntry.entry).where(
            AuditEntry.action == "export.spreadsheet").order_by(AuditEntry.idx))]
    assert len(logged) == 9 and head_id not in json.dumps(logged, ensure_ascii=False)
    assert logged[-1]["payload"]["file_sha256"] == hashlib.sha256(content).hexdigest()
    assert logged[-1]["payload"]["filters"] == {"status": "scheduled", "sort": "number", "searched": True}
    assert logged[-1]["payload"]["what"] == "case_ledger" and logged[-1]["actor"] == pages.users.ids["audit1"]


def test_the_ledger_keeps_to_the_callers_counties(pages, ctx, other_county) -> None:  # type: ignore[no-untyped-def]
    ours = make_case(ctx, stage="received", head_name="本县甲")
    theirs = make_case(ctx, stage="received", head_name="外县乙", county=other_county)
    their_id = members_of(ctx, theirs)[0][2]
    pages.as_("clerk1", "town_clerk")
    assert [g["户主"] for g in rows_of(sheet(pages.get("/cases/ledger.xlsx").content))] == ["本县甲"]
    assert rows_of(sheet(pages.get("/cases/ledger.xlsx", params={"q": their_id}).content)) == []
    pages.as_("both", "county_reviewer", counties=("340223", other_county))
    r = pages.get("/cases/ledger.xlsx")
    assert {g["案件编号"] for g in rows_of(sheet(r.content))} == {number_of(ctx, ours), number_of(ctx, theirs)}
    assert f"340223-{other_county}" in unquote(r.headers["content-disposition"])
    h = pages.users.headers("clerk1")
    r = pages.client.get("/api/cases/ledger.xlsx", headers=h)
    assert r.status_code == 200 and [g["户主"] for g in rows_of(sheet(r.content))] == ["本县甲"]
    assert pages.client.get("/api/cases/ledger.xlsx").status_code == 401


def test_text_that_a_spreadsheet_would_run_stays_text(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="received")
    with ctx.db.begin() as session:
        hh = session.scalar(select(Case.household_id).where(Case.id == case_id))
        session.execute(update(Household).where(Household.id == hh).values(head_name='=HYPERLINK("http://x","y")'))
        session.execute(update(Case).where(Case.id == case_id).values(village="@SUM(1)"))
    pages.as_("clerk1", "town_clerk")
    ws = sheet(pages.get("/cases/ledger.xlsx").content)
    row = rows_of(ws)[0]
    assert row["户主"] == '\'=HYPERLINK("http://x","y")' and row["村"] == "'@SUM(1)"
    assert all(c.data_type == "s" for c in ws[2] if isinstance(c.value, str))


def test_a_few_thousand_cases_export_whole(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["身份证号", "姓名", "乡镇", "村", "户类型", "原因", "金额", "日期"])
    for i in range(2200):
        ws.append([new_id_number(), f"户{i}", "城关镇", "东村", "非贫低收入户", "因病", 100, date(2020, 5, 3)])
    out = io.BytesIO()
    wb.save(out)
    s = staff(ctx)
    with ctx.db.begin() as session:
        import_file(session, vault=ctx.vault, source=io.BytesIO(out.getvalue()), filename="f.xlsx",
                    channel="civil_affairs", county_code="340223", principal=s.supervisor, role="insurer_supervisor",
                    clock=ctx.clock)
    users.add("clerk1", "town_clerk", counties=("340223",))
    r = client.get("/api/cases/ledger.xlsx", params={"sort": "-number"}, headers=users.headers("clerk1"))
    assert r.status_code == 200
    got = [row[0] for row in sheet(r.content).iter_rows(min_row=2, values_only=True)]
    assert len(got) == 2200 and got[0] == "340223-2020-002200" and got[-1] == "340223-2020-000001"
