"""回避 on the steps it had not reached: entering (or correcting) a household's application, gathering a notice's
cases, recording a follow-up, rejecting a repayment. Each is tried by the tied person alone, over the API and on the
page: refused with 与本户成员存在回避关系 (the notice: the case left for another clerk, told neutrally), nothing of it
written, the refusal on record; a colleague without ties does it."""

from __future__ import annotations

from factories import COUNTY, case_status, count_rows, make_case, new_id_number
from insider_kit import declare_ties, entries_but_refusals, household_member, refusals_of
from sqlalchemy import select
from sampling import sampling_helpers
from web.pagekit import Pages

from verifier.notices.models import Notice, NoticeItem
from verifier.store.tables import Case, Household, Referral

REFUSAL = "与本户成员存在回避关系"
rounds = sampling_helpers.rounds  # the sampling tests' fixture
LEFT_OUT = "须由其他经办人列入公示"




def _application(ctx, id_number: str, name: str = "王秀英", **kw: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"county_code": COUNTY, "id_number": id_number, "name": name, "town": "城关镇", "village": "东村",
            "household_group": "exited_low_standard", "cause": "illness", "amount": "30000.00",
            "referred_on": ctx.clock.today().isoformat(), **kw}


def test_attack_a_clerk_enters_her_brothers_application(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Whoever enters the application chooses its cause and amount: not the applicant's relative, for a household the
    system does not know yet (matched by the application's ID number) nor for one it knows (any member)."""
    users.add("kin", "town_clerk", counties=(COUNTY,))
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    brother = new_id_number()
    known = make_case(ctx, stage="checked")  # its members are known from its check
    household, _, head = household_member(ctx, known)
    _, _, other_member = household_member(ctx, known, head=False)
    fresh = make_case(ctx, stage="received")  # not yet screened: its application may still be corrected
    fresh_household, _, fresh_head = household_member(ctx, fresh)
    declare_ties(client, users.headers("kin"), brother, other_member, fresh_head)
    cases, households, referrals = count_rows(ctx, Case), count_rows(ctx, Household), count_rows(ctx, Referral)
    before = entries_but_refusals(ctx)
    # a new household: the applicant is her brother
    r = client.post("/api/referrals", headers=users.headers("kin"), json=_application(ctx, brother))
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    assert r.json()["errors"][0]["field"] == "id_number"
    # a known household: the head applies, her declared relative is another member (the application merges into it)
    r = client.post("/api/referrals", headers=users.headers("kin"), json=_application(ctx, head, "户主"))
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    # the page's form: the same, said beside the ID number, the form kept as typed
    pages = Pages(client, users)
    pages.login("kin")
    pages.get("/applications/new")
    r = pages.post("/applications/new", {**_application(ctx, brother), "note": "因病住院"})
    assert r.status_code == 422 and REFUSAL in r.text and "因病住院" in r.text, r.text
    # correcting a relative's application (its amount) is entering it too
    r = pages.get(f"/applications/{fresh}/edit")
    assert r.status_code == 200, r.text
    r = pages.post(f"/applications/{fresh}/edit", _application(ctx, fresh_head, "户主", amount="90000.00"))
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    # nothing written; four refusals on record, in the county, the known household named, the new one not (none)
    assert (count_rows(ctx, Case), count_rows(ctx, Household), count_rows(ctx, Referral)) == (cases, households, referrals)
    assert entries_but_refusals(ctx) == before
    with ctx.db.read() as session:
        assert session.scalar(select(Referral.amount).where(Referral.case_id == fresh)) == 100_000
    found = refusals_of(ctx, users.ids["kin"])
    assert [(e["step"], e["households"], e.get("case_id")) for e in found] == [
        ("application", [], None), ("application", [household], None), ("application", [], None),
        ("application", [fresh_household], fresh)]
    assert {e["county_code"] for e in found} == {COUNTY}
    # a colleague enters both
    for id_number in (brother, head):
        r = client.post("/api/referrals", headers=users.headers("clerk2"), json=_application(ctx, id_number))
        assert r.status_code == 201, r.text
    assert count_rows(ctx, Case) == cases + 1 and refusals_of(ctx, users.ids["clerk2"]) == []


def _reviewed(ctx, client, users, n: int = 2) -> list[str]:  # type: ignore[no-untyped-def]
    """`n` cases of 东村 that passed village review (recorded by `clerk`), awaiting a notice."""
    cases = [make_case(ctx, village="东村") for _ in range(n)]
    for case_id in cases:
        r = client.post(f"/api/cases/{case_id}/village-review", headers=users.headers("clerk"),
                        json={"held_on": ctx.clock.today().isoformat(), "result": "pass", "note": ""})
        assert r.status_code == 201, r.text
    return cases


def test_attack_a_clerk_posts_the_notice_that_lists_her_mother(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The poster dates the notice (and so the days the village has to object): her family's case is left out, as a
    batch's preparer's is, told to her alone neutrally and on record; the notice of the rest is posted; her family's
    case waits for a notice another clerk posts. With nothing else to post she is refused, nothing written."""
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("kin", "town_clerk", counties=(COUNTY,))
    mother, other = _reviewed(ctx, client, users)
    household = household_member(ctx, mother)[0]
    declare_ties(client, users.headers("kin"), household_member(ctx, mother)[2])
    body = {"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": ctx.clock.today().isoformat()}
    pages = Pages(client, users)
    pages.login("kin")
    pages.get("/notices/new")
    r = pages.post("/notices/new", body)
    assert r.status_code == 303 and "done=notice_left_out" in r.headers["location"], r.text
    assert "有案件须由其他经办人列入公示" in pages.get(r.headers["location"]).text
    with ctx.db.read() as session:
        listed = list(session.scalars(select(NoticeItem.case_id)))
        posted = session.scalars(select(Notice)).one()
    assert listed == [other] and case_status(ctx, mother) == "reviewed" and case_status(ctx, other) == "in_notice"
    # the notice's own entry (which its readers see) does not name the case left out
    from verifier.audit.models import AuditEntry
    with ctx.db.read() as session:
        entry = session.scalar(select(AuditEntry.entry).where(AuditEntry.action == "notice.post"))
    assert mother not in entry.decode() and household not in entry.decode()
    assert [(e["step"], e["case_id"], e["households"]) for e in refusals_of(ctx, users.ids["kin"])] == [
        ("notice_gather", mother, [household])]
    # only her family's case left: refused over the API and on the page, nothing written, each on record
    before = entries_but_refusals(ctx)
    r = client.post("/api/notices", headers=users.headers("kin"), json=body)
    assert r.status_code == 422 and LEFT_OUT in r.text and "回避" not in r.text, r.text
    r = pages.post("/notices/new", body)
    assert r.status_code == 422 and LEFT_OUT in r.text, r.text
    assert count_rows(ctx, Notice) == 1 and entries_but_refusals(ctx) == before and case_status(ctx, mother) == "reviewed"
    assert [e["step"] for e in refusals_of(ctx, users.ids["kin"])] == ["notice_gather"] * 3
    # a colleague's notice lists it (and tells her nothing left out)
    r = client.post("/api/notices", headers=users.headers("clerk"), json=body)
    assert r.status_code == 201, r.text
    assert [i["case_id"] for i in r.json()["items"]] == [mother] and r.json()["left_out"] == []
    assert posted.id != r.json()["id"] and refusals_of(ctx, users.ids["clerk"]) == []


def test_the_api_tells_the_poster_which_case_was_left_out(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("kin", "town_clerk", counties=(COUNTY,))
    mother, other = _reviewed(ctx, client, users)
    declare_ties(client, users.headers("kin"), household_member(ctx, mother)[2])
    r = client.post("/api/notices", headers=users.headers("kin"), json={
        "county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": ctx.clock.today().isoformat()})
    assert r.status_code == 201, r.text
    assert [i["case_id"] for i in r.json()["items"]] == [other]
    assert r.json()["left_out"] == [{"case_id": mother, "reason": LEFT_OUT}]
    r = client.get(f"/api/notices/{r.json()['id']}", headers=users.headers("clerk"))  # told to the poster only
    assert r.json()["left_out"] == []


def test_attack_an_officer_records_the_followup_of_his_fathers_household(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A follow-up says whether the risk remains and what the household still needs (and so what it is referred to
    next): not by a relative."""
    from followups.followup_kit import pay_cases

    from verifier.followups.models import Followup
    from verifier.payments.models import PaymentItem

    [case_id] = pay_cases(ctx, 1)
    with ctx.db.read() as session:
        item = session.scalar(select(PaymentItem.id).where(PaymentItem.case_id == case_id))
    users.add("kin", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    declare_ties(client, users.headers("kin"), household_member(ctx, case_id)[2])
    today = ctx.clock.today().isoformat()
    body = {"case_id": case_id, "done_on": today, "method": "visit", "income_change": "up", "risk_remains": False,
            "satisfaction": "satisfied", "new_needs": [], "received": "yes"}
    before = entries_but_refusals(ctx)
    r = client.post("/api/followups", headers=users.headers("kin"), json=body)
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    pages = Pages(client, users)
    pages.login("kin")
    pages.get(f"/followups/new?item={item}")
    r = pages.post("/followups", {"payment_item_id": item, "done_on": today, "method": "visit", "income_change": "up",
                                  "risk_remains": "no", "satisfaction": "satisfied", "received": "yes",
                                  "note": "已脱离风险"})
    assert r.status_code == 422 and REFUSAL in r.text and "已脱离风险" in r.text, r.text
    assert count_rows(ctx, Followup) == 0 and entries_but_refusals(ctx) == before
    # the API's try, the form's page that told him (a try too), the form sent
    assert [(e["step"], e["case_id"]) for e in refusals_of(ctx, users.ids["kin"])] == [("followup", case_id)] * 3
    r = client.post("/api/followups", headers=users.headers("off2"), json=body)
    assert r.status_code == 201, r.text


def test_attack_finance_rejects_what_his_sisters_household_paid_back(ctx, rounds, users) -> None:  # type: ignore[no-untyped-def]
    """A rejected repayment never counts: the household is pressed again for money it paid (or, the other way, a
    relative keeps a doubtful one from being rejected by waiting it out). Recording and confirming were guarded;
    rejecting is now too."""
    from deviation_helpers import drawn_round, pay, person, ready_case

    from verifier.payments.models import Recovery, RecoveryRepayment

    client = rounds.client

    claims = person(ctx, users, "claims1", "insurer_claims")
    fin1 = person(ctx, users, "fin1", "finance")
    person(ctx, users, "fin2", "finance")
    person(ctx, users, "kin", "finance")
    case_id = ready_case(ctx)
    pay(ctx, claims, fin1, [case_id])
    round_id = drawn_round(rounds, {case_id})
    rounds.result(round_id, case_id, per_capita_income="2666.67", eligible=False)
    with ctx.db.read() as session:
        recovery = session.scalars(select(Recovery).where(Recovery.case_id == case_id)).one().id
    r = client.post(f"/api/recoveries/{recovery}/repayments", headers=users.headers("fin2"),
                    json={"amount": "100.00", "paid_on": ctx.clock.today().isoformat(), "reference": "RK-1"})
    assert r.status_code == 201, r.text
    repayment = r.json()["id"]
    declare_ties(client, users.headers("kin"), household_member(ctx, case_id)[2])
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/recovery-repayments/{repayment}/reject", headers=users.headers("kin"),
                    json={"reason": "银行无此笔入账"})
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    pages = Pages(client, users)
    pages.login("kin")
    pages.get(f"/recoveries/{recovery}")
    r = pages.post(f"/recoveries/{recovery}/repayments/{repayment}/reject", {"reason": "银行无此笔入账"})
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    with ctx.db.read() as session:
        assert session.get(RecoveryRepayment, repayment).status == "pending"
    assert entries_but_refusals(ctx) == before
    assert [(e["step"], e["case_id"]) for e in refusals_of(ctx, users.ids["kin"])] == [
        ("recovery_repayment", case_id)] * 2
    r = client.post(f"/api/recovery-repayments/{repayment}/reject", headers=users.headers("fin1"),
                    json={"reason": "银行无此笔入账"})
    assert r.status_code == 200 and r.json()["status"] == "rejected", r.text


def test_the_callers_ties_are_read_once_per_transaction_and_again_in_the_next(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Several guarded steps in one transaction read the caller's declaration once; a session kept for the next
    request (the event loop's, a worker thread's) reads it again there: a tie declared in between counts; and a
    declaration written in the same transaction is not hidden by what was read before it."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from verifier.accounts.auth import principal_of
    from verifier.domain.errors import ValidationFailed
    from verifier.recusal import guard
    from verifier.recusal import service as recusal_service
    from verifier.store.tables import User

    users.add("kin", "insurer_supervisor", counties=(COUNTY,))
    users.add("adm", "admin", counties=(COUNTY,))
    a, b = make_case(ctx, stage="checked"), make_case(ctx, stage="checked")
    declare_ties(client, users.headers("kin"), new_id_number())  # a stranger: nobody's member
    reads: list[str] = []
    watching = [True]  # not the API's own statements between the transactions

    def seen(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if watching[0] and "staff_tie" in statement:
            reads.append(statement)

    event.listen(ctx.db.engine, "before_cursor_execute", seen)
    held = Session(ctx.db.engine, expire_on_commit=False)  # one session, several transactions (as a held one)
    try:
        with held.begin():
            me = principal_of(held.get(User, users.ids["kin"]))
            guard.refuse_case(held, me, a, step="determination")
            guard.refuse_cases(held, me, [a, b], step="batch_approve")
            assert guard.recused_cases(held, me, [a, b]) == {}
        assert len(reads) == 1, reads
        watching[0] = False
        declare_ties(client, users.headers("kin"), household_member(ctx, b)[2])  # between two requests
        expected = {b: household_member(ctx, b)[0]}
        watching[0] = True
        with held.begin():
            assert guard.recused_cases(held, me, [a, b]) == expected
        assert len(reads) == 2, reads
        with held.begin():  # read, then a declaration written in the same transaction: counted at once
            assert guard.recused_cases(held, me, [a]) == {}
            admin = principal_of(held.get(User, users.ids["adm"]))
            watching[0] = False
            relative = household_member(ctx, a)[2]
            recusal_service.declare(held, me.id, [recusal_service.Entry(relation="other", id_number=relative)],
                                    principal=admin, vault=ctx.vault, clock=ctx.clock)
            try:
                guard.refuse_case(held, me, a, step="determination")
                raise AssertionError("not refused")
            except ValidationFailed as exc:
                assert REFUSAL in str(exc.errors[0].message)
            held.rollback()
    finally:
        held.close()
        event.remove(ctx.db.engine, "before_cursor_execute", seen)
