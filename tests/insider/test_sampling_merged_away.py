"""A case merged away after its check (已合并) is no live case: when two households are found to be one, their two
open cases of a cause and year become one, and the county's verdict is about the case kept, by its own check. The
population of a round still drew the merged-away case by its old check (its status, `merged`, was not among those
the population leaves out): a merge put a check the county's verdict is no longer about into the sample beside
the kept case's, the household sampled twice; an upheld objection's discarded determination came back into the monetary
population with its old relief; and a check recorded after a freeze waited for the next round, which took it in.
Now every population (attribute, monetary, the check a frozen round missed, its list 待下一轮补入) leaves the case
merged away out, and the case kept is drawn once, by its own check. A round frozen before the merge keeps the
population it froze (its digest is in the signed log): the merged-away case stays in it and is re-checked as the
insurer's work of the period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import household_kit
from factories import COUNTY, count_rows, make_case, staff
from insider_kit import check_body, frozen_round, head_on_record, schedule
from recheck_kit import visit_api
from sampling import sampling_helpers
from sampling.sampling_helpers import INSURER_SECRET, RANDOMNESS
from sqlalchemy import select

from verifier.cases.workflow import advance, load_case
from verifier.sampling import replay as replays
from verifier.sampling.models import CaseHold
from verifier.store.tables import Case, Determination

rounds = sampling_helpers.rounds  # the fixture: the county reviewer and an insurer supervisor over the sampling API

REASON = "夫妻二人分别被医保局和村里报送，实为一户"


def _household_of(ctx: Any, case_id: str) -> str:
    with ctx.db.read() as session:
        return str(session.scalar(select(Case.household_id).where(Case.id == case_id)))


def _merge(ctx: Any, kept: str, gone: str) -> None:
    """The household of `gone` merged into that of `kept` (proposed by the county's supervisor, confirmed by
    another): `gone` ends 已合并, joined into `kept`."""
    with ctx.db.begin() as session:
        result = household_kit.merge_households(session, _household_of(ctx, kept), _household_of(ctx, gone),
                                                reason=REASON, principal=staff(ctx).supervisor, clock=ctx.clock)
    assert [(m.case_id, m.into_case_id) for m in result.merged_cases] == [(gone, kept)]
    with ctx.db.read() as session:
        assert session.get(Case, gone).status == "merged"


def _population(rounds: Any, round_id: str) -> list[str]:
    return list(rounds.get(round_id, "/population")["case_ids"])


def _open_committed(rounds: Any, **body: Any) -> str:
    opened = rounds.open(stratify_by_town=False, min_rate="1.00", **body)
    rounds.commit(opened["id"], "county", RANDOMNESS)
    rounds.commit(opened["id"], "insurer", INSURER_SECRET)
    return str(opened["id"])


def test_attack_a_case_merged_away_after_its_check_is_not_in_the_attribute_population(
        ctx: Any, client: Any, rounds: Any) -> None:
    kept = make_case(ctx, stage="checked", members=1, head_name="王建国")
    gone = make_case(ctx, stage="checked", members=1, head_name="李秀英")
    other = make_case(ctx, stage="checked")
    round_id = _open_committed(rounds)
    # After the round opened, before the freeze: the households are found to be one.
    _merge(ctx, kept, gone)
    frozen = rounds.freeze(round_id)
    assert frozen["population_size"] == 2
    assert sorted(_population(rounds, round_id)) == sorted([kept, other])  # the case kept once, the merged one not
    page = client.get(f"/sampling/{round_id}", headers=rounds.headers).text
    assert "<strong>2</strong> 户" in page
    drawn = rounds.draw(round_id)["case_ids"]
    assert drawn.count(kept) == 1 and gone not in drawn and other in drawn


def test_attack_a_merged_away_case_brings_no_discarded_relief_into_the_monetary_population(
        ctx: Any, rounds: Any) -> None:
    """An upheld objection sends a determined case back to be checked again (已初筛): its determination, on its latest
    check, is no longer the insurer's answer and the population leaves it out. Merged into the household's other
    case, it came back into the monetary population with its old relief."""
    kept = make_case(ctx, stage="determined", members=1, head_name="王建国")
    objected = make_case(ctx, stage="determined", members=1, head_name="李秀英", medical=9_000_000)
    clerk = staff(ctx).clerk
    with ctx.db.begin() as session:
        case = load_case(session, objected, None, for_update=True)
        for action in ("review_pass", "post_notice", "objection_upheld"):
            advance(session, case, action, actor=clerk, role="town_clerk", clock=ctx.clock,
                    payload={"shortcut": "test"})
        assert case.status == "screened"
        kept_relief = session.scalar(select(Determination.relief).where(Determination.case_id == kept))
    _merge(ctx, kept, objected)
    for kind in ("monetary", "attribute"):
        round_id = _open_committed(rounds, kind=kind)
        rounds.freeze(round_id)
        assert _population(rounds, round_id) == [kept], kind
        if kind == "monetary":
            weights = rounds.get(round_id, "/population")["weights"]
            assert list(weights) == [kept] and weights[kept] == f"{kept_relief // 100}.{kept_relief % 100:02d}"
            assert rounds.draw(round_id)["case_ids"] == [kept]


def test_attack_a_late_check_merged_away_does_not_wait_for_the_next_round(ctx: Any, client: Any, users: Any,
                                                                         rounds: Any) -> None:
    """A check recorded after a round froze, dated within its period, waits for the next round (待下一轮补入). Its
    case merged away, no round takes it: the frozen round no longer says it waits, and the next round leaves it out."""
    reviewer, insurer = rounds.headers, rounds.insurer
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    day0 = ctx.clock.today()
    kept = make_case(ctx, stage="checked", members=1, head_name="王建国")
    late = make_case(ctx, stage="screened", members=1, head_name="李秀英", referred_on=day0 - timedelta(days=30))
    officers = [users.ids["off1"], users.ids["off2"]]
    schedule(client, insurer, late, officers, day0.isoformat())
    first = frozen_round(client, reviewer, insurer, day0 - timedelta(days=30), day0)
    assert _population(rounds, first) == [kept]

    ctx.clock.advance(days=1)
    day1 = ctx.clock.today()
    r = client.post(f"/api/cases/{late}/check", headers=users.headers("off1"),
                    json={**check_body(*head_on_record(ctx, late), officers, (day0 - timedelta(days=10)).isoformat()),
                          "late_entry_reason": "村里没有手机信号，回到乡镇才录入"})
    assert r.status_code == 201, r.text
    assert [(m["case_id"], m["taken_in_by"]) for m in rounds.get(first)["missed"]] == [(late, None)]

    _merge(ctx, kept, late)
    detail = rounds.get(first)
    assert detail["missed"] == [] and detail["missed_total"] == 0
    assert "待下一轮" not in client.get(f"/sampling/{first}", headers=reviewer).text
    other = make_case(ctx, stage="checked")
    second = frozen_round(client, reviewer, insurer, day1, day1)
    assert _population(rounds, second) == [other]
    assert rounds.get(second)["carried_in"] == []


def test_a_round_frozen_before_the_merge_keeps_the_population_it_froze(ctx: Any, client: Any, rounds: Any) -> None:
    """The frozen population is a record: its digest is in the freezing entry, under a signed checkpoint, and the
    draw and its replay read it. A merge after the freeze changes nothing of it: the merged-away case stays in it,
    may be drawn and is re-checked (its check is the insurer's work of the period); the case kept is in it once."""
    kept = make_case(ctx, stage="checked", members=1, head_name="王建国")
    gone = make_case(ctx, stage="checked", members=1, head_name="李秀英")
    round_id = str(rounds.create(stratify_by_town=False, min_rate="1.00")["id"])
    before = rounds.get(round_id, "/population")
    assert sorted(before["case_ids"]) == sorted([kept, gone])

    _merge(ctx, kept, gone)
    assert rounds.get(round_id, "/population") == before
    drawn = rounds.draw(round_id)["case_ids"]
    assert sorted(drawn) == sorted([kept, gone])
    assert rounds.get(round_id)["population_size"] == 2
    with ctx.db.read() as session:
        assert replays.replay(session, round_id).ok
    # Its referrals went to the case kept: the county meets a member of the household it is now in.
    # The county finds it ineligible: a deviation of the insurer's work, holding nothing (the case is closed).
    r = client.post(f"/api/sampling-rounds/{round_id}/results", headers=rounds.headers, json={
        "case_id": gone, "per_capita_income": "9000.00", "eligible": False, "note": "",
        **visit_api(ctx, client, rounds.headers, round_id, gone)})
    assert r.status_code == 201, r.text
    assert r.json()["deviation"] is True
    assert count_rows(ctx, CaseHold, CaseHold.case_id.in_([kept, gone])) == 0
    assert rounds.report(round_id)["deviations"] == 1
