"""The list of re-determinations answered or withdrawn (/hold-proposals?status=done) says why one was withdrawn as
the case page does, by one test (`holds.proposal_stale`): withdrawn while its hold stayed (another round's deviation
joined it, or a re-check corrected left it open) is no "随暂停支付撤销（复核结果更正）" — nothing was corrected — but
县级复核结果有变，已撤销; withdrawn with the hold itself, the hold's withdrawal."""

from __future__ import annotations

from deviation_helpers import drawn_round, person, ready_case, relief_of
from sampling import sampling_helpers
from sqlalchemy import select
from web.pagekit import Pages

from verifier.cases import holds
from verifier.domain.money import format_yuan
from verifier.sampling.models import CaseHold
from verifier.web import stagelabels as sl

INCOME = "2666.67"  # the factory's household: the insurer's per-capita income
rounds = sampling_helpers.rounds  # the fixture


def test_the_one_test_of_a_proposal_withdrawn_while_its_hold_stayed() -> None:
    assert holds.proposal_stale("withdrawn", "open") and holds.proposal_stale("withdrawn", "decided")
    assert not holds.proposal_stale("withdrawn", "withdrawn") and not holds.proposal_stale("withdrawn", None)
    assert not any(holds.proposal_stale(s, "open") for s in ("waiting", "confirmed", "declined"))
    assert "复核结果更正" not in sl.HOLD_PROPOSAL_STATUS["changed"]


def _row(text: str, proposal_id: str) -> str:
    row = text[text.index(f'id="hp-{proposal_id}"'):]
    return row[:row.index("</tr>")]


def test_a_proposal_withdrawn_when_another_round_joined_reads_so_on_the_done_list(  # type: ignore[no-untyped-def]
        ctx, client, rounds, users) -> None:
    person(ctx, users, "sup2", "insurer_supervisor")
    person(ctx, users, "rev2", "county_reviewer")
    case_id, unchecked = ready_case(ctx), ready_case(ctx)
    first = drawn_round(rounds, {case_id, unchecked})
    second = rounds.create(kind="monetary")["id"]
    assert {case_id, unchecked} <= set(rounds.draw(second)["case_ids"])
    relief = relief_of(ctx, case_id)
    assert rounds.result(first, case_id, per_capita_income=INCOME, eligible=True,
                         relief_amount=format_yuan(relief // 2))["deviation"] is True
    r = client.post(f"/api/cases/{case_id}/redetermination", headers=users.headers("sup2"),
                    json={"outcome": "proceed", "reason": "医疗费用有新票据"})
    assert r.status_code == 200, r.text
    proposal = r.json()["waiting"]["id"]
    # the second round finds the household ineligible: it joins the hold, the proposal is withdrawn
    assert rounds.result(second, case_id, per_capita_income=INCOME, eligible=False)["deviation"] is True
    with ctx.db.read() as s:
        assert s.scalars(select(CaseHold.status).where(CaseHold.case_id == case_id)).one() == "open"
    pages = Pages(client, users)
    pages.login("rev2")
    row = _row(pages.get("/hold-proposals?status=done").text, proposal)
    assert sl.HOLD_PROPOSAL_STATUS["changed"] in row and 'class="proposal-stale"' in row, row
    assert sl.HOLD_PROPOSAL_STATUS["withdrawn"] not in row, row
    # the case page, by the same test
    assert 'class="proposal-stale"' in pages.get(f"/cases/{case_id}").text
