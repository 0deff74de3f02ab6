"""Needs passed to departments (发点球): from a check or a follow-up, to the responsible department with a due date;
the county reviewer records the department's answer; open and overdue referrals are listed and counted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import make_case
from followup_kit import pay_cases, person
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry
from verifier.domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from verifier.followups import service as fu
from verifier.needs import figures as need_figures
from verifier.needs import service as needs
from verifier.needs.models import NeedReferral

COUNTY = "340223"


def test_referred_answered_once_by_another_person_and_counted(ctx) -> None:  # type: ignore[no-untyped-def]
    checked = make_case(ctx, stage="checked")
    received = make_case(ctx, stage="received")
    supervisor = person(ctx, "nd-sup", "insurer_supervisor")
    reviewer = person(ctx, "nd-rev", "county_reviewer")
    both = person(ctx, "nd-both", "insurer_supervisor", "county_reviewer")
    today = ctx.clock.today()
    with ctx.db.begin() as session:
        with pytest.raises(ValidationFailed) as bad:  # nobody has been to the house: no need found yet
            needs.refer_need(session, needs.ReferralInput(case_id=received, need="dibao"), principal=supervisor,
                             clock=ctx.clock)
    assert [e.field for e in bad.value.errors] == ["source"]
    with ctx.db.begin() as session:
        with pytest.raises(ValidationFailed) as bad:
            needs.refer_need(session, needs.ReferralInput(case_id=checked, need="car", due_on=today - timedelta(1)),
                             principal=supervisor, clock=ctx.clock)
    assert {e.field for e in bad.value.errors} == {"need", "due_on"}
    with ctx.db.begin() as session:
        medical = needs.refer_need(session, needs.ReferralInput(case_id=checked, need="medical_assistance",
                                                                note="慢性病"), principal=supervisor, clock=ctx.clock)
        assert (medical.department, medical.due_on) == ("县医疗保障局", today + timedelta(days=30))
        housing = needs.refer_need(session, needs.ReferralInput(case_id=checked, need="housing_repair",
                                                                department="镇住建所", due_on=today + timedelta(5)),
                                   principal=both, clock=ctx.clock)
        medical_id, housing_id = medical.id, housing.id
    with ctx.db.begin() as session:  # the same need again while it is open: refused
        with pytest.raises(InvalidState):
            needs.refer_need(session, needs.ReferralInput(case_id=checked, need="medical_assistance"),
                             principal=supervisor, clock=ctx.clock)

    ctx.clock.advance(days=10)
    today = ctx.clock.today()
    with ctx.db.read() as session:
        overdue = needs.list_referrals(session, reviewer, today=today, state="overdue")
        assert [r.referral.id for r in overdue] == [housing_id] and overdue[0].overdue_days(today) == 5
        assert need_figures.count_open(session, reviewer, today) == (2, 1)
    answer = needs.AnswerInput(outcome="met", answer="已纳入危房改造计划", answered_on=today)
    clerk = person(ctx, "nd-clerk", "town_clerk")
    far = person(ctx, "nd-far", "county_reviewer", counties=("340224",))
    with ctx.db.begin() as session:
        with pytest.raises(Forbidden):  # who passed it may not say the department answered it
            needs.answer_referral(session, housing_id, answer, principal=both, clock=ctx.clock)
        with pytest.raises(Forbidden):  # a clerk answering for a department
            needs.answer_referral(session, housing_id, answer, principal=clerk, clock=ctx.clock)
        with pytest.raises(NotFound):  # another county's reviewer: it does not exist for them
            needs.answer_referral(session, housing_id, answer, principal=far, clock=ctx.clock)
        with pytest.raises(ValidationFailed) as bad:
            needs.answer_referral(session, housing_id, needs.AnswerInput(outcome="maybe", answer=" ",
                                                                         answered_on=today + timedelta(1)),
                                  principal=reviewer, clock=ctx.clock)
        assert {e.field for e in bad.value.errors} == {"outcome", "answer", "answered_on"}
    with ctx.db.read() as session:
        entries = session.scalar(select(func.count()).select_from(AuditEntry))
    with ctx.db.begin() as session:
        needs.answer_referral(session, housing_id, answer, principal=reviewer, clock=ctx.clock)
    with ctx.db.begin() as session:
        with pytest.raises(InvalidState):  # answered once
            needs.answer_referral(session, housing_id, answer, principal=reviewer, clock=ctx.clock)
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == entries + 1
        month = need_figures.referral_summary(session, COUNTY, today.replace(day=1), today, today=today)
        assert [r.referral.id for r in needs.list_referrals(session, reviewer, today=today, state="open")] == \
            [medical_id]
    assert (month.referred, month.answered, month.answered_late, month.open, month.overdue) == (2, 1, 1, 1, 0)
    assert month.by_need == {"medical_assistance": 1, "housing_repair": 1}
    assert month.outcomes == {"met": 1} and month.open_by_need == {"medical_assistance": 1}
    with ctx.db.begin() as session:  # answered: the same need may be passed again
        needs.refer_need(session, needs.ReferralInput(case_id=checked, need="housing_repair"), principal=supervisor,
                         clock=ctx.clock)


def test_from_a_follow_up_over_the_api_and_the_pages(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
    from pagekit import Pages

    [case_id] = pay_cases(ctx, 1)
    officer = person(ctx, "nd-api-officer", "field_officer")  # not the check's: he typed the payee account
    with ctx.db.begin() as session:
        followup = fu.record_followup(session, fu.FollowupInput(
            case_id=case_id, done_on=ctx.clock.today(), method="visit", income_change="down", risk_remains=True,
            satisfaction="basic", new_needs=["schooling_aid"], received="yes"), principal=officer, clock=ctx.clock)
        followup_id = followup.id
    users.add("nd-api-sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("nd-api-rev", "county_reviewer", counties=(COUNTY,))
    users.add("nd-api-clerk", "town_clerk", counties=(COUNTY,))
    users.add("nd-api-far-sup", "insurer_supervisor", counties=("340224",))
    body = {"case_id": case_id, "need": "schooling_aid", "source": "followup", "followup_id": followup_id}
    assert client.post("/api/need-referrals", json=body, headers=users.headers("nd-api-far-sup")).status_code == 404
    assert client.post("/api/need-referrals", json=body, headers=users.headers("nd-api-clerk")).status_code == 403
    wrong = client.post("/api/need-referrals", json={**body, "followup_id": "fup_nope"},
                        headers=users.headers("nd-api-sup"))
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "followup_id"
    made = client.post("/api/need-referrals", json=body, headers=users.headers("nd-api-sup"))
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    assert client.post("/api/need-referrals", json=body, headers=users.headers("nd-api-sup")).status_code == 409
    listed = client.get("/api/need-referrals?state=open", headers=users.headers("nd-api-rev")).json()
    assert [r["id"] for r in listed] == [rid] and listed[0]["department"] == "县教育局"
    assert client.get("/api/need-referrals", headers=users.headers("nd-api-far-sup")).json() == []
    # the household file (一户一档) shows the follow-up and the need passed on, in words on its page
    household_id = client.get(f"/api/cases/{case_id}", headers=users.headers("nd-api-rev")).json()["household_id"]
    file = client.get(f"/api/households/{household_id}/file", headers=users.headers("nd-api-rev")).json()
    sections = {x["key"]: x["rows"] for x in file["sections"]}
    assert [(r["method"], r["needs"]) for r in sections["followups"]] == [("visit", ["schooling_aid"])]
    assert [(r["need"], r["status"], r["department"]) for r in sections["needs"]] == [
        ("schooling_aid", "open", "县教育局")]
    answer = {"outcome": "partly", "answer": "已申请助学金，待审批"}
    assert client.post(f"/api/need-referrals/{rid}/answer", json=answer,
                       headers=users.headers("nd-api-clerk")).status_code == 403

    pages = Pages(client, users)
    pages.login("nd-api-sup")
    assert "转交部门" in pages.get("/followups").text
    form = pages.get(f"/need-referrals/new?case={case_id}&followup={followup_id}")
    assert form.status_code == 200 and "教育资助" in form.text
    assert '<a href="/need-referrals" data-list="/need-referrals">← 返回需求列表</a>' in form.text  # as left
    again = pages.post("/need-referrals/new", {"case_id": case_id, "followup_id": followup_id,
                                               "need": "schooling_aid"})
    assert again.status_code == 303 and "done=need_already" in again.headers["location"]
    kept = pages.post("/need-referrals/new", {"case_id": case_id, "need": "", "note": "孩子明年上高中"})
    assert kept.status_code == 422 and "孩子明年上高中" in kept.text
    pages.login("nd-api-rev")
    shown = pages.get(f"/need-referrals/{rid}")
    assert shown.status_code == 200 and "录入部门答复" in shown.text
    bad = pages.post(f"/need-referrals/{rid}/answer", {"outcome": "partly", "answer": "",
                                                       "answered_on": ctx.clock.today().isoformat()})
    assert bad.status_code == 422 and "请填写部门的答复内容" in bad.text
    done = pages.post(f"/need-referrals/{rid}/answer", {**answer, "answered_on": ctx.clock.today().isoformat()})
    assert done.status_code == 303 and "done=need_answered" in done.headers["location"]
    twice = pages.post(f"/need-referrals/{rid}/answer", {**answer, "answered_on": ctx.clock.today().isoformat()})
    assert "done=need_answer_already" in twice.headers["location"]
    assert "部分解决" in pages.get("/need-referrals?state=answered").text
    with ctx.db.read() as session:
        assert session.scalar(select(NeedReferral.status)) == "answered"
