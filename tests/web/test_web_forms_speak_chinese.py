"""Every page form, posted with bad input by a person allowed to use it, answers in Chinese: no message shown on
the page is ASCII-only or an English sentence. The page router's POST routes are enumerated, so a new form is
walked too. A form's submit address opened with GET leads back to the page holding the form."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from factories import make_case, ready_case
from pagekit import FACTORY_PASSWORD, PASSWORD, Pages, english_in, officers_of

BAD_VALUES = ["", "abc", "0", "-1", "99999999999", "2020-13-45", "12345", "1234567890123456789X", "1.234",
              "=SUM(A1)", "x" * 3000]
BAD_FILES = [("empty.csv", b""), ("header.csv", b"reference,status\nx,ok\n"), ("binary.csv", b"\xff\xfe\x00\x00"),
             ("lines.csv", "reference,status,bank_reference,reason,amount\nR1,maybe,,,abc\n,success,B,,1.00\nx,y\n"
                           .encode()),
             ("sheet.csv", b"PK\x03\x04rest")]


class _Messages(HTMLParser):
    """The text of what a page shows as an error: field errors, alerts, the bad lines of an upload."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0  # >0 inside a message element (counting nested tags)
        self.current: list[str] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if self.depth:
            self.depth += 1
        elif "error" in (a.get("class") or "").split() or a.get("role") == "alert" or a.get("id") == "bad-lines":
            self.depth = 1
            self.current = []

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1
            if not self.depth:
                self.found.append(" ".join(" ".join(self.current).split()))

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.current.append(data)


def messages_of(html: str) -> list[str]:
    parser = _Messages()
    parser.feed(html)
    return [m for m in parser.found if m]


def test_the_checker_finds_english() -> None:  # the walk below must be able to fail
    assert english_in("must be between 1 and 99, got 0") and english_in("请填写：the file is empty")
    assert english_in("应在 1 至 99 之间") is None and english_in("表头应为 reference,status,bank_reference,reason") is None
    assert messages_of('<p class="error" id="x">must be</p><div role="alert"><ul><li>甲</li></ul></div>') == [
        "must be", "甲"]


class _Forms(HTMLParser):
    """Field names of the forms posting to one action."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.fields = action, False, set[str]()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = (a.get("action") or "").split("?")[0].rstrip("/") == self.action.rstrip("/")
        elif self.inside and tag in ("input", "select", "textarea") and a.get("name") and a.get("type") != "file":
            if a["name"] != "_csrf_token":
                self.fields.add(a["name"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def fields_of(html: str, action: str) -> set[str]:
    parser = _Forms(action)
    parser.feed(html)
    return parser.fields


def _post_routes(client: Any) -> list[tuple[str, tuple[str, ...], bool]]:
    """(path template, roles allowed, whether it also answers GET) of every page form."""
    out = []
    for route in client.app.routes:
        if route.path.startswith("/api") or "POST" not in getattr(route, "methods", ()):
            continue
        handler = route.route_handler_map["POST"]
        handler = handler[0] if isinstance(handler, tuple) else handler
        roles = handler.opt.get("roles", ())
        out.append((route.path, () if roles == "any" else tuple(roles), "GET" in route.methods))
    return sorted(out)





def _world(ctx: Any, pages: Pages, users: Any) -> dict[str, str]:
    """An object in a state that takes each form."""
    from sqlalchemy import select

    from verifier.accounts.auth import principal_of
    from verifier.payments import payees
    from verifier.payments.models import PayeeCorrection
    from verifier.store.tables import User

    ids = {f"case:{stage}": make_case(ctx, stage=stage, village=f"{stage}村")
           for stage in ("received", "screened", "scheduled", "checked", "determined")}
    noticed = make_case(ctx, stage="determined", village="公示村")
    pages.as_("walk-town_clerk", "town_clerk")
    today = ctx.clock.today().isoformat()
    assert pages.post(f"/cases/{noticed}/review", {"held_on": today, "result": "pass"}).status_code == 303
    r = pages.post("/notices/new", {"county_code": "340223", "town": "城关镇", "village": "公示村", "posted_on": today})
    ids["notice_id"] = r.headers["location"].split("?")[0].rsplit("/", 1)[1]
    r = pages.post(f"/notices/{ids['notice_id']}/objections", {"case_id": noticed, "received_on": today, "summary": "反映"})
    assert r.status_code == 303
    ids["objection_id"] = re.search(r"/objections/(obj_\w+)/resolution", pages.get(f"/notices/{ids['notice_id']}").text
                                    ).group(1)
    ids["case:ready"] = ready_case(ctx, village="待付村")
    pages.as_("walk-insurer_claims", "insurer_claims")
    r = pages.post("/payments", {"county_code": "340223"})
    assert r.status_code == 303, r.text
    ids["batch_id"] = r.headers["location"].split("?")[0].rsplit("/", 1)[1]
    changed = ready_case(ctx, village="变更村")
    ids["case:changed"] = changed
    users.add("walk-requester", "finance", counties=("340223",))
    with ctx.db.begin() as session:
        asker = principal_of(session.scalar(select(User).where(User.username == "walk-requester")))
        payees.request_change(session, changed, account_name="王五", bank="农村商业银行",
                              account_number="6228480012345678", reason="账户销户", principal=asker, vault=ctx.vault,
                              clock=ctx.clock)
        ids["change_id"] = session.scalar(select(PayeeCorrection.id).where(PayeeCorrection.case_id == changed))
    pages.as_("walk-county_reviewer", "county_reviewer")
    r = pages.post("/sampling", {"county_code": "340223", "checked_from": "2020-05-01", "checked_to": "2020-06-30",
                                 "kind": "attribute"})
    if r.status_code == 303:
        ids["round_id"] = r.headers["location"].split("?")[0].rsplit("/", 1)[1]
    ids["user_id"] = users.add("walk-target", "town_clerk", counties=("340223",))
    return ids


STAGE_OF = {"screening": "received", "schedule": "screened", "check": "scheduled", "visit-attempt": "scheduled",
            "determination": "checked", "review": "determined", "review-request": "determined", "payee": "ready"}


def _fill(template: str, world: dict[str, str]) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "case_id":
            action = template.rsplit("/", 1)[1]
            return world[f"case:{STAGE_OF.get(action, 'determined')}"]
        return world.get(name, f"{name[:3]}_nonexistent")

    return re.sub(r"\{(\w+):\w+\}", one, template)


def _login_for(pages: Pages, ctx: Any, path: str, roles: tuple[str, ...], *, again: bool = False) -> None:
    """Logged in as a person allowed to post to `path`: the session kept when it is theirs already (unless `again`)."""
    if path.endswith(("/check", "/visit-attempt")):  # only the two officers assigned to the case
        who, password = officers_of(ctx, path.split("/")[2])[0], FACTORY_PASSWORD
    else:
        role = roles[0] if roles else "town_clerk"
        who, password = f"walk-{role}", PASSWORD
        if who not in pages.users.ids:
            pages.users.add(who, role, counties=("340223",))
    if again or pages.who != who:
        pages.login(who, password)


def _holder(pages: Pages, ctx: Any, path: str, holder: str, roles: tuple[str, ...]) -> str:
    """The page holding the form; logged in again first if a form posted before ended the session."""
    r = pages.get(holder)
    if r.status_code in (302, 303) and r.headers["location"].startswith("/login"):
        _login_for(pages, ctx, path, roles, again=True)
        r = pages.get(holder)
    return r.text


def test_every_page_form_answers_bad_input_in_chinese(pages, client, ctx, users) -> None:  # type: ignore[no-untyped-def]
    world = _world(ctx, pages, users)
    routes = _post_routes(client)
    assert len(routes) >= 30  # the enumeration works (every form is below)
    english: list[tuple[str, str, str]] = []
    posted = with_fields = 0
    for template, roles, has_get in routes:
        if template in ("/logout",):
            continue
        path = _fill(template, world)
        _login_for(pages, ctx, path, roles)
        holder = path if has_get else (path.rsplit("/", 1)[0] or "/")
        html = _holder(pages, ctx, path, holder, roles)
        names = fields_of(html, path)
        with_fields += bool(names)
        names = names or {"x"}
        attempts: list[tuple[str, dict[str, str], Any]] = [(v, {name: v for name in names}, None) for v in BAD_VALUES]
        if template.endswith(("/bank-return", "/referrals/import")):
            for name, content in BAD_FILES:
                attempts.append((name, {n: "" for n in names}, {"file": (name, content, "text/csv")}))
        for value, form, files in attempts:
            r = pages.post(path, form, files=files)
            if r.status_code in (302, 303) and r.headers["location"].startswith("/login"):  # the session had ended
                _login_for(pages, ctx, path, roles, again=True)
                r = pages.post(path, form, files=files)
            posted += 1
            assert r.status_code < 500, (path, value, r.text[:500])
            if r.status_code in (302, 303):
                continue
            for message in messages_of(r.text):
                bad = english_in(message)
                if bad and all(m != message[:200] for _, _, m in english):
                    english.append((template, value[:20], message[:200]))
    assert posted > 300
    assert with_fields >= 15  # the forms were found on their pages and filled with bad values
    assert english == [], "\n".join(f"{t} [{v}] {m}" for t, v, m in english)


def test_a_form_address_opened_with_get_leads_back_to_its_page(pages, client, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="received")
    pages.as_("clerk-405", "town_clerk")
    r = pages.post(f"/cases/{case_id}/screening", {"decision": "reject"})
    assert r.status_code == 422  # the address bar now shows /cases/…/screening; a reload asks for it with GET
    r = pages.get(f"/cases/{case_id}/screening")
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{case_id}"
    assert pages.get(r.headers["location"]).status_code == 200
    r = pages.get("/payee-changes/pc_x/approve")  # no page of its own above it: the nearest list
    assert r.status_code == 303 and r.headers["location"] == "/payee-changes"
    r = pages.post(f"/cases/{case_id}")  # a page that takes no form: a Chinese page, not JSON
    assert r.status_code == 405 and "text/html" in r.headers["content-type"] and "请从页面上的按钮或表单操作" in r.text
    # Programs still get problem details.
    api = client.get("/api/notices/x/close", headers={"Accept": "application/json"})
    assert api.status_code == 405 and api.headers["content-type"].startswith("application/problem+json")
