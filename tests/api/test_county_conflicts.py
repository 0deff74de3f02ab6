"""A person of another county's household, named in a referral or a home check: a neutral refusal (no hint of
which county, nor that the person is known), and a conflict that the county reviewers of both counties see."""

from __future__ import annotations

import io

from county_helpers import HERE, OTHER, add_county, entries
from factories import make_case, staff
from openpyxl import Workbook
from sqlalchemy import select

from verifier.store.tables import Case, Referral, User, Visit

NEUTRAL = "该身份证号无法在本县登记，请联系县级复核员"


def _person_of(ctx, case_id: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The name and full ID number of a case's referred person."""
    with ctx.db.read() as session:
        r = session.scalar(select(Referral).where(Referral.case_id == case_id))
        return r.name, ctx.vault.open(r.id_number_enc, "referral.id_number")


def _login(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/auth/login", json={"username": username, "password": "factory-password"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _reviewers(users) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:  # type: ignore[no-untyped-def]
    users.add("reviewer-here", "county_reviewer", counties=(HERE,))
    users.add("reviewer-there", "county_reviewer", counties=(OTHER,))
    users.add("reviewer-third", "county_reviewer", counties=("340225",))
    return users.headers("reviewer-here"), users.headers("reviewer-there"), users.headers("reviewer-third")


def _neutral(r) -> None:  # type: ignore[no-untyped-def]
    """The refusal names no county and says nothing of relief."""
    assert r.status_code == 422, r.text
    assert HERE not in r.text and "another" not in r.text and "relief" not in r.text.lower()
    assert NEUTRAL in [e["message"] for e in r.json()["errors"]]


def test_an_application_for_a_person_of_another_county_is_refused_neutrally_and_both_counties_see_it(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    add_county(ctx)
    name, idn = _person_of(ctx, make_case(ctx, stage="determined"))
    clerk = staff(ctx, OTHER).clerk
    with ctx.db.read() as session:
        before = session.query(Case).count()
    r = client.post("/api/referrals", headers=_login(client, clerk.username), json={
        "county_code": OTHER, "id_number": idn, "name": name, "town": "新镇", "village": "新村",
        "household_group": "low_income", "cause": "illness", "amount": "30000.00"})
    _neutral(r)
    with ctx.db.read() as session:
        assert session.query(Case).count() == before  # nothing of the application was stored
    here, there, third = _reviewers(users)
    for reviewer in (here, there):
        (conflict,) = client.get("/api/conflicts", headers=reviewer).json()
        assert conflict["source"] == "application"
        assert (conflict["county_code"], conflict["home_county_code"]) == (OTHER, HERE)
        assert conflict["actor"] == clerk.id and conflict["id_number"] != idn
        assert conflict["id_number"][:6] == idn[:6] and conflict["id_number"][-4:] == idn[-4:]
    assert client.get("/api/conflicts", headers=third).json() == []
    # The clerk may not read it; and the log has it, under the county where it happened.
    assert client.get("/api/conflicts", headers=_login(client, clerk.username)).status_code == 403
    assert [c for _, action, _, c in entries(ctx) if action == "county_conflict.record"] == [OTHER]


def test_a_bureau_file_naming_a_person_of_another_county_is_refused_row_by_row(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    add_county(ctx)
    name, idn = _person_of(ctx, make_case(ctx, stage="received"))
    book = Workbook()
    sheet = book.active
    sheet.append(["身份证号", "姓名", "乡镇", "村", "户类型", "原因", "金额", "日期"])
    sheet.append([idn, name, "新镇", "新村", "非贫低收入户", "因病", 30000, "2020-05-20"])
    data = io.BytesIO()
    book.save(data)
    supervisor = staff(ctx, OTHER).supervisor
    r = client.post("/api/referrals/imports", headers=_login(client, supervisor.username),
                    data={"channel": "civil_affairs", "county_code": OTHER},
                    files={"file": ("list.xlsx", data.getvalue(), "application/octet-stream")})
    _neutral(r)
    assert r.json()["errors"][0]["row"] == 2
    here, there, _ = _reviewers(users)
    (conflict,) = client.get("/api/conflicts", headers=here).json()
    assert (conflict["source"], conflict["row"], conflict["home_county_code"]) == ("referral_import", 2, HERE)
    assert client.get("/api/conflicts", headers=there).json() == [conflict]


def test_a_home_check_naming_a_person_of_another_county_is_refused_neutrally(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    add_county(ctx)
    name, idn = _person_of(ctx, make_case(ctx, stage="received"))
    case_id = make_case(ctx, stage="scheduled", county=OTHER)
    with ctx.db.read() as session:
        officers = session.scalar(select(Visit.officer_ids).where(Visit.case_id == case_id, Visit.active.is_(True)))
        first, second = (session.get(User, o).username for o in officers)
    me = _login(client, first)
    head_name, head_id = _person_of(ctx, case_id)
    r = client.post(f"/api/cases/{case_id}/check", headers=me, json={
        "visited_on": ctx.clock.today().isoformat(), "officers": [first, second],
        "members": [{"name": head_name, "id_number": head_id, "relation": "head", "labour": "full"},
                    {"name": name, "id_number": idn, "relation": "spouse", "labour": "full"}],
        "income": {"wages": "3000.00"}, "rigid_expenditure": {"medical_self_paid": "42000.00"},
        "stable_income": False})
    _neutral(r)
    assert r.json()["errors"][0]["field"] == "members[1].id_number"
    here, there, third = _reviewers(users)
    (conflict,) = client.get("/api/conflicts", headers=there).json()
    assert (conflict["source"], conflict["reference"], conflict["county_code"]) == ("home_check", case_id, OTHER)
    assert client.get("/api/conflicts", headers=here).json() == [conflict]
    assert client.get("/api/conflicts", headers=third).json() == []
    with ctx.db.read() as session:
        assert session.get(Case, case_id).status == "scheduled"
