"""A raised hold proposal in a county whose only county reviewer recorded the re-check: nobody may confirm or decline
it (the recorder is barred), its proposer could not withdraw it, and every new re-determination was refused while it
waited, so the held household got nothing. Now an insurer supervisor withdraws it (撤回, with a reason, audited): the
relief stays the determination's, and a re-determination at the determined relief proceeds as before."""

from __future__ import annotations

from deviation_helpers import person, raised_proposal, relief_of
from insider_kit import declare_ties, household_member, refusals_of
from sqlalchemy import select

from verifier.audit.models import AuditEntry
from verifier.sampling.models import CaseHold, CaseHoldProposal
from web.pagekit import Pages

INCOME = "2666.67"  # the factory's household: the insurer's per-capita income


def test_attack_a_raised_proposal_nobody_may_answer_blocks_the_case_for_good(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    raised = raised_proposal(ctx, client, users, INCOME)  # `reviewer`: the county's only county reviewer
    case_id, relief = raised.case_id, raised.relief
    assert raised.answer["status"] == "open", raised
    proposal = raised.proposal

    # The only county reviewer recorded the re-check: he may neither confirm nor decline.
    for step in ("confirm", "decline"):
        r = client.post(f"/api/cases/{case_id}/redetermination/proposal/{step}", headers=users.headers("reviewer"),
                        json={"proposal_id": proposal, "reason": "同意"})
        assert r.status_code == 403, r.text
    # A re-determination at the determined relief waits, and says what can be done.
    r = client.post(f"/api/cases/{case_id}/redetermination", headers=users.headers("sup2"),
                    json={"outcome": "proceed", "reason": "按原认定"})
    assert r.status_code == 409 and "由保险公司主管撤回该提议" in r.json()["detail"], r.text

    # Neither a county reviewer nor a reason-less supervisor withdraws it.
    r = client.post(f"/api/cases/{case_id}/redetermination/proposal/withdraw", headers=users.headers("reviewer"),
                    json={"proposal_id": proposal, "reason": "撤回"})
    assert r.status_code == 403, r.text

    # A supervisor who declared himself the household's relative (回避) does not withdraw it either: on record.
    person(ctx, users, "kin", "insurer_supervisor")
    declare_ties(client, users.headers("kin"), household_member(ctx, case_id)[2])
    r = client.post(f"/api/cases/{case_id}/redetermination/proposal/withdraw", headers=users.headers("kin"),
                    json={"proposal_id": proposal, "reason": "撤回"})
    assert r.status_code == 422 and "回避" in r.json()["detail"], r.text
    assert [e["step"] for e in refusals_of(ctx, users.ids["kin"])] == ["redetermination_withdraw"]

    # The case page offers a supervisor the 撤回 button; withdrawn, nothing is raised.
    pages = Pages(client, users)
    pages.login("insurer")
    text = pages.get(f"/cases/{case_id}").text
    assert 'id="proposal-withdraw-form"' in text and ">撤回</button>" in text, text[-3000:]
    r = pages.post(f"/cases/{case_id}/redetermination/proposal/withdraw", {"proposal_id": proposal, "reason": ""})
    assert r.status_code == 422, r.text[-2000:]
    r = pages.post(f"/cases/{case_id}/redetermination/proposal/withdraw",
                   {"proposal_id": proposal, "reason": "本县无其他县级复核人员可确认"})
    assert r.status_code == 303, r.text[-2000:]
    assert relief_of(ctx, case_id) == relief
    with ctx.db.read() as s:
        p = s.get(CaseHoldProposal, proposal)
        assert p is not None and (p.status, p.answered_by) == ("withdrawn", users.ids["insurer"])
        # who withdrew it is its own column, the reason kept bare (the page says 保险公司主管已撤回 beside it)
        assert (p.withdrawn_by_side, p.answer_note) == ("insurer", "本县无其他县级复核人员可确认")
        assert s.scalars(select(CaseHold.status).where(CaseHold.case_id == case_id)).one() == "open"
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "case.hold_redetermination_recalled")).one()
        assert entry.subject == case_id and entry.actor == users.ids["insurer"]
    text = pages.get(f"/cases/{case_id}").text
    assert "保险公司主管已撤回，未生效" in text and "提出后县级复核结果有变化" not in text
    assert "（本县无其他县级复核人员可确认）" in text and "主管撤回：" not in text
    assert 'id="proposal-withdraw-form"' not in text
    # Withdrawn twice: refused, nothing changes.
    r = client.post(f"/api/cases/{case_id}/redetermination/proposal/withdraw", headers=users.headers("insurer"),
                    json={"proposal_id": proposal, "reason": "再撤回"})
    assert r.status_code == 409, r.text

    # A re-determination at the determined relief now proceeds: the household is paid what was determined.
    r = client.post(f"/api/cases/{case_id}/redetermination", headers=users.headers("sup2"),
                    json={"outcome": "proceed", "reason": "按原认定继续办理"})
    assert r.status_code == 200 and r.json()["status"] == "decided", r.text
    assert relief_of(ctx, case_id) == relief
