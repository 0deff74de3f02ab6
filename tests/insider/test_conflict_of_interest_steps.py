"""回避, the steps it did not reach, and its trace.

- A refusal said which households a person's declared relatives belong to, and left nothing: a supervisor could try
  one step on many cases and read the refusals as a map of his family. Each refusal is now an audit entry
  (`recusal.refused`: who, the case, the step), kept after the refused transaction rolls back, and the county
  reviewers and auditors see them by person (回避拦截记录, `/recusal-refusals`).
- Screening, recording an objection, the notice's wall photo and its close, and preparing a batch: a relative took
  part unchecked. Each is refused now (or, the batch, left out with the reason), a colleague is not.
- A relative moved out of the household by a colleague's hand (分户) then matched no member: members who left
  during the year of the household's case still count.
Every refusal says only 与本户成员存在回避关系."""

from __future__ import annotations

from datetime import UTC, datetime

from deviation_helpers import person, ready_case
from factories import COUNTY, case_status, count_rows, make_case
from insider_kit import (declare_ties, entries_but_refusals, household_member, moved_out_member, recused_cases,
                         redate_move, refusals_of)
from sqlalchemy import select

from verifier.notices.models import Notice, Objection, VillageFile
from verifier.payments.models import PaymentBatch, PaymentItem
from verifier.store.tables import Case, Determination, Member

REFUSAL = "与本户成员存在回避关系"




def test_attack_a_clerk_probes_ten_cases_and_leaves_ten_entries(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("probe", "town_clerk", counties=(COUNTY,))
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("far", "county_reviewer", counties=("340000",))
    users.add("aud", "auditor", counties=(COUNTY,))
    cases = [make_case(ctx, stage="received") for _ in range(10)]
    declare_ties(client, users.headers("probe"), *[household_member(ctx, c)[2] for c in cases])
    before = entries_but_refusals(ctx)
    for case_id in cases:  # screening each of them (初筛): refused, every time, naming no one
        r = client.post(f"/api/cases/{case_id}/screening", headers=users.headers("probe"),
                        json={"decision": "pass", "reason": ""})
        assert r.status_code == 422 and REFUSAL in r.text, r.text
    # nothing of the screening written; ten entries on record, each naming the case and the step
    assert entries_but_refusals(ctx) == before
    assert {case_status(ctx, c) for c in cases} == {"received"}
    found = refusals_of(ctx, users.ids["probe"])
    assert [(e["subject"], e["step"], e["case_id"]) for e in found] == [(c, "screening", c) for c in cases]
    assert {e["county_code"] for e in found} == {COUNTY}
    # a colleague without ties screens the same case
    r = client.post(f"/api/cases/{cases[0]}/screening", headers=users.headers("clerk2"),
                    json={"decision": "pass", "reason": ""})
    assert r.status_code == 200, r.text
    assert case_status(ctx, cases[0]) == "screened" and refusals_of(ctx, users.ids["clerk2"]) == []

    # The county reviewer's page: the person, ten refusals on ten cases, the step in Chinese; searched by name.
    from web.pagekit import Pages
    pages = Pages(client, users)
    pages.login("rev")
    page = pages.get("/recusal-refusals")
    row = page.text.split('id="refusals"')[1]
    assert "probe" in row and ">10<" in row and "初筛 10 次" in row and "clerk2" not in row, row
    assert "probe" not in pages.get("/recusal-refusals?q=clerk2").text.split("查找人员")[1]
    assert "probe" in pages.get("/recusal-refusals?q=PROBE").text.split("查找人员")[1]
    # the audit page lists them under their own action, in Chinese
    audit = pages.get("/audit?action=recusal.refused").text
    assert audit.count("回避：因与本户成员存在回避关系被拒绝办理") >= 10
    # the auditor sees them; a reviewer of another county does not; the clerk has no such page
    pages.login("aud")
    assert "初筛 10 次" in pages.get("/recusal-refusals").text
    pages.login("far")
    assert "probe" not in pages.get("/recusal-refusals").text
    assert client.get("/recusal-refusals", headers=users.headers("probe")).status_code in (401, 403, 404)


def _noticed(ctx, client, users, clerk: str = "clerk") -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """Two cases of 东村 reviewed and on a notice posted today by `clerk`: (notice id, case ids)."""
    headers, today = users.headers(clerk), ctx.clock.today().isoformat()
    cases = [make_case(ctx, village="东村"), make_case(ctx, village="东村")]
    for case_id in cases:
        r = client.post(f"/api/cases/{case_id}/village-review", headers=headers,
                        json={"held_on": today, "result": "pass", "note": ""})
        assert r.status_code == 201, r.text
    r = client.post("/api/notices", headers=headers,
                    json={"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": today})
    assert r.status_code == 201, r.text
    return r.json()["id"], cases


def test_attack_a_clerk_records_the_objection_to_her_sisters_case(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Whoever writes the objection down chooses its words (what the dismissal then judges): not a relative."""
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("kin", "town_clerk", counties=(COUNTY,))
    notice_id, cases = _noticed(ctx, client, users)
    declare_ties(client, users.headers("kin"), household_member(ctx, cases[1])[2])
    today, before = ctx.clock.today().isoformat(), entries_but_refusals(ctx)
    r = client.post(f"/api/notices/{notice_id}/objections", headers=users.headers("kin"),
                    json={"case_id": cases[1], "received_on": today, "summary": "反映该户有经营收入"})
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    assert count_rows(ctx, Objection) == 0 and entries_but_refusals(ctx) == before
    assert [(e["step"], e["case_id"]) for e in refusals_of(ctx, users.ids["kin"])] == [("objection_record", cases[1])]
    # the other case of the notice is not her family's: she records its objection; the colleague records hers
    for who, case_id in (("kin", cases[0]), ("clerk", cases[1])):
        r = client.post(f"/api/notices/{notice_id}/objections", headers=users.headers(who),
                        json={"case_id": case_id, "received_on": today, "summary": "反映该户有经营收入"})
        assert r.status_code == 201, r.text
    assert count_rows(ctx, Objection) == 2


def test_attack_a_reviewer_photographs_the_wall_of_a_notice_listing_his_brother(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from village_kit import wall_photo

    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("kin", "county_reviewer", counties=(COUNTY,))
    users.add("rev2", "county_reviewer", counties=(COUNTY,))
    notice_id, cases = _noticed(ctx, client, users)
    declare_ties(client, users.headers("kin"), household_member(ctx, cases[0])[2])
    photo = {"file": ("公示张贴.jpg", wall_photo(ctx.clock.today()), "image/jpeg")}
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/notices/{notice_id}/photos", headers=users.headers("kin"), files=photo)
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    assert count_rows(ctx, VillageFile, VillageFile.kind == "wall_photo") == 0 and entries_but_refusals(ctx) == before
    assert [e["step"] for e in refusals_of(ctx, users.ids["kin"])] == ["notice_photo"]
    r = client.post(f"/api/notices/{notice_id}/photos", headers=users.headers("rev2"), files=photo)
    assert r.status_code == 201, r.text


def test_attack_a_clerk_closes_the_notice_listing_her_mother(ctx, client, users, clock) -> None:  # type: ignore[no-untyped-def]
    """Closing sends the listed cases on to payment."""
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("kin", "town_clerk", counties=(COUNTY,))
    notice_id, cases = _noticed(ctx, client, users)
    declare_ties(client, users.headers("kin"), household_member(ctx, cases[0])[2])
    clock.advance(days=8)  # the period is over, no objection
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/notices/{notice_id}/close", headers=users.headers("kin"))
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    assert entries_but_refusals(ctx) == before and {case_status(ctx, c) for c in cases} == {"in_notice"}
    assert count_rows(ctx, Notice, Notice.status == "open") == 1
    assert [e["step"] for e in refusals_of(ctx, users.ids["kin"])] == ["notice_close"]
    # the notice's page says it in place, in Chinese
    from web.pagekit import Pages
    pages = Pages(client, users)
    pages.login("kin")
    pages.get(f"/notices/{notice_id}")
    r = pages.post(f"/notices/{notice_id}/close", {"confirm": "yes"})
    assert r.status_code == 422 and "回避：该公示中有农户的家庭成员与您存在回避关系" in r.text, r.text
    assert len(refusals_of(ctx, users.ids["kin"])) == 2 and count_rows(ctx, Notice, Notice.status == "open") == 1
    r = client.post(f"/api/notices/{notice_id}/close", headers=users.headers("clerk"))
    assert r.status_code == 200, r.text
    assert count_rows(ctx, Notice, Notice.status == "closed") == 1


def test_attack_claims_prepares_the_batch_that_pays_his_father(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The preparer chooses what a batch pays: his family's case is left out (told to him neutrally, on record for the
    auditors) and paid by a batch another person prepares."""
    person(ctx, users, "kin", "insurer_claims")
    person(ctx, users, "claims2", "insurer_claims")
    father, other = ready_case(ctx), ready_case(ctx)
    declare_ties(client, users.headers("kin"), household_member(ctx, father)[2])
    # his family's case alone: nothing to pay, refused, nothing written, on record
    before = entries_but_refusals(ctx)
    r = client.post("/api/payment-batches", headers=users.headers("kin"),
                    json={"county_code": COUNTY, "case_ids": [father]})
    assert r.status_code == 422 and "须由其他经办人制单" in r.text, r.text
    assert count_rows(ctx, PaymentBatch) == 0 and entries_but_refusals(ctx) == before
    # with another case: the batch pays the other, his family's is skipped with a neutral reason (no 回避 said)
    r = client.post("/api/payment-batches", headers=users.headers("kin"),
                    json={"county_code": COUNTY, "case_ids": [father, other]})
    assert r.status_code == 201, r.text
    batch = r.json()
    assert [s["case_id"] for s in batch["skipped"]] == [father] and batch["skipped"][0]["reason"] == "须由其他经办人制单"
    with ctx.db.read() as session:
        assert set(session.scalars(select(PaymentItem.case_id).where(PaymentItem.batch_id == batch["id"]))) == {other}
    assert [(e["step"], e["case_id"]) for e in refusals_of(ctx, users.ids["kin"])] == [
        ("batch_prepare", father), ("batch_prepare", father)]
    # a colleague's batch pays it
    r = client.post("/api/payment-batches", headers=users.headers("claims2"),
                    json={"county_code": COUNTY, "case_ids": [father]})
    assert r.status_code == 201 and r.json()["skipped"] == [], r.text
    assert refusals_of(ctx, users.ids["claims2"]) == []


def test_attack_a_colleague_moves_the_relative_out_and_the_supervisor_then_confirms(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """分户 by a colleague's hand took the relative out of the household; the supervisor's determination of its case
    was then not refused. A member who left during the year of the household's case still counts."""
    users.add("kin", "insurer_supervisor", counties=(COUNTY,))
    users.add("mover", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup3", "insurer_supervisor", counties=(COUNTY,))
    case_id = make_case(ctx, stage="checked")
    household, member_id, relative = household_member(ctx, case_id, head=False)
    declare_ties(client, users.headers("kin"), relative)
    r = client.post(f"/api/households/{household}/members/{member_id}/move", headers=users.headers("mover"),
                    json={"reason": "分户", "new_household": True})
    assert r.status_code in (200, 201), r.text
    pid = r.json()["id"]
    seen = client.get(f"/api/household-proposals/{pid}", headers=users.headers("sup3")).json()["seen"]
    r = client.post(f"/api/household-proposals/{pid}/confirm", json={"seen": seen}, headers=users.headers("sup3"))
    assert r.status_code == 200, r.text
    with ctx.db.read() as session:
        assert session.scalar(select(Member.household_id).where(Member.id == member_id)) != household
    r = client.post(f"/api/cases/{case_id}/determination", headers=users.headers("kin"), json={"confirm": True})
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    assert count_rows(ctx, Determination) == 0
    assert [(e["step"], e["case_id"]) for e in refusals_of(ctx, users.ids["kin"])] == [("determination", case_id)]
    r = client.post(f"/api/cases/{case_id}/determination", headers=users.headers("sup3"), json={"confirm": True})
    assert r.status_code == 200, r.text


def test_a_member_who_left_before_the_cases_year_no_longer_counts(ctx) -> None:  # type: ignore[no-untyped-def]
    """The history reaches back to the year before the household's open case, not for ever: a move in December for
    a case of January (the year whose income the case's check records) still counts, a move two years back is not a
    tie now."""
    moved = moved_out_member(ctx, "left", lambda year: datetime(year, 1, 2, tzinfo=UTC))
    both = [moved.case_id, moved.other]
    assert recused_cases(ctx, moved, both) == {moved.case_id: moved.household, moved.other: moved.elsewhere}
    # the move in December of the year before the case's contract year: it counts
    redate_move(ctx, moved, datetime(moved.year - 1, 12, 31, 15, 59, tzinfo=UTC))
    assert recused_cases(ctx, moved, both) == {moved.case_id: moved.household, moved.other: moved.elsewhere}
    # on 1 January of the year before, Beijing time: still
    redate_move(ctx, moved, datetime(moved.year - 2, 12, 31, 16, 0, tzinfo=UTC))
    assert recused_cases(ctx, moved, both) == {moved.case_id: moved.household, moved.other: moved.elsewhere}
    # a minute earlier, 31 December two years back: no longer
    redate_move(ctx, moved, datetime(moved.year - 2, 12, 31, 15, 59, tzinfo=UTC))
    assert recused_cases(ctx, moved, both) == {moved.other: moved.elsewhere}


def test_every_refused_step_has_a_chinese_name() -> None:
    from verifier.recusal import refusals
    from verifier.web.labels import RECUSAL_STEPS

    assert set(RECUSAL_STEPS) == set(refusals.STEPS)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in name) for name in RECUSAL_STEPS.values())


def test_a_batch_step_finds_the_relative_moved_out_of_one_of_its_households(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A batch's 回避 guard (`refuse_cases_in`) looks for the caller's tied households among the batch's cases by the
    members' index, not case by case: a relative moved out of a household of the batch during its case's year by a
    colleague still refuses the approval, alone; another finance officer approves it."""
    from datetime import UTC, datetime

    from verifier.households.models import HouseholdChange
    from verifier.recusal import guard

    person(ctx, users, "claims1", "insurer_claims")
    person(ctx, users, "kin", "finance")
    person(ctx, users, "fin2", "finance")
    family, other, elsewhere = ready_case(ctx), ready_case(ctx), make_case(ctx, stage="checked")
    household, member_id, relative = household_member(ctx, family, head=False)
    target, _, _ = household_member(ctx, elsewhere)
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": [family, other]})
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    with ctx.db.begin() as session:  # moved out by a colleague this year, to a household the batch does not pay
        year = session.scalar(select(Case.contract_year).where(Case.id == family))
        session.execute(Member.__table__.update().where(Member.id == member_id).values(household_id=target))
        session.add(HouseholdChange(id="hhc_batch_left", kind="move", county_code=COUNTY, from_household_id=household,
                                    to_household_id=target, member_id=member_id, members=[member_id],
                                    new_household=False, merged_cases=[], moved_cases=[], reason="迁出",
                                    changed_by=users.ids["claims1"], changed_at=datetime(year, 3, 1, tzinfo=UTC)))
    declare_ties(client, users.headers("kin"), relative)
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/payment-batches/{bid}/approve", headers=users.headers("kin"))
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    assert entries_but_refusals(ctx) == before and count_rows(ctx, PaymentBatch, PaymentBatch.status == "prepared") == 1
    assert [e["step"] for e in refusals_of(ctx, users.ids["kin"])] == ["batch_approve"]
    # the same answer as asking household by household, and nothing for a batch of other households only
    from verifier.accounts.auth import principal_of
    from verifier.payments.models import PaymentItem as Item
    from verifier.store.tables import User

    with ctx.db.read() as session:
        me = principal_of(session.get(User, users.ids["kin"]))
        assert set(guard.recused_cases(session, me, [family, other]).values()) == {household}
        guard.refuse_cases_in(session, me, select(Item.case_id).where(Item.case_id == other), step="batch_approve")
    assert client.post(f"/api/payment-batches/{bid}/approve", headers=users.headers("fin2")).status_code == 200
