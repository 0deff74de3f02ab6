"""`GET /cases` as the list opens in a browser is answered before Litestar routes it (web/list_shortcut.py): byte for
byte what Litestar's route answers, for whoever asks, with what the database holds at that moment; anything but a
plain successful page is left to Litestar."""

from __future__ import annotations

from typing import Any

import pytest
from factories import make_case
from shortcut_kit import count_litestar, seen
from pagekit import CSRF_COOKIE, OTHER_COUNTY
from sqlalchemy import update

from verifier.store.tables import User
from verifier.web.list_shortcut import CaseListShortcut


@pytest.fixture
def routed(pages, monkeypatch: pytest.MonkeyPatch) -> Any:  # type: ignore[no-untyped-def]
    """`routed(url, headers)`: the answer with the shortcut, the one Litestar gives without it, and whether Litestar
    was asked with the shortcut in place. The page is opened once first (its stencil kept, the CSRF cookie set)."""
    app = pages.client.app
    shortcut = app.asgi_handler
    while not isinstance(shortcut, CaseListShortcut):
        shortcut = shortcut._handler
    real_answer = shortcut._answer
    _, asked = count_litestar(shortcut, monkeypatch)
    off = [False]

    async def answer(scope: Any) -> Any:
        return None if off[0] else await real_answer(scope)

    monkeypatch.setattr(shortcut, "_answer", answer)

    def both(url: str = "/cases", headers: dict[str, str] | None = None, *,
             first: bool = True) -> tuple[Any, Any, bool]:
        if first:
            pages.get(url, headers)
        asked.clear()
        short = pages.get(url, headers)
        went_on = bool(asked)
        off[0] = True
        try:
            plain = pages.get(url, headers)
        finally:
            off[0] = False
        return seen(short), seen(plain), went_on

    return both


@pytest.mark.parametrize("encoding", ["gzip, deflate", "identity"])
def test_the_list_is_answered_before_routing_as_litestar_answers_it(ctx, pages, users, other_county, routed,
                                                                    encoding) -> None:  # type: ignore[no-untyped-def]
    make_case(ctx, stage="received", head_name='甲<乙>&"丙\'{0}', village="东村&西")
    make_case(ctx, stage="determined", head_name="丁{}戊\\n")
    make_case(ctx, stage="received", head_name="外县乙", county=other_county)
    users.add("sup-list", "insurer_supervisor", counties=("340223",))
    users.add("admin-list", "admin")
    users.add("far-list", "town_clerk", counties=(OTHER_COUNTY,))
    for name in ("sup-list", "admin-list", "far-list"):
        pages.login(name)
        short, plain, went_on = routed("/cases", {"Accept-Encoding": encoding})
        assert short[0] == 200 and not went_on, name
        assert short == plain, name
        assert dict(short[1]).get("content-encoding") == ("gzip" if "gzip" in encoding else None)
        assert "no-store" == dict(short[1])["cache-control"] and "content-security-policy" in dict(short[1])
        token = pages.client.cookies.get(CSRF_COOKIE)
        assert short[2].decode().count(token) == 4
    assert "外县乙" in short[2].decode() and "丁{}戊" not in short[2].decode()


def test_a_change_shows_at_once(ctx, pages, users, other_county, routed) -> None:  # type: ignore[no-untyped-def]
    """A new case, and a user whose counties changed while the session stays open: the page of now."""
    make_case(ctx, stage="received", head_name="本县甲")
    pages.as_("clerk-list", "town_clerk")
    short, plain, went_on = routed()
    assert not went_on and short == plain and "共 1 条" in short[2].decode()
    make_case(ctx, stage="received", head_name="后到乙", village="新村")
    short, plain, went_on = routed(first=False)  # another total, other villages: another stencil, made by Litestar
    assert went_on and short == plain
    short, plain, went_on = routed(first=False)
    assert not went_on and short == plain
    assert "共 2 条" in short[2].decode() and "后到乙" in short[2].decode() and '<option value="新村"' in short[2].decode()
    make_case(ctx, stage="received", head_name="外县丙", county=other_county)
    with ctx.db.begin() as session:  # the same session, another county
        session.execute(update(User).where(User.id == users.ids["clerk-list"]).values(counties=[OTHER_COUNTY]))
    short, plain, went_on = routed(first=True)
    assert short[0] == 200 and short == plain
    text = short[2].decode()
    assert "外县丙" in text and "本县甲" not in text and "后到乙" not in text
    short, plain, went_on = routed(first=False)
    assert not went_on and short == plain and "外县丙" in short[2].decode()
    with ctx.db.begin() as session:  # and back: the page read for the county it had is dropped, read again
        session.execute(update(User).where(User.id == users.ids["clerk-list"]).values(counties=["340223"]))
    short, plain, went_on = routed(first=False)
    assert not went_on and short == plain
    assert "本县甲" in short[2].decode() and "后到乙" in short[2].decode() and "外县丙" not in short[2].decode()


def test_anything_but_a_plain_successful_page_goes_to_litestar(ctx, client, pages, users,
                                                               routed) -> None:  # type: ignore[no-untyped-def]
    make_case(ctx, stage="received")
    users.add("admin-l2", "admin")
    pages.as_("clerk-l2", "town_clerk")
    token = users.headers("clerk-l2")["Authorization"]
    for url, headers in [("/cases?page=1", None), ("/cases?status=received", None), ("/cases/", None),
                         ("/cases", {"Authorization": token}), ("/cases", {"Authorization": "Basic eA=="})]:
        short, plain, went_on = routed(url, headers)
        assert went_on, url
        assert short == plain, url
    # No form-protection cookie yet: Litestar sets one.
    pages.client.cookies.delete(CSRF_COOKIE)
    short, plain, went_on = routed(first=False)
    assert went_on and short[0] == 200 and "set-cookie" in dict(short[1])
    # A user made inactive while the session is open, a password an administrator set, a session ended: refused at
    # once, by Litestar.
    routed()
    with ctx.db.begin() as session:
        session.execute(update(User).where(User.id == users.ids["clerk-l2"]).values(active=False))
    short, plain, went_on = routed(first=False)
    assert went_on and short[0] in (302, 303) and short == plain and "/login" in dict(short[1])["location"]
    with ctx.db.begin() as session:
        session.execute(update(User).where(User.id == users.ids["clerk-l2"]).values(active=True))
    with ctx.db.begin() as session:
        session.execute(update(User).where(User.id == users.ids["clerk-l2"]).values(password_change_required=True))
    short, plain, went_on = routed(first=False)
    assert went_on and short[0] != 200 and short == plain
    with ctx.db.begin() as session:
        session.execute(update(User).where(User.id == users.ids["clerk-l2"]).values(password_change_required=False))
    short, plain, went_on = routed(first=False)
    assert not went_on and short[0] == 200 and short == plain
    r = client.post(f"/api/users/{users.ids['clerk-l2']}/disable", headers=users.headers("admin-l2"))
    assert r.status_code == 200, r.text
    short, plain, went_on = routed(first=False)
    assert went_on and short[0] in (302, 303) and short == plain


def test_rows_kept_are_the_rows_made_now(client, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A row's HTML is kept by every value of the row and its labels: the same as `list_rows` makes of the page,
    whatever else the page holds, and a label changed shows at once."""
    from collections import namedtuple

    from verifier.web import cases, labels

    Row = namedtuple("Row", [*cases._SHOWN[:2], "status_x", *cases._SHOWN[2:]])
    makers = cases.row_makers(client.app.template_engine.engine)

    def row(i: int, head: str, status: str = "received", household: str | None = "hh_1") -> Any:
        return Row(f"case_{i}", f"2025-{i:04d}", "x", head, household, "甲镇", "乙村", "general", "illness", status,
                   "2025-01-02", "2025-02-03", 123456 - i, "c-2025")

    plain = [row(1, "张三"), row(2, "李四", "closed", None)]
    odd = [row(3, '王<五>&"'), row(1, "张三")]
    for page in (plain, odd, plain, odd, [*odd, *plain]):
        assert cases.kept_rows(page, makers) == cases.list_rows(page, makers)
    assert "王&lt;五&gt;&amp;&#34;" in cases.kept_rows(odd, makers)
    monkeypatch.setitem(labels.STATUS_LABELS, "received", "另一个名字")
    assert "另一个名字" in cases.kept_rows(plain, makers)
    assert cases.kept_rows(plain, makers) == cases.list_rows(plain, makers)

    # A case's contract not in force is marked; the mark goes with the county's acceptance, at once.
    waiting = {"c-2025": "pending"}
    for page in (plain, odd):
        assert cases.kept_rows(page, makers, waiting) == cases.list_rows(page, makers, waiting)
        assert cases.kept_rows(page, makers, waiting).count("合同待县确认") == len(page)
    assert cases.kept_rows(plain, makers, {"c-2025": "refused"}).count("合同被县拒绝") == 2
    assert "contract-waiting" not in cases.kept_rows(plain, makers, {"other": "pending"})
    assert "contract-waiting" not in cases.kept_rows(plain, makers)


def test_cases_of_a_contract_not_in_force_are_marked_as_litestar_marks_them(
        ctx, pages, users, routed) -> None:  # type: ignore[no-untyped-def]
    """The list marks a case whose contract waits for the county (合同待县确认) or was refused (合同被县拒绝), the
    shortcut as Litestar; the mark goes once the county accepts a contract for the case."""
    import re
    from pathlib import Path

    from verifier.contract import check_contract_text
    from verifier.store import contracts as contract_store

    demo = (Path(__file__).resolve().parents[2] / "contracts" / "demo-2020.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^county_codes = .*$', 'county_codes = ["340261"]',
                  re.sub(r'(?m)^id = .*$', 'id = "mark-2020"', demo))
    contract, problems = check_contract_text(text.encode("utf-8"))
    assert contract is not None, problems
    with ctx.db.begin() as session:
        contract_store.add_contract(session, contract, actor="system", role="admin", clock=ctx.clock)
    make_case(ctx, stage="received", head_name="待确认甲", county="340261")
    pages.as_("clerk-mark", "town_clerk", counties=("340261",))
    short, plain, went_on = routed()
    assert short == plain and not went_on
    page = short[2].decode()
    assert page.count("合同待县确认") == 1 and "待确认甲" in page

    # The filter: only the cases whose contract is not in force (the county's other cases are left out).
    make_case(ctx, stage="received", head_name="已生效乙", county="340223")
    pages.as_("sup-mark", "insurer_supervisor", counties=("340223", "340261"))
    listed = pages.get("/cases").text
    assert "待确认甲" in listed and "已生效乙" in listed and 'name="contract"' in listed
    waiting = pages.get("/cases?contract=waiting")
    assert waiting.status_code == 200 and "待确认甲" in waiting.text and "已生效乙" not in waiting.text
    assert "共 1 条" in waiting.text and '<option value="waiting" selected>' in waiting.text
    r = pages.post("/cases/search", {"contract": "waiting", "q": ""})
    assert r.status_code == 303 and r.headers["location"] == "/cases?contract=waiting", r.headers
    ledger = pages.get("/cases/ledger.xlsx?contract=waiting")
    assert ledger.status_code == 200
    from io import BytesIO

    from openpyxl import load_workbook
    cells = {str(c.value) for row in load_workbook(BytesIO(ledger.content)).active.iter_rows() for c in row}
    assert "待确认甲" in cells and "已生效乙" not in cells
    assert pages.get("/cases?contract=other").status_code == 400
    pages.as_("clerk-mark", "town_clerk", counties=("340261",))

    users.add("rev-61", "county_reviewer", counties=("340261",))
    r = pages.client.post("/api/contracts/mark-2020/reject", headers=users.headers("rev-61"),
                          json={"reason": "比例不符"})
    assert r.status_code == 200, r.text
    short, plain, went_on = routed(first=False)
    assert short == plain and "合同被县拒绝" in short[2].decode() and "合同待县确认" not in short[2].decode()
    short, plain, went_on = routed(first=False)
    assert not went_on and short == plain

    fixed = text.replace('id = "mark-2020"', 'id = "mark-fixed-2020"')
    corrected, problems = check_contract_text(fixed.encode("utf-8"))
    assert corrected is not None, problems
    with ctx.db.begin() as session:
        contract_store.add_contract(session, corrected, actor="system", role="admin", clock=ctx.clock)
    r = pages.client.post("/api/contracts/mark-fixed-2020/accept", headers=users.headers("rev-61"), json={})
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    short, plain, went_on = routed(first=False)
    assert short == plain and "contract-waiting" not in short[2].decode() and "待确认甲" in short[2].decode()
