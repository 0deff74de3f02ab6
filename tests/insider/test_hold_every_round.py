"""A case held by several county spot-check rounds (one hold answers every round that found it deviating): the
county's figure a re-determination is judged against is the strictest of all of them (ineligible beats any amount;
else the lowest relief), read by one function (`holds.county_figure_of`) for the proposal, its confirmation, the case
page and the API. A correction of the re-check of any round holding the case, or another round's deviation joining
the hold, withdraws a waiting proposal: answering it is refused (409) with why, and the case page says so."""

from __future__ import annotations

import pytest
from deviation_helpers import drawn_round, person, ready_case, relief_of
from factories import COUNTY
from insider_kit import given_to, kept_flow
from sampling import sampling_helpers
from sqlalchemy import select
from web.pagekit import Pages

from verifier.audit.canonical import decode_entry
from verifier.audit.models import AuditEntry
from verifier.cases import hold_proposals
from verifier.domain.money import format_yuan
from verifier.sampling import consequences
from verifier.sampling.models import CaseHold, CaseHoldProposal
from verifier.store.tables import Determination

INCOME = "2666.67"  # the factory's household: the insurer's per-capita income


def _drawn_twice(ctx, rounds) -> tuple[str, str, str, str]:  # type: ignore[no-untyped-def]
    """A case and a case left unchecked (the verdicts stay pending, results correctable), drawn in a first round and
    again in a second (by amount): (case, unchecked, first, second), no result recorded yet."""
    case_id, unchecked = ready_case(ctx), ready_case(ctx)
    first = drawn_round(rounds, {case_id, unchecked})
    second = rounds.create(kind="monetary")["id"]  # by amount: the same checks drawn once more
    assert {case_id, unchecked} <= set(rounds.draw(second)["case_ids"])
    return case_id, unchecked, first, second


def _built_two_rounds(ctx, client, users) -> tuple[str, str, str, str]:  # type: ignore[no-untyped-def]
    """The sampling `rounds` fixture's reviewer and insurer, and `_drawn_twice` by them."""
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    return _drawn_twice(ctx, sampling_helpers.Rounds(client, users.headers("reviewer"), users.headers("insurer")))


two_rounds_kept = kept_flow("two_rounds_kept", _built_two_rounds)


@pytest.fixture
def rounds(client, users, two_rounds_kept):  # type: ignore[no-untyped-def]
    """The sampling `rounds` fixture (every test here starts from `_two_rounds`): its reviewer and insurer, on a copy
    of the two rounds they drew, built by the process's first test and kept (insider_kit.kept_flow)."""
    drawn = given_to(users, two_rounds_kept)
    kept = sampling_helpers.Rounds(client, users.headers("reviewer"), users.headers("insurer"))
    kept.two_rounds = drawn  # type: ignore[attr-defined]
    return kept


def _two_rounds(ctx, rounds) -> tuple[str, str, str, str]:  # type: ignore[no-untyped-def]
    """`_drawn_twice` by the `rounds` fixture's people: (case, unchecked, first, second), no result recorded yet."""
    return rounds.two_rounds  # type: ignore[no-any-return]


def _found(rounds, round_id: str, case_id: str, relief: int | None) -> None:  # type: ignore[no-untyped-def]
    """The county's re-check in `round_id`: `relief` (None: ineligible), deviating."""
    body = {"eligible": False} if relief is None else {"eligible": True, "relief_amount": format_yuan(relief)}
    assert rounds.result(round_id, case_id, per_capita_income=INCOME, **body)["deviation"] is True


def _correct(rounds, round_id: str, case_id: str, relief: int) -> None:  # type: ignore[no-untyped-def]
    r = rounds.client.post(f"/api/sampling-rounds/{round_id}/results/{case_id}/corrections", headers=rounds.headers,
                           json={"per_capita_income": INCOME, "eligible": True, "reason": "录入时金额有误",
                                 "relief_amount": format_yuan(relief)})
    assert r.status_code == 200, r.text


def _redetermine(client, users, case_id: str, **body):  # type: ignore[no-untyped-def]
    r = client.post(f"/api/cases/{case_id}/redetermination", headers=users.headers("sup2"),
                    json={"outcome": "proceed", "reason": "医疗费用有新票据", **body})
    assert r.status_code == 200, r.text
    return r.json()


def _hold(ctx, case_id: str) -> CaseHold:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        return s.scalars(select(CaseHold).where(CaseHold.case_id == case_id)).one()


def _withdrawn_entries(ctx) -> list:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        return [decode_entry(e) for e in s.scalars(select(AuditEntry.entry).where(
            AuditEntry.action == consequences.PROPOSAL_WITHDRAWN).order_by(AuditEntry.idx))]


def test_attack_the_decision_is_judged_against_the_holds_round_while_another_round_found_the_household_ineligible(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    """The first round found a lower relief, the second found the household ineligible: one supervisor lifting the
    hold at the first round's relief went ahead on his word alone, though the county's finding (the second round's)
    is that nothing is due. It is now a proposal against the county's figure 0.00, both rounds named."""
    pages = Pages(client, users)
    person(ctx, users, "sup2", "insurer_supervisor")
    case_id, _unchecked, first, second = _two_rounds(ctx, rounds)
    relief = relief_of(ctx, case_id)
    lower = relief * 3 // 4
    _found(rounds, first, case_id, lower)
    _found(rounds, second, case_id, None)
    out = _redetermine(client, users, case_id, relief_amount=format_yuan(lower))
    assert out["status"] == "open" and out["waiting"] is not None, out
    assert out["waiting"]["county_relief"] == "0.00" and out["county_relief"] == "0.00", out
    assert out["rounds"] == sorted([first, second]) and out["round_id"] == first, out
    assert _hold(ctx, case_id).status == "open"
    with ctx.db.read() as s:
        assert s.scalars(select(Determination.relief).where(Determination.case_id == case_id)).one() == relief
    # the case page says which rounds hold the case and the figure the decision is judged against
    pages.login("sup2")
    text = pages.get(f"/cases/{case_id}").text
    assert 'id="hold-county-figure"' in text and "暂停支付依据 2 轮抽样复核" in text, text
    assert "按其中最严的结论：认定不符合条件" in text and f'href="/sampling/{second}"' in text


def test_the_lowest_relief_of_the_rounds_holding_the_case_is_the_figure(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    """The hold's own round found less than the determination, a later round less still: a decision at the first
    round's figure is a proposal against the second's; at the second's it takes effect at once."""
    person(ctx, users, "sup2", "insurer_supervisor")
    case_id, _unchecked, first, second = _two_rounds(ctx, rounds)
    relief = relief_of(ctx, case_id)
    _found(rounds, first, case_id, relief * 3 // 4)
    _found(rounds, second, case_id, relief // 2)
    out = _redetermine(client, users, case_id, relief_amount=format_yuan(relief * 3 // 4))
    assert out["status"] == "open" and out["waiting"]["county_relief"] == format_yuan(relief // 2), out
    person(ctx, users, "rev2", "county_reviewer")
    r = client.post(f"/api/cases/{case_id}/redetermination/proposal/decline", headers=users.headers("rev2"),
                    json={"proposal_id": out["waiting"]["id"], "reason": "按县级较低的核定金额"})
    assert r.status_code == 200, r.text
    done = _redetermine(client, users, case_id, relief_amount=format_yuan(relief // 2))
    assert (done["status"], done["relief_after"]) == ("decided", format_yuan(relief // 2)), done


def test_the_holds_own_round_corrected_away_another_round_still_holds_and_sets_the_figure(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    """The hold's own round is corrected to the determination's figure (no deviation): the second round still holds
    the case, and its lower relief is the figure; the first round's corrected result no longer lets a decision at the
    original relief through."""
    person(ctx, users, "sup2", "insurer_supervisor")
    case_id, _unchecked, first, second = _two_rounds(ctx, rounds)
    relief = relief_of(ctx, case_id)
    _found(rounds, first, case_id, relief // 2)
    _found(rounds, second, case_id, relief // 2)
    _correct(rounds, first, case_id, relief)  # no deviation now in the first round
    assert _hold(ctx, case_id).status == "open"
    out = _redetermine(client, users, case_id)
    assert out["status"] == "open" and out["waiting"]["county_relief"] == format_yuan(relief // 2), out
    assert out["rounds"] == [second], out
    # the second round corrected away as well: no round holds the case, the hold is withdrawn with its proposal
    _correct(rounds, second, case_id, relief)
    hold = _hold(ctx, case_id)
    assert hold.status == "withdrawn", hold.status
    with ctx.db.read() as s:
        assert s.get(CaseHoldProposal, out["waiting"]["id"]).status == "withdrawn"


def test_a_correction_in_another_holding_round_withdraws_the_waiting_proposal(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    """Both rounds found the relief lower; the supervisor's proposal went against that figure. The second round (not
    the hold's own) corrects its re-check lower still: the proposal was confirmable on the first round's figure
    alone. It is withdrawn now (the entry names it, the correction's reason as a digest); confirming or declining it
    is 409 with why, in Chinese, and the case page says why beside it; the supervisor re-determines on the
    corrected figure."""
    pages = Pages(client, users)
    person(ctx, users, "sup2", "insurer_supervisor")
    person(ctx, users, "rev2", "county_reviewer")
    case_id, _unchecked, first, second = _two_rounds(ctx, rounds)
    relief = relief_of(ctx, case_id)
    county = relief // 2
    _found(rounds, first, case_id, county)
    _found(rounds, second, case_id, county)
    proposal = _redetermine(client, users, case_id)["waiting"]
    assert proposal["county_relief"] == format_yuan(county)
    _correct(rounds, second, case_id, county // 2)
    hold = _hold(ctx, case_id)
    assert hold.status == "open" and hold.round_id == first
    with ctx.db.read() as s:
        row = s.get(CaseHoldProposal, proposal["id"])
        assert (row.status, row.answer_note, row.withdrawn_by_side) == ("withdrawn", "录入时金额有误", "county")
    [entry] = _withdrawn_entries(ctx)
    assert entry.subject == case_id and entry.payload["proposals_withdrawn"] == [proposal["id"]], entry.payload
    assert (entry.payload["round_id"], entry.payload["why"]) == (second, "corrected") and "reason" not in entry.payload
    for answer in ("confirm", "decline"):
        r = client.post(f"/api/cases/{case_id}/redetermination/proposal/{answer}", headers=users.headers("rev2"),
                        json={"proposal_id": proposal["id"], "reason": "同意"})
        assert r.status_code == 409 and r.json()["detail"] == hold_proposals.CHANGED, r.text
    pages.login("rev2")
    r = pages.post(f"/cases/{case_id}/redetermination/proposal/confirm",
                   {"proposal_id": proposal["id"], "reason": "同意"})
    assert r.status_code == 409 and "县级复核结果在提出这项重新认定之后有变化" in r.text
    text = pages.get(f"/cases/{case_id}").text
    assert 'id="hold-proposal"' not in text and 'class="proposal-stale"' in text and "须由主管按县级现在的复核结果重新认定" in text
    assert f"按其中最严的结论：核定保障金 {format_yuan(county // 2)} 元" in text.replace(",", "")
    # the supervisor proposes again: against the corrected figure
    again = _redetermine(client, users, case_id)["waiting"]
    assert again["county_relief"] == format_yuan(county // 2), again


def test_a_correction_of_the_holds_own_round_withdraws_the_waiting_proposal_while_another_round_holds(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    """The same from the hold's own round: the proposal no longer waits at 409 until a reviewer declines it."""
    person(ctx, users, "sup2", "insurer_supervisor")
    person(ctx, users, "rev2", "county_reviewer")
    case_id, _unchecked, first, second = _two_rounds(ctx, rounds)
    relief = relief_of(ctx, case_id)
    county = relief // 2
    _found(rounds, first, case_id, county)
    _found(rounds, second, case_id, county)
    proposal = _redetermine(client, users, case_id)["waiting"]["id"]
    _correct(rounds, first, case_id, county // 2)
    assert _hold(ctx, case_id).status == "open"
    with ctx.db.read() as s:
        assert s.get(CaseHoldProposal, proposal).status == "withdrawn"
    r = client.post(f"/api/cases/{case_id}/redetermination/proposal/decline", headers=users.headers("rev2"),
                    json={"proposal_id": proposal, "reason": "复核结果已更正"})
    assert r.status_code == 409 and r.json()["detail"] == hold_proposals.CHANGED, r.text
    r = client.post(f"/api/cases/{case_id}/redetermination", headers=users.headers("sup2"),
                    json={"outcome": "proceed", "reason": "按县级更正后的核定金额",
                          "relief_amount": format_yuan(county // 2)})
    assert r.status_code == 200 and r.json()["status"] == "decided", r.text


def test_another_round_joining_the_hold_withdraws_the_waiting_proposal(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    """A proposal against the first round's lower relief waits; a second round then finds the household
    ineligible and joins the hold: the proposal went against a figure no longer the county's, and is withdrawn."""
    person(ctx, users, "sup2", "insurer_supervisor")
    person(ctx, users, "rev2", "county_reviewer")
    case_id, _unchecked, first, second = _two_rounds(ctx, rounds)
    relief = relief_of(ctx, case_id)
    _found(rounds, first, case_id, relief // 2)
    proposal = _redetermine(client, users, case_id)["waiting"]["id"]
    _found(rounds, second, case_id, None)
    with ctx.db.read() as s:
        row = s.get(CaseHoldProposal, proposal)
        assert (row.status, row.answer_note, row.withdrawn_by_side) == ("withdrawn", None, "county")
    [entry] = _withdrawn_entries(ctx)
    assert (entry.payload["round_id"], entry.payload["why"]) == (second, "joined"), entry.payload
    r = client.post(f"/api/cases/{case_id}/redetermination/proposal/confirm", headers=users.headers("rev2"),
                    json={"proposal_id": proposal, "reason": "同意"})
    assert r.status_code == 409 and r.json()["detail"] == hold_proposals.CHANGED, r.text
    assert _redetermine(client, users, case_id)["waiting"]["county_relief"] == "0.00"
