"""A supervisor schedules visits. By hand they choose the two officers, so one supervisor could steer a household to
an officer who colludes with it, again and again. What now holds: the planner's assignment is recorded as the
planner's, a supervisor's own choice as theirs with its reason (in the visit and its audit entry, shown on the case
page); the officers of a household's last check (another of its cases) do not make its next visit, by hand (422,
nothing written) nor by the planner; and the schedule page shows each supervisor's share of hand-picked visits and
how many came without a reason."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from decimal import Decimal

from factories import make_case, staff
from insider_kit import COUNTY
from sqlalchemy import func, select
from web.pagekit import Pages

from verifier import demo
from verifier.accounts.auth import principal_of
from verifier.cases import hand_picked
from verifier.web import stagelabels
from verifier.audit.models import AuditEntry
from verifier.store.tables import User, Visit


def _counts(ctx) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return (int(session.scalar(select(func.count()).select_from(Visit))),
                int(session.scalar(select(func.count()).select_from(AuditEntry))))


def _household_checked_by_team0(ctx):  # type: ignore[no-untyped-def]
    """A household whose illness case team 0 checked, and its new disaster case, screened: (team 0, new case)."""
    s = staff(ctx, COUNTY, 0)
    team = demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2)
    today = ctx.clock.today()
    hh = demo.new_household("城关镇", "东村")
    first = demo.refer(ctx, team, hh, cause="illness", amount="1000.00", referred_on=today - timedelta(days=3),
                       county=COUNTY)
    demo.advance_to(ctx, team, first, hh, "checked", on=today - timedelta(days=2), vehicle="车000")
    second = demo.refer(ctx, team, hh, cause="disaster", amount="1000.00", referred_on=today - timedelta(days=1),
                        county=COUNTY)
    demo.advance_to(ctx, team, second, hh, "screened", on=today, vehicle="车000")
    return s, second


def test_attack_the_supervisor_sends_the_household_to_the_same_officer_again(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    team0, case_id = _household_checked_by_team0(ctx)
    team1 = staff(ctx, COUNTY, 1)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    sup, today = users.headers("sup"), ctx.clock.today().isoformat()
    before = _counts(ctx)

    # The officer who checked the household last time, paired with someone new, with a fine-sounding reason.
    r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json={
        "officers": [team0.officer1.id, team1.officer1.id], "visit_on": today, "vehicle": "车01",
        "reason": "熟悉该户情况"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "officers[0]", "message": "该核查员上次核查过该户（另一案件）：按轮换规则，"
                                   "本次须由其他核查员走访"}]
    assert _counts(ctx) == before

    # The planner does not send them either.
    r = client.post("/api/schedule/plan", headers=sup, json={"county_code": COUNTY, "from": today, "days": 3})
    assert r.status_code == 200, r.text
    mine = [a for a in r.json()["assignments"] if a["case_id"] == case_id]
    assert mine and not {team0.officer1.id, team0.officer2.id} & set(mine[0]["officers"]), mine

    # Other officers, by hand, with a reason: taken, recorded as hand-picked with the reason, shown on the case page.
    r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json={
        "officers": [team1.officer1.id, team1.officer2.id], "visit_on": today, "vehicle": "车01",
        "reason": "农户约定今日在家"})
    assert r.status_code == 200 and r.json()["by_hand"] is True and r.json()["reason"] == "农户约定今日在家", r.text
    with ctx.db.read() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "case.schedule")
                                .order_by(AuditEntry.idx.desc()).limit(1)).one()
    payload = json.loads(entry.entry)["payload"]
    # the log keeps the reason's SHA-256 only (it may name a person); the visit keeps the text
    assert payload["by_hand"] is True and "reason" not in payload
    assert payload["reason_sha256"] == hashlib.sha256("农户约定今日在家".encode()).hexdigest()
    pages = Pages(client, users)
    pages.login("sup")
    html = pages.get(f"/cases/{case_id}").text
    assert "人工指派" in html and "农户约定今日在家" in html
    form = pages.get(f"/cases/{case_id}/schedule").text
    assert 'id="rotation"' in form and "按轮换规则" in form


def test_each_supervisors_share_of_hand_picked_visits_is_shown(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    team = staff(ctx, COUNTY, 5)
    today = ctx.clock.today().isoformat()
    later = (ctx.clock.today() + timedelta(days=5)).isoformat()  # past the planner's window
    planned = make_case(ctx, stage="screened")
    r = client.post("/api/schedule/plan", headers=users.headers("sup2"),
                    json={"county_code": COUNTY, "from": today, "days": 3, "apply": True})
    assert r.status_code == 200 and planned in {a["case_id"] for a in r.json()["assignments"]}, r.text
    for reason in ("核查员请假，改派", ""):  # an older client sends no reason: taken, and shown as such
        case_id = make_case(ctx, stage="screened")
        r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("sup"), json={
            "officers": [team.officer1.id, team.officer2.id], "visit_on": later, "vehicle": "车05",
            **({"reason": reason} if reason else {})})
        assert r.status_code == 200 and r.json()["by_hand"] is True, r.text
    with ctx.db.read() as session:
        assert session.get(Visit, r.json()["id"]).reason == ""

    pages = Pages(client, users)
    pages.login("sup2")
    html = pages.get("/schedule").text
    table = html.split('id="hand-picked-shares"')[1].split("</table>")[0]
    rows = {cells[0]: cells[1:] for cells in (
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        for row in table.split("<tr>")[2:])}
    sup_row = next(v for k, v in rows.items() if "sup" in k and "sup2" not in k)
    assert sup_row == ["2", "2", "100.0%", "1"], sup_row
    sup2_row = next(v for k, v in rows.items() if "sup2" in k)
    assert sup2_row[1] == "0" and sup2_row[2] == "0.0%", sup2_row
    html = pages.get(f"/cases/{case_id}").text
    assert "未说明原因" in html and "自动排期" in pages.get(f"/cases/{planned}").text
    # The county reviewer, who watches the insurer, sees the same on the county's dashboard.
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    pages.login("reviewer")
    home = pages.get("/").text
    assert 'id="hand-picked-shares"' in home and "100.0%" in home


def test_a_county_with_too_few_other_officers_sends_the_same_ones_with_a_reason(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Rotation must not stop a small county: when the county has fewer other field officers than the visit needs,
    the household's last officers may go again, but only with the supervisor's reason on record."""
    team0, case_id = _household_checked_by_team0(ctx)  # the county's only two officers
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    sup, today = users.headers("sup"), ctx.clock.today().isoformat()
    before = _counts(ctx)
    body = {"officers": [team0.officer1.id, team0.officer2.id], "visit_on": today, "vehicle": "车01"}
    r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json=body)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["reason"] and "本县其他核查员不足" in r.text
    assert _counts(ctx) == before
    r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json={**body, "reason": "本县仅有两名核查员"})
    assert r.status_code == 200 and r.json()["by_hand"] is True and r.json()["reason"] == "本县仅有两名核查员", r.text


def test_attack_a_supervisor_who_is_also_an_officer_picks_himself(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """One person holding both roles used to be able to send himself by hand to a household of his choosing (he could
    not confirm that check, but chose who made it). Refused, nothing written; the planner may still send him."""
    users.add("supoff", "insurer_supervisor", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    case_id = make_case(ctx, stage="screened")
    before = _counts(ctx)
    for named in ([users.ids["supoff"], users.ids["off2"]], ["supoff", "off2"]):  # by id or by username
        r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("supoff"), json={
            "officers": named, "visit_on": ctx.clock.today().isoformat(), "vehicle": "车01", "reason": "熟悉路线"})
        assert r.status_code == 422, r.text
        assert r.json()["errors"] == [{"field": "officers[0]", "message": "您不能把自己选为您手动安排的走访的核查员："
                                       "请选择其他核查员（自动排期仍可安排您）"}], r.text
        assert _counts(ctx) == before
    # The page says it in Chinese.
    pages = Pages(client, users)
    pages.login("supoff")
    form = pages.get(f"/cases/{case_id}/schedule").text
    assert f'value="{users.ids["off2"]}"' in form and f'value="{users.ids["supoff"]}"' not in form  # not offered
    r = pages.post(f"/cases/{case_id}/schedule", {"officer_1": users.ids["supoff"], "officer_2": users.ids["off2"],
                                                 "visit_on": ctx.clock.today().isoformat(), "vehicle": "车01",
                                                 "reason": "熟悉路线"})
    assert r.status_code == 422 and "您不能把自己选为" in r.text, r.text[-2000:]
    assert _counts(ctx) == before
    # Another supervisor may send him.
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("sup"), json={
        "officers": [users.ids["supoff"], users.ids["off2"]], "visit_on": ctx.clock.today().isoformat(),
        "vehicle": "车01", "reason": "熟悉路线"})
    assert r.status_code == 200, r.text


def _flagged_rows(html: str) -> dict[str, str]:
    if 'id="hand-picked-flagged"' not in html:
        return {}
    table = html.split('id="hand-picked-flagged"')[1].split("</table>")[0]
    return {m.group(1): re.sub(r"<[^>]+>", "", m.group(2)) for m in re.finditer(
        r'<a href="/cases/([^"]+)">.*?</a></td>(.*?)</tr>', table, flags=re.S)}


def test_hand_picked_visits_worth_a_look_are_listed_for_the_county_reviewer(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A supervisor hand-picks the officers of a household whose last check was sent back, and of others; the county
    reviewer's dashboard lists the visits worth a look, each with why: a household with a check sent back, a visit
    without a reason, and, once the supervisor hand-picks most of their visits, every one of theirs."""
    team0, troubled = _household_checked_by_team0(ctx)
    team1 = staff(ctx, COUNTY, 1)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    sup = users.headers("sup")
    with ctx.db.read() as session:
        from verifier.store.tables import Case
        troubled_case = session.get(Case, troubled)
        first = next(c.id for c in session.scalars(select(Case).where(
            Case.household_id == troubled_case.household_id)) if c.id != troubled)  # type: ignore[union-attr]
    ctx.clock.advance(hours=1)  # the send-back comes after the demo's own visits, the picks after it
    r = client.post(f"/api/cases/{first}/send-back", headers=sup, json={"reason": "收入与医保记录不符，重新核查"})
    assert r.status_code == 200, r.text
    ctx.clock.advance(hours=1)

    later = (ctx.clock.today() + timedelta(days=5)).isoformat()

    def pick(case_id: str, reason: str | None) -> None:
        r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json={
            "officers": [team1.officer1.id, team1.officer2.id], "visit_on": later, "vehicle": "车01",
            **({"reason": reason} if reason is not None else {})})
        assert r.status_code == 200, r.text

    plain, bare = make_case(ctx, stage="screened"), make_case(ctx, stage="screened")
    pick(troubled, "农户约定今日在家")
    pick(plain, "核查员请假，改派")
    pick(bare, None)
    pages = Pages(client, users)
    pages.login("reviewer")
    rows = _flagged_rows(pages.get("/").text)
    assert set(rows) == {troubled, bare}, rows
    assert "该户此前有核查被主管退回" in rows[troubled] and "农户约定今日在家" in rows[troubled]
    assert "未说明人工指派原因" in rows[bare]

    # A fourth visit by hand, none by the planner: the supervisor's share is over the line, every visit listed.
    pick(make_case(ctx, stage="screened"), "村干部陪同")
    rows = _flagged_rows(pages.get("/").text)
    assert plain in rows and "人工指派的比例超过 50%（100.0%）" in rows[plain], rows

    # The same officers sent again by the same supervisor to the troubled household: picked before.
    pick(troubled, "再次走访")
    rows = _flagged_rows(pages.get("/").text)
    assert "该主管此前也人工指派该核查员走访过该户" in rows[troubled], rows

    # The service answers codes (the page words them), the same as the earlier scan of every row per visit did.
    with ctx.db.read() as session:
        me = principal_of(session.get(User, users.ids["reviewer"]))
        since = ctx.clock.today() - timedelta(days=90)
        listed = hand_picked.to_review(session, me, since=since, county_code=COUNTY)
        assert [(v["visit_id"], v["flags"]) for v in listed] == _flags_by_scanning(session, since), listed
    assert not hasattr(hand_picked, "REASONS") and all("texts" not in v for v in listed)
    assert set(stagelabels.HAND_PICKED_REASONS) == set(hand_picked.FLAGS)

    # The supervisor's own dashboard does not carry the list (it is the county's watch on the insurer).
    pages.login("sup")
    assert 'id="hand-picked-flagged"' not in pages.get("/").text


def _flags_by_scanning(session, since) -> list[tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    """The flags as first written: every check, deviation, review and pick scanned for each visit (the reference)."""
    from datetime import datetime, time

    from verifier.cases.service import hand_picked_shares
    from verifier.clock import SCHEME_TZ
    from verifier.sampling.models import SamplingDeviation
    from verifier.store.tables import Case, Check, ReviewRequest

    everyone = principal_of(session.scalars(select(User).where(User.username == "reviewer")).one())
    rows = session.execute(select(Visit, Case.household_id).join(Case, Case.id == Visit.case_id).where(
        Visit.by_hand.is_(True), Visit.created_at >= datetime.combine(since, time.min, tzinfo=SCHEME_TZ),
        Case.county_code == COUNTY).order_by(Visit.created_at.desc(), Visit.id.desc())).all()
    case_household = dict(session.execute(select(Case.id, Case.household_id)).tuples().all())
    checks = session.execute(select(Check.case_id, Check.officer_ids, Check.recorded_at, Check.sent_back_at)).all()
    deviations = session.execute(select(SamplingDeviation.case_id, SamplingDeviation.created_at)).all()
    reviews = session.execute(select(ReviewRequest.case_id, ReviewRequest.recorded_at)).all()
    picks = session.execute(select(Visit.id, Visit.case_id, Visit.planned_by, Visit.officer_ids, Visit.created_at)
                            .where(Visit.by_hand.is_(True))).all()
    shares = {s["user_id"]: s for s in hand_picked_shares(session, everyone, since=since, county_code=COUNTY)}
    out = []
    for visit, household in rows:
        at, mine, flags = visit.created_at, set(visit.officer_ids), []
        if not (visit.reason or "").strip():
            flags.append("no_reason")
        hc = [c for c in checks if case_household.get(c.case_id) == household and c.recorded_at <= at]
        if any(c.sent_back_at is not None and c.sent_back_at <= at for c in hc):
            flags.append("sent_back")
        if any(case_household.get(d.case_id) == household and d.created_at <= at for d in deviations):
            flags.append("deviation")
        if any(case_household.get(r.case_id) == household and r.recorded_at <= at for r in reviews):
            flags.append("review")
        others = [c for c in hc if c.case_id != visit.case_id]
        if others and mine & set(max(others, key=lambda c: c.recorded_at).officer_ids):
            flags.append("same_officers")
        if any(p.id != visit.id and p.planned_by == visit.planned_by and p.created_at <= at
               and case_household.get(p.case_id) == household and mine & set(p.officer_ids) for p in picks):
            flags.append("picked_before")
        share = shares.get(visit.planned_by)
        if share and share["share"] and Decimal(share["share"].rstrip("%")) > 50 \
                and share["total"] - share["unknown"] >= 4:
            flags.append("high_share")
        if flags:
            out.append((visit.id, flags))
    return out


def test_attack_a_supervisor_who_is_also_an_officer_sends_himself_through_the_planner(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Refused by hand, he could ask the planner instead: preview (apply=false) again and again, and apply the plan
    once it put him on the household he wanted, recorded as the planner's (not hand-picked, so never listed). The
    planner leaves the planning supervisor out of the officers; another supervisor's plan may send him."""
    users.add("supoff", "insurer_supervisor", "field_officer", counties=(COUNTY,))
    for name in ("off2", "off3", "off4"):
        users.add(name, "field_officer", counties=(COUNTY,))
    cases = [make_case(ctx, stage="screened") for _ in range(4)]
    body = {"county_code": COUNTY, "from": ctx.clock.today().isoformat(), "days": 5}
    r = client.post("/api/schedule/plan", headers=users.headers("supoff"), json=body)
    assert r.status_code == 200, r.text
    planned = r.json()["assignments"]
    assert {a["case_id"] for a in planned} == set(cases), r.json()
    assert all(users.ids["supoff"] not in a["officers"] for a in planned), planned
    r = client.post("/api/schedule/plan", headers=users.headers("supoff"), json={**body, "apply": True})
    assert r.status_code == 200, r.text
    with ctx.db.read() as session:
        visits = list(session.scalars(select(Visit).where(Visit.case_id.in_(cases), Visit.active.is_(True))))
    assert len(visits) == 4 and all(users.ids["supoff"] not in v.officer_ids for v in visits)
    # Another supervisor's plan may send him (he then confirms none of those checks).
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    more = [make_case(ctx, stage="screened") for _ in range(4)]
    r = client.post("/api/schedule/plan", headers=users.headers("sup"), json=body)
    assert r.status_code == 200, r.text
    assert any(users.ids["supoff"] in a["officers"] for a in r.json()["assignments"] if a["case_id"] in more)
