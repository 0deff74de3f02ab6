"""Follow-ups (回访) after a payment: due from the bank's settlement day plus the contract's days, on the officer's
and the county's lists, recorded once by an officer of the case's county, counted for the monthly report."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from followup_kit import pay_cases, person
from sqlalchemy import func, select

from verifier.accounts.auth import principal_of
from verifier.audit.models import AuditEntry
from verifier.clock import SCHEME_TZ
from verifier.contract import check_contract_text
from verifier.domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from verifier.followups import service as fu
from verifier.followups import summary as fu_summary
from verifier.followups.models import Followup
from verifier.store.tables import User

COUNTY = "340223"


def _input(case_id: str, done_on: date, **kw) -> fu.FollowupInput:  # type: ignore[no-untyped-def]
    base = dict(case_id=case_id, done_on=done_on, method="phone", income_change="same", risk_remains=True,
                satisfaction="satisfied", new_needs=["employment"], note="已返岗务工", received="yes")
    return fu.FollowupInput(**{**base, **kw})


def _officer_of(ctx, due: fu.DueFollowup):  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return principal_of(session.get(User, due.officer_ids[0]))


def test_due_from_settlement_listed_recorded_once_and_summarised(ctx) -> None:  # type: ignore[no-untyped-def]
    paid = pay_cases(ctx, 3, fail=1)  # the failed transfer is not due: nothing reached the household
    settled_on = ctx.clock.now().astimezone(SCHEME_TZ).date()
    supervisor = person(ctx, "fu-sup", "insurer_supervisor")
    with ctx.db.read() as session:
        due = fu.due_followups(session, supervisor)
    assert sorted(d.case_id for d in due) == sorted(paid[1:])
    assert {d.due_on for d in due} == {settled_on + timedelta(days=30)}  # the demo contract says nothing: default
    checker = _officer_of(ctx, due[0])
    stranger = person(ctx, "fu-other-officer", "field_officer")
    with ctx.db.read() as session:
        # the check's officer typed the payee account at the door: his own list leaves both to others (counted)
        mine = fu.own_due(session, checker)
        assert (mine.items, mine.others) == ([], 2)
        # another officer of the county, who took no part, has both on his own list: he follows them up
        theirs = fu.own_due(session, stranger)
        assert [d.case_id for d in theirs.items] == [d.case_id for d in due] and theirs.others == 0
    officer = stranger

    # Past its due day: overdue on every list and in the figures.
    ctx.clock.advance(days=35)
    today = ctx.clock.today()
    with ctx.db.read() as session:
        overdue = fu.due_followups(session, supervisor)
        assert all(d.overdue_days(today) == 5 for d in overdue)
        month = fu_summary.followup_summary(session, COUNTY, settled_on.replace(day=1), today, today=today)
    assert (month.due, month.pending, month.overdue_open, month.done) == (2, 2, 2, 0)

    with ctx.db.begin() as session:  # bad input: every problem named, nothing written
        with pytest.raises(ValidationFailed) as bad:
            fu.record_followup(session, _input(due[0].case_id, settled_on - timedelta(days=1), method="letter",
                                               new_needs=["car"]), principal=officer, clock=ctx.clock)
    assert {e.field for e in bad.value.errors} == {"done_on", "method", "new_needs"}
    with ctx.db.begin() as session:
        with pytest.raises(ValidationFailed):
            fu.record_followup(session, _input(due[0].case_id, today + timedelta(days=1)), principal=officer,
                               clock=ctx.clock)
    entries = lambda s: s.scalar(select(func.count()).select_from(AuditEntry))  # noqa: E731
    with ctx.db.read() as session:
        before = entries(session)
    with ctx.db.begin() as session:
        row = fu.record_followup(session, _input(due[0].case_id, today), principal=officer, clock=ctx.clock)
        assert row.done_on > row.due_on
    with ctx.db.read() as session:
        assert entries(session) == before + 1
        assert [d.case_id for d in fu.due_followups(session, supervisor)] == [due[1].case_id]
    with ctx.db.begin() as session:  # the same household again (a double submit): refused, nothing written
        with pytest.raises(InvalidState):
            fu.record_followup(session, _input(due[0].case_id, today), principal=officer, clock=ctx.clock)
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Followup)) == 1
        month = fu_summary.followup_summary(session, COUNTY, settled_on.replace(day=1), today, today=today)
        assert sorted(fu_summary.followup_cases(session, COUNTY, settled_on.replace(day=1), today, today=today,
                                        which="overdue_open")) == [due[1].case_id]
    assert (month.due, month.done_late, month.done_on_time, month.pending, month.overdue_open) == (2, 1, 0, 1, 1)
    assert (month.done, month.risk_remains, month.new_needs, month.by_method) == (1, 1, {"employment": 1},
                                                                                  {"phone": 1})
    assert (month.received, month.not_received) == ({"yes": 1}, 0)


def test_insiders_cannot_record_follow_ups_outside_their_office(ctx) -> None:  # type: ignore[no-untyped-def]
    [case_id] = pay_cases(ctx, 1)
    today = ctx.clock.today()
    elsewhere = person(ctx, "fu-far-officer", "field_officer", counties=("340224",))
    clerk = person(ctx, "fu-clerk", "town_clerk")
    supervisor = person(ctx, "fu-sup2", "insurer_supervisor")
    with ctx.db.begin() as session:
        with pytest.raises(NotFound):  # another county's case does not exist for them
            fu.record_followup(session, _input(case_id, today), principal=elsewhere, clock=ctx.clock)
        with pytest.raises(Forbidden):
            fu.record_followup(session, _input(case_id, today), principal=clerk, clock=ctx.clock)
        with pytest.raises(Forbidden):  # the supervisor reads the list; the officers visit
            fu.record_followup(session, _input(case_id, today), principal=supervisor, clock=ctx.clock)
    with ctx.db.read() as session:
        assert fu.due_followups(session, elsewhere) == []
        assert session.scalar(select(func.count()).select_from(Followup)) == 0


def test_the_contract_sets_the_follow_up_terms(ctx) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "contracts" / "demo-2020.toml").read_text("utf-8")
    contract, problems = check_contract_text((text + "\n[followup]\nwithin_days = 0\n").encode())
    assert contract is None and [p.field for p in problems] == ["followup.within_days"]
    contract, problems = check_contract_text((text + "\n[followup]\nrequired = false\nwithin_days = 10\n").encode())
    assert contract is not None and not contract.spec.followup.required
    assert contract.spec.followup.within_days == 10


def test_the_api_and_the_officers_phone_pages(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
    from pagekit import Pages

    first, second = pay_cases(ctx, 2)
    supervisor = person(ctx, "fu-api-sup", "insurer_supervisor")
    with ctx.db.read() as session:
        due = {d.case_id: d for d in fu.due_followups(session, supervisor)}
        checker = session.get(User, due[first].officer_ids[0]).username
        # the case factory gives cases made one after another the same officers (until their day is full)
        assert due[second].officer_ids == due[first].officer_ids
    officer = "fu-api-officer"
    users.add(officer, "field_officer", counties=(COUNTY,))  # one who took no part: the setters are left out
    users.ids[checker] = "x"
    users._tokens[checker] = client.post("/api/auth/login", json={"username": checker,
                                                                  "password": "factory-password"}).json()["token"]
    # The check's officer typed the payee account at the door: his own list leaves them to another officer (counted);
    # the county's says why.
    listed = client.get("/api/followups?mine=true", headers=users.headers(checker)).json()
    assert (listed["due"], listed["others"]) == ([], 2), listed
    listed = client.get("/api/followups", headers=users.headers(checker)).json()
    assert first in {d["case_id"] for d in listed["due"]} and listed["due"][0]["amount"].count(".") == 1
    assert all("登记该户收款账户" in (d["refused"] or "") for d in listed["due"]), listed
    users.add("fu-api-clerk", "town_clerk", counties=(COUNTY,))
    users.add("fu-api-far", "field_officer", counties=("340224",))
    users.add("fu-api-reviewer-far", "county_reviewer", counties=("340224",))
    today = ctx.clock.today().isoformat()
    body = {"case_id": first, "done_on": today, "method": "visit", "income_change": "up", "risk_remains": False,
            "satisfaction": "basic", "new_needs": ["dibao"], "received": "yes"}
    listed = client.get("/api/followups", headers=users.headers(officer)).json()
    assert first in {d["case_id"] for d in listed["due"]} and not any(d["refused"] for d in listed["due"])
    own = client.get("/api/followups?mine=true", headers=users.headers(officer)).json()  # his own: both, none left
    assert ({d["case_id"] for d in own["due"]}, own["others"]) == ({first, second}, 0), own
    assert client.post("/api/followups", json=body, headers=users.headers("fu-api-clerk")).status_code == 403
    assert client.post("/api/followups", json=body, headers=users.headers("fu-api-far")).status_code == 404
    keyed = {**users.headers(officer), "Idempotency-Key": "fu-1"}
    made = client.post("/api/followups", json=body, headers=keyed)
    assert made.status_code == 201, made.text
    again = client.post("/api/followups", json=body, headers=keyed)
    assert again.status_code == 201 and again.json() == made.json()  # the same answer, nothing new
    twice = client.post("/api/followups", json=body, headers=users.headers(officer))
    assert twice.status_code == 409 and twice.headers["content-type"].startswith("application/problem+json")
    bad = client.post("/api/followups", json={**body, "case_id": second, "done_on": "2019-01-01"},
                      headers=users.headers(officer))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "done_on"
    month = ctx.clock.today().strftime("%Y-%m")
    assert client.get(f"/api/followups/summary?county_code={COUNTY}&month={month}",
                      headers=users.headers("fu-api-reviewer-far")).status_code == 404
    users.add("fu-api-reviewer", "county_reviewer", counties=(COUNTY,))
    summary = client.get(f"/api/followups/summary?county_code={COUNTY}&month={month}",
                         headers=users.headers("fu-api-reviewer")).json()
    assert (summary["done"], summary["new_needs"], summary["risk_remains"]) == (1, {"dibao": 1}, 0)

    # The officer's phone pages: the list, the form (input kept on error), once only.
    pages = Pages(client, users)
    pages.login(officer)
    shown = pages.get("/followups?all=1")
    assert shown.status_code == 200 and due[second].head_name in shown.text and "录入回访" in shown.text
    item = due[second].payment_item_id
    form = pages.get(f"/followups/new?item={item}")
    assert form.status_code == 200  # its way back is the list as this tab left it (app.js, data-list)
    assert '<a href="/followups" data-list="/followups">← 返回回访列表</a>' in form.text
    wrong = pages.post("/followups", {"payment_item_id": item, "done_on": today, "method": "phone",
                                      "note": "家中老人接的电话"})
    assert wrong.status_code == 422 and "家中老人接的电话" in wrong.text and "请选择收入变化" in wrong.text
    form = {"payment_item_id": item, "done_on": today, "method": "phone", "income_change": "down",
            "risk_remains": "yes", "satisfaction": "satisfied", "new_needs": ["medical_assistance", "employment"],
            "received": "partly", "received_amount": "￥1,000.00"}
    done = pages.post("/followups", form)
    assert done.status_code == 303 and "done=followup_needs" in done.headers["location"]
    repeat = pages.post("/followups", form)
    assert repeat.status_code == 303 and "done=followup_already" in repeat.headers["location"]
    with ctx.db.read() as session:
        rows = list(session.scalars(select(Followup).order_by(Followup.recorded_at)))
    assert [r.new_needs for r in rows] == [["dibao"], ["medical_assistance", "employment"]]
    assert [(r.received, r.received_amount) for r in rows] == [("yes", None), ("partly", 100000)]
    text = pages.get("/followups").text  # both followed up: each empty list says what it is waiting for
    assert "已逾期" in text and "没有逾期未回访的农户。" in text and "没有待回访的农户（保障金到账后在此列出）。" in text
