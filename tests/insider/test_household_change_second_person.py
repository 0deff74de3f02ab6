"""A supervisor alone merged two households or moved a member, changing a household's size and so its per-capita
income, whether it is helped and how much: one person could make a household eligible. Either is now a proposal
another person confirms: another insurer supervisor or a county reviewer of the county, never the proposer, nor an
account linked to theirs by a password, nor a relative of either household (the last two kept on 回避拦截记录).
Every rule is asked again at the confirmation; a stale or second decision is 409; two at once give one result."""

from __future__ import annotations

from typing import Any

from factories import make_case
from insider_kit import COUNTY, declare_ties, entries_but_refusals, household_member, refusals_of
from sqlalchemy import func, select, text, update

from verifier.audit.canonical import decode_entry
from verifier.audit.log import text_digest
from verifier.audit.models import AuditEntry
from verifier.households.models import HouseholdChange, HouseholdChangeProposal
from verifier.store.tables import Case, Member, User


def _entries(ctx: Any, action: str) -> list[Any]:
    with ctx.db.read() as session:
        entries = [decode_entry(e) for e in session.scalars(select(AuditEntry.entry).order_by(AuditEntry.idx))]
    return [e for e in entries if e.action == action]


def _members(ctx: Any, household: str) -> int:
    with ctx.db.read() as session:
        return session.scalar(select(func.count()).select_from(Member).where(Member.household_id == household))


def _changes(ctx: Any) -> int:
    with ctx.db.read() as session:
        return session.scalar(select(func.count()).select_from(HouseholdChange))


def _seen(client: Any, headers: dict[str, str], proposal: str) -> dict[str, str]:
    """The confirm body: what the proposal's GET shows now (`seen`)."""
    r = client.get(f"/api/household-proposals/{proposal}", headers=headers)
    assert r.status_code == 200 and r.json()["seen"], r.text
    return {"seen": r.json()["seen"]}


def _two_households(ctx: Any) -> tuple[str, str, str, str]:
    a, b = make_case(ctx, stage="checked", members=2), make_case(ctx, stage="received", members=1)
    with ctx.db.read() as session:
        return a, b, session.get(Case, a).household_id, session.get(Case, b).household_id


def test_attack_the_proposer_alone_a_linked_account_or_a_relative_confirms_and_another_supervisor_does(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    a, b, a_hh, b_hh = _two_households(ctx)
    for name in ("sup", "sup_pal", "kin", "sup2"):
        users.add(name, "insurer_supervisor", counties=(COUNTY,))
    users.add("far", "insurer_supervisor", counties=("340999",))
    users.add("anywhere", "county_reviewer")  # no county limit: sees every county, is no county's reviewer
    users.add("anywhere_sup", "insurer_supervisor")
    with ctx.db.begin() as session:  # the proposer knows a password of sup_pal's account
        session.get(User, users.ids["sup_pal"]).password_set_by = users.ids["sup"]
    _, _, relative = household_member(ctx, b, head=True)
    declare_ties(client, users.headers("kin"), relative)

    r = client.post(f"/api/households/{a_hh}/merge", headers=users.headers("sup"),
                    json={"from_household_id": b_hh, "reason": "夫妻重复登记", "head_relation": "spouse"})
    assert r.status_code == 200 and r.json()["status"] == "pending", r.text
    proposal = r.json()["id"]
    assert (_members(ctx, a_hh), _members(ctx, b_hh), _changes(ctx)) == (2, 1, 0)  # nothing merged yet
    (proposed,) = _entries(ctx, "household.merge_proposed")
    assert proposed.actor == users.ids["sup"] and proposed.payload["reason_sha256"] == text_digest("夫妻重复登记")

    confirm, decline = f"/api/household-proposals/{proposal}/confirm", f"/api/household-proposals/{proposal}/decline"
    seen = _seen(client, users.headers("sup2"), proposal)
    before = entries_but_refusals(ctx)
    r = client.post(confirm, headers=users.headers("sup"), json=seen)  # alone
    assert r.status_code == 403 and "按“四眼原则”，这份申请是您提交的" in r.json()["detail"], r.text
    r = client.post(decline, headers=users.headers("sup"), json={"reason": "不办了"})
    assert r.status_code == 403, r.text
    for path, body in ((confirm, seen), (decline, {"reason": "不同意"})):
        for anywhere in ("anywhere", "anywhere_sup"):  # an account of every county: not of this county
            r = client.post(path, headers=users.headers(anywhere), json=body)
            assert r.status_code == 403 and "本县" in r.json()["detail"] and "未限定为该县" in r.json()["detail"], r.text
        r = client.post(path, headers=users.headers("sup_pal"), json=body)  # the proposer's second account
        assert r.status_code == 403 and "密码关联" in r.json()["detail"], r.text
        r = client.post(path, headers=users.headers("kin"), json=body)  # a relative of the merged household
        assert r.status_code == 422 and "回避" in r.text, r.text
        assert client.post(path, headers=users.headers("far"), json=body).status_code == 404
    assert entries_but_refusals(ctx) == before
    assert (_members(ctx, a_hh), _members(ctx, b_hh), _changes(ctx)) == (2, 1, 0)
    steps = ["household_change_confirm", "household_change_decline"]
    assert [k["step"] for k in refusals_of(ctx, users.ids["sup_pal"])] == steps
    assert [k["step"] for k in refusals_of(ctx, users.ids["kin"])] == steps
    assert refusals_of(ctx, users.ids["far"]) == [] and refusals_of(ctx, users.ids["anywhere"]) == []

    r = client.post(confirm, headers=users.headers("sup2"), json=seen)
    assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text
    assert (_members(ctx, a_hh), _members(ctx, b_hh), _changes(ctx)) == (3, 0, 1)
    (merged,) = _entries(ctx, "household.merge")
    assert merged.actor == users.ids["sup2"] and merged.payload["proposed_by"] == users.ids["sup"]
    assert merged.payload["proposal_id"] == proposal
    with ctx.db.read() as session:
        row = session.get(HouseholdChangeProposal, proposal)
        assert (row.decided_by, row.change_id) == (users.ids["sup2"], merged.payload["change_id"])
        change = session.get(HouseholdChange, row.change_id)
        assert (change.changed_by, change.confirmed_by) == (users.ids["sup"], users.ids["sup2"])

    before = entries_but_refusals(ctx)
    for path, who, body in ((confirm, "sup2", seen), (decline, "sup2", {"reason": "再驳回"}),
                            (f"/api/household-proposals/{proposal}/withdraw", "sup", None)):
        r = client.post(path, headers=users.headers(who), json=body)  # decided already: 409, nothing written
        assert r.status_code == 409 and "已确认" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before


def test_a_decline_keeps_its_reason_on_its_row_and_its_digest_in_the_log(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    a, _, a_hh, _ = _two_households(ctx)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    household, member_id, _ = household_member(ctx, a, head=False)
    r = client.post(f"/api/households/{household}/members/{member_id}/move", headers=users.headers("sup"),
                    json={"reason": "分户", "new_household": True})
    proposal = r.json()["id"]
    r = client.post(f"/api/household-proposals/{proposal}/decline", headers=users.headers("rev"),
                    json={"reason": "尚未办理分户登记"})
    assert r.status_code == 200 and r.json()["decline_reason"] == "尚未办理分户登记", r.text
    (entry,) = _entries(ctx, "household.change_declined")
    assert entry.actor == users.ids["rev"] and entry.payload["reason_sha256"] == text_digest("尚未办理分户登记")
    assert "尚未办理" not in str(entry.payload) and _members(ctx, a_hh) == 2


def test_the_rules_are_asked_again_at_the_confirmation_and_stale_proposals_are_refused(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    a, b, a_hh, b_hh = _two_households(ctx)
    third = make_case(ctx, stage="checked", members=2)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    body = {"from_household_id": b_hh, "reason": "重复登记"}
    proposal = client.post(f"/api/households/{a_hh}/merge", headers=users.headers("sup"), json=body).json()["id"]
    confirm = f"/api/household-proposals/{proposal}/confirm"
    seen = _seen(client, users.headers("sup2"), proposal)

    # a member joined the kept household since (a check recorded one): the confirmer was shown other members
    _, stranger, _ = household_member(ctx, third, head=False)
    with ctx.db.begin() as session:
        session.execute(text("UPDATE member SET household_id = :hh WHERE id = :m"), {"hh": a_hh, "m": stranger})
    before = entries_but_refusals(ctx)
    r = client.post(confirm, headers=users.headers("sup2"), json=seen)
    assert r.status_code == 409 and "成员在申请提交后已有变化" in r.json()["detail"], r.text
    with ctx.db.begin() as session:
        session.execute(text("UPDATE member SET household_id = :hh WHERE id = :m"),
                        {"hh": session.get(Case, third).household_id, "m": stranger})

    # both cases were determined since: a rule of the merge no longer holds
    with ctx.db.begin() as session:
        session.execute(update(Case).where(Case.id.in_([a, b])).values(status="determined"))
    r = client.post(confirm, headers=users.headers("sup2"), json=seen)
    assert r.status_code == 409 and "都已认定救助结果" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before and _changes(ctx) == 0
    with ctx.db.read() as session:
        assert session.get(HouseholdChangeProposal, proposal).status == "pending"

    # withdrawn by its proposer: no longer confirmed
    r = client.post(f"/api/household-proposals/{proposal}/withdraw", headers=users.headers("sup2"))
    assert r.status_code == 403, r.text
    r = client.post(f"/api/household-proposals/{proposal}/withdraw", headers=users.headers("sup"))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn", r.text
    r = client.post(confirm, headers=users.headers("sup2"), json=seen)
    assert r.status_code == 409 and "撤销" in r.json()["detail"], r.text


def test_two_confirmations_at_once_or_a_confirmation_beside_a_withdrawal_give_one_result(ctx) -> None:  # type: ignore[no-untyped-def]
    from household_kit import second_supervisor
    from race_kit import at_once

    from verifier.domain.errors import Forbidden, InvalidState
    from verifier.households import service as households
    from verifier.households.service import proposals
    from verifier.store.db import Database

    for round_ in ("two", "withdraw"):
        _, _, a_hh, b_hh = _two_households(ctx)
        with ctx.db.begin() as session:
            proposer = second_supervisor(session, COUNTY, ctx.clock, name="proposer")
            others = [second_supervisor(session, COUNTY, ctx.clock, name=f"c{n}") for n in range(2)]
            proposal = households.propose_merge(session, a_hh, b_hh, reason="重复登记", principal=proposer,
                                                clock=ctx.clock).id
            seen = proposals.seen_of(session, session.get(HouseholdChangeProposal, proposal), others[0], ctx.clock)
        answers: list[str] = []

        def decide(n: int) -> None:
            db = Database(ctx.settings.database_url)
            try:
                with db.begin() as session:
                    if round_ == "withdraw" and n == 1:
                        households.withdraw(session, proposal, principal=proposer, clock=ctx.clock)
                        answers.append("withdrawn")
                    else:
                        households.confirm(session, proposal, principal=others[n], clock=ctx.clock, seen=seen)
                        answers.append("confirmed")
            except (InvalidState, Forbidden) as exc:
                answers.append(f"refused {exc.status}")
            finally:
                db.dispose()

        assert at_once(2, decide) == []
        assert len(answers) == 2 and answers.count("refused 409") == 1, answers
        with ctx.db.read() as session:
            row = session.get(HouseholdChangeProposal, proposal)
            made = session.scalar(select(func.count()).select_from(HouseholdChange).where(
                HouseholdChange.from_household_id == b_hh))
        assert row.status in answers and made == (1 if row.status == "confirmed" else 0)
        assert _members(ctx, b_hh) == (0 if row.status == "confirmed" else 1)


def test_attack_what_is_applied_differs_from_what_the_confirmer_read(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The confirmer read the proposal; then a check renamed a member, changed a relation or the head, a case moved
    on so that the other case survives the merge, or a household's village (the page shows it) changed: the
    confirmation of what was read is refused (409, nothing written), and what is read again is confirmed."""
    a, b, a_hh, b_hh = _two_households(ctx)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    proposal = client.post(f"/api/households/{a_hh}/merge", headers=users.headers("sup"),
                           json={"from_household_id": b_hh, "reason": "重复登记"}).json()["id"]
    confirm = f"/api/household-proposals/{proposal}/confirm"
    with ctx.db.read() as session:
        a_member = session.scalars(select(Member).where(Member.household_id == a_hh, Member.relation != "head")).first()
        b_head = session.scalars(select(Member).where(Member.household_id == b_hh)).first()
    changes = (
        ("UPDATE member SET name = '张冒名' WHERE id = :m", {"m": b_head.id}),  # a name
        ("UPDATE member SET relation = CASE WHEN relation = 'child' THEN 'parent' ELSE 'child' END WHERE id = :m",
         {"m": a_member.id}),  # a relation
        ("UPDATE relief_case SET status = 'scheduled' WHERE id = :c", {"c": a}),  # the other case now survives
        ("UPDATE household SET village = '西村' WHERE id = :h", {"h": b_hh}),  # a village the page shows
    )
    before = entries_but_refusals(ctx)
    for change, params in changes:
        seen = _seen(client, users.headers("sup2"), proposal)
        with ctx.db.begin() as session:
            session.execute(text(change), params)
            if "status" in change:
                session.execute(text("UPDATE relief_case SET status = 'checked' WHERE id = :c"), {"c": b})
        r = client.post(confirm, headers=users.headers("sup2"), json=seen)
        assert r.status_code == 409 and "您打开这份申请后" in r.json()["detail"], (change, r.text)
        assert entries_but_refusals(ctx) == before and _changes(ctx) == 0
    r = client.post(confirm, headers=users.headers("sup2"), json={"seen": "not what was read"})
    assert r.status_code == 409, r.text
    r = client.post(confirm, headers=users.headers("sup2"), json=_seen(client, users.headers("sup2"), proposal))
    assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text
    (joined,) = r.json()["merge"]["merged_cases"]
    assert (joined["case_id"], joined["into_case_id"]) == (a, b)  # as read the second time


def test_the_database_keeps_one_pending_proposal_per_household_on_either_side(ctx) -> None:  # type: ignore[no-untyped-def]
    """The service asks first (409); were it skipped, the unique indexes of the pending rows refuse a second one."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    _, _, a_hh, b_hh = _two_households(ctx)
    _, _, c_hh, d_hh = _two_households(ctx)
    row = {"kind": "merge", "county_code": COUNTY, "member_id": None, "new_household": False, "relation": "other",
           "new_head_member_id": None, "members": {}, "reason": "重复登记", "status": "pending",
           "proposed_by": "usr_x", "proposed_at": ctx.clock.now()}
    with ctx.db.begin() as session:
        session.add(HouseholdChangeProposal(id="hcp_1", household_id=a_hh, other_household_id=b_hh, **row))
    for n, (kept, other) in enumerate(((a_hh, c_hh), (d_hh, b_hh))):  # a household kept, or merged, twice
        with pytest.raises(IntegrityError), ctx.db.begin() as session:
            session.add(HouseholdChangeProposal(id=f"hcp_{n + 2}", household_id=kept, other_household_id=other, **row))
    with ctx.db.begin() as session:  # a decided one does not count
        session.get(HouseholdChangeProposal, "hcp_1").status = "withdrawn"
        session.get(HouseholdChangeProposal, "hcp_1").decided_by = "usr_x"
        session.get(HouseholdChangeProposal, "hcp_1").decided_at = ctx.clock.now()
        session.flush()
        session.add(HouseholdChangeProposal(id="hcp_4", household_id=a_hh, other_household_id=b_hh, **row))
