"""A household a bureau's list referred never asked for anything, so nobody misses it when it is screened out. A town
clerk alone could close such a case for good (初筛不通过 leads nowhere), for a reason nobody else reads. On a
bureau-referred case the clerk's 不通过 is a proposal; another clerk of the town or the county reviewer confirms it
(or overturns it with 通过); its proposer never confirms it. A household's own application is screened as before."""

from __future__ import annotations

from factories import COUNTY, make_case
from insider_kit import bureau_case
from sqlalchemy import select

from verifier.audit.models import AuditEntry
from verifier.store.tables import Case


def _staff(users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))


def _case(ctx, case_id: str) -> Case:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        case = session.get(Case, case_id)
        session.expunge(case)
        return case


def _actions(ctx, case_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return list(session.scalars(select(AuditEntry.action).where(AuditEntry.subject == case_id)
                                    .order_by(AuditEntry.idx)))


def test_attack_a_clerk_screens_out_a_bureau_referred_household_alone(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    _staff(users)
    case_id = bureau_case(ctx, client, users)
    clerk = users.headers("clerk")
    r = client.post(f"/api/cases/{case_id}/screening", headers=clerk,
                    json={"decision": "reject", "reason": "家庭收入稳定"})
    # Only proposed: the case stays open, the proposal and its reason are shown to whoever reads the case.
    assert r.status_code == 200 and r.json()["status"] == "received", r.text
    proposal = r.json()["screen_out_proposal"]
    assert proposal["proposed_by"] == users.ids["clerk"] and proposal["reason"] == "家庭收入稳定"
    assert _actions(ctx, case_id)[-1] == "case.screen_out_propose"
    # The same clerk confirming their own proposal: refused, nothing written.
    r = client.post(f"/api/cases/{case_id}/screening", headers=clerk,
                    json={"decision": "reject", "reason": "家庭收入稳定"})
    assert r.status_code == 403 and "四眼原则" in r.json()["detail"], r.text
    case = _case(ctx, case_id)
    assert (case.status, case.closed_reason, case.screen_out_proposed_by) == ("received", None, users.ids["clerk"])
    assert _actions(ctx, case_id)[-1] == "case.screen_out_propose"
    # The county reviewer sees it on the home page, with its reason and who proposed it, and on the case.
    r = client.get(f"/api/cases/{case_id}", headers=users.headers("reviewer"))
    assert r.json()["screen_out_proposal"]["reason"] == "家庭收入稳定"
    # Another clerk confirms it: now it is closed, the entry naming the proposer.
    r = client.post(f"/api/cases/{case_id}/screening", headers=users.headers("clerk2"),
                    json={"decision": "reject", "reason": "核实：家庭有稳定工资收入"})
    assert r.status_code == 200 and r.json()["status"] == "screened_out", r.text
    assert r.json()["screen_out_proposal"] is None
    with ctx.db.read() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.subject == case_id)
                               .order_by(AuditEntry.idx.desc()).limit(1))
    assert entry.action == "case.screen_reject" and entry.actor == users.ids["clerk2"]


def test_the_county_reviewer_overturns_a_proposed_screen_out(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    _staff(users)
    case_id = bureau_case(ctx, client, users)
    reviewer = users.headers("reviewer")
    # The reviewer screens nothing on their own: only a proposal is theirs to decide.
    r = client.post(f"/api/cases/{case_id}/screening", headers=reviewer, json={"decision": "pass"})
    assert r.status_code == 403, r.text
    client.post(f"/api/cases/{case_id}/screening", headers=users.headers("clerk"),
                json={"decision": "reject", "reason": "重复转介"})
    r = client.post(f"/api/cases/{case_id}/screening", headers=reviewer,
                    json={"decision": "pass", "reason": "核实不是重复转介"})
    assert r.status_code == 200 and r.json()["status"] == "screened", r.text
    assert _case(ctx, case_id).screen_out_proposed_by is None
    with ctx.db.read() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.subject == case_id)
                               .order_by(AuditEntry.idx.desc()).limit(1))
    assert (entry.action, entry.role) == ("case.screen_pass", "county_reviewer")


def test_a_households_own_application_is_screened_out_by_one_clerk_as_before(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    _staff(users)
    case_id = make_case(ctx, stage="received")  # referred by the household's application
    r = client.post(f"/api/cases/{case_id}/screening", headers=users.headers("clerk"),
                    json={"decision": "reject", "reason": "重复申请"})
    assert r.status_code == 200 and r.json()["status"] == "screened_out", r.text
