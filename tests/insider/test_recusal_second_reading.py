"""回避, a second reading: the bank file's download, the cases left out that are not tries, the relative moved out of a
household with no case yet, and a preparer's hundred thousand candidates.

- The bank file (the instruction the bank pays by) was handed to a finance officer tied to a household the batch
  pays: refused now (422, step `bank_file`), nothing handed out nor logged but the refusal.
- A clerk whose family's case is left out of a village's notice (`notice_gather`), or a preparer's of a batch
  (`batch_prepare`), tried nothing: she asked for the village. Those are not counted towards 反复试探 (still listed
  on the refusals page), and her list of villages to post does not invite her to post one only a colleague can.
- A relative moved out of a household with no case yet still counts (this year's, Beijing time).
- `recused_cases` reads by the caller's ties, not one bind per case: 70,000 candidates stay within PostgreSQL's
  65,535 parameters."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from factories import COUNTY, make_case, new_id_number
from insider_kit import declare_ties, entries_but_refusals, household_member, move_out, refusals_of, released_batch
from sqlalchemy import event, func, select
from web.pagekit import Pages

from verifier.accounts.auth import Principal
from verifier.audit.models import AuditEntry
from verifier.recusal import guard, refusals
from verifier.store.tables import Case, Household, Member

REFUSAL = "与本户成员存在回避关系"
LEFT_OUT = "须由其他经办人列入公示"


def _downloads(ctx) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "payment_batch.bank_file")))


def test_attack_finance_downloads_the_bank_file_of_a_batch_paying_his_sister(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Whoever takes the bank file hands the bank its instruction (and could hand over another): not a relative of a
    household it pays. Refused over the API and on the page, alone; nothing handed out, no download logged, each try
    on record; a colleague takes it."""
    bid, cases = released_batch(ctx, client, users, ("kin", "finance"))
    declare_ties(client, users.headers("kin"), household_member(ctx, cases[1])[2])
    before, downloads = entries_but_refusals(ctx), _downloads(ctx)
    for fmt in ("csv", "xlsx"):
        r = client.get(f"/api/payment-batches/{bid}/bank-file?format={fmt}", headers=users.headers("kin"))
        assert r.status_code == 422 and REFUSAL in r.text and "银行文件" in r.text, r.text
        assert "content-disposition" not in r.headers
    pages = Pages(client, users)
    pages.login("kin")
    page = pages.get(f"/payments/{bid}/bank-file")
    assert page.status_code == 422 and REFUSAL in page.text and "attachment" not in page.headers.get(
        "content-disposition", ""), page.text
    assert entries_but_refusals(ctx) == before and _downloads(ctx) == downloads
    household = household_member(ctx, cases[1])[0]
    assert [(e["step"], e["households"]) for e in refusals_of(ctx, users.ids["kin"])] == [
        ("bank_file", [household])] * 3
    # another finance officer (not tied) takes it, and it is logged
    r = client.get(f"/api/payment-batches/{bid}/bank-file", headers=users.headers("fin2"))
    assert r.status_code == 200 and len(list(csv.reader(io.StringIO(r.content.decode("utf-8"))))) == 3, r.text
    assert _downloads(ctx) == downloads + 1 and refusals_of(ctx, users.ids["fin2"]) == []
    # the refusals page names the step in Chinese
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    pages.login("rev")
    assert "下载银行文件 3 次" in pages.get("/recusal-refusals?person=kin").text


def _reviewer(users) -> Principal:  # type: ignore[no-untyped-def]
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    return Principal(id=users.ids["rev"], username="rev", display_name="rev", roles=("county_reviewer",),
                     counties=(COUNTY,))


def _awaiting(pages, url: str) -> str:  # type: ignore[no-untyped-def]
    """The villages awaiting a notice, as the page lists them (the notices list's 待公示, the new notice's 待公示的村)."""
    text = pages.get(url).text
    marker = "待公示</h2>" if url == "/notices" else "待公示的村</h2>"
    return text.split(marker)[1].split("</table>" if url == "/notices" else "</ul>")[0] if marker in text else ""


def test_an_honest_clerk_whose_mothers_case_is_left_out_is_not_warned_of(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """She asks for her village's notice three times; her mother's case is left out each time (once from the notice
    of the rest, twice refused when nothing else is left): on the refusals page, but no 反复试探 and no warning on the
    reviewer's home page. Her list of villages to post says the village is for another clerk once only her mother's
    case is left; a colleague's list invites him."""
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("kin", "town_clerk", counties=(COUNTY,))
    rev = _reviewer(users)
    cases = [make_case(ctx, village="东村") for _ in range(2)]
    for case_id in cases:
        r = client.post(f"/api/cases/{case_id}/village-review", headers=users.headers("clerk"),
                        json={"held_on": ctx.clock.today().isoformat(), "result": "pass", "note": ""})
        assert r.status_code == 201, r.text
    mother = cases[0]
    declare_ties(client, users.headers("kin"), household_member(ctx, mother)[2])
    pages = Pages(client, users)
    pages.login("kin")
    for url in ("/notices", "/notices/new"):  # two cases, one of them hers: she may post the other's
        shown = _awaiting(pages, url)
        assert "东村" in shown and "/notices/new?county_code=" in shown and LEFT_OUT not in shown, shown
    body = {"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": ctx.clock.today().isoformat()}
    r = pages.post("/notices/new", body)
    assert r.status_code == 303 and "done=notice_left_out" in r.headers["location"], r.text
    for url in ("/notices", "/notices/new"):  # only her mother's left: not an invitation to try
        shown = _awaiting(pages, url)
        assert "东村" in shown and LEFT_OUT in shown and "/notices/new?county_code=" not in shown, shown
    for _ in range(2):
        r = pages.post("/notices/new", body)
        assert r.status_code == 422 and LEFT_OUT in r.text, r.text
    assert [e["step"] for e in refusals_of(ctx, users.ids["kin"])] == ["notice_gather"] * 3
    with ctx.db.read() as session:
        assert refusals.probing(session, rev, ctx.clock.now()) == []
        [row] = refusals.by_person(session, rev, now=ctx.clock.now())
    assert (row.username, row.count, row.steps, row.probing) == ("kin", 3, [("notice_gather", 3)], False)
    pages.login("rev")
    assert 'id="recusal-probes"' not in pages.get("/").text
    listed = pages.get("/recusal-refusals").text
    assert "kin" in listed and "生成公示（列入案件） 3 次" in listed and "反复试探" not in listed.split(
        'id="refusals"')[1]
    # the colleague is invited to post it
    pages.login("clerk")
    shown = _awaiting(pages, "/notices")
    assert "/notices/new?county_code=" in shown and LEFT_OUT not in shown, shown


def test_cases_left_out_of_a_batch_are_not_tries_but_a_refused_step_still_is(ctx, users) -> None:  # type: ignore[no-untyped-def]
    rev = _reviewer(users)
    households = [household_member(ctx, make_case(ctx, stage="received"))[0] for _ in range(3)]
    with ctx.db.begin() as session:
        for household in households:  # a preparer's batch left out three of her family's households
            refusals.record(session, actor="u_prep", role="insurer_claims", step="batch_prepare",
                            households=[household], clock=ctx.clock)
    with ctx.db.read() as session:
        assert refusals.probing(session, rev, ctx.clock.now()) == []
    with ctx.db.begin() as session:  # then she tries to approve one and to release another: two households tried
        for step, household in (("batch_approve", households[0]), ("batch_release", households[1])):
            refusals.record(session, actor="u_prep", role="finance", step=step, households=[household],
                            clock=ctx.clock)
    with ctx.db.read() as session:
        [found] = refusals.probing(session, rev, ctx.clock.now())
    assert (found.user_id, found.recent, found.recent_households, found.count) == ("u_prep", 2, 2, 5)


def _me(ctx, user_id: str):  # type: ignore[no-untyped-def]
    from verifier.accounts.auth import principal_of
    from verifier.store.tables import User

    with ctx.db.read() as session:
        return principal_of(session.get(User, user_id))


def test_recused_cases_reads_by_ties_with_the_same_answer_and_no_bind_per_case(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The same mapping as asking household by household (`conflicts_by_case`): a member, a relative moved out this
    year, one moved out three years before (no longer), a household not tied; given as ids or as a statement; and
    70,000 candidates sent as no more than a few binds (PostgreSQL refuses more than 65,535)."""
    users.add("prep", "insurer_claims", counties=(COUNTY,))
    member_case, moved_case, long_ago_case, plain, other_case = (make_case(ctx, stage="checked") for _ in range(5))
    elsewhere = household_member(ctx, other_case)[0]
    ties = [household_member(ctx, member_case)[2]]
    for case_id, when, change in ((moved_case, datetime(2020, 3, 1, tzinfo=UTC), "hhc_sr_moved"),
                                  (long_ago_case, datetime(2017, 3, 1, tzinfo=UTC), "hhc_sr_long_ago")):
        household, member_id, id_number = household_member(ctx, case_id, head=False)
        move_out(ctx, member_id, household, elsewhere, when, change)
        ties.append(id_number)
    declare_ties(client, users.headers("prep"), *ties)
    me = _me(ctx, users.ids["prep"])
    ids = [member_case, moved_case, long_ago_case, plain]
    with ctx.db.read() as session:
        expected = {c: session.scalar(select(Case.household_id).where(Case.id == c))
                    for c in guard.conflicts_by_case(session, ids, [me.id])}
        assert set(expected) == {member_case, moved_case}
        assert guard.recused_cases(session, me, ids) == expected
        assert guard.recused_cases(session, me, select(Case.id).where(Case.id.in_(ids))) == expected
        # the household the moved relatives live in now is tied too: they are its members
        assert guard.recused_cases(session, me, [other_case, plain]) == {other_case: elsewhere}
        assert guard.recused_cases(session, me, []) == {}
    many = [f"case_{n:06d}" for n in range(70_000)] + ids
    sent: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        sent.append(len(parameters or ()))

    event.listen(ctx.db.read_engine, "before_cursor_execute", count)
    try:
        with ctx.db.read() as session:
            assert guard.recused_cases(session, me, many) == expected
    finally:
        event.remove(ctx.db.read_engine, "before_cursor_execute", count)
    assert sent and max(sent) < 100, sent


def test_attack_a_clerk_enters_the_application_of_the_household_her_brother_just_left(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The household has no case yet (nothing gave the year from which a member moved out still counts): her brother,
    moved out of it this year (by a colleague), still ties her to it. A move three years back does not."""
    users.add("kin", "town_clerk", counties=(COUNTY,))
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    vault = ctx.vault
    head, brother, cousin = new_id_number(), new_id_number(), new_id_number()
    with ctx.db.begin() as session:
        for hid in ("hh_sr_home", "hh_sr_new", "hh_sr_far"):
            session.add(Household(id=hid, county_code=COUNTY, town="城关镇", village="东村",
                                  household_group="exited_low_standard", head_name="王秀英",
                                  created_at=ctx.clock.now()))
        session.flush()
        for mid, hid, number, relation in (("mem_sr_head", "hh_sr_home", head, "head"),
                                           ("mem_sr_brother", "hh_sr_home", brother, "child"),
                                           ("mem_sr_cousin", "hh_sr_home", cousin, "other")):
            session.add(Member(id=mid, household_id=hid, name="王某", relation=relation,
                               id_number_enc=vault.seal(number, "member.id_number"),
                               id_number_bidx=vault.blind_index(number, "id_number")))
    move_out(ctx, "mem_sr_brother", "hh_sr_home", "hh_sr_new", datetime(2020, 2, 1, tzinfo=UTC), "hhc_sr_brother")
    move_out(ctx, "mem_sr_cousin", "hh_sr_home", "hh_sr_far", datetime(2017, 2, 1, tzinfo=UTC), "hhc_sr_cousin")
    application = {"county_code": COUNTY, "id_number": head, "name": "王秀英", "town": "城关镇", "village": "东村",
                   "household_group": "exited_low_standard", "cause": "illness", "amount": "30000.00",
                   "referred_on": ctx.clock.today().isoformat()}
    declare_ties(client, users.headers("kin"), brother)
    users.add("far", "town_clerk", counties=(COUNTY,))
    declare_ties(client, users.headers("far"), cousin)
    before = entries_but_refusals(ctx)
    r = client.post("/api/referrals", headers=users.headers("kin"), json=application)
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    assert entries_but_refusals(ctx) == before
    assert [(e["step"], e["households"]) for e in refusals_of(ctx, users.ids["kin"])] == [
        ("application", ["hh_sr_home"])]
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case).where(Case.household_id == "hh_sr_home")) == 0
        far = _me(ctx, users.ids["far"])
        assert guard.recused_households(session, far.id, ["hh_sr_home"]) == set()
    r = client.post("/api/referrals", headers=users.headers("clerk2"), json=application)
    assert r.status_code == 201, r.text
