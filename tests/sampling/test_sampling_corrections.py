"""Correcting a recorded re-check result: with a reason, by the county's reviewers, only while the round's verdict
is pending; the earlier result stays in the audit log."""

from __future__ import annotations

from sqlalchemy import select
from factories import make_case

from verifier.audit.canonical import decode_entry
from verifier.audit.log import text_digest
from verifier.audit.models import AuditEntry

INCOME = "2666.67"  # the factory's household: the insurer's per-capita income


def _drawn_round(ctx, rounds) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    for _ in range(3):
        make_case(ctx, stage="checked")
    created = rounds.create(stratify_by_town=False, min_rate="1.00")
    return created["id"], rounds.draw(created["id"])["case_ids"]


def _correct(rounds, round_id: str, case_id: str, status: int = 200, headers=None, **body):  # type: ignore[no-untyped-def]
    r = rounds.client.post(f"/api/sampling-rounds/{round_id}/results/{case_id}/corrections", json=body,
                           headers=headers or rounds.headers)
    assert r.status_code == status, r.text
    return r.json()


def test_a_result_is_corrected_with_a_reason_until_the_verdict(ctx, rounds, users) -> None:  # type: ignore[no-untyped-def]
    round_id, cases = _drawn_round(ctx, rounds)
    first = rounds.result(round_id, cases[0], per_capita_income=INCOME, eligible=False)
    assert first["deviation"] is True and first["corrected_by"] is None

    _correct(rounds, round_id, cases[0], 400, per_capita_income=INCOME, eligible=True)  # no reason
    problem = _correct(rounds, round_id, cases[0], 422, per_capita_income="1.234", eligible=True, reason="  ")
    assert {e["field"] for e in problem["errors"]} >= {"reason", "per_capita_income"}
    _correct(rounds, round_id, cases[1], 404, per_capita_income=INCOME, eligible=True, reason="录错")  # none yet

    # the insurer's supervisor does not record results, so does not correct them; another county sees nothing
    users.add("sup2", "insurer_supervisor", counties=("340223",))
    _correct(rounds, round_id, cases[0], 403, headers=users.headers("sup2"), per_capita_income=INCOME,
             eligible=True, reason="录错")
    users.add("rev9", "county_reviewer", counties=("340999",))
    _correct(rounds, round_id, cases[0], 404, headers=users.headers("rev9"), per_capita_income=INCOME,
             eligible=True, reason="录错")

    fixed = _correct(rounds, round_id, cases[0], per_capita_income=INCOME, eligible=True,
                     reason="录入时误选“不符合”，入户记录为符合")
    assert (fixed["deviation"], fixed["eligible"], fixed["corrected_by"]) == (False, True, users.ids["reviewer"])
    assert fixed["correction_reason"] == "录入时误选“不符合”，入户记录为符合" and fixed["corrected_at"]
    assert fixed["recorded_by"] == first["recorded_by"]
    assert rounds.report(round_id)["deviations"] == 0
    with ctx.db.read() as session:
        entries = [decode_entry(e) for e in session.scalars(
            select(AuditEntry.entry).where(AuditEntry.action == "sampling.result_corrected"))]
    assert len(entries) == 1
    payload = entries[0].payload
    assert payload["previous"]["eligible"] is False and payload["previous"]["deviation"] is True
    assert payload["eligible"] is True and "reason" not in payload  # the result keeps the text, the log its SHA-256
    assert payload["reason_sha256"] == text_digest("录入时误选“不符合”，入户记录为符合")

    for case_id in cases[1:]:
        rounds.result(round_id, case_id, per_capita_income=INCOME, eligible=True)
    assert rounds.report(round_id)["verdict"] == "accept"
    refused = _correct(rounds, round_id, cases[0], 409, per_capita_income=INCOME, eligible=False, reason="再改")
    assert "本轮已得出结论" in refused["detail"]
    item = next(i for i in rounds.get(round_id)["items"] if i["case_id"] == cases[0])
    assert item["result"]["eligible"] is True  # the refused correction changed nothing
