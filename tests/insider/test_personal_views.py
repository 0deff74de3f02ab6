"""查阅留痕: a look at a household's personal data leaves a row naming who looked, and the look is refused when the row
cannot be written.

The insider: one person alone looking up a neighbour's phone and income papers, or harvesting many households'
phones, with nobody able to tell afterwards. A supervisor opening another household's evidence is on record (page and
API), his case read no longer carries the phone in full, and his explicit ask for it is recorded; the officers at the
door are not. Auditors and county reviewers read the looks of their counties only; no route edits or deletes one."""

from __future__ import annotations

import re

import pytest
from factories import make_case
from litestar.routes import HTTPRoute
from sqlalchemy import select

from verifier.audit.models import AuditEntry
from verifier.peeks import record as peeks_record
from verifier.peeks.models import PersonalView
from verifier.store.tables import Case, Household, User, Visit

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
PHONE = "13912345678"
MASKED = "139****5678"


def _login(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/auth/login", json={"username": username, "password": "factory-password"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _officer(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        ids = session.scalar(select(Visit.officer_ids).where(Visit.case_id == case_id, Visit.active.is_(True)))
        return session.get(User, ids[0]).username


def _household(ctx, case_id: str, phone: str | None = PHONE) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.begin() as session:
        household = session.get(Household, session.get(Case, case_id).household_id)
        if phone:
            household.phone_enc = ctx.vault.seal(phone, "household.phone")
        return household.id


def _rows(ctx) -> list[tuple[str, str, str, str, int]]:  # type: ignore[no-untyped-def]
    """(who, kind, route, case, looks) of every look on record."""
    with ctx.db.read() as session:
        return sorted(session.execute(select(User.username, PersonalView.kind, PersonalView.route,
                                             PersonalView.case_id, PersonalView.looks)
                                      .join(User, User.id == PersonalView.user_id)).tuples())


def _logged(ctx) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return list(session.execute(select(AuditEntry.actor, AuditEntry.county_code)
                                    .where(AuditEntry.action == peeks_record.ACTION)).tuples())


def _evidence(client, ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    """A photo uploaded by an officer at the door, who reads it back: neither leaves a look."""
    me = _login(client, _officer(ctx, case_id))
    r = client.post(f"/api/cases/{case_id}/evidence", headers=me, files={"file": ("p.png", PHOTO, "image/png")})
    assert r.status_code == 201, r.text
    sha = r.json()["sha256"]
    assert client.get(f"/cases/{case_id}/evidence/{sha}", headers=me).content == PHOTO
    assert client.post(f"/api/cases/{case_id}/phone", headers=me).json()["recorded"] is False
    return sha


def test_a_supervisor_opening_another_households_evidence_is_on_record_and_the_officer_at_the_door_is_not(  # type: ignore[no-untyped-def]
        client, users, ctx) -> None:
    case_id = make_case(ctx, stage="scheduled")
    sha = _evidence(client, ctx, case_id)
    assert _rows(ctx) == [] and _logged(ctx) == []  # the officer at the door: no record
    users.add("sup-nosy", "insurer_supervisor", counties=("340223",))
    nosy = users.headers("sup-nosy")
    for _ in range(3):  # a page of thumbnails: three looks, one row, one entry in the log
        assert client.get(f"/cases/{case_id}/evidence/{sha}", headers=nosy).content == PHOTO
    assert _rows(ctx) == [("sup-nosy", "evidence", "page", case_id, 3)]
    with ctx.db.read() as session:
        supervisor = session.scalar(select(User.id).where(User.username == "sup-nosy"))
    assert _logged(ctx) == [(supervisor, "340223")]
    # the county's auditor reads it, naming him, the household and the case
    users.add("aud-here", "auditor", counties=("340223",))
    body = client.get("/api/personal-views", headers=users.headers("aud-here")).json()
    assert [(v["user_name"], v["role"], v["kind"], v["case_id"], v["looks"]) for v in body["items"]] == [
        ("sup-nosy", "insurer_supervisor", "evidence", case_id, 3)]
    assert body["items"][0]["case_number"] and body["items"][0]["head_name"]
    # searched by his name, by the case number; a date range before today finds nothing
    assert client.get("/api/personal-views?q=nosy", headers=users.headers("aud-here")).json()["total"] == 1
    number = body["items"][0]["case_number"]
    assert client.get(f"/api/personal-views?q={number}", headers=users.headers("aud-here")).json()["total"] == 1
    assert client.get("/api/personal-views?q=nobody-such", headers=users.headers("aud-here")).json()["total"] == 0
    assert client.get("/api/personal-views?to=2000-01-01", headers=users.headers("aud-here")).json()["total"] == 0


def test_the_supervisors_reads_carry_the_phone_masked_and_his_explicit_ask_is_recorded(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked")
    household_id = _household(ctx, case_id)
    users.add("sup-phone", "insurer_supervisor", counties=("340223",))
    sup = users.headers("sup-phone")
    read = client.get(f"/api/cases/{case_id}", headers=sup)
    assert read.status_code == 200 and PHONE not in read.text
    assert _rows(ctx) == []  # the case read writes nothing
    file = client.get(f"/api/households/{household_id}/file", headers=sup).json()
    assert file["household"]["phone"] == MASKED
    assert _rows(ctx) == [("sup-phone", "household_file", "api", "", 1)]
    r = client.post(f"/api/cases/{case_id}/phone", headers=sup)
    assert r.status_code == 200 and r.json() == {"case_id": case_id, "household_id": household_id, "phone": PHONE,
                                                 "recorded": True}
    assert ("sup-phone", "phone", "api", case_id, 1) in _rows(ctx)
    # nobody else asks: a county reviewer, an officer not at the door are refused, and nothing is recorded
    users.add("rev-phone", "county_reviewer", counties=("340223",))
    users.add("off-phone", "field_officer", counties=("340223",))
    for who in ("rev-phone", "off-phone"):
        r = client.post(f"/api/cases/{case_id}/phone", headers=users.headers(who))
        assert r.status_code == 403 and PHONE not in r.text, (who, r.status_code)
    assert [w for w, *_ in _rows(ctx)] == ["sup-phone", "sup-phone"]


def test_the_household_page_shows_the_phone_masked_with_a_button_and_the_looks_to_the_auditor(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    case_id = make_case(ctx, stage="checked", head_name="邻居甲")
    household_id = _household(ctx, case_id)
    pages = Pages(client, users)
    pages.as_("sup-page", "insurer_supervisor")
    shown = pages.get(f"/households/{household_id}").text
    assert MASKED in shown and PHONE not in shown and "显示完整号码" in shown and 'id="personal-views"' not in shown
    # only a POST shows it (a link, a prefetch or an address passed on shows it masked), without the sender's token not
    assert PHONE not in pages.get(f"/households/{household_id}?phone=1").text
    assert pages.post(f"/households/{household_id}/phone", csrf=False).status_code == 403
    shown = pages.post(f"/households/{household_id}/phone").text
    assert PHONE in shown
    assert {(w, k, r) for w, k, r, _, _ in _rows(ctx)} == {("sup-page", "household_file", "page"),
                                                           ("sup-page", "phone", "page")}
    pages.as_("aud-page", "auditor")
    shown = pages.get(f"/households/{household_id}").text
    assert PHONE not in shown and 'id="personal-views"' in shown and "sup-page" in shown and "完整电话" in shown
    listed = pages.get("/personal-views?q=邻居甲").text
    assert "sup-page" in listed and "完整电话" in listed and "一户一档" in listed
    assert 'href="/personal-views"' in pages.get("/").text  # the home card
    pages.as_("sup-page", "insurer_supervisor")
    assert pages.get("/personal-views").status_code == 403
    assert 'href="/personal-views"' not in pages.get("/").text


def test_another_county_reads_no_look_of_this_one(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    from factories import other_county_contract

    other_county_contract(ctx, "340224")
    case_id = make_case(ctx, stage="scheduled", head_name="前任乙")
    sha = _evidence(client, ctx, case_id)
    users.add("sup-here", "insurer_supervisor", counties=("340223",))
    assert client.get(f"/cases/{case_id}/evidence/{sha}", headers=users.headers("sup-here")).status_code == 200
    for role in ("auditor", "county_reviewer"):
        users.add(f"far-{role}", role, counties=("340224",))
        far = users.headers(f"far-{role}")
        body = client.get("/api/personal-views", headers=far).json()
        assert body["items"] == [] and body["total"] == 0
        assert client.get("/api/personal-views?q=前任乙", headers=far).json()["total"] == 0
        page = client.get("/personal-views", headers=far)
        assert page.status_code == 200 and 'id="no-looks"' in page.text
        assert "sup-here" not in page.text and "前任乙" not in page.text
    for role in ("insurer_supervisor", "field_officer", "town_clerk", "finance", "insurer_claims", "admin"):
        users.add(f"here-{role}", role, counties=("340223",))
        assert client.get("/api/personal-views", headers=users.headers(f"here-{role}")).status_code == 403, role


def test_no_route_edits_or_deletes_a_look(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    sha = _evidence(client, ctx, case_id)
    users.add("sup-del", "insurer_supervisor", counties=("340223",))
    client.get(f"/cases/{case_id}/evidence/{sha}", headers=users.headers("sup-del"))
    before = _rows(ctx)
    writes = [(m, r.path) for r in client.app.routes if isinstance(r, HTTPRoute) for h in r.route_handlers
              for m in h.http_methods if m not in ("GET", "HEAD", "OPTIONS")]
    assert len(writes) > 100  # the whole table
    assert [w for w in writes if re.search(r"personal[-_]view|look", w[1])] == []
    with ctx.db.read() as session:
        row_id = session.scalar(select(PersonalView.id))
    users.add("aud-del", "auditor", "county_reviewer", "admin", counties=("340223",))
    for method in ("DELETE", "PUT", "PATCH", "POST"):
        for url in ("/api/personal-views", f"/api/personal-views/{row_id}", "/personal-views",
                    f"/personal-views/{row_id}"):
            r = client.request(method, url, headers=users.headers("aud-del"), json={"looks": 0})
            assert r.status_code in (403, 404, 405), (method, url, r.status_code)
    assert _rows(ctx) == before


def test_a_look_that_cannot_be_recorded_is_refused(client, users, ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    household_id = _household(ctx, case_id)
    sha = _evidence(client, ctx, case_id)
    users.add("sup-fail", "insurer_supervisor", counties=("340223",))
    sup = users.headers("sup-fail")

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the look's row cannot be written")

    monkeypatch.setattr(peeks_record, "record", broken)
    r = client.get(f"/cases/{case_id}/evidence/{sha}", headers=sup)
    assert r.status_code >= 500 and PHOTO not in r.content
    for method, url in (("POST", f"/api/cases/{case_id}/phone"), ("GET", f"/api/households/{household_id}/file"),
                        ("POST", f"/households/{household_id}/phone"), ("GET", f"/households/{household_id}")):
        r = client.request(method, url, headers=sup)
        assert r.status_code >= 500 and PHONE not in r.text and "139****" not in r.text, (url, r.status_code)
    r = client.get(f"/households/{household_id}/file.xlsx", headers=sup)
    assert r.status_code >= 500, r.status_code
    assert [w for w, *_ in _rows(ctx)] == [] and _logged(ctx) == []


@pytest.mark.parametrize("kind", ["evidence", "phone"])
def test_each_look_counts_on_its_days_row(client, users, ctx, clock, kind) -> None:  # type: ignore[no-untyped-def]
    """The next day's look is a row of its own, logged again; the same day's adds to the count."""

    case_id = make_case(ctx, stage="scheduled")
    _household(ctx, case_id)
    sha = _evidence(client, ctx, case_id)
    users.add("sup-days", "insurer_supervisor", counties=("340223",))
    sup = users.headers("sup-days")

    def look() -> None:
        r = (client.get(f"/cases/{case_id}/evidence/{sha}", headers=sup) if kind == "evidence"
             else client.post(f"/api/cases/{case_id}/phone", headers=sup))
        assert r.status_code == 200, r.text

    look()
    look()
    clock.advance(days=1)
    look()
    assert [n for *_, n in _rows(ctx)] == [1, 2] and len(_logged(ctx)) == 2


def _referral_phone(ctx, case_id: str, phone: str) -> None:  # type: ignore[no-untyped-def]
    from verifier.store.tables import Referral

    with ctx.db.begin() as session:
        for referral in session.scalars(select(Referral).where(Referral.case_id == case_id)):
            referral.phone_enc = ctx.vault.seal(phone, "referral.phone")


def test_a_household_without_a_phone_shows_none_and_an_ask_leaves_no_phone_look(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    case_id = make_case(ctx, stage="checked", head_name="无电话户")
    household_id = _household(ctx, case_id, phone=None)
    pages = Pages(client, users)
    pages.as_("sup-none", "insurer_supervisor")
    shown = pages.post(f"/households/{household_id}/phone").text
    assert "未登记" in shown and 'id="show-phone"' not in shown
    sup = users.headers("sup-none")
    r = client.post(f"/api/cases/{case_id}/phone", headers=sup)
    assert r.status_code == 200 and r.json()["phone"] is None and r.json()["recorded"] is False
    assert _rows(ctx) == [("sup-none", "household_file", "page", "", 1)]
    users.add("rev-none", "county_reviewer", counties=("340223",))
    assert client.post(f"/api/cases/{case_id}/phone", headers=users.headers("rev-none")).status_code == 403


def test_the_file_and_the_ask_show_the_referrals_phone_when_the_household_gave_none(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    case_id = make_case(ctx, stage="checked", head_name="转介电话户")
    household_id = _household(ctx, case_id, phone=None)
    _referral_phone(ctx, case_id, PHONE)
    pages = Pages(client, users)
    pages.as_("sup-ref", "insurer_supervisor")
    shown = pages.get(f"/households/{household_id}").text
    assert MASKED in shown and PHONE not in shown and 'id="show-phone"' in shown
    assert PHONE in pages.post(f"/households/{household_id}/phone").text
    r = client.post(f"/api/cases/{case_id}/phone", headers=users.headers("sup-ref"))
    assert r.json()["phone"] == PHONE and r.json()["recorded"] is True
    assert {(k, r) for _, k, r, _, _ in _rows(ctx)} == {("household_file", "page"), ("phone", "page"),
                                                         ("phone", "api")}
    assert client.get(f"/api/households/{household_id}/file",
                      headers=users.headers("sup-ref")).json()["household"]["phone"] == MASKED


def test_the_looks_name_the_looker_with_his_username(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    """Display names need not be unique: two 张三 tell apart by their usernames."""
    case_id = make_case(ctx, stage="scheduled", head_name="同名查阅户")
    household_id = _household(ctx, case_id)
    sha = _evidence(client, ctx, case_id)
    for name in ("zhangsan", "zhangsan2"):
        users.add(name, "insurer_supervisor", counties=("340223",))
        with ctx.db.begin() as session:
            session.get(User, users.ids[name]).display_name = "张三"
        assert client.get(f"/cases/{case_id}/evidence/{sha}", headers=users.headers(name)).status_code == 200
    users.add("aud-names", "auditor", counties=("340223",))
    aud = users.headers("aud-names")
    items = client.get("/api/personal-views?q=同名查阅户", headers=aud).json()["items"]
    assert sorted((i["user_name"], i["username"]) for i in items) == [("张三", "zhangsan"), ("张三", "zhangsan2")]
    for text in (client.get("/personal-views?q=同名查阅户", headers=aud).text,
                 client.get(f"/households/{household_id}", headers=aud).text):
        assert "张三（zhangsan）" in text and "张三（zhangsan2）" in text


def test_the_household_page_lists_the_look_just_made(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    """The file's 查阅记录 is read after the look is recorded: the auditor sees his own look of this very read."""
    case_id = make_case(ctx, stage="checked", head_name="新近查阅户")
    household_id = _household(ctx, case_id)
    users.add("aud-self", "auditor", counties=("340223",))
    text = client.get(f"/households/{household_id}", headers=users.headers("aud-self")).text
    assert 'id="household-looks"' in text and "aud-self" in text
