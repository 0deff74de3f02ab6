"""A member one check adds or renames, paid at another case. A household may have two open cases (two causes, two
contract years) and the same officers sent to both (since rotation holds at the door: a small county's only two, by
hand with the reason, the second visit scheduled again once the first check is in). At the first case's check the officer records a new member, or
renames a member to his accomplice's name; the door refuses that person as payee at that check, but the check writes
him into the household's members. At the second case's check the officer names him payee with his own card: the
member is now "on record" by the household's stored members. A name a check typed is now on record for payment only
once that check's determination is confirmed, and never for that check's own case (`checks/on_record.py`): before
that the door refuses it at every check, and a payee change to it needs a reason and a county reviewer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import new_id_number, staff
from insider_kit import COUNTY, check_body, given_to, head_of, head_on_record, kept_flow, schedule
from sqlalchemy import func, select
from web.pagekit import Pages

from verifier import demo
from verifier.checks import on_record
from verifier.audit.models import AuditEntry
from verifier.domain.payee import NOT_YET_ON_RECORD_AT_THE_DOOR
from verifier.store.tables import Check, Member, User, Visit

OFFICERS_CARD = "6222020000000077771"


def _two_cases_one_team(ctx, client, users):  # type: ignore[no-untyped-def]
    """One household with two open cases (illness, disaster), both screened and scheduled today for `off1` and `off2`
    by `sup`, the county's only two field officers (rotation lets a small county send them to both, by hand with the
    reason; the second case is scheduled again once the first is checked, `_second_again`): (first case, second
    case)."""
    s = staff(ctx, COUNTY, 0)
    team = demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2)
    today = ctx.clock.today()
    hh = demo.new_household("城关镇", "东村")
    first = demo.refer(ctx, team, hh, cause="illness", amount="1000.00", referred_on=today - timedelta(days=3),
                       county=COUNTY)
    second = demo.refer(ctx, team, hh, cause="disaster", amount="1000.00", referred_on=today - timedelta(days=2),
                        county=COUNTY)
    for case_id in (first, second):
        demo.advance_to(ctx, team, case_id, hh, "screened", on=today, vehicle="车000")
    with ctx.db.begin() as session:  # the staff's officers gone: off1 and off2 are the county's only two
        for officer in (s.officer1, s.officer2):
            session.get(User, officer.id).active = False
    for name, role in (("sup", "insurer_supervisor"), ("sup2", "insurer_supervisor"), ("off1", "field_officer"),
                       ("off2", "field_officer"), ("fin", "finance"), ("rev", "county_reviewer")):
        users.add(name, role, counties=(COUNTY,))
    officers = [users.ids["off1"], users.ids["off2"]]
    for case_id in (first, second):  # both before either check: a small county's, with the reason
        r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("sup"), json={
            "officers": officers, "visit_on": today.isoformat(), "vehicle": "车01", "reason": SMALL_COUNTY})
        assert r.status_code == 200, r.text
    return first, second


SMALL_COUNTY = "本县仅有两名核查员"


one_team_kept = kept_flow("one_team_kept", _two_cases_one_team)


@pytest.fixture
def one_team(users, one_team_kept):  # type: ignore[no-untyped-def]
    """`_two_cases_one_team`, built by the process's first test that asks for it and kept (the tests only add to
    it): the next start from a copy of its rows, keys, log and time (insider_kit.kept_flow)."""
    return given_to(users, one_team_kept)


def _second_again(ctx, client, users, case_id: str) -> None:  # type: ignore[no-untyped-def]
    """The second case scheduled again for `off1` and `off2` once they checked the first: rotation, asked at the
    door, takes the small county's reason only when given knowing who checked the household last."""
    r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("sup"), json={
        "officers": [users.ids["off1"], users.ids["off2"]], "visit_on": ctx.clock.today().isoformat(), "vehicle": "车01",
        "reason": SMALL_COUNTY + "，已核查该户另一案件"})
    assert r.status_code == 200, r.text


def _body(ctx, client, users, case_id: str, members: list[dict[str, str]], payee: str | None = "",  # type: ignore[no-untyped-def]
          account: str | None = OFFICERS_CARD, head_name: str = "") -> dict:
    """A check of `case_id` by `off1` and `off2` today: the head (under `head_name` if given) and `members`; `payee`
    the account's name ("" the head's, None no account)."""
    head = head_of(client, users.headers("sup"), case_id)
    body = check_body(head, head_on_record(ctx, case_id)[1], [users.ids["off1"], users.ids["off2"]],
                      ctx.clock.today().isoformat(), account=account)
    body["members"] = [{**body["members"][0], "name": head_name or head}, *members]
    body["payee"] = None if payee is None else {**body["payee"], "account_name": payee or head}
    return body


def _second_body(ctx, client, users, case_id: str, members, payee: str | None,  # type: ignore[no-untyped-def]
                 head_name: str = ""):
    """`_body` of the second case (a disaster: its loss and the loss's certificate instead of a medical cost)."""
    body = _body(ctx, client, users, case_id, members, payee, head_name=head_name)
    body["rigid_expenditure"] = {**body["rigid_expenditure"], "medical_self_paid": "0.00", "disaster_loss": "40000.00"}
    body["bills"] = [{**body["bills"][0], "kind": "disaster", "issuer": "乡镇应急办"}]
    return body


def _written(ctx) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return (session.scalar(select(func.count()).select_from(Check)),
                session.scalar(select(func.count()).select_from(Member)),
                session.scalar(select(func.count()).select_from(AuditEntry)))


def _refused_not_on_record(r) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "payee.account_name", "message": NOT_YET_ON_RECORD_AT_THE_DOOR}], r.text


def test_attack_a_member_added_at_one_case_is_named_payee_at_the_other(ctx, client, users, one_team) -> None:  # type: ignore[no-untyped-def]
    first, second = one_team
    off = users.headers("off1")
    made_up = {"name": "赵核查", "id_number": new_id_number(), "relation": "other", "labour": "full"}
    # Case 1: the made-up member recorded, the head (on record) as payee: taken (a household grows).
    r = client.post(f"/api/cases/{first}/check", headers=off,
                    json=_body(ctx, client, users, first, [made_up], account=None))
    assert r.status_code == 201, r.text
    _second_again(ctx, client, users, second)
    # Case 2: the same officer names him payee with his own card: refused, nothing written.
    before = _written(ctx)
    r = client.post(f"/api/cases/{second}/check", headers=off,
                    json=_second_body(ctx, client, users, second, [made_up], "赵核查"))
    _refused_not_on_record(r)
    assert _written(ctx) == before

    # A payee change of case 1 to him, once it is determined: he is new to the household (the check that added him is
    # this case's), so the reason is required and only a county reviewer approves.
    # The determination page names him among the members the check added or renamed, before it is confirmed.
    pages = Pages(client, users)
    pages.login("sup2")
    page = pages.get(f"/cases/{first}/determination").text
    assert 'id="typed-members"' in page and "赵核查" in page and "新登记或更改姓名" in page
    r = client.post(f"/api/cases/{first}/determination", headers=users.headers("sup2"), json={"confirm": True})
    assert r.status_code == 200, r.text
    change = {"account_name": "赵核查", "bank": "农村商业银行", "account_number": OFFICERS_CARD}
    r = client.post(f"/api/cases/{first}/payee", headers=users.headers("sup"), json=change)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason", r.text
    r = client.post(f"/api/cases/{first}/payee", headers=users.headers("sup"), json={**change, "reason": "新增成员"})
    assert r.status_code == 201, r.text
    assert r.json()["name_in_household"] is False and r.json()["approver_roles"] == ["county_reviewer"], r.text
    r = client.post(f"/api/payee-changes/{r.json()['id']}/approve", headers=users.headers("fin"))
    assert r.status_code == 403 and "县级审核人员" in r.text, r.text

    # Case 1's determination confirmed by another person (sup2, neither officer): at case 2 he is on record now.
    r = client.post(f"/api/cases/{second}/check", headers=off,
                    json=_second_body(ctx, client, users, second, [made_up], "赵核查"))
    assert r.status_code == 201, r.text


def test_attack_the_head_renamed_at_one_case_is_named_payee_at_the_other(ctx, client, users, one_team) -> None:  # type: ignore[no-untyped-def]
    first, second = one_team
    off = users.headers("off1")
    # Case 1: the head renamed to the accomplice's name (no account at the door: the door refuses a renamed payee).
    r = client.post(f"/api/cases/{first}/check", headers=off,
                    json=_body(ctx, client, users, first, [], None, head_name="钱同伙"))
    assert r.status_code == 201, r.text
    _second_again(ctx, client, users, second)
    before = _written(ctx)
    r = client.post(f"/api/cases/{second}/check", headers=off,
                    json=_second_body(ctx, client, users, second, [], "钱同伙", head_name="钱同伙"))
    _refused_not_on_record(r)
    assert _written(ctx) == before
    r = client.post(f"/api/cases/{second}/check", headers=off,
                    json=_second_body(ctx, client, users, second, [], None, head_name="钱同伙"))
    assert r.status_code == 201, r.text
    # Case 2 determined: a payee change to the renamed head is to someone new there too, until case 1's check, which
    # renamed him, is confirmed by its determination.
    change = {"account_name": "钱同伙", "bank": "农村商业银行", "account_number": OFFICERS_CARD}
    r = client.post(f"/api/cases/{second}/determination", headers=users.headers("sup2"), json={"confirm": True})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/cases/{second}/payee", headers=users.headers("sup"), json=change)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason", r.text
    r = client.post(f"/api/cases/{first}/determination", headers=users.headers("sup2"), json={"confirm": True})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/cases/{second}/payee", headers=users.headers("sup"), json=change)
    assert r.status_code == 201 and r.json()["name_in_household"] is True, r.text


def _two_cases_two_teams(ctx, users, one_team):  # type: ignore[no-untyped-def]
    """`_two_cases_one_team` (`one_team`), the second case scheduled for `off3` and `off4` instead: (first case,
    second case)."""
    first, second = one_team
    users.add("off3", "field_officer", counties=(COUNTY,))
    users.add("off4", "field_officer", counties=(COUNTY,))
    with ctx.db.begin() as session:  # as if scheduled so from the start (a rescheduling asks for its reason)
        visit = session.scalars(select(Visit).where(Visit.case_id == second, Visit.active.is_(True))).one()
        visit.officer_ids = [users.ids["off3"], users.ids["off4"]]
    return first, second


def _on_record_at(ctx, case_id: str, listed_by: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The names on record for a payment of `case_id` among the members of the check of `listed_by`."""
    with ctx.db.read() as session:
        check = session.scalars(select(Check).where(Check.case_id == listed_by)).one()
        return on_record.names_on_record(session, case_id, list(check.members))


def test_a_member_tied_to_a_check_never_determined_is_vouched_for_by_other_officers_check(ctx, client, users, one_team) -> None:  # type: ignore[no-untyped-def]
    first, second = _two_cases_two_teams(ctx, users, one_team)
    made_up = {"name": "孙新增", "id_number": new_id_number(), "relation": "other", "labour": "full"}
    r = client.post(f"/api/cases/{first}/check", headers=users.headers("off1"),
                    json=_body(ctx, client, users, first, [made_up], account=None))
    assert r.status_code == 201, r.text
    # The check that added him is sent back: it is never determined, so it never puts him on record itself.
    r = client.post(f"/api/cases/{first}/send-back", headers=users.headers("sup"), json={"reason": "收入未核实"})
    assert r.status_code == 200, r.text
    body = _second_body(ctx, client, users, second, [made_up], None)
    body["officers"] = [users.ids["off3"], users.ids["off4"]]
    r = client.post(f"/api/cases/{second}/check", headers=users.headers("off3"), json=body)
    assert r.status_code == 201, r.text
    with ctx.db.read() as session:
        added_by = session.scalars(select(Member.added_by_check_id).where(Member.name == "孙新增")).one()
        assert added_by == session.scalars(select(Check.id).where(Check.case_id == first)).one()
    head = head_of(client, users.headers("sup"), first)
    assert _on_record_at(ctx, first, second) == [head]  # the second check not yet confirmed
    r = client.post(f"/api/cases/{second}/determination", headers=users.headers("sup2"), json={"confirm": True})
    assert r.status_code == 200, r.text
    # Other officers found him unchanged, and that is confirmed: on record for the household's other cases, though
    # the check that added him is never determined; not for the case of the check that vouches for him.
    assert _on_record_at(ctx, first, second) == [head, "孙新增"]
    assert _on_record_at(ctx, second, second) == [head]


def test_the_adders_own_later_check_does_not_vouch_for_the_member(ctx, client, users, one_team) -> None:  # type: ignore[no-untyped-def]
    first, second = one_team
    made_up = {"name": "孙新增", "id_number": new_id_number(), "relation": "other", "labour": "full"}
    r = client.post(f"/api/cases/{first}/check", headers=users.headers("off1"),
                    json=_body(ctx, client, users, first, [made_up], account=None))
    assert r.status_code == 201, r.text
    r = client.post(f"/api/cases/{first}/send-back", headers=users.headers("sup"), json={"reason": "收入未核实"})
    assert r.status_code == 200, r.text
    _second_again(ctx, client, users, second)
    r = client.post(f"/api/cases/{second}/check", headers=users.headers("off1"),
                    json=_second_body(ctx, client, users, second, [made_up], None))
    assert r.status_code == 201, r.text
    r = client.post(f"/api/cases/{second}/determination", headers=users.headers("sup2"), json={"confirm": True})
    assert r.status_code == 200, r.text
    # the same officers listing him again is still their word
    assert _on_record_at(ctx, first, second) == [head_of(client, users.headers("sup"), first)]


def test_attack_the_adders_second_account_does_not_vouch_for_the_member(ctx, client, users, one_team) -> None:  # type: ignore[no-untyped-def]
    """An officer adds a member at one case's check, which is sent back (never determined). At the household's other
    case the officer's second account (its password set by him) records a check listing the member unchanged, with a
    colleague, and that determination is confirmed: still the adder's word, not other officers'. The member stays off
    the record for the first case, and naming him payee at its next visit's door is refused."""
    first, second = _two_cases_two_teams(ctx, users, one_team)
    with ctx.db.begin() as session:  # off1 set off3's password: off3 is off1's second account
        session.get(User, users.ids["off3"]).password_set_by = users.ids["off1"]
    made_up = {"name": "李四", "id_number": new_id_number(), "relation": "other", "labour": "full"}
    r = client.post(f"/api/cases/{first}/check", headers=users.headers("off1"),
                    json=_body(ctx, client, users, first, [made_up], account=None))
    assert r.status_code == 201, r.text
    r = client.post(f"/api/cases/{first}/send-back", headers=users.headers("sup"), json={"reason": "收入未核实"})
    assert r.status_code == 200, r.text
    body = _second_body(ctx, client, users, second, [made_up], None)
    body["officers"] = [users.ids["off3"], users.ids["off4"]]
    r = client.post(f"/api/cases/{second}/check", headers=users.headers("off3"), json=body)
    assert r.status_code == 201, r.text
    r = client.post(f"/api/cases/{second}/determination", headers=users.headers("sup2"), json={"confirm": True})
    assert r.status_code == 200, r.text
    head = head_of(client, users.headers("sup"), first)
    assert _on_record_at(ctx, first, second) == [head]
    # The first case's next visit (its officers may not make it) naming him payee with the adder's card: refused,
    # nothing written.
    users.add("off5", "field_officer", counties=(COUNTY,))
    users.add("off6", "field_officer", counties=(COUNTY,))
    schedule(client, users.headers("sup"), first, [users.ids["off5"], users.ids["off6"]],
             ctx.clock.today().isoformat(), vehicle="车05")
    body = _body(ctx, client, users, first, [made_up], "李四")
    body["officers"] = [users.ids["off5"], users.ids["off6"]]
    before = _written(ctx)
    r = client.post(f"/api/cases/{first}/check", headers=users.headers("off5"), json=body)
    _refused_not_on_record(r)
    assert _written(ctx) == before
    # The same confirmed check by accounts not linked to the adder's vouches for him (other officers' word).
    with ctx.db.begin() as session:
        session.get(User, users.ids["off3"]).password_set_by = None
    assert _on_record_at(ctx, first, second) == [head, "李四"]
