"""A held case re-determined against the county's re-check: the county found the household ineligible (or its relief
lower), and one insurer supervisor would let it go on at the original relief. That is a proposal until a county
reviewer of the county confirms it (not the re-check's recorder, not an account linked to theirs, not a relative);
a decision in line with the county's finding takes effect at once."""

from __future__ import annotations

import re

import pytest
from deviation_helpers import declare_sibling, drawn_round, person, ready_case, relief_of
from factories import COUNTY
from insider_kit import given_to, kept_flow
from sampling import sampling_helpers
from sqlalchemy import select
from web.pagekit import Pages

from verifier.audit.canonical import decode_entry
from verifier.audit.models import AuditEntry
from verifier.cases import hold_proposals, holds
from verifier.domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from verifier.domain.money import format_yuan
from verifier.payments import service as payments
from verifier.sampling.models import CaseHold, CaseHoldProposal
from verifier.store.tables import Determination, User

INCOME = "2666.67"  # the factory's household: the insurer's per-capita income


def _hold(ctx, rounds, **found) -> str:  # type: ignore[no-untyped-def]
    case_id = ready_case(ctx)
    round_id = drawn_round(rounds, {case_id})
    assert rounds.result(round_id, case_id, per_capita_income=INCOME, **found)["deviation"] is True
    return case_id


def _rounds_of(client, users):  # type: ignore[no-untyped-def]
    """The sampling `rounds` fixture: its county reviewer and insurer supervisor added, the API called as them."""
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    return sampling_helpers.Rounds(client, users.headers("reviewer"), users.headers("insurer"))


def _pair(ctx, rounds) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """Two ready cases drawn in one round (a case left unchecked keeps its verdict pending): the cases and the round."""
    case_id, other = ready_case(ctx), ready_case(ctx)
    return case_id, other, drawn_round(rounds, {case_id, other})


# Most tests start from one of two flows over HTTP by the `rounds` fixture's people, built by the process's first test
# that asks for it and kept (insider_kit.kept_flow): a case held by a round whose re-check found the household
# ineligible (`_hold`), or two ready cases drawn in one round (`_pair`). Each fixture gives the `rounds` as well.
held_kept = kept_flow("held_kept", lambda ctx, client, users: _hold(ctx, _rounds_of(client, users), eligible=False))
pair_kept = kept_flow("pair_kept", lambda ctx, client, users: _pair(ctx, _rounds_of(client, users)))


def _kept_rounds(client, users, kept):  # type: ignore[no-untyped-def]
    built = given_to(users, kept)
    return sampling_helpers.Rounds(client, users.headers("reviewer"), users.headers("insurer")), built


@pytest.fixture
def held(client, users, held_kept):  # type: ignore[no-untyped-def]
    """(rounds, the held case): `_hold(ctx, rounds, eligible=False)` on a kept copy."""
    return _kept_rounds(client, users, held_kept)


@pytest.fixture
def pair(client, users, pair_kept):  # type: ignore[no-untyped-def]
    """(rounds, (case, other case, round)): `_pair(ctx, rounds)` on a kept copy."""
    return _kept_rounds(client, users, pair_kept)


def _hold_status(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        return s.scalars(select(CaseHold.status).where(CaseHold.case_id == case_id)).one()


def _reviewer(ctx, users, username: str):  # type: ignore[no-untyped-def]
    from verifier.accounts.auth import principal_of

    with ctx.db.read() as s:
        return principal_of(s.get(User, users.ids[username]))


def test_attack_one_supervisor_lifts_a_hold_the_county_found_ineligible_at_the_original_relief(ctx, held, users) -> None:  # type: ignore[no-untyped-def]
    sup2 = person(ctx, users, "sup2", "insurer_supervisor")
    claims = person(ctx, users, "claims1", "insurer_claims")
    rounds, case_id = held
    relief = relief_of(ctx, case_id)
    with ctx.db.begin() as s:
        out = holds.redetermine(s, case_id, outcome="proceed", reason="核实无误，维持原认定", principal=sup2,
                                clock=ctx.clock)
    # nothing takes effect: still held, not offered for payment, the relief unchanged; the proposal waits
    assert out["status"] == "open" and out["waiting"]["relief"] == format_yuan(relief)
    assert out["waiting"]["county_relief"] == "0.00"
    assert _hold_status(ctx, case_id) == "open"
    with ctx.db.read() as s:
        assert case_id not in {r["case_id"] for r in payments.ready_to_pay(s, COUNTY, claims)}
        assert s.scalars(select(Determination.relief).where(Determination.case_id == case_id)).one() == relief
        [entry] = [decode_entry(e) for e in s.scalars(select(AuditEntry.entry)
                                                    .where(AuditEntry.action == holds.PROPOSED))]
        assert entry.subject == case_id and "reason" not in entry.payload
    # nor may another supervisor decide meanwhile (the proposal answers the hold first)
    sup3 = person(ctx, users, "sup3", "insurer_supervisor")
    with pytest.raises(InvalidState, match="正等待县级复核人员确认或驳回"), ctx.db.begin() as s:
        holds.redetermine(s, case_id, outcome="proceed", reason="再提一次", principal=sup3, clock=ctx.clock)
    with ctx.db.read() as s:
        assert holds.redeterminer_refused(s, case_id, sup3) == holds.WAITING

    # another county reviewer of the county confirms it: the hold is lifted at the proposal's relief
    rev2 = person(ctx, users, "rev2", "county_reviewer")
    with ctx.db.begin() as s:
        done = hold_proposals.confirm(s, case_id, out["waiting"]["id"], reason="入户再核，收入属实偏低",
                                      principal=rev2, clock=ctx.clock)
    assert (done["status"], done["outcome"], done["decided_by"]) == ("decided", "proceed", sup2.id)
    with ctx.db.read() as s:
        assert case_id in {r["case_id"] for r in payments.ready_to_pay(s, COUNTY, claims)}
        row = s.scalars(select(CaseHoldProposal).where(CaseHoldProposal.case_id == case_id)).one()
        assert (row.status, row.answered_by, row.answer_note) == ("confirmed", rev2.id, "入户再核，收入属实偏低")
    # a second confirmation (a double click, a stale page) changes nothing
    rev3 = person(ctx, users, "rev3", "county_reviewer")
    for answer in (hold_proposals.confirm, hold_proposals.decline):
        with pytest.raises(InvalidState, match="请刷新页面"), ctx.db.begin() as s:
            answer(s, case_id, out["waiting"]["id"], reason="再点一次", principal=rev3, clock=ctx.clock)


def test_in_line_with_the_county_takes_effect_and_above_its_lower_relief_waits(ctx, pair, users) -> None:  # type: ignore[no-untyped-def]
    sup2 = person(ctx, users, "sup2", "insurer_supervisor")
    rounds, (ineligible, lower, round_id) = pair
    relief = relief_of(ctx, lower)
    county = relief // 2
    rounds.result(round_id, ineligible, per_capita_income=INCOME, eligible=False)
    rounds.result(round_id, lower, per_capita_income=INCOME, eligible=True, relief_amount=format_yuan(county))
    with ctx.db.begin() as s:  # ineligible, as the county found
        assert holds.redetermine(s, ineligible, outcome="ineligible", reason="复核属实", principal=sup2,
                                 clock=ctx.clock)["status"] == "decided"
    with ctx.db.begin() as s:  # one fen above the county's relief: a proposal
        out = holds.redetermine(s, lower, outcome="proceed", reason="医疗费用有新票据",
                                relief_amount=format_yuan(county + 1), principal=sup2, clock=ctx.clock)
    assert out["status"] == "open" and out["waiting"]["relief"] == format_yuan(county + 1)
    rev2 = person(ctx, users, "rev2", "county_reviewer")
    with pytest.raises(ValidationFailed), ctx.db.begin() as s:
        hold_proposals.decline(s, lower, out["waiting"]["id"], reason=" ", principal=rev2, clock=ctx.clock)
    with ctx.db.begin() as s:
        hold_proposals.decline(s, lower, out["waiting"]["id"], reason="票据不属于本年度", principal=rev2,
                               clock=ctx.clock)
    assert _hold_status(ctx, lower) == "open"
    with pytest.raises(InvalidState, match="请刷新页面"), ctx.db.begin() as s:  # declined: not confirmed after
        hold_proposals.confirm(s, lower, out["waiting"]["id"], reason="确认", principal=rev2, clock=ctx.clock)
    with ctx.db.begin() as s:  # at the county's relief: in line, takes effect
        done = holds.redetermine(s, lower, outcome="proceed", reason="按县级核定金额", relief_amount=format_yuan(county),
                                 principal=sup2, clock=ctx.clock)
    assert (done["status"], done["relief_after"]) == ("decided", format_yuan(county))
    assert [p["status"] for p in done["proposals"]] == ["declined"]


def test_who_may_not_answer_a_proposal(ctx, client, held, users) -> None:  # type: ignore[no-untyped-def]
    sup2 = person(ctx, users, "sup2", "insurer_supervisor")
    rounds, case_id = held
    with ctx.db.begin() as s:
        proposal = holds.redetermine(s, case_id, outcome="proceed", reason="维持原认定", principal=sup2,
                                     clock=ctx.clock)["waiting"]["id"]
    recorder = _reviewer(ctx, users, "reviewer")
    both = person(ctx, users, "sup_rev", "insurer_supervisor", "county_reviewer")
    users.add("rev_pal", "county_reviewer", counties=(COUNTY,))
    with ctx.db.begin() as s:  # the recorder set the second account's password: one person, two accounts
        s.get(User, users.ids["rev_pal"]).password_set_by = users.ids["reviewer"]
    pal = _reviewer(ctx, users, "rev_pal")
    everywhere = person(ctx, users, "rev_all", "county_reviewer", counties=())
    elsewhere = person(ctx, users, "rev_far", "county_reviewer", counties=("340999",))
    person(ctx, users, "rev_kin", "county_reviewer")
    declare_sibling(ctx, client, users.headers("rev_kin"), case_id)
    relative = _reviewer(ctx, users, "rev_kin")
    cases = ((recorder, Forbidden, "复核结果由您录入"), (pal, Forbidden, "密码关联"), (sup2, Forbidden, "县级复核人员"),
             (everywhere, Forbidden, "本县"), (elsewhere, NotFound, "案件不存在"), (relative, ValidationFailed, None))
    for who, error, said in cases:
        for answer in (hold_proposals.confirm, hold_proposals.decline):
            with pytest.raises(error, match=said), ctx.db.begin() as s:
                answer(s, case_id, proposal, reason="同意", principal=who, clock=ctx.clock)
    # the proposer holding a reviewer's role too: not their own proposal (a supervisor proposing as sup_rev)
    with ctx.db.begin() as s:
        hold_proposals.decline(s, case_id, proposal, reason="先驳回", principal=person(ctx, users, "rev2",
                                                                                    "county_reviewer"),
                               clock=ctx.clock)
    with ctx.db.begin() as s:
        again = holds.redetermine(s, case_id, outcome="proceed", reason="补充材料后再提", principal=both,
                                  clock=ctx.clock)["waiting"]["id"]
    with pytest.raises(Forbidden, match="重新认定由您提出"), ctx.db.begin() as s:
        hold_proposals.confirm(s, case_id, again, reason="同意", principal=both, clock=ctx.clock)
    with ctx.db.read() as s:
        assert "密码关联" in (hold_proposals.answer_refused(s, case_id, pal) or "")
        assert "复核结果由您录入" in (hold_proposals.answer_refused(s, case_id, recorder) or "")
    assert _hold_status(ctx, case_id) == "open"


def test_a_correction_of_the_recheck_withdraws_the_waiting_proposal_with_the_hold(ctx, pair, users) -> None:  # type: ignore[no-untyped-def]
    sup2 = person(ctx, users, "sup2", "insurer_supervisor")
    rounds, (case_id, unchecked, round_id) = pair  # one left unchecked: the verdict stays pending
    rounds.result(round_id, case_id, per_capita_income=INCOME, eligible=False)
    with ctx.db.begin() as s:
        proposal = holds.redetermine(s, case_id, outcome="proceed", reason="维持原认定", principal=sup2,
                                     clock=ctx.clock)["waiting"]["id"]
    r = rounds.client.post(f"/api/sampling-rounds/{round_id}/results/{case_id}/corrections", headers=rounds.headers,
                           json={"per_capita_income": INCOME, "eligible": True, "reason": "录入时误选",
                                 "relief_amount": format_yuan(relief_of(ctx, case_id))})
    assert r.status_code == 200 and r.json()["deviation"] is False, r.text
    assert _hold_status(ctx, case_id) == "withdrawn"
    with ctx.db.read() as s:
        assert s.get(CaseHoldProposal, proposal).status == "withdrawn"
    rev2 = person(ctx, users, "rev2", "county_reviewer")
    with pytest.raises(InvalidState, match="请刷新页面"), ctx.db.begin() as s:
        hold_proposals.confirm(s, case_id, proposal, reason="同意", principal=rev2, clock=ctx.clock)


def test_the_proposal_over_http_and_on_the_case_page(ctx, client, held, users) -> None:  # type: ignore[no-untyped-def]
    pages = Pages(client, users)
    person(ctx, users, "sup2", "insurer_supervisor")
    person(ctx, users, "rev2", "county_reviewer")
    rounds, case_id = held
    r = client.post(f"/api/cases/{case_id}/redetermination", headers=users.headers("sup2"),
                    json={"outcome": "proceed", "reason": "维持原认定"})
    assert r.status_code == 200 and r.json()["status"] == "open", r.text
    proposal = r.json()["waiting"]["id"]
    body = {"proposal_id": proposal, "reason": "同意"}
    r = client.post(f"/api/cases/{case_id}/redetermination/proposal/confirm", headers=users.headers("reviewer"),
                    json=body)
    assert r.status_code == 403 and "复核结果由您录入" in r.json()["detail"], r.text

    pages.login("sup2")
    text = pages.get(f"/cases/{case_id}").text
    assert 'id="hold-proposal"' in text and "须由本县县级复核人员确认后才生效" in text
    assert 'id="redetermination-form"' not in text and "正等待县级复核人员确认或驳回" in text
    pages.login("reviewer")
    text = pages.get(f"/cases/{case_id}").text
    assert 'id="proposal-refused"' in text and 'id="proposal-confirm-form"' not in text
    # the re-check's recorder may not answer it: his card counts nothing, his list of those to answer is empty
    assert re.search(r'href="/hold-proposals\?to_decide=1">\s*<div class="count">0</div>', pages.get("/").text)
    empty = pages.get("/hold-proposals?to_decide=1").text  # and says so: none for him, one for another reviewer
    assert 'id="hold-proposals-none"' in empty and "没有等待县级确认的重新认定" not in empty
    assert "没有等待您确认的重新认定。另有 1 项待确认的重新认定须由本县其他县级复核员确认" in empty
    pages.login("rev2")
    home = pages.get("/").text
    assert re.search(r'href="/hold-proposals\?to_decide=1">\s*<div class="count">1</div>', home)
    assert "共 1 条" in pages.get("/hold-proposals?to_decide=1").text
    listed = pages.get("/hold-proposals").text
    assert "共 1 条" in listed and f'href="/cases/{case_id}#deviations"' in listed
    text = pages.get(f"/cases/{case_id}").text
    assert 'id="proposal-confirm-form"' in text and f'value="{proposal}"' in text
    r = pages.post(f"/cases/{case_id}/redetermination/proposal/confirm", {"proposal_id": proposal, "reason": ""})
    assert r.status_code == 422
    r = pages.post(f"/cases/{case_id}/redetermination/proposal/confirm",
                   {"proposal_id": proposal, "reason": "入户再核属实"})
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{case_id}?done=redetermination_confirmed"
    text = pages.get(r.headers["location"]).text
    assert 'id="hold-open"' not in text and "县级已确认" in text and "入户再核属实" in text
    r = pages.post(f"/cases/{case_id}/redetermination/proposal/confirm",
                   {"proposal_id": proposal, "reason": "再点一次"})
    assert r.status_code == 409 and "请刷新页面" in r.text
    r = client.post(f"/api/cases/{case_id}/redetermination/proposal/decline", headers=users.headers("rev2"),
                    json=body)
    assert r.status_code == 409, r.text
    assert 'id="hold-proposals-none"' in pages.get("/hold-proposals").text


def test_attack_the_officer_or_the_determiner_confirms_through_a_linked_reviewer_account(ctx, client, held, users) -> None:  # type: ignore[no-untyped-def]
    """The county's answer refuses the one list of who took part that a re-determination refuses (the officers of the
    case's checks, the supervisor who confirmed its determination, the re-check's recorder, the proposer), and the
    accounts linked to theirs by a password: officer O's and determiner D's county-reviewer accounts neither confirm
    nor decline, and the case page says why instead of the buttons."""
    from insider_kit import refusals_of

    from verifier.store.tables import Check

    pages = Pages(client, users)
    sup2 = person(ctx, users, "sup2", "insurer_supervisor")
    rounds, case_id = held
    with ctx.db.begin() as s:
        proposal = holds.redetermine(s, case_id, outcome="proceed", reason="维持原认定", principal=sup2,
                                     clock=ctx.clock)["waiting"]["id"]
    with ctx.db.read() as s:
        det = s.scalars(select(Determination).where(Determination.case_id == case_id)).one()
        officer = s.get(Check, det.check_id).officer_ids[0]
        determiner = det.confirmed_by
    for pal, of, part in (("o_pal", officer, "参加该户入户核查的核查员"), ("d_pal", determiner, "确认该户认定的主管")):
        users.add(pal, "county_reviewer", counties=(COUNTY,))
        with ctx.db.begin() as s:  # O (or D) set the reviewer account's password: one person, two accounts
            s.get(User, users.ids[pal]).password_set_by = of
        who = _reviewer(ctx, users, pal)
        for answer in (hold_proposals.confirm, hold_proposals.decline):
            with pytest.raises(Forbidden, match=f"{part}的账号有密码关联"), ctx.db.begin() as s:
                answer(s, case_id, proposal, reason="同意", principal=who, clock=ctx.clock)
        with ctx.db.read() as s:
            assert part in (hold_proposals.answer_refused(s, case_id, who) or "")
        steps = [k["step"] for k in refusals_of(ctx, who.id)]  # on 回避拦截记录
        assert steps == ["redetermination_confirm", "redetermination_decline"], steps
        pages.login(pal)
        text = pages.get(f"/cases/{case_id}").text
        assert 'id="proposal-refused"' in text and part in text and 'id="proposal-confirm-form"' not in text
    with ctx.db.read() as s:
        assert s.get(CaseHoldProposal, proposal).status == "waiting"
    assert _hold_status(ctx, case_id) == "open"
    with ctx.db.begin() as s:  # a reviewer who took no part answers it
        hold_proposals.confirm(s, case_id, proposal, reason="入户再核属实", principal=person(ctx, users, "rev2",
                                                                                          "county_reviewer"),
                               clock=ctx.clock)
    assert _hold_status(ctx, case_id) == "decided"


def _correct(rounds, round_id: str, case_id: str, relief: int) -> None:  # type: ignore[no-untyped-def]
    r = rounds.client.post(f"/api/sampling-rounds/{round_id}/results/{case_id}/corrections", headers=rounds.headers,
                           json={"per_capita_income": INCOME, "eligible": True, "reason": "录入时金额有误",
                                 "relief_amount": format_yuan(relief)})
    assert r.status_code == 200, r.text


def test_a_correction_that_leaves_the_hold_open_withdraws_the_proposal(ctx, client, pair, users) -> None:  # type: ignore[no-untyped-def]
    """The case held by two rounds' deviations: a correction of the hold's round leaves the hold (another round holds
    it too), but the county's figure the proposal went against is no longer the county's. The proposal is withdrawn
    (it no longer waits at 409 until declined): confirming and declining it are 409 saying why, nothing changes, and
    a supervisor re-determines on the corrected figure (tests/insider/test_hold_every_round.py)."""
    sup2 = person(ctx, users, "sup2", "insurer_supervisor")
    rounds, (case_id, unchecked, first) = pair  # one left unchecked: the verdicts stay pending
    relief = relief_of(ctx, case_id)
    county = relief // 2
    rounds.result(first, case_id, per_capita_income=INCOME, eligible=True, relief_amount=format_yuan(county))
    second = rounds.create(kind="monetary")["id"]  # by amount: the same checks drawn once more
    assert {case_id, unchecked} <= set(rounds.draw(second)["case_ids"])
    assert rounds.result(second, case_id, per_capita_income=INCOME, eligible=True,
                         relief_amount=format_yuan(county))["deviation"] is True
    with ctx.db.begin() as s:
        out = holds.redetermine(s, case_id, outcome="proceed", reason="医疗费用有新票据", principal=sup2,
                                clock=ctx.clock)
    proposal = out["waiting"]["id"]
    assert out["waiting"]["county_relief"] == format_yuan(county)
    _correct(rounds, first, case_id, county // 2)
    assert _hold_status(ctx, case_id) == "open"
    with ctx.db.read() as s:
        assert s.get(CaseHoldProposal, proposal).status == "withdrawn"
    person(ctx, users, "rev2", "county_reviewer")
    for answer in ("confirm", "decline"):
        r = client.post(f"/api/cases/{case_id}/redetermination/proposal/{answer}", headers=users.headers("rev2"),
                        json={"proposal_id": proposal, "reason": "同意"})
        assert r.status_code == 409, r.text
        said = r.json()["detail"]
        assert "县级复核结果在提出这项重新认定之后有变化" in said and "重新认定" in said, said
    assert _hold_status(ctx, case_id) == "open"
    with ctx.db.read() as s:
        assert s.scalars(select(Determination.relief).where(Determination.case_id == case_id)).one() == relief
        assert holds.county_figure_of(s, s.scalars(select(CaseHold).where(CaseHold.case_id == case_id)).one()) \
            == county // 2


def test_the_withdrawal_names_the_proposal_it_withdrew(ctx, pair, users) -> None:  # type: ignore[no-untyped-def]
    from verifier.sampling import consequences

    sup2 = person(ctx, users, "sup2", "insurer_supervisor")
    rounds, (case_id, unchecked, round_id) = pair
    rounds.result(round_id, case_id, per_capita_income=INCOME, eligible=False)
    with ctx.db.begin() as s:
        proposal = holds.redetermine(s, case_id, outcome="proceed", reason="维持原认定", principal=sup2,
                                     clock=ctx.clock)["waiting"]["id"]
    _correct(rounds, round_id, case_id, relief_of(ctx, case_id))
    with ctx.db.read() as s:
        [entry] = [decode_entry(e) for e in s.scalars(select(AuditEntry.entry)
                                                    .where(AuditEntry.action == consequences.HOLD_WITHDRAWN))]
    assert entry.subject == case_id and entry.payload["proposals_withdrawn"] == [proposal], entry.payload


@pytest.mark.parametrize("first", ["confirm", "correction"])
def test_a_confirmation_and_a_correction_at_once_one_wins(ctx, pair, users, monkeypatch, first: str) -> None:  # type: ignore[no-untyped-def]
    """rev2 confirms the proposal while the reviewer corrects the re-check behind the hold (two connections), the
    other starting while `first` holds what it locked: `first` wins and the other is refused (409). Never a hold
    decided on a withdrawn proposal, nor a decided hold withdrawn under its confirmed re-determination."""
    import threading
    import time

    from race_kit import first_then_other

    from verifier.sampling import consequences
    from verifier.sampling import service as sampling

    sup2 = person(ctx, users, "sup2", "insurer_supervisor")
    rev2 = person(ctx, users, "rev2", "county_reviewer")
    reviewer = _reviewer(ctx, users, "reviewer")
    rounds, (case_id, unchecked, round_id) = pair  # one left unchecked: the verdict stays pending
    relief = relief_of(ctx, case_id)
    rounds.result(round_id, case_id, per_capita_income=INCOME, eligible=False)
    with ctx.db.begin() as s:
        proposal = holds.redetermine(s, case_id, outcome="proceed", reason="维持原认定", principal=sup2,
                                     clock=ctx.clock)["waiting"]["id"]
    locked = threading.Event()

    def holding(real):  # type: ignore[no-untyped-def]
        def run(*args, **kwargs):  # type: ignore[no-untyped-def]
            found = real(*args, **kwargs)
            locked.set()
            time.sleep(0.5)  # the other starts, and waits on what this one holds
            return found
        return run

    if first == "confirm":
        monkeypatch.setattr(holds, "county_figure_of", holding(holds.county_figure_of))
    else:
        monkeypatch.setattr(consequences, "withdraw", holding(consequences.withdraw))
    corrected = sampling.ResultInput(case_id=case_id, per_capita_income=INCOME, eligible=True,
                                     relief_amount=format_yuan(relief))
    done, refused = first_then_other(ctx.settings.database_url, first, locked, {
        "confirm": lambda s: hold_proposals.confirm(s, case_id, proposal, reason="同意", principal=rev2,
                                                    clock=ctx.clock),
        "correction": lambda s: sampling.correct_result(s, round_id, corrected, reason="录入时误选",
                                                        principal=reviewer, clock=ctx.clock),
    })
    assert done == [first] and len(refused) == 1, (done, refused)
    with ctx.db.read() as s:
        hold = s.scalars(select(CaseHold).where(CaseHold.case_id == case_id)).one()
        answered = s.get(CaseHoldProposal, proposal).status
    if first == "confirm":
        assert refused[0].startswith("correction:") and "已重新认定" in refused[0], refused
        assert (hold.status, hold.outcome, answered) == ("decided", "proceed", "confirmed")
    else:
        assert refused[0].startswith("confirm:") and "请刷新页面" in refused[0], refused
        assert (hold.status, answered) == ("withdrawn", "withdrawn")
