"""Merging two households found to be one, and moving a member: the rules, the records, and the insider's tries.

The story of the issue: a medical-insurance referral names the husband, the village's application names the wife;
they become two households, and the officer's check listing both is refused. The supervisor merges them.
"""

from __future__ import annotations

from typing import Any

import household_kit
import pytest
from deviation_helpers import pay as pay_through_bank
from factories import make_case, staff

from verifier.demo import demo_bills
from verifier.households.file import household_file
from payment_helpers import People, add_contract, people_of, ready_case, tx
from sqlalchemy import select

from verifier.accounts.auth import principal_of
from verifier.cases import service as cases
from verifier.audit.models import AuditEntry
from verifier.cases.workflow import advance, load_case
from verifier.checks import service as checks
from verifier.domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from verifier.domain.income import HouseholdIncome, RigidExpenditure
from verifier.households import service as households
from verifier.payments import service as pay
from verifier.store.tables import Case, Check, Determination, Member, Referral, User

REASON = "夫妻二人分别被医保局和村里报送，实为一户"


@pytest.fixture
def people(ctx: Any) -> People:
    return people_of(ctx, "h", "households-password")


def _household_of(ctx: Any, case_id: str) -> str:
    with ctx.db.read() as session:
        return session.get(Case, case_id).household_id


def _couple(ctx: Any, *, husband_stage: str = "received", wife_stage: str = "received") -> dict[str, Any]:
    """The husband's and the wife's cases (illness, this year), each in a household of its own."""
    husband = make_case(ctx, stage=husband_stage, members=1, head_name="王建国")
    wife = make_case(ctx, stage=wife_stage, members=1, head_name="李秀英")
    with ctx.db.read() as session:
        ids = {cid: ctx.vault.open(session.scalar(select(Member.id_number_enc).where(
            Member.household_id == session.get(Case, cid).household_id)), "member.id_number")
            for cid in (husband, wife)}
    return {"husband": husband, "wife": wife, "husband_id": ids[husband], "wife_id": ids[wife],
            "h_household": _household_of(ctx, husband), "w_household": _household_of(ctx, wife)}


def _check_both(ctx: Any, case_id: str, husband_id: str, wife_id: str) -> Any:
    """The officer's check of the case listing husband and wife (the case must be scheduled)."""
    with ctx.db.read() as session:
        officers = list(cases.active_visit(session, case_id).officer_ids)
        officer = principal_of(session.get(User, officers[0]))
    data = checks.CheckInput(
        visited_on=ctx.clock.today(), officers=officers,
        members=[{"name": "王建国", "id_number": husband_id, "relation": "head", "labour": "partial"},
                 {"name": "李秀英", "id_number": wife_id, "relation": "spouse", "labour": "full"}],
        income=HouseholdIncome(wages=600_000), rigid=RigidExpenditure(medical_self_paid=4_000_000),
        stable_income=False, payee={"account_name": "王建国", "bank": "农村商业银行",
                                    "account_number": "6222020200112233445"},
        cross_checks=[], evidence=[], note="", bills=demo_bills(case_id, "medical_self_paid", 4_000_000))
    return tx(ctx, lambda session: checks.record_check(session, case_id, data, vault=ctx.vault, principal=officer,
                                                       clock=ctx.clock))


def _merge(ctx: Any, into: str, other: str, who: Any, reason: str = REASON, **kw: Any) -> households.MergeResult:
    return tx(ctx, lambda s: household_kit.merge_households(s, into, other, reason=reason, principal=who,
                                                         clock=ctx.clock, **kw))


def _schedule(ctx: Any, case_id: str, team: int = 907) -> None:  # a team make_case never makes
    s = staff(ctx, team=team)
    with ctx.db.begin() as session:
        if session.get(Case, case_id).status == "received":
            cases.screen(session, case_id, decision="pass", reason="", principal=s.clerk, clock=ctx.clock)
        cases.schedule(session, case_id, officers=[s.officer1.id, s.officer2.id], visit_on=ctx.clock.today(),
                       vehicle=f"车{team}", principal=s.supervisor, clock=ctx.clock)


def test_the_couple_merged_is_one_household_with_one_case_and_the_check_listing_both_goes_through(ctx: Any) -> None:
    c = _couple(ctx)
    supervisor = staff(ctx).supervisor
    _schedule(ctx, c["husband"])
    with pytest.raises(ValidationFailed, match="此人已登记在其他家庭"):
        _check_both(ctx, c["husband"], c["husband_id"], c["wife_id"])

    result = _merge(ctx, c["h_household"], c["w_household"], supervisor, head_relation="spouse")

    assert [(m.number, m.into_case_id) for m in result.merged_cases] == [
        (m.number, c["husband"]) for m in result.merged_cases]
    with ctx.db.read() as session:
        wife_case = session.get(Case, c["wife"])
        husband_case = session.get(Case, c["husband"])
        assert wife_case.status == "merged" and wife_case.merged_into_id == c["husband"]
        assert husband_case.number in wife_case.closed_reason
        assert wife_case.household_id == husband_case.household_id == c["h_household"]
        # both referrals kept, attached to the surviving case
        assert len(session.scalars(select(Referral.id).where(Referral.case_id == c["husband"])).all()) == 2
        members = session.scalars(select(Member).where(Member.household_id == c["h_household"])).all()
        assert sorted(m.relation for m in members) == ["head", "spouse"]
        actions = {a for a, in session.execute(select(AuditEntry.action).where(
            AuditEntry.subject.in_([c["husband"], c["wife"], c["h_household"]])))}
        assert {"household.merge", "case.merge", "case.merged_in"} <= actions
        history = households.household_changes(session, c["w_household"])
        assert [(h.kind, h.from_household_id, h.to_household_id, h.reason) for h in history] == [
            ("merge", c["w_household"], c["h_household"], REASON)]
        assert households.household_changes(session, c["h_household"])[0].merged_cases[0]["into_number"] == \
            husband_case.number

    with ctx.db.read() as session:  # the surviving household's file shows the merge
        file = household_file(session, c["h_household"], supervisor, ctx.vault)
    [change] = next(s for s in file.sections if s.key == "changes").rows
    assert (change["what"], change["reason"], change["changed_by"]) == ("另一户并入本户", REASON, supervisor.id)

    check = _check_both(ctx, c["husband"], c["husband_id"], c["wife_id"])
    with ctx.db.read() as session:
        assert session.get(Check, check.id).member_count == 2


def test_the_case_further_along_is_kept_whichever_household_survives(ctx: Any) -> None:
    c = _couple(ctx, husband_stage="received", wife_stage="scheduled")
    result = _merge(ctx, c["h_household"], c["w_household"], staff(ctx).supervisor)
    assert [(m.case_id, m.into_case_id) for m in result.merged_cases] == [(c["husband"], c["wife"])]
    with ctx.db.read() as session:
        kept = session.get(Case, c["wife"])
        assert (kept.status, kept.household_id) == ("scheduled", c["h_household"])
        assert session.get(Case, c["husband"]).status == "merged"


def test_two_determined_cases_are_not_joined(ctx: Any) -> None:
    c = _couple(ctx, husband_stage="determined", wife_stage="determined")
    with pytest.raises(InvalidState) as info:
        _merge(ctx, c["h_household"], c["w_household"], staff(ctx).supervisor)
    with ctx.db.read() as session:
        numbers = [session.get(Case, c[k]).number for k in ("husband", "wife")]
        assert session.get(Case, c["wife"]).household_id == c["w_household"]  # nothing changed
    assert all(n in info.value.detail for n in numbers) and "撤回" in info.value.detail


def _paid(ctx: Any, case_id: str, people: People) -> None:
    """A determined case taken to ready_to_pay through the lifecycle (the review and notice stages have tests of their
    own), then paid through a batch and the bank's return: what the household was paid is the money the bank
    confirmed (payments/year_paid.py), not a status."""
    clerk = staff(ctx).clerk
    with ctx.db.begin() as session:
        case = load_case(session, case_id, None, for_update=True)
        for action in ("review_pass", "post_notice", "close_notice"):
            advance(session, case, action, actor=clerk, role="town_clerk", clock=ctx.clock,
                    payload={"shortcut": "tests/households"})
    pay_through_bank(ctx, people.claims, people.finance1, [case_id])


def test_paid_history_moves_with_its_household_and_is_not_paid_again(ctx: Any, people: People) -> None:
    c = _couple(ctx, husband_stage="received", wife_stage="determined")
    _paid(ctx, c["wife"], people)
    supervisor = staff(ctx).supervisor
    result = _merge(ctx, c["h_household"], c["w_household"], supervisor)
    assert result.merged_cases == [] and result.moved_cases == [c["wife"]]  # a paid case is never merged away
    with ctx.db.read() as session:
        paid = session.get(Case, c["wife"])
        assert (paid.status, paid.household_id) == ("paid", c["h_household"])
        wife_relief = session.scalar(select(Determination.relief).where(Determination.case_id == c["wife"]))
    assert wife_relief > 0
    _schedule(ctx, c["husband"])
    _check_both(ctx, c["husband"], c["husband_id"], c["wife_id"])
    tx(ctx, lambda s: checks.determine(s, c["husband"], confirm=True, principal=supervisor, clock=ctx.clock))
    with ctx.db.read() as session:
        det = session.scalar(select(Determination).where(Determination.case_id == c["husband"]))
    assert det.already_paid == wife_relief  # the household's payment this year counts against the new amount


def test_a_determined_case_is_not_joined_with_the_other_households_payment(ctx: Any, people: People) -> None:
    c = _couple(ctx, husband_stage="determined", wife_stage="determined")
    _paid(ctx, c["wife"], people)
    with pytest.raises(InvalidState, match="重复支付") as info:
        _merge(ctx, c["h_household"], c["w_household"], staff(ctx).supervisor)
    with ctx.db.read() as session:
        assert session.get(Case, c["husband"]).number in info.value.detail


def test_refused_while_a_case_is_in_a_live_batch_and_allowed_once_the_batch_is_cancelled(ctx: Any,
                                                                                          people: People) -> None:
    paying = ready_case(ctx, members=1)
    other = make_case(ctx, stage="received", members=1, cause="disaster")
    hh_paying, hh_other = _household_of(ctx, paying), _household_of(ctx, other)
    batch = tx(ctx, lambda s: pay.create_batch(s, county_code="340223", contract_id=None, principal=people.claims,
                                               clock=ctx.clock, case_ids=[paying]))
    with ctx.db.read() as session:
        number = session.get(Case, paying).number
    for attempt in (lambda: _merge(ctx, hh_other, hh_paying, people.supervisor),
                    lambda: _merge(ctx, hh_paying, hh_other, people.supervisor)):
        with pytest.raises(InvalidState) as info:
            attempt()
        assert number in info.value.detail and batch.code in info.value.detail
    tx(ctx, lambda s: pay.cancel(s, batch.id, principal=people.finance1, clock=ctx.clock))
    result = _merge(ctx, hh_paying, hh_other, people.supervisor)
    assert result.moved_cases == [other]


def test_only_a_supervisor_of_the_county_merges_and_only_once(ctx: Any, people: People) -> None:
    c = _couple(ctx)
    s = staff(ctx)
    for who in (s.officer1, s.clerk, people.finance1, people.reviewer):
        with pytest.raises(Forbidden):
            _merge(ctx, c["h_household"], c["w_household"], who)
    elsewhere = staff(ctx, county="340224").supervisor  # a supervisor of another county: the households do not exist
    with pytest.raises(NotFound):
        _merge(ctx, c["h_household"], c["w_household"], elsewhere)
    with pytest.raises(ValidationFailed, match="reason"):
        _merge(ctx, c["h_household"], c["w_household"], s.supervisor, reason="  ")
    with pytest.raises(ValidationFailed):
        _merge(ctx, c["h_household"], c["h_household"], s.supervisor)
    _merge(ctx, c["h_household"], c["w_household"], s.supervisor)
    with pytest.raises(InvalidState, match="已于此前并入"):  # the double submit changes nothing
        _merge(ctx, c["h_household"], c["w_household"], s.supervisor)
    with pytest.raises(InvalidState, match="已于此前并入"):  # nor is the emptied household revived the other way
        _merge(ctx, c["w_household"], c["h_household"], s.supervisor)
    with ctx.db.read() as session:
        assert len(households.household_changes(session, c["h_household"])) == 1


def test_households_of_two_counties_are_not_merged(ctx: Any, people: People) -> None:
    county = add_contract(ctx).county_codes[0]
    here = make_case(ctx, stage="received", members=1)
    there = make_case(ctx, stage="received", members=1, county=county)
    with pytest.raises(InvalidState, match="跨县"):
        _merge(ctx, _household_of(ctx, here), _household_of(ctx, there), people.supervisor)  # all counties


# ---- moving a member -------------------------------------------------------------------------------------------

def _family(ctx: Any, members: int = 3, stage: str = "checked", **kw: Any) -> tuple[str, str, list[Member]]:
    case_id = make_case(ctx, stage=stage, members=members, **kw)
    hh = _household_of(ctx, case_id)
    with ctx.db.read() as session:
        found = list(session.scalars(select(Member).where(Member.household_id == hh)
                                     .order_by(Member.relation != "head", Member.id)))
        session.expunge_all()
    return case_id, hh, found


def _move(ctx: Any, hh: str, member: str, who: Any, **kw: Any) -> households.MoveResult:
    kw.setdefault("reason", "女儿出嫁，迁入夫家")
    kw.setdefault("to_household_id", None)
    kw.setdefault("new_household", False)
    return tx(ctx, lambda s: household_kit.move_member(s, hh, member, principal=who, clock=ctx.clock, **kw))


def test_a_daughter_marries_into_another_household_and_a_son_sets_up_his_own(ctx: Any) -> None:
    supervisor = staff(ctx).supervisor
    case_id, hh, (head, spouse, child) = _family(ctx)
    _, groom_hh, _ = _family(ctx, members=2)
    moved = _move(ctx, hh, child.id, supervisor, to_household_id=groom_hh, relation="spouse")
    assert moved.household_id == groom_hh
    son = _move(ctx, hh, spouse.id, supervisor, new_household=True, reason="分户")
    with ctx.db.read() as session:
        assert session.get(Member, child.id).household_id == groom_hh
        assert session.get(Member, child.id).relation == "spouse"
        assert session.get(Member, spouse.id).relation == "head"
        assert session.get(Case, case_id).household_id == hh  # the case stays with its household
        changes = households.household_changes(session, hh)
        assert [(h.kind, h.member_id, h.new_household) for h in changes] == [
            ("move", child.id, False), ("move", spouse.id, True)]
        assert households.household_changes(session, son.household_id)[0].to_household_id == son.household_id
        assert session.scalar(select(AuditEntry.action).where(AuditEntry.subject == child.id)) == \
            "household.member_move"
    with pytest.raises(InvalidState, match="只有这一名成员"):  # the last member: that is a merge
        _move(ctx, hh, head.id, supervisor, new_household=True)


def test_the_head_moves_out_only_with_a_new_head_named(ctx: Any) -> None:
    supervisor = staff(ctx).supervisor
    _, hh, (head, spouse, _child) = _family(ctx)
    with pytest.raises(ValidationFailed) as info:
        _move(ctx, hh, head.id, supervisor, new_household=True)
    assert info.value.errors[0].field == "new_head_member_id"
    _move(ctx, hh, head.id, supervisor, new_household=True, new_head_member_id=spouse.id)
    with ctx.db.read() as session:
        brief = households.household_brief(session, ctx.vault, hh, supervisor)
    assert brief.head_name == spouse.name
    assert [m.relation for m in brief.members].count("head") == 1
    assert all("*" in m.id_number for m in brief.members)


def test_moves_are_refused_to_an_officer_across_counties_and_during_a_live_batch(ctx: Any, people: People) -> None:
    s = staff(ctx)
    _, hh, (_head, spouse, _child) = _family(ctx)
    with pytest.raises(Forbidden):
        _move(ctx, hh, spouse.id, s.officer1, new_household=True)
    county = add_contract(ctx).county_codes[0]
    _, far, _ = _family(ctx, county=county, stage="received")
    with pytest.raises(InvalidState, match="跨县"):
        _move(ctx, hh, spouse.id, people.supervisor, to_household_id=far)
    paying = ready_case(ctx, members=2)
    batch = tx(ctx, lambda session: pay.create_batch(session, county_code="340223", contract_id=None,
                                                     principal=people.claims, clock=ctx.clock, case_ids=[paying]))
    with pytest.raises(InvalidState, match=batch.code):
        _move(ctx, hh, spouse.id, people.supervisor, to_household_id=_household_of(ctx, paying))
    with pytest.raises(ValidationFailed):  # neither a household nor a new one
        _move(ctx, hh, spouse.id, people.supervisor)


def test_households_are_found_by_case_number_or_name_within_the_county(ctx: Any) -> None:
    c = _couple(ctx)
    supervisor = staff(ctx).supervisor
    with ctx.db.read() as session:
        number = session.get(Case, c["wife"]).number
        by_number = households.find_households(session, ctx.vault, supervisor, number, county_code="340223")
        by_digits = households.find_households(session, ctx.vault, supervisor, number[-3:], county_code="340223")
        county, year, seq = number.split("-")
        typed = [households.find_households(session, ctx.vault, supervisor, q, county_code="340223")  # off paper
                 for q in (f"{year}-{int(seq)}", f"{county} {year} {seq}", f"{county}{year}{seq}", f"{year}－{seq}")]
        by_name = households.find_households(session, ctx.vault, supervisor, "秀英", county_code="340223",
                                             exclude=c["h_household"])
        elsewhere = households.find_households(session, ctx.vault, staff(ctx, county="340224").supervisor,
                                               "秀英", county_code="340223")
        conflict = households.conflict_household(session, ctx.vault, supervisor, c["h_household"], c["wife_id"])
    assert [h.id for h in by_number] == [c["w_household"]]
    assert c["w_household"] in [h.id for h in by_digits]
    assert [[h.id for h in found] for found in typed] == [[c["w_household"]]] * 4
    assert c["w_household"] in [h.id for h in by_name] and c["h_household"] not in [h.id for h in by_name]
    assert elsewhere == []
    assert conflict is not None and conflict.id == c["w_household"]
    assert conflict.head_name == "李**" and conflict.members[0].id_number.count("*") == 8
    assert conflict.cases[0].number == number


def test_the_merge_survives_a_second_person_in_one_household_check(ctx: Any) -> None:
    """After the merge both people are members of one household: a person is never in two households."""
    c = _couple(ctx)
    _merge(ctx, c["h_household"], c["w_household"], staff(ctx).supervisor)
    with ctx.db.read() as session:
        homes = {m.household_id for m in session.scalars(select(Member).where(
            Member.id_number_bidx.in_([ctx.vault.blind_index(c[k], "id_number") for k in ("husband_id", "wife_id")])))}
    assert homes == {c["h_household"]}


def test_the_merged_households_members_are_put_in_relation_to_the_kept_head(ctx: Any) -> None:
    """The wife's household brings her child and her former spouse's record: the child becomes the couple's child,
    anyone the page cannot place becomes 其他, never a second spouse of the kept head; the audit says what changed."""
    from verifier.audit.canonical import decode_entry
    from verifier.households.service.changes import joined_relation

    assert [joined_relation("spouse", r) for r in ("head", "child", "spouse", "parent")] == [
        "spouse", "child", "other", "other"]
    assert [joined_relation("parent", r) for r in ("head", "spouse", "child")] == ["parent", "parent", "other"]
    assert joined_relation("child", "child") == "other" and joined_relation("other", "spouse") == "other"
    husband = make_case(ctx, stage="received", members=1, head_name="王建国")
    wife = make_case(ctx, stage="checked", members=3, head_name="李秀英")
    h_household, w_household = _household_of(ctx, husband), _household_of(ctx, wife)
    with ctx.db.read() as session:
        before = {m.id: m.relation for m in session.scalars(select(Member).where(
            Member.household_id == w_household))}
    assert sorted(before.values()) == ["child", "head", "spouse"]
    supervisor = staff(ctx).supervisor
    _merge(ctx, h_household, w_household, supervisor, head_relation="spouse")
    with ctx.db.read() as session:
        after = {m.id: m.relation for m in session.scalars(select(Member).where(Member.id.in_(list(before))))}
        payload = decode_entry(session.scalar(select(AuditEntry.entry).where(
            AuditEntry.action == "household.merge").order_by(AuditEntry.idx.desc()).limit(1))).payload
    assert {before[m]: after[m] for m in before} == {"head": "spouse", "child": "child", "spouse": "other"}
    assert list(after.values()).count("spouse") == 1  # one spouse of the kept head
    assert {v["before"]: v["after"] for v in payload["relations"].values()} == {"head": "spouse", "spouse": "other"}


def test_when_the_head_moves_out_those_who_stay_are_put_in_relation_to_the_new_head(ctx: Any) -> None:
    """The father moves out and the son heads the household: the mother is the new head's parent (not his spouse);
    with the mother heading it instead, the son stays her child."""
    from verifier.audit.canonical import decode_entry

    supervisor = staff(ctx).supervisor
    _, hh, found = _family(ctx)
    head, spouse, child = (next(m for m in found if m.relation == r) for r in ("head", "spouse", "child"))
    _move(ctx, hh, head.id, supervisor, new_household=True, new_head_member_id=child.id)
    with ctx.db.read() as session:
        relations = {m.id: m.relation for m in session.scalars(select(Member).where(Member.household_id == hh))}
        payload = decode_entry(session.scalar(select(AuditEntry.entry).where(
            AuditEntry.action == "household.member_move").order_by(AuditEntry.idx.desc()).limit(1))).payload
    assert relations == {child.id: "head", spouse.id: "parent"}
    assert payload["relations"] == {spouse.id: {"before": "spouse", "after": "parent"}}
    _, hh, found = _family(ctx)
    head, spouse, child = (next(m for m in found if m.relation == r) for r in ("head", "spouse", "child"))
    _move(ctx, hh, head.id, supervisor, new_household=True, new_head_member_id=spouse.id)
    with ctx.db.read() as session:
        relations = {m.id: m.relation for m in session.scalars(select(Member).where(Member.household_id == hh))}
    assert relations == {spouse.id: "head", child.id: "child"}
