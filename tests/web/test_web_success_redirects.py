"""After a successful POST, Back and Forward show a normal page, never the browser's 确认重新提交表单 page (pages are
never cached): every page form's success answers 303 to a GET address (Post/Redirect/Get, with `done=`), or, where the
answer must be a page of its own (a password shown this once, a proposal that saves nothing), the page names the GET
address it stands as in the history (`data-form-page`, put in place by app.js's `history.replaceState`) and that
address carries nothing of what was sent.

The sweep walks the application's route table, so a page form added later is held to the same rule: a POST page route
is declared 303, or is one of `SHOWN_ONCE`; and no handler returns a page (`page(...)`, `self._form(...)`, a
`_…_page(...)`) without a refusal's status or the address it stands as."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from typing import Any

from factories import COUNTY, make_case, new_id_number

# A success answered by a page of its own, and the GET address it stands as in the history.
REFERRALS_DONE = ("referrals_imported", "referrals_repeated")
REGISTERS_DONE = ("register_imported", "register_repeated")
IMPORTED_ONE = "已导入 1 条车辆登记记录，状态为待确认：须由本县另一名县级复核员 核对变化后确认 才参与比对。"
SHOWN_ONCE = {"/users/{user_id:str}/password": "a generated password, shown this once",
              "/schedule/plan": "the planner's proposal (applying it is a 303)",
              "/households/{household_id:str}/phone": "a phone asked for in full, shown this once (standing as the "
                                                      "household file's address, where a reload shows it masked)"}
PAGE_CALLS = re.compile(r"^(page|self\._\w+|_\w*page|_render|render_\w+)$")


def _page_routes(app: Any) -> list[tuple[str, Any]]:
    out = []
    for route in app.routes:
        if route.path.startswith("/api") or route.path.startswith("/schema"):
            continue
        for handler in getattr(route, "route_handlers", []):
            if "POST" in handler.http_methods:
                out.append((route.path, handler))
    return out


def _source(handler: Any) -> str:
    fn = handler.fn
    fn = getattr(fn, "ref", None) or getattr(fn, "value", None) or fn
    fn = getattr(fn, "func", fn)
    return textwrap.dedent(inspect.getsource(fn))


def _pages_without_status(source: str) -> list[str]:
    """The handler's `return <page call>(...)` that answer 200 without saying what address they stand as."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
            name = ast.unparse(node.value.func)
            said = {k.arg for k in node.value.keywords}
            if PAGE_CALLS.match(name) and not said & {"status_code", "form_page", "stands_as"} \
                    and not name.startswith(("self._act", "self._write", "self._decide", "self._change")):
                found.append(ast.unparse(node)[:120])
    return found


def test_every_page_form_answers_its_success_with_a_redirect(client) -> None:  # type: ignore[no-untyped-def]
    routes = _page_routes(client.app)
    assert len(routes) > 60  # the whole table, not a part of it
    answered_200 = sorted(p for p, h in routes if h.status_code != 303 and p not in SHOWN_ONCE)
    assert answered_200 == [], "POST pages answering a success with 200 (Back shows 确认重新提交表单)"
    assert sorted({p for p, h in routes if h.status_code != 303}) == sorted(SHOWN_ONCE)  # the list is current
    pages_200 = {p: found for p, h in routes if (found := _pages_without_status(_source(h)))}
    assert pages_200 == {}, "a page answering a POST with 200, standing as no GET address"


def _stands_as(html: str) -> str | None:
    body = re.search(r"<body[^>]*>", html)
    assert body is not None
    m = re.search(r'data-form-page="([^"]*)"', body.group(0))
    return None if m is None else m.group(1).replace("&amp;", "&")


def _flash(html: str) -> str:
    """The text of the page's flash messages (base.html's `<p class="flash …">`, a page's own `<div class="flash …">`),
    tags dropped and spaces collapsed: what the message says, not the rest of the page."""
    said = [re.sub(r"<[^>]+>", " ", m.group(2))
            for m in re.finditer(r'<(p|div) class="flash[^"]*"[^>]*>(.*?)</\1>', html, re.S)]
    return " ".join(" ".join(said).split())


def test_a_referral_file_and_a_register_answer_with_a_redirect_that_says_what_came_in(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    pages.as_("sup-prg", "insurer_supervisor")
    head = "身份证号,姓名,乡镇,村,户类型,原因,金额,日期\r\n"
    rows = "".join(f"{new_id_number()},张{i},城关镇,东村,非贫低收入户,因病,30000,{ctx.clock.today()}\r\n"
                   for i in range(2))
    form = {"channel": "civil_affairs", "county_code": COUNTY}
    r = pages.post("/referrals/import", form, files={"file": ("名单.csv", (head + rows).encode(), "text/csv")})
    assert r.status_code == 303, r.text
    where = r.headers["location"]  # the import's id alone: what came in is read back from the store
    assert re.fullmatch(r"/referrals/import\?done=referrals_imported&import=imp_\w+", where), where
    for _ in range(2):  # a reload (or Back, then Forward) says the same
        shown = pages.get(where)
        assert shown.status_code == 200 and _flash(shown.text).startswith("已导入 2 行：新建案件 2 件，并入已有案件 0 条。")
        assert _stands_as(shown.text) is None and 'value="civil_affairs" selected' in shown.text  # kept for the next
    r = pages.post("/referrals/import", form, files={"file": ("名单.csv", (head + rows).encode(), "text/csv")})
    assert r.status_code == 303 and r.headers["location"] == where.replace("referrals_imported", "referrals_repeated")
    assert _flash(pages.get(r.headers["location"]).text).startswith("该文件此前已导入（2 行），本次未做任何更改。")
    assert _flash(pages.get("/referrals/import?rows=9").text) == ""  # counts alone say nothing
    crafted = "/referrals/import?done=referrals_imported&rows=40&new_cases=40&merged=0&left_out=3&import=imp_0"
    assert _flash(pages.get(crafted).text) == ""  # nor with the id of no import
    crafted = where + "&rows=40&new_cases=40&left_out=3"  # the counts are the store's, whatever the address says
    assert _flash(pages.get(crafted).text).startswith("已导入 2 行：新建案件 2 件，并入已有案件 0 条。")

    pages.as_("rev-prg", "county_reviewer")
    good = f"身份证号,号牌号码,车辆价值\r\n{new_id_number()},皖B1,80000\r\n"
    r = pages.post("/registers", {"kind": "vehicle", "county_code": COUNTY},
                   files={"file": ("车辆.csv", good.encode("gbk"), "text/csv")})
    assert r.status_code == 303 and re.fullmatch(r"/registers\?done=register_imported&import=reg_\w+",
                                                 r.headers["location"])
    shown = pages.get(r.headers["location"])
    assert _flash(shown.text) == IMPORTED_ONE and 'value="vehicle" selected' in shown.text
    assert _flash(pages.get("/registers?done=register_imported&rows=1&kind=vehicle").text) == ""  # no import named
    r = pages.post("/registers", {"kind": "vehicle", "county_code": COUNTY},
                   files={"file": ("车辆.csv", good.encode("gbk"), "text/csv")})
    assert r.status_code == 303 and "done=register_repeated&import=reg_" in r.headers["location"]
    assert _flash(pages.get(r.headers["location"]).text) == "该文件此前已导入（1 条），本次未做任何更改。"


def test_an_address_naming_an_import_says_nothing_of_one_the_viewer_did_not_make_or_may_not_see(  # type: ignore[no-untyped-def]
        pages, ctx) -> None:
    """A crafted link to the page after a file names an import: the page says what it brought in only to whoever made
    it; the same file sent again (nothing changed) to anyone of its county; of another county's import, nothing."""
    from factories import other_county_contract
    from pagekit import OTHER_COUNTY

    other_county_contract(ctx, OTHER_COUNTY)
    head = "身份证号,姓名,乡镇,村,户类型,原因,金额,日期\r\n"

    def send(name: str, county: str) -> str:
        rows = f"{new_id_number()},张三,城关镇,东村,非贫低收入户,因病,30000,{ctx.clock.today()}\r\n"
        r = pages.post("/referrals/import", {"channel": "civil_affairs", "county_code": county},
                       files={"file": (name, (head + rows).encode(), "text/csv")})
        assert r.status_code == 303, r.text
        return r.headers["location"].split("import=")[1]

    def said(path: str, import_id: str) -> dict[str, str]:
        return {done: _flash(pages.get(f"{path}?done={done}&import={import_id}").text)
                for done in ((REFERRALS_DONE if path == "/referrals/import" else REGISTERS_DONE))}

    pages.as_("sup-far", "insurer_supervisor", counties=(OTHER_COUNTY,))
    far = send("远县名单.csv", OTHER_COUNTY)
    pages.as_("rev-far", "county_reviewer", counties=(OTHER_COUNTY,))
    good = f"身份证号,号牌号码,车辆价值\r\n{new_id_number()},皖B2,80000\r\n"
    r = pages.post("/registers", {"kind": "vehicle", "county_code": OTHER_COUNTY},
                   files={"file": ("远县车辆.csv", good.encode("gbk"), "text/csv")})
    far_register = r.headers["location"].split("import=")[1]
    pages.as_("sup-own", "insurer_supervisor")
    own = send("本县名单.csv", COUNTY)

    pages.as_("sup-near", "insurer_supervisor")  # of the county, but not who imported it
    assert said("/referrals/import", own) == {"referrals_imported": "",
                                              "referrals_repeated": "该文件此前已导入（1 行），本次未做任何更改。 查看待初筛案件"}
    for who in ("sup-near", "sup-own"):  # another county's import: nothing of it, either way
        pages.as_(who, "insurer_supervisor")
        assert said("/referrals/import", far) == {d: "" for d in REFERRALS_DONE}
        page = pages.get(f"/referrals/import?done=referrals_imported&import={far}").text
        assert "远县名单" not in page and f'value="{OTHER_COUNTY}" selected' not in page
    pages.as_("rev-near", "county_reviewer")
    assert said("/registers", far_register) == {d: "" for d in REGISTERS_DONE}
    assert "远县车辆" not in pages.get(f"/registers?done=register_imported&import={far_register}").text
    pages.as_("rev-far", "county_reviewer", counties=(OTHER_COUNTY,))  # who made it
    assert said("/registers", far_register)["register_imported"] == IMPORTED_ONE


def test_a_password_shown_once_stands_as_the_empty_form(pages, users) -> None:  # type: ignore[no-untyped-def]
    users.add("fin-prg", "finance", counties=(COUNTY,))
    target = users.ids["fin-prg"]
    pages.as_("admin-prg", "admin", counties=())
    r = pages.post(f"/users/{target}/password", {"password": "", "password_again": ""})
    assert r.status_code == 200 and 'id="new-password"' in r.text
    assert _stands_as(r.text) == f"/users/{target}/password"  # the address carries nothing of the password
    again = pages.get(f"/users/{target}/password")
    assert again.status_code == 200 and 'id="new-password"' not in again.text  # Back: the empty form, by GET


def test_a_planner_proposal_stands_as_the_planner(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    make_case(ctx, stage="screened")
    pages.as_("sup-plan", "insurer_supervisor")
    r = pages.post("/schedule/plan", {"county_code": COUNTY, "from": ctx.clock.today().isoformat(), "days": "5"})
    assert r.status_code == 200 and "排期预览" in r.text and _stands_as(r.text) == "/schedule"


def test_a_refused_login_stands_as_the_login_page(pages, users) -> None:  # type: ignore[no-untyped-def]
    pages.get("/login")
    r = pages.post("/login", {"username": "nobody", "password": "wrong password", "next": "/cases?status=received"})
    assert "用户名或密码不正确" in r.text
    assert _stands_as(r.text) == "/login?next=%2Fcases%3Fstatus%3Dreceived"
