"""The case list and the case page: filters, paging, everything about a case, masking, roles and counties."""

from __future__ import annotations

import re

from factories import make_case
from pagekit import FACTORY_PASSWORD, officers_of

from verifier.web import cases as case_pages


def test_the_list_filters_by_status_village_and_cause(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    east = make_case(ctx, stage="received", village="东村", head_name="东村甲")
    west = make_case(ctx, stage="received", village="西村", head_name="西村乙")
    done = make_case(ctx, stage="determined", village="东村", head_name="东村丙")
    pages.as_("clerk1", "town_clerk")
    text = pages.get("/cases").text
    assert all(n in text for n in ("东村甲", "西村乙", "东村丙")) and "已接收" in text and "已认定" in text
    text = pages.get("/cases?status=received").text
    assert "东村甲" in text and "西村乙" in text and "东村丙" not in text
    text = pages.get("/cases?village=东村").text
    assert "东村甲" in text and "东村丙" in text and "西村乙" not in text
    assert "东村甲" not in pages.get("/cases?cause=disaster").text
    assert "没有符合条件的案件" in pages.get("/cases?cause=schooling").text
    assert {east, west, done} <= set(re.findall(r'href="/cases/(case_\w+)"', pages.get("/cases").text))


def test_the_list_pages_on(pages, ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(case_pages, "PAGE_SIZE", 2)
    ids = [make_case(ctx, stage="received") for _ in range(3)]  # numbered in this order
    pages.as_("clerk1", "town_clerk")
    first = pages.get("/cases?status=received").text
    assert list(dict.fromkeys(re.findall(r'href="/cases/(case_\w+)"', first))) == ids[:2]
    assert "共 3 条" in first
    more = re.search(r'href="([^"]*page=2[^"]*)" rel="next">下一页', first)
    assert more and "status=received" in more.group(1)
    second = pages.get(more.group(1).replace("&amp;", "&")).text
    assert list(dict.fromkeys(re.findall(r'href="/cases/(case_\w+)"', second))) == ids[2:]
    assert "下一页" not in second and "上一页" in second


def test_htmx_filtering_gets_the_same_page(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    make_case(ctx, stage="received", head_name="东村甲")
    pages.as_("clerk1", "town_clerk")
    r = pages.get("/cases?status=received", headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'id="results"' in r.text and "东村甲" in r.text


def test_the_case_page_shows_everything_masked(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="determined", medical=4_200_000, wages=800_000, members=3, head_name="王建国")
    text = pages.as_("sup1", "insurer_supervisor").get(f"/cases/{case_id}").text
    for expected in ("王建国户", "已认定", "农户申请", "走访安排", "入户核查", "部门比对", "医保部门", "一致", "认定结果",
                     "符合条件", "42,000.00", "8,000.00", "人均纯收入", "办理记录", "初筛通过", "录入入户核查",
                     "认定符合条件", "尚未评议", "尚未公示", "村级评议"):
        assert expected in text, expected
    # ID numbers 6+4, the bank account to its last 4 digits
    ids = re.findall(r'<td class="mono">([0-9X*]{18})</td>', text)
    assert ids and all(re.fullmatch(r"\d{6}\*{8}[0-9X]{4}", i) for i in ids)
    assert "6222020200112233445" not in text and "***************3445" in text
    # the band breakdown, money right-aligned
    assert "超过起付线部分" in text and "以上" in text
    assert re.search(r'<td class="num">50%</td>', text) and re.search(r'<td class="num">\d[\d,]*\.\d\d</td>', text)


def test_the_assigned_officer_sees_full_id_numbers(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    officer = officers_of(ctx, case_id)[0]
    pages.login(officer, FACTORY_PASSWORD)
    text = pages.get(f"/cases/{case_id}").text
    assert re.search(r'<td class="mono">\d{17}[0-9X]</td>', text)
    assert "录入入户核查结果" in text  # the way to the check form


def test_other_counties_cases_do_not_exist(pages, ctx, other_county) -> None:  # type: ignore[no-untyped-def]
    theirs = make_case(ctx, stage="determined", county=other_county, head_name="外县户")
    pages.as_("clerk1", "town_clerk")
    r = pages.get(f"/cases/{theirs}")
    assert r.status_code == 404 and "案件不存在" in r.text and "外县户" not in r.text
    assert "外县户" not in pages.get("/cases").text
    r = pages.post(f"/cases/{theirs}/screening", {"decision": "pass"})
    assert r.status_code == 404
    assert pages.get("/cases/nope").status_code == 404


def test_roles_see_only_their_pages(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked")
    pages.as_("off1", "field_officer")
    for url in ("/applications/new", "/schedule", "/notices/new", "/audit", "/referrals/import",
                f"/cases/{case_id}/determination", f"/cases/{case_id}/schedule"):
        r = pages.get(url)
        assert r.status_code == 403, url
        assert "无权访问" in r.text
    r = pages.post(f"/cases/{case_id}/determination")
    assert r.status_code == 403
    pages.as_("clerk1", "town_clerk")
    assert pages.get("/visits").status_code == 403
    assert pages.get(f"/cases/{case_id}/check").status_code == 403
    assert pages.get("/audit").status_code == 403
