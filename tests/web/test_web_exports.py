"""Excel exports of the working lists (notices, payment batches and their items, a round's samples, audit entries):
opened with openpyxl, Chinese headers, money as numbers, accounts masked, filters applied, other counties refused."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

import openpyxl
from pagekit import OTHER_COUNTY
from sqlalchemy import select

from factories import COUNTY
from recheck_kit import post_recheck
from web import officekit  # one module however the test is reached (tests/insider imports it so too)
from sampling import sampling_helpers
from sampling.sampling_helpers import make_population

from verifier.documents.sheets import Money, Sheet, workbook
from verifier.payments.models import PaymentBatch, PaymentItem
from verifier.store.tables import Case

office, office_month = officekit.office, officekit.office_month  # the fixtures: the office built once, kept
rounds = sampling_helpers.rounds  # the fixture


def sheets(response: Any) -> dict[str, list[tuple[Any, ...]]]:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "attachment" in response.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def by_header(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    header = rows[0]
    return [dict(zip(header, row)) for row in rows[1:]]


def test_the_shared_writer_escapes_formulas_and_keeps_money_and_digits() -> None:
    content = workbook(Sheet("表", ["名称", "账号", "金额（元）", "件数"],
                             [["=HYPERLINK(\"http://x\")", "6222020200112233445", Money(123456), 3],
                              ["@SUM(A1)", "0012", Money(5), 0]]))
    ws = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("名称", "账号", "金额（元）", "件数")
    assert rows[1][0] == "'=HYPERLINK(\"http://x\")" and rows[2][0] == "'@SUM(A1)"
    assert rows[1][1] == "6222020200112233445" and rows[2][1] == "0012"  # text: no digit lost
    assert Decimal(str(rows[1][2])) == Decimal("1234.56") and rows[2][3] == 0
    assert ws.cell(row=2, column=3).number_format == "#,##0.00"
    assert all(ws.cell(row=r, column=1).data_type == "s" for r in (2, 3))


def test_notices_export_lists_each_notice_and_its_households_with_the_status_filter(office, pages, users,  # type: ignore[no-untyped-def]
                                                                                  client) -> None:
    pages.as_("clerk-x", "town_clerk")
    listing = pages.get("/notices").text
    assert 'href="/notices/export.xlsx"' in listing
    every = sheets(pages.get("/notices/export.xlsx"))
    notices, households = by_header(every["公示"]), by_header(every["公示名单"])
    assert every["公示"][0][:3] == ("文号", "公示标题", "县（区）")
    assert len(notices) == 3 and {n["状态"] for n in notices} == {"公示中", "已结束"}
    assert len(households) == sum(n["户数"] for n in notices) == 5
    assert {h["户主"] for h in households} >= {"王东一", "李西二", "赵北三"}
    assert all(isinstance(h["救助金额（元）"], (int, float)) and h["户主"] for h in households)
    assert sum(Decimal(str(n["救助金额合计（元）"])) for n in notices) == sum(
        Decimal(str(h["救助金额（元）"])) for h in households)
    open_only = sheets(pages.get("/notices/export.xlsx?status=open"))
    assert {n["状态"] for n in by_header(open_only["公示"])} == {"公示中"} and len(open_only["公示"]) == 2
    assert "/notices/export.xlsx?status=open" in pages.get("/notices?status=open").text
    users.add("clerk-api", "town_clerk", counties=(COUNTY,))
    api = sheets(client.get("/api/notices/export.xlsx?status=closed", headers=users.headers("clerk-api")))
    assert {n["状态"] for n in by_header(api["公示"])} == {"已结束"} and len(api["公示名单"]) == 4


def test_batch_exports_mask_accounts_and_keep_amounts_as_numbers(ctx, office, pages, users, client) -> None:  # type: ignore[no-untyped-def]
    batch_id = office.released_batch
    with ctx.db.read() as session:
        code = session.get(PaymentBatch, batch_id).code
        amounts = {i.reference: i.amount for i in session.scalars(
            select(PaymentItem).where(PaymentItem.batch_id == batch_id))}
    pages.as_("fin-x", "finance")
    assert f'href="/payments/{batch_id}/items.xlsx"' in pages.get(f"/payments/{batch_id}").text
    items = by_header(sheets(pages.get(f"/payments/{batch_id}/items.xlsx"))["支付明细"])
    assert len(items) == len(amounts)
    assert list(items[0])[:8] == ["批次", "序号", "案件", "户主", "收款人", "开户银行", "账号", "金额（元）"]
    for row in items:
        assert re.fullmatch(r"\*+\d{4}", row["账号"]), row["账号"]  # masked: the last four digits only
        assert isinstance(row["金额（元）"], (int, float)) and row["户主"]
        assert re.fullmatch(r"340223-\d{4}-\d{6}", row["案件"]), row["案件"]  # the case number, not its id
        assert row["状态"] == "已发送银行"
    assert {r["户主"] for r in items} >= {"李西二"}
    total = sum(Decimal(str(r["金额（元）"])) for r in items)
    assert total == Decimal(sum(amounts.values())) / 100
    assert {r["批次"] for r in items} == {code}

    # The list export takes the page's filters: the prepared batch only, with its items.
    everything = sheets(pages.get("/payments/export.xlsx"))
    assert len(everything["支付批次"]) == 3  # header + the two batches
    assert len(everything["支付明细"]) == 4  # header + 西村's two items + 北村's one
    prepared = sheets(pages.get("/payments/export.xlsx?status=prepared"))
    batches = by_header(prepared["支付批次"])
    assert [b["状态"] for b in batches] == ["待审批"]
    assert {r["批次"] for r in by_header(prepared["支付明细"])} == {batches[0]["批次"]}
    assert "/payments/export.xlsx?status=prepared" in pages.get("/payments?status=prepared").text

    # The API serves the same file to a bearer token.
    users.add("fin-api", "finance", counties=("340223",))
    api = sheets(client.get(f"/api/payment-batches/{batch_id}/items.xlsx", headers=users.headers("fin-api")))
    assert len(api["支付明细"]) == len(amounts) + 1
    assert client.get("/api/payment-batches/export.xlsx?status=prepared",
                      headers=users.headers("fin-api")).status_code == 200


def test_another_countys_batch_round_and_entries_are_refused(ctx, office, pages, users, client, rounds,  # type: ignore[no-untyped-def]
                                                             other_county) -> None:
    batch_id = office.released_batch
    make_population(ctx, {"城关镇": 2})
    round_id = rounds.create()["id"]
    users.add("fin-far", "finance", counties=(OTHER_COUNTY,))
    users.add("rev-far", "county_reviewer", counties=(OTHER_COUNTY,))
    assert client.get(f"/api/payment-batches/{batch_id}/items.xlsx",
                      headers=users.headers("fin-far")).status_code == 404
    assert client.get(f"/api/sampling-rounds/{round_id}/samples.xlsx",
                      headers=users.headers("rev-far")).status_code == 404
    far = sheets(client.get("/api/payment-batches/export.xlsx", headers=users.headers("fin-far")))
    assert len(far["支付批次"]) == 1 and len(far["支付明细"]) == 1  # headers only
    # nothing of the other county; only its county reviewer's acceptance of its contract and the far finance
    # officer's own download, logged in their county
    far_entries = sheets(client.get("/api/audit/entries.xlsx", headers=users.headers("rev-far")))["审计日志"][1:]
    assert [(row[2], row[4]) for row in far_entries] == [("县复核 合同确认", "县级复核员确认服务合同"),
                                                         ("fin-far", "导出表格")]
    assert far_entries[-1][5:7] == ("支付批次", "payment_batches")
    pages.login("fin-far")
    assert pages.get(f"/payments/{batch_id}/items.xlsx").status_code == 404
    # Roles: an officer reads no batch; a clerk reads no audit log.
    users.add("officer-x", "field_officer", counties=("340223",))
    assert client.get(f"/api/payment-batches/{batch_id}/items.xlsx",
                      headers=users.headers("officer-x")).status_code == 403
    assert client.get("/api/audit/entries.xlsx", headers=users.headers("officer-x")).status_code == 403


def test_samples_export_shows_each_sampled_case_with_its_result_and_deviation(ctx, pages, rounds, users,  # type: ignore[no-untyped-def]
                                                                             client) -> None:
    make_population(ctx, {"城关镇": 4, "河口镇": 4})
    round_id = rounds.create()["id"]
    rounds.draw(round_id)
    pages.login("reviewer")
    case_ids = re.findall(r'id="result-(case_[^"]+)"', pages.get(f"/sampling/{round_id}").text)
    assert case_ids
    saved = post_recheck(pages, ctx, f"/sampling/{round_id}", {"case_id": case_ids[0], "per_capita_income": "99999.00",
                                                         "eligible": "no", "relief_amount": "0.00", "note": "收入有误"})
    assert saved.status_code == 303, saved.text[:300]
    assert f'href="/sampling/{round_id}/samples.xlsx"' in pages.get(f"/sampling/{round_id}").text
    rows = by_header(sheets(pages.get(f"/sampling/{round_id}/samples.xlsx"))["抽样复核样本"])
    assert len(rows) >= len(case_ids)
    with ctx.db.read() as session:
        number = session.get(Case, case_ids[0]).number
    assert all(re.fullmatch(r"\d{6}-\d{4}-\d{6}", r["案件"]) for r in rows)  # case numbers, not internal ids
    done = next(r for r in rows if r["案件"] == number)
    assert done["复核结论"] == "不符合条件" and done["偏差"] == "有偏差" and "认定结论不一致" in done["偏差原因"]
    assert Decimal(str(done["复核人均纯收入（元）"])) == Decimal("99999.00")
    assert done["复核人"] and isinstance(done["原人均纯收入（元）"], (int, float))
    assert any(r["复核结论"] == "待复核" for r in rows)
    api = client.get(f"/api/sampling-rounds/{round_id}/samples.xlsx", headers=users.headers("reviewer"))
    assert len(sheets(api)["抽样复核样本"]) == len(rows) + 1


def test_audit_export_has_local_times_names_and_chinese_actions_within_the_chosen_days(ctx, office, pages,  # type: ignore[no-untyped-def]
                                                                                       users, client) -> None:
    pages.as_("aud-x", "auditor", counties=())  # every county, and the entries of none (users, contracts)
    page = pages.get("/audit").text
    assert 'action="/audit/export.xlsx"' in page
    rows = by_header(sheets(pages.get("/audit/export.xlsx"))["审计日志"])
    assert rows and list(rows[0]) == ["序号", "时间（北京时间）", "经办人", "角色", "事项", "对象", "对象编号", "县（区）"]
    assert all(not str(r["经办人"]).startswith("usr_") for r in rows)
    # 对象 as the audit page names it (a case by its number, a batch by its code, an export by its list), the
    # internal id beside it: the column once held only ids and codes (case_…, pb_…, payment_batches)
    assert not [r["对象"] for r in rows if re.match(r"(case|pb|ntc|smp|usr)_|[a-z]+(_[a-z]+)+$", str(r["对象"] or ""))]
    cases = [r for r in rows if str(r["对象编号"]).startswith("case_")]
    assert cases and all(re.fullmatch(r"\d{6}-\d{4}-\d{6}", r["对象"]) for r in cases)
    with ctx.db.read() as session:
        codes = dict(session.execute(select(PaymentBatch.id, PaymentBatch.code)).tuples().all())
    batches = {r["对象编号"]: r["对象"] for r in rows if str(r["对象编号"]).startswith("pb_")}
    assert batches and batches == {b: f"支付批次 {codes[b]}" for b in batches}
    again = by_header(sheets(pages.get("/audit/export.xlsx"))["审计日志"])
    assert {"对象": "审计日志", "对象编号": "audit_entries"}.items() <= again[-1].items()
    assert any(r["事项"] == "审批支付批次" for r in rows)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", r["时间（北京时间）"]) for r in rows)
    # The fixed clock stands at 02:00 UTC: 10:00 in Beijing.
    assert rows[-1]["时间（北京时间）"].endswith("10:00")
    only = by_header(sheets(pages.get("/audit/export.xlsx?action=payment_batch.approve"))["审计日志"])
    assert only and {r["事项"] for r in only} == {"审批支付批次"}
    day = rows[-1]["时间（北京时间）"][:10]
    assert by_header(sheets(pages.get(f"/audit/export.xlsx?from={day}&to={day}"))["审计日志"])
    before = by_header(sheets(pages.get("/audit/export.xlsx?to=2000-01-01"))["审计日志"])
    assert before == []
    bad = pages.get("/audit/export.xlsx?from=2020-06-02&to=2020-06-01")
    assert bad.status_code == 422 and "结束日期不能早于开始日期" in bad.text
    # A reviewer limited to a county reads only its entries (entries of no county stay out).
    users.add("rev-api", "county_reviewer", counties=(COUNTY,))
    scoped = by_header(sheets(client.get("/api/audit/entries.xlsx", headers=users.headers("rev-api")))["审计日志"])
    assert scoped and {r["县（区）"] for r in scoped} == {"340223"}
    assert len(scoped) < len(rows)


def test_the_audit_export_form_starts_from_the_lists_filters(office, pages) -> None:  # type: ignore[no-untyped-def]
    """事项 and 查找 chosen on the list: the export form holds them, and its one click exports what the list shows."""
    from html import unescape

    pages.as_("aud-f", "auditor", counties=())

    def listed(html: str) -> list[int]:
        table = html.split('id="entry-list"', 1)[1]
        return [int(n) for n in re.findall(r'<td class="num"><a href="/audit\?index=(\d+)[^"]*">', table)]

    def export_form(html: str) -> dict[str, str]:
        form = re.search(r'<form method="get" action="/audit/export.xlsx".*?</form>', html, re.S).group(0)
        fields = {k: unescape(v) for k, v in re.findall(r'name="(\w+)" value="([^"]*)"', form)}
        chosen = re.search(r'<select id="f-action" name="action">.*?</select>', form, re.S).group(0)
        picked = re.findall(r'<option value="([^"]*)" selected>', chosen)
        return {**fields, "action": picked[0] if picked else ""}

    approvals = pages.get("/audit", params={"action": "payment_batch.approve"}).text
    batch = re.search(r'<span class="mono small">(pb_[^<]+)</span>', approvals).group(1)
    page = pages.get("/audit", params={"action": "", "q": batch}).text  # every step of one batch
    shown = listed(page)
    assert len(shown) > 1 and len(shown) < len(listed(pages.get("/audit").text))
    form = export_form(page)
    assert form == {"from": "", "to": "", "action": "", "q": batch}
    exported = by_header(sheets(pages.get("/audit/export.xlsx", params=form))["审计日志"])
    assert sorted(r["序号"] for r in exported) == sorted(shown)  # the very rows the list shows

    page = pages.get("/audit", params={"action": "payment_batch.approve", "q": batch}).text
    form = export_form(page)
    assert form == {"from": "", "to": "", "action": "payment_batch.approve", "q": batch}
    exported = by_header(sheets(pages.get("/audit/export.xlsx", params=form))["审计日志"])
    assert sorted(r["序号"] for r in exported) == sorted(listed(page)) and len(exported) == 1

    # an entry opened from the list: shown above that same list, its export form still filled from it
    entry = unescape(re.search(r'<td class="num"><a href="(/audit\?index=[^"]+)">', page).group(1))
    opened = pages.get(entry).text
    assert 'id="entry-summary"' in opened and listed(opened) == listed(page) and export_form(opened) == form
    lookup = re.search(r'<form method="get" action="/audit" class="panel filters" hx-get.*?</form>', opened, re.S)
    assert dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', lookup.group(0))) == {
        "action": "payment_batch.approve", "q": batch}

    # a bad day keeps both the list's filters and the form as typed
    bad = pages.get("/audit/export.xlsx", params={**form, "from": "2020-13-01"})
    assert bad.status_code == 422 and export_form(bad.text)["q"] == batch
    assert listed(bad.text) == listed(page) and 'name="q" value="%s"' % batch in bad.text.split('id="entries"')[1]


def test_notices_export_holds_what_the_list_shows_its_search_and_the_wall_filter(office, pages, users,  # type: ignore[no-untyped-def]
                                                                                client) -> None:
    pages.as_("clerk-x", "town_clerk")
    listing = pages.get("/notices?q=西村").text
    assert "西村" in listing and "东村" not in listing
    link = re.search(r'href="(/notices/export\.xlsx[^"]*)"', listing).group(1).replace("&amp;", "&")
    assert "q=" in link  # the link carries the search
    found = by_header(sheets(pages.get(link))["公示"])
    assert [n["村"] for n in found] == ["西村"]
    assert {n["村"] for n in by_header(sheets(pages.get("/notices/export.xlsx?q=北村&status=closed"))["公示"])} == {
        "北村"}
    # 张贴待第二人确认: the notices the page lists under it, and no others.
    waiting = pages.get("/notices?posting=unconfirmed").text
    link = re.search(r'href="(/notices/export\.xlsx[^"]*)"', waiting).group(1).replace("&amp;", "&")
    assert "posting=unconfirmed" in link
    shown = set(re.findall(r'<a href="/notices/[^"/]+">城关镇(.)村</a>', waiting))
    exported = {n["村"][0] for n in by_header(sheets(pages.get(link))["公示"])}
    assert exported == shown and len(exported) < 3
    users.add("clerk-api", "town_clerk", counties=(COUNTY,))  # the API takes the same filters
    api = sheets(client.get("/api/notices/export.xlsx", params={"q": "西村"}, headers=users.headers("clerk-api")))
    assert [n["村"] for n in by_header(api["公示"])] == ["西村"]


def test_batches_export_holds_what_the_list_shows_its_todo_and_search(ctx, office, pages) -> None:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        code = session.get(PaymentBatch, office.released_batch).code
    pages.as_("fin-x", "finance")
    waiting = pages.get("/payments?todo=approve").text
    link = re.search(r'href="(/payments/export\.xlsx[^"]*)"', waiting).group(1).replace("&amp;", "&")
    assert "todo=approve" in link
    batches = by_header(sheets(pages.get(link))["支付批次"])
    assert [b["状态"] for b in batches] == ["待审批"]
    searched = pages.get(f"/payments?q={code.lower()}").text
    assert code in searched
    link = re.search(r'href="(/payments/export\.xlsx[^"]*)"', searched).group(1).replace("&amp;", "&")
    found = sheets(pages.get(link))
    assert [b["批次"] for b in by_header(found["支付批次"])] == [code]
    assert {r["批次"] for r in by_header(found["支付明细"])} == {code}
    assert all(re.fullmatch(r"\*+\d{4}", r["账号"]) for r in by_header(found["支付明细"]))  # masked as before
    # A batch's own items export is the whole batch (the bank's file is reconciled against it), and says so.
    batch_page = pages.get(f"/payments/{office.released_batch}", params={"q": "李西二"}).text
    assert 'id="items-export-scope"' in batch_page and "不按查找筛选" in batch_page
