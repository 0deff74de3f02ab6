"""A county reviewer alone steers the sample by leaving days between two rounds' periods: the checks recorded on
those days would fall into no sample. A round must start at the latest on the day after the county's previous
frozen or drawn round (of the same kind) ends; the county's first round is free."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from factories import make_case
from insider_kit import COUNTY, entries_but_refusals
from sqlalchemy import func, select

from verifier.sampling.models import SamplingRound


def _open(client, reviewer, start, end, status: int = 201):  # type: ignore[no-untyped-def]
    r = client.post("/api/sampling-rounds", headers=reviewer, json={
        "county_code": COUNTY, "checked_from": start.isoformat(), "checked_to": end.isoformat()})
    assert r.status_code == status, r.text
    return r.json()


def _commit(client, reviewer, insurer, round_id: str) -> None:  # type: ignore[no-untyped-def]
    for party, headers in (("county", reviewer), ("insurer", insurer)):
        secret = hashlib.sha256(party.encode()).hexdigest()
        r = client.post(f"/api/sampling-rounds/{round_id}/commitments", headers=headers, json={
            "party": party, "commitment": hashlib.sha256(bytes.fromhex(secret)).hexdigest()})
        assert r.status_code == 201, r.text


def _rounds(ctx) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(SamplingRound)))


def test_attack_the_reviewer_leaves_a_week_between_rounds_unsampled(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    reviewer, insurer = users.headers("reviewer"), users.headers("insurer")
    day0 = ctx.clock.today()
    make_case(ctx, stage="checked")  # visited day0
    # The county's first round is free: any start.
    first = _open(client, reviewer, day0 - timedelta(days=10), day0)["id"]
    _commit(client, reviewer, insurer, first)
    assert client.post(f"/api/sampling-rounds/{first}/freeze", headers=reviewer).status_code == 200

    # A week later, checks on the days after the round and on the week after.
    ctx.clock.advance(days=7)
    make_case(ctx, stage="checked")  # the week the reviewer would leave out
    ctx.clock.advance(days=7)
    make_case(ctx, stage="checked")
    today = ctx.clock.today()
    before_rounds, before_entries = _rounds(ctx), entries_but_refusals(ctx)
    refused = _open(client, reviewer, day0 + timedelta(days=8), today, status=409)["detail"]
    gap_from, gap_to = day0 + timedelta(days=1), day0 + timedelta(days=7)
    # the first round, by its period (the detail names rounds as the pages do, not by their codes)
    assert f"上一轮抽样（示范县 · 按户抽样 · {day0 - timedelta(days=10)} 至 {day0}）" in refused
    assert f"本轮须自 {gap_from} 起" in refused and f"（{gap_from} 至 {gap_to}）" in refused
    assert _rounds(ctx) == before_rounds and entries_but_refusals(ctx) == before_entries  # nothing written

    # The contiguous round is accepted and takes in the checks of every day since.
    second = _open(client, reviewer, gap_from, today)["id"]
    _commit(client, reviewer, insurer, second)
    r = client.post(f"/api/sampling-rounds/{second}/freeze", headers=reviewer)
    assert r.status_code == 200 and r.json()["population_size"] == 2, r.text


def test_attack_a_gap_opened_before_the_previous_round_froze_is_refused_at_the_freeze(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Two rounds opened while neither is frozen (each then the county's first): freezing the earlier makes the
    later one leave days unsampled, so the later one's freeze is refused and it stays open."""
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    reviewer, insurer = users.headers("reviewer"), users.headers("insurer")
    day0 = ctx.clock.today()
    make_case(ctx, stage="checked")
    ctx.clock.advance(days=10)
    make_case(ctx, stage="checked")
    early = _open(client, reviewer, day0, day0)["id"]
    late = _open(client, reviewer, ctx.clock.today(), ctx.clock.today())["id"]
    for round_id in (early, late):
        _commit(client, reviewer, insurer, round_id)
    assert client.post(f"/api/sampling-rounds/{early}/freeze", headers=reviewer).status_code == 200
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/sampling-rounds/{late}/freeze", headers=reviewer)
    assert r.status_code == 409 and f"上一轮抽样（示范县 · 按户抽样 · {day0} 至 {day0}）" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before
    assert client.get(f"/api/sampling-rounds/{late}", headers=reviewer).json()["status"] == "open"
