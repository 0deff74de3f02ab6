"""Pages of the registers: the county reviewer's import page and feed calendar, the findings on the case page with
the supervisor's answer form."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from factories import staff
from pagekit import FACTORY_PASSWORD
from verifier import demo


def test_the_reviewer_imports_on_the_page_and_sees_the_feed_calendar(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    pages.as_("rev", "county_reviewer")
    home = pages.get("/").text
    assert "本月部门名单报送" in home and "逾期未报送" not in home  # 2020-06-01: due by the 5th, not yet overdue
    assert "导入部门比对名单" in pages.get("/registers").text
    bad = "身份证号,号牌号码,车辆价值\r\n340223197013011234,皖B1,abc\r\n".encode("gbk")
    r = pages.post("/registers", {"kind": "vehicle", "county_code": "340223", "bureau": "交警大队"},
                   files={"file": ("车辆.csv", bad, "text/csv")})
    assert r.status_code == 422 and "文件有误，未导入任何数据" in r.text and 'value="交警大队"' in r.text
    good = f"身份证号,号牌号码,车辆价值\r\n{demo.new_household('城关镇', '东村').id_numbers[0]},皖B1,80000\r\n"
    r = pages.post("/registers", {"kind": "vehicle", "county_code": "340223"},
                   files={"file": ("车辆.csv", good.encode("gbk"), "text/csv")})
    assert r.status_code == 303
    r = pages.get(r.headers["location"])
    assert "已导入 1 条车辆登记记录" in r.text and "公安局交通管理部门" in r.text
    pages.as_("sup", "insurer_supervisor")
    assert pages.get("/registers").status_code == 403


def test_the_supervisor_answers_a_finding_on_the_case_page(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    s = staff(ctx)
    team = demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2)
    hh = demo.new_household("城关镇", "东村")
    case_id = demo.refer(ctx, team, hh, referred_on=ctx.clock.today() - timedelta(days=3))
    pages.as_("rev", "county_reviewer")
    data = f"身份证号,工作单位\r\n{hh.id_numbers[1]},县财政局\r\n".encode()
    r = pages.post("/registers", {"kind": "public_employment", "county_code": "340223"},
                   files={"file": ("人社.csv", data, "text/csv")})
    assert r.status_code == 303
    import_id = r.headers["location"].rsplit("import=", 1)[1]
    pages.as_("rev2", "county_reviewer")  # in force once a second county reviewer confirms it on its page
    review = pages.get(f"/registers/{import_id}").text
    replaces = re.search(r'name="replaces" value="([^"]*)"', review).group(1)
    assert pages.post(f"/registers/{import_id}/confirm", {"replaces": replaces}).status_code == 303
    pages.as_("rev3", "county_reviewer")  # a correction of it: its importer may not decline it alone
    again = f"身份证号,工作单位\r\n{hh.id_numbers[1]},县财政局\r\n{hh.id_numbers[0]},县教育局\r\n".encode()
    r = pages.post("/registers", {"kind": "public_employment", "county_code": "340223"},
                   files={"file": ("人社2.csv", again, "text/csv")})
    fixed = r.headers["location"].rsplit("import=", 1)[1]
    pages.as_("rev", "county_reviewer")
    review = pages.get(f"/registers/{fixed}").text
    assert 'id="decline-refused"' in review and "是您导入的" in review and 'id="decline-form"' not in review
    r = pages.post(f"/registers/{fixed}/decline", {"reason": "不是正式报送版本"})
    assert r.status_code == 403 and "是您导入的" in r.text
    pages.as_("rev3", "county_reviewer")  # its importer withdraws it
    assert 'id="decline-form"' in pages.get(f"/registers/{fixed}").text
    assert pages.post(f"/registers/{fixed}/decline", {"reason": "传错了文件"}).status_code == 303
    demo.advance_to(ctx, team, case_id, hh, "checked", on=ctx.clock.today(), vehicle="车001")
    pages.login(s.supervisor.username, FACTORY_PASSWORD)
    page = pages.get(f"/cases/{case_id}").text
    assert "部门信息比对发现" in page and "县财政局" in page and "排除条件" in page
    action = re.search(r'action="(/cases/[^"]+/findings/[^"]+/answer)"', page).group(1)
    r = pages.post(action, {"outcome": "upheld", "note": ""})
    assert r.status_code == 422 and "勾选确认" in r.text
    r = pages.post(action, {"outcome": "explained", "note": "已于去年离职，有离职证明"})
    assert r.status_code == 303
    page = pages.get(f"/cases/{case_id}").text
    assert "已说明" in page and "已于去年离职" in page and action not in page


def test_the_imported_registers_are_listed_a_page_at_a_time(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """The list showed the latest 50 imports and nothing said there were more (a year of monthly files from six
    bureaus is 72): it has numbered pages, the total and the way to the older ones."""
    from datetime import date, datetime, timedelta, timezone

    from verifier.registers.models import RegisterImport

    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    with ctx.db.begin() as session:
        for n in range(53):
            session.add(RegisterImport(id=f"rim_{n:04d}", county_code="340223", kind="vehicle", bureau="交警大队",
                                       as_of=date(2020, 1, 1), valid_until=date(2020, 12, 31),
                                       filename=f"车辆{n:02d}.csv", file_sha256=f"{n:064d}", rows=1,
                                       imported_by="usr_x", imported_at=start + timedelta(hours=n)))
    pages.as_("rev-pages", "county_reviewer")
    first = pages.get("/registers").text
    assert "车辆52.csv" in first and "车辆02.csv" not in first and "共 53 条，第 1–50 条" in first
    assert 'href="/registers?page=2"' in first
    second = pages.get("/registers?page=2").text
    assert "车辆02.csv" in second and "车辆00.csv" in second and "车辆52.csv" not in second
    assert "车辆52.csv" in pages.get("/registers?page=x").text  # a page that is not one: the first


def test_the_imported_registers_are_searched_by_file_bureau_or_kind(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """Paged, and searched too: by the file's name, the bureau or the register's kind (its Chinese name); the pager
    keeps the search."""
    from datetime import date, datetime, timedelta, timezone

    from verifier.registers.models import RegisterImport

    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    with ctx.db.begin() as session:
        for n in range(53):
            kind, bureau = ("vehicle", "交警大队") if n % 2 else ("housing", "住建局房产科")
            session.add(RegisterImport(id=f"rim_{n:04d}", county_code="340223", kind=kind, bureau=bureau,
                                       as_of=date(2020, 1, 1), valid_until=date(2020, 12, 31),
                                       filename=f"名单{n:02d}.csv", file_sha256=f"{n:064d}", rows=1,
                                       imported_by="usr_x", imported_at=start + timedelta(hours=n)))
    pages.as_("rev-search", "county_reviewer")
    by_file = pages.get("/registers?q=名单07").text
    assert "名单07.csv" in by_file and "名单08.csv" not in by_file and "共 1 条" in by_file
    assert 'name="q" value="名单07"' in by_file
    by_bureau = pages.get("/registers?q=交警").text
    assert "名单51.csv" in by_bureau and "名单52.csv" not in by_bureau and "共 26 条" in by_bureau
    by_kind = pages.get("/registers?q=车辆").text  # the kind's Chinese name
    assert "名单51.csv" in by_kind and "名单52.csv" not in by_kind
    with ctx.db.begin() as session:  # 27 more homes: two pages once more than 50 match
        for n in range(53, 80):
            session.add(RegisterImport(id=f"rim_{n:04d}", county_code="340223", kind="housing", bureau="住建局房产科",
                                       as_of=date(2020, 1, 1), valid_until=date(2020, 12, 31),
                                       filename=f"名单{n:02d}.csv", file_sha256=f"{n:064d}", rows=1,
                                       imported_by="usr_x", imported_at=start + timedelta(hours=n)))
    homes = pages.get("/registers?q=房产").text
    assert "共 54 条" in homes and re.search(r'href="/registers\?q=[^"&]+&amp;page=2"', homes), homes[-3000:]
    assert "没有符合查找条件的名单" in pages.get("/registers?q=无此文件").text


def test_a_second_reviewer_confirms_a_register_on_its_page_after_seeing_what_clears(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    s = staff(ctx)
    team = demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2)
    hh = demo.new_household("城关镇", "东村")
    demo.refer(ctx, team, hh, referred_on=ctx.clock.today() - timedelta(days=3))

    def imported(rows: str, name: str) -> str:
        r = pages.post("/registers", {"kind": "vehicle", "county_code": "340223"},
                       files={"file": (name, f"身份证号,号牌号码,车辆价值\r\n{rows}".encode(), "text/csv")})
        assert r.status_code == 303
        assert "状态为待确认" in pages.get(r.headers["location"]).text
        return str(r.headers["location"].rsplit("import=", 1)[1])

    def confirmed_by_rev2(import_id: str) -> Any:
        pages.as_("rev2", "county_reviewer")
        review = pages.get(f"/registers/{import_id}").text
        replaces = re.search(r'name="replaces" value="([^"]*)"', review).group(1)
        return pages.post(f"/registers/{import_id}/confirm", {"replaces": replaces})

    pages.as_("rev", "county_reviewer")
    v1 = imported(f"{hh.id_numbers[0]},皖B1,180000\r\n", "车辆1.csv")
    assert confirmed_by_rev2(v1).status_code == 303
    pages.as_("rev", "county_reviewer")
    other = demo.new_household("城关镇", "东村").id_numbers[0]
    v2 = imported(f"{other},皖B9,5000\r\n", "车辆2.csv")  # the household's car left out
    home = pages.get("/").text  # the second look waits: not for its importer (the card counts none for them)...
    assert re.search(r'href="/registers\?to_decide=1">\s*<div class="count">0</div>\s*<div class="title">'
                     r"比对名单待第二人确认<", home)
    waiting = pages.get("/registers?status=pending").text
    assert f'href="/registers/{v2}">待确认' in waiting and v1 not in waiting
    mine = pages.get("/registers?to_decide=1").text
    assert v2 not in mine and "没有等待您确认的名单。另有 1 份待确认的名单须由本县其他县级复核员确认" in mine
    pages.as_("rev2", "county_reviewer")  # ...but for another reviewer of the county: counted, and listed
    assert re.search(r'href="/registers\?to_decide=1">\s*<div class="count">1</div>', pages.get("/").text)
    assert f'href="/registers/{v2}">待确认' in pages.get("/registers?to_decide=1").text
    pages.as_("rev", "county_reviewer")
    mine = pages.get(f"/registers/{v2}").text
    assert "待确认（未生效）" in mine and "这份名单是您导入的" in mine and 'id="confirm-form"' not in mine
    r = pages.post(f"/registers/{v2}/confirm", {"replaces": v1})
    assert r.status_code == 403 and "四眼原则" in r.text

    pages.as_("rev2", "county_reviewer")
    seen = pages.get(f"/registers/{v2}").text
    assert re.search(r'id="households-clearing">1<', seen) and hh.head in seen and v1 in seen
    assert 'id="confirm-form"' in seen and "确认名单生效" in seen and "退回这份名单" in seen
    r = pages.post(f"/registers/{v2}/confirm", {"replaces": ""})  # a page shown before v1 came in force: stale
    assert r.status_code == 409 and "已经变更" in r.text
    r = pages.post(f"/registers/{v2}/decline", {"reason": " "})
    assert r.status_code == 422 and "请说明退回的原因" in r.text
    r = pages.post(f"/registers/{v2}/decline", {"reason": "交警大队说明此文件漏报"})
    assert r.status_code == 303
    done = pages.get(r.headers["location"]).text
    assert "比对名单已退回" in done and "已退回" in done and "交警大队说明此文件漏报" in done
    assert 'id="confirm-form"' not in done
    listed = pages.get("/registers").text
    assert f'href="/registers/{v2}">已退回' in listed and f'href="/registers/{v1}">已确认生效' in listed
    assert v1 not in pages.get("/registers?status=declined").text
    r = pages.post(f"/registers/{v2}/confirm", {"replaces": v1})
    assert r.status_code == 409 and "已退回" in r.text
