"""The second person of a case's own steps held through a second account. The money's four eyes (batches, payee
changes, recoveries), the roster's, the registers', the follow-ups' and a supplement's confirmation refuse an
account linked by a password to the first person's (`roster.service.password_links`: one set the other's password,
or one person set both and either still has it), but the case's own second persons told the two apart by the account
alone: a supervisor who had set an officer's password (a supervisor who is also the county's admin, or reset a
colleague's) recorded the check as that officer and confirmed its determination, so one person chose the figures
that set the relief and confirmed them; a clerk proposed a bureau-referred household's screen-out, or a village
review's 未通过, and confirmed it through the second account, closing an eligible household's case for good; the
clerk who posted a notice confirmed its posting on the wall through an account they held. Each is now refused: 403,
nothing written, kept on 回避拦截记录 under the step (`recusal.refusals.refuse_linked`); someone else takes it."""

from __future__ import annotations

from factories import COUNTY, head_on_record, make_case
from insider_kit import bureau_case, check_body, entries_but_refusals, refusals_of, reviewed_and_posted, schedule
from sqlalchemy import select
from village_kit import wall_photo

from verifier.store.tables import Case, User


def _set_password_of(ctx, users, account: str, by: str) -> None:  # type: ignore[no-untyped-def]
    """`by` last set `account`'s password (and so knew one), as an admin's reset leaves it once the owner chose
    their own."""
    with ctx.db.begin() as session:
        session.get(User, users.ids[account]).password_set_by = users.ids[by]


def _status(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return str(session.get(Case, case_id).status)


def test_attack_a_supervisor_records_the_check_as_an_officer_he_holds_and_confirms_it(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="screened")
    users.add("boss", "insurer_supervisor", counties=(COUNTY,))
    users.add("boss2", "insurer_supervisor", counties=(COUNTY,))
    users.add("other", "insurer_supervisor", counties=(COUNTY,))
    users.add("pal", "field_officer", counties=(COUNTY,))
    users.add("peer", "field_officer", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    _set_password_of(ctx, users, "pal", by="boss")  # the supervisor knows a password of the officer's account
    _set_password_of(ctx, users, "boss2", by="peer")  # and the other officer one of a second supervisor's
    today = ctx.clock.today().isoformat()
    team = [users.ids["pal"], users.ids["peer"]]
    schedule(client, users.headers("other"), case_id, team, today)
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers("pal"),
                    json=check_body(*head_on_record(ctx, case_id), team, today, wages="100.00"))
    assert r.status_code == 201, r.text
    before = entries_but_refusals(ctx)

    # The figures are "the officer's"; the supervisor confirming them holds that officer's account: refused.
    r = client.post(f"/api/cases/{case_id}/determination", headers=users.headers("boss"), json={"confirm": True})
    assert r.status_code == 403, r.text
    assert "密码关联" in r.json()["detail"] and "核查" in r.json()["detail"], r.text
    # Nor does an account linked to the check's other officer (the one who did not type it) confirm it.
    r = client.post(f"/api/cases/{case_id}/determination", headers=users.headers("boss2"), json={"confirm": True})
    assert r.status_code == 403 and "密码关联" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before and _status(ctx, case_id) == "checked"
    # A preview is still theirs to see.
    r = client.post(f"/api/cases/{case_id}/determination", headers=users.headers("boss"), json={"confirm": False})
    assert r.status_code == 200, r.text
    assert [(k["step"], k["case_id"]) for k in refusals_of(ctx, users.ids["boss"]) + refusals_of(ctx, users.ids["boss2"])] \
        == [("determination", case_id), ("determination", case_id)]

    # A supervisor with no such link confirms.
    r = client.post(f"/api/cases/{case_id}/determination", headers=users.headers("other"), json={"confirm": True})
    assert r.status_code == 200, r.text
    assert _status(ctx, case_id) == "determined"


def test_attack_a_clerk_confirms_their_own_screen_out_through_a_second_account(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("clerk_pal", "town_clerk", counties=(COUNTY,))
    users.add("reviewer_pal", "county_reviewer", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    _set_password_of(ctx, users, "clerk_pal", by="clerk")
    _set_password_of(ctx, users, "clerk", by="reviewer_pal")  # the other way round: the confirmer set the proposer's
    case_id = bureau_case(ctx, client, users)
    r = client.post(f"/api/cases/{case_id}/screening", headers=users.headers("clerk"),
                    json={"decision": "reject", "reason": "家庭收入稳定"})
    assert r.status_code == 200 and r.json()["status"] == "received", r.text
    before = entries_but_refusals(ctx)
    for who in ("clerk_pal", "reviewer_pal"):
        r = client.post(f"/api/cases/{case_id}/screening", headers=users.headers(who),
                        json={"decision": "reject", "reason": "核实：家庭有稳定工资收入"})
        assert r.status_code == 403, r.text
        assert "密码关联" in r.json()["detail"] and "初筛不通过" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before and _status(ctx, case_id) == "received"
    assert [k["step"] for k in refusals_of(ctx, users.ids["clerk_pal"]) + refusals_of(ctx, users.ids["reviewer_pal"])] \
        == ["screening", "screening"]
    # Overturning it (通过) keeps the household in: that is no second person's part, and stays open to them.
    r = client.post(f"/api/cases/{case_id}/screening", headers=users.headers("reviewer"),
                    json={"decision": "reject", "reason": "核实：家庭有稳定工资收入"})
    assert r.status_code == 200 and r.json()["status"] == "screened_out", r.text


def test_attack_a_clerk_confirms_their_own_village_fail_through_a_second_account(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("clerk_pal", "town_clerk", counties=(COUNTY,))
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    _set_password_of(ctx, users, "clerk_pal", by="clerk")
    case_id = make_case(ctx)  # determined eligible by the insurer
    day = ctx.clock.today().isoformat()
    r = client.post(f"/api/cases/{case_id}/village-review", headers=users.headers("clerk"),
                    json={"held_on": day, "result": "fail", "note": "村民代表认为该户有稳定收入"})
    assert r.status_code == 201 and r.json()["case_status"] == "determined", r.text
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/cases/{case_id}/village-review", headers=users.headers("clerk_pal"),
                    json={"held_on": day, "result": "fail", "note": ""})
    assert r.status_code == 403, r.text
    assert "密码关联" in r.json()["detail"] and "村级评议未通过" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before and _status(ctx, case_id) == "determined"
    assert [k["step"] for k in refusals_of(ctx, users.ids["clerk_pal"])] == ["village_review"]
    r = client.post(f"/api/cases/{case_id}/village-review", headers=users.headers("clerk2"),
                    json={"held_on": day, "result": "fail", "note": ""})
    assert r.status_code == 201 and r.json()["case_status"] == "review_failed", r.text


def test_attack_the_clerk_who_posted_a_notice_confirms_its_wall_through_a_second_account(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("reviewer_pal", "county_reviewer", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    _set_password_of(ctx, users, "reviewer_pal", by="clerk")
    case_id = make_case(ctx, village="东村")
    clerk, today = users.headers("clerk"), ctx.clock.today().isoformat()
    notice_id = reviewed_and_posted(client, clerk, case_id, today)["id"]
    r = client.post(f"/api/notices/{notice_id}/photos", headers=clerk,
                    files={"file": ("公示张贴.jpg", wall_photo(ctx.clock.today()), "image/jpeg")})
    assert r.status_code == 201, r.text
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=users.headers("reviewer_pal"),
                    json={"note": "查阅了纸质会议记录"})
    assert r.status_code == 403, r.text
    assert "密码关联" in r.json()["detail"] and "张贴须由另一人确认" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before
    assert [(k["step"], k["subject"]) for k in refusals_of(ctx, users.ids["reviewer_pal"])] == [
        ("notice_posting", notice_id)]
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=users.headers("reviewer"),
                    json={"note": "查阅了纸质会议记录"})
    assert r.status_code == 200 and r.json()["posting"]["confirmed_by"] == users.ids["reviewer"], r.text


def test_attack_the_supervisor_who_determined_a_held_case_redetermines_it_through_a_second_account(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The county's re-check found a household ineligible and its payment is held until another supervisor
    re-determines it: not the one who confirmed the determination, nor, now, an account linked to theirs."""
    from deviation_helpers import both_found_ineligible, held_and_paid_in_a_round

    from verifier.sampling.models import CaseHold
    from verifier.store.tables import Determination

    round_ = held_and_paid_in_a_round(ctx, client, users)
    both_found_ineligible(ctx, client, round_, "9000.00")
    with ctx.db.read() as session:
        determiner = session.scalars(select(Determination.confirmed_by)
                                     .where(Determination.case_id == round_.held)).one()
        username = session.get(User, determiner).username
    users.ids.setdefault(username, determiner)
    users.add("sup_pal", "insurer_supervisor", counties=(COUNTY,))
    _set_password_of(ctx, users, "sup_pal", by=username)
    before = entries_but_refusals(ctx)
    body = {"outcome": "proceed", "reason": "核实无误，维持原认定"}
    r = client.post(f"/api/cases/{round_.held}/redetermination", headers=users.headers("sup_pal"), json=body)
    assert r.status_code == 403, r.text
    assert "密码关联" in r.json()["detail"] and "确认该户认定的主管" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before
    with ctx.db.read() as session:
        assert session.scalars(select(CaseHold.status).where(CaseHold.case_id == round_.held)).one() == "open"
    assert [k["step"] for k in refusals_of(ctx, users.ids["sup_pal"])] == ["redetermination"]
    users.add("sup_other", "insurer_supervisor", counties=(COUNTY,))
    r = client.post(f"/api/cases/{round_.held}/redetermination", headers=users.headers("sup_other"), json=body)
    assert r.status_code == 200, r.text


def test_attack_one_person_commits_both_parties_secrets_of_a_sampling_round_through_a_second_account(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A round's sample is drawn from the county's and the insurer's secrets, each committed before the population is
    frozen: one person holding both could try pairs of secrets until the sample leaves out the cases they fear. The
    same account may not commit for both parties; nor, now, an account linked to the other party's committer."""
    import hashlib

    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("insurer_pal", "insurer_supervisor", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    _set_password_of(ctx, users, "insurer_pal", by="reviewer")
    make_case(ctx)
    r = client.post("/api/sampling-rounds", headers=users.headers("reviewer"), json={
        "county_code": COUNTY, "checked_from": "2020-05-01", "checked_to": "2020-06-30", "min_rate": "1.00",
        "stratify_by_town": False})
    assert r.status_code == 201, r.text
    round_id = r.json()["id"]
    url = f"/api/sampling-rounds/{round_id}/commitments"
    r = client.post(url, headers=users.headers("reviewer"),
                    json={"party": "county", "commitment": hashlib.sha256(bytes.fromhex("11" * 32)).hexdigest()})
    assert r.status_code == 201, r.text
    before = entries_but_refusals(ctx)
    insurer_commitment = {"party": "insurer", "commitment": hashlib.sha256(bytes.fromhex("22" * 32)).hexdigest()}
    r = client.post(url, headers=users.headers("insurer_pal"), json=insurer_commitment)
    assert r.status_code == 403, r.text
    assert "密码关联" in r.json()["detail"] and "承诺" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before
    assert [(k["step"], k["subject"], k["county_code"]) for k in refusals_of(ctx, users.ids["insurer_pal"])] == [
        ("sampling_commit", round_id, COUNTY)]
    r = client.post(url, headers=users.headers("insurer"), json=insurer_commitment)
    assert r.status_code == 201, r.text
