"""One county reviewer, alone at the desk, tries to steer a sampling round's verdict with the API's documented
figures-only body (INTERFACE.md: case, figures, note). The body is still taken (other systems send it), and its result
is marked without the county's visit; it used to count in the verdict all the same, so "the insurer's result stands"
typed for every sampled case gave an accepted round. Now such a result counts as not yet re-checked: the verdict
stays pending (the report names the cases, the page says why), the round cannot be widened on it, the assessment does
not count it, and it counts, with its consequence, only once its visit is added
(`POST /api/sampling-rounds/{id}/results/{case_id}/visit`)."""

from __future__ import annotations

import json

from deviation_helpers import drawn_round_api
from factories import make_case
from insider_kit import COUNTY, visit_api
from recheck_kit import dated_photo, page_visit, upload
from sqlalchemy import func, select
from web.pagekit import Pages

from verifier.accounts.auth import principal_of
from verifier.audit.models import AuditEntry
from verifier.dashboard import service as dash
from verifier.sampling.models import SamplingDeviation, SamplingResult
from verifier.store.tables import Case, User


def _round(ctx, client, users, cases: int = 2):  # type: ignore[no-untyped-def]
    ids = [make_case(ctx) for _ in range(cases)]
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    round_id, sampled = drawn_round_api(client, users.headers("reviewer"), users.headers("insurer"))
    assert set(sampled) == set(ids)
    return round_id, ids


def _desk(client, headers, round_id: str, case_id: str, **figures):  # type: ignore[no-untyped-def]
    body = {"case_id": case_id, "per_capita_income": "2666.67", "eligible": True, "relief_amount": "1000.00",
            **figures}
    r = client.post(f"/api/sampling-rounds/{round_id}/results", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _entries(ctx, action: str) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)))


def test_attack_one_reviewer_steers_the_verdict_from_the_desk(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    round_id, cases = _round(ctx, client, users)
    reviewer = users.headers("reviewer")
    for case_id in cases:  # "the insurer's result stands", for every sampled case, without leaving the office
        _desk(client, reviewer, round_id, case_id)

    report = client.get(f"/api/sampling-rounds/{round_id}/report", headers=reviewer).json()
    assert report["verdict"] == "pending" and report["upper_bound"] is None, report
    assert report["rechecked"] == 0 and sorted(report["awaiting_visit"]) == sorted(cases)
    assert report["without_visit"] == 2
    with ctx.db.read() as session:
        numbers = [session.get(Case, c).number for c in cases]  # type: ignore[union-attr]

    # The round is not concluded on them, nor widened: 409 naming the cases.
    r = client.post(f"/api/sampling-rounds/{round_id}/expand", headers=reviewer)
    assert r.status_code == 409 and "走访证据" in r.text and all(n in r.text for n in numbers), r.text

    # The assessment record counts none of them as checked.
    record = client.get(f"/api/sampling-rounds/{round_id}/assessment", headers=reviewer).json()
    assert record["checked"] == 0 and record["awaiting_visit"] == 2 and record["verdict"] == "pending"

    # The page says why the verdict waits, in Chinese, naming the cases, and offers the visit's form.
    pages = Pages(client, users)
    pages.login("reviewer")
    html = pages.get(f"/sampling/{round_id}").text
    assert 'id="verdict-waits-for-visit"' in html and "按「尚未复核」计，不计入结论" in html
    assert all(n in html for n in numbers) and "补录走访证据" in html and f'id="visit-form-{cases[0]}"' in html
    r = pages.post(f"/sampling/{round_id}/expand")
    assert r.status_code == 409 and "须待县级入户走访证据" in r.text and numbers[0] in r.text
    assert "the verdict waits" not in r.text

    # The visit added over the API (the files uploaded for that re-check now): the case counts.
    visit = visit_api(ctx, client, reviewer, round_id, cases[0])
    r = client.post(f"/api/sampling-rounds/{round_id}/results/{cases[0]}/visit", headers=reviewer, json=visit)
    assert r.status_code == 200 and r.json()["visited_on"] == visit["visited_on"], r.text
    assert _entries(ctx, "sampling.result_visit_added") == 1
    report = client.get(f"/api/sampling-rounds/{round_id}/report", headers=reviewer).json()
    assert report["rechecked"] == 1 and report["awaiting_visit"] == [cases[1]] and report["verdict"] == "pending"
    # Once only.
    r = client.post(f"/api/sampling-rounds/{round_id}/results/{cases[0]}/visit", headers=reviewer, json=visit)
    assert r.status_code == 409

    # The other through the page's form: the verdict is then given on visited re-checks only.
    fields, files = page_visit(ctx, cases[1], ctx.clock.today())
    r = pages.post(f"/sampling/{round_id}/results/{cases[1]}/visit", fields, files=files)
    assert r.status_code == 303, r.text[:400]
    assert "走访证据已补录" in pages.get(r.headers["location"]).text
    report = client.get(f"/api/sampling-rounds/{round_id}/report", headers=reviewer).json()
    assert report["rechecked"] == 2 and report["awaiting_visit"] == [] and report["verdict"] != "pending"


def test_a_visit_is_added_only_in_full_and_a_desk_deviation_then_has_its_consequence(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    round_id, (case_id, _) = _round(ctx, client, users)
    reviewer = users.headers("reviewer")
    out = _desk(client, reviewer, round_id, case_id, per_capita_income="99999.00", eligible=False,
                relief_amount=None)
    assert out["deviation"] is True
    assert _entries(ctx, "sampling.deviation_recorded") == 0  # no consequence without the visit

    # A visit in part: every missing piece named, nothing written.
    before = _entries(ctx, "sampling.result_visit_added")
    r = client.post(f"/api/sampling-rounds/{round_id}/results/{case_id}/visit", headers=reviewer,
                    json={"visited_on": ctx.clock.today().isoformat()})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"met_member", "signed_form",
                                                                                 "evidence"}, r.text
    # A photo of another day proves no visit.
    other_day = ctx.clock.today().replace(day=1) if ctx.clock.today().day != 1 else ctx.clock.today().replace(day=2)
    photo = upload(client, reviewer, round_id, case_id, dated_photo(f"{other_day:%Y:%m:%d} 09:30:00"))["sha256"]
    visit = visit_api(ctx, client, reviewer, round_id, case_id)
    r = client.post(f"/api/sampling-rounds/{round_id}/results/{case_id}/visit", headers=reviewer,
                    json={**visit, "evidence": [photo]})
    assert r.status_code == 422 and "evidence" in {e["field"] for e in r.json()["errors"]}, r.text
    assert _entries(ctx, "sampling.result_visit_added") == before
    with ctx.db.read() as session:
        assert session.get(SamplingResult, (round_id, case_id)).visited_on is None  # type: ignore[union-attr]

    # An insurer's supervisor adds no visit (only a county reviewer).
    r = client.post(f"/api/sampling-rounds/{round_id}/results/{case_id}/visit", headers=users.headers("insurer"),
                    json=visit)
    assert r.status_code == 403

    # With the whole visit: counted, and the deviation has its consequence now.
    r = client.post(f"/api/sampling-rounds/{round_id}/results/{case_id}/visit", headers=reviewer, json=visit)
    assert r.status_code == 200, r.text
    assert _entries(ctx, "sampling.deviation_recorded") == 1
    with ctx.db.read() as session:
        assert session.get(SamplingDeviation, (round_id, case_id)) is not None
    report = client.get(f"/api/sampling-rounds/{round_id}/report", headers=reviewer).json()
    assert report["deviations"] == 1 and report["awaiting_visit"] == []


def test_a_result_from_before_the_control_counts_as_it_did(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Results recorded before migration 0041 (their `evidence` left NULL) made the verdicts of their day: they keep
    counting, and take no visit afterwards."""
    round_id, cases = _round(ctx, client, users)
    reviewer = users.headers("reviewer")
    for case_id in cases:
        _desk(client, reviewer, round_id, case_id)
    with ctx.db.begin() as session:
        for row in session.scalars(select(SamplingResult).where(SamplingResult.round_id == round_id)):
            row.evidence = None
    report = client.get(f"/api/sampling-rounds/{round_id}/report", headers=reviewer).json()
    assert report["rechecked"] == 2 and report["awaiting_visit"] == [] and report["verdict"] != "pending"
    r = client.post(f"/api/sampling-rounds/{round_id}/results/{cases[0]}/visit", headers=reviewer, json={})
    assert r.status_code == 409, r.text


def test_attack_figures_typed_at_the_desk_before_the_visit_count_once_it_is_added(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A reviewer types the figures at the desk on day 1 (a deviation, or "the insurer's result stands"), goes out on
    day 5 and adds that visit: the figures typed before anyone went out would count. The visit may not be after the
    day the figures were typed; the figures are corrected first (the old ones kept in the correction's entry)."""
    round_id, (case_id, _) = _round(ctx, client, users)
    reviewer = users.headers("reviewer")
    typed = ctx.clock.today()
    _desk(client, reviewer, round_id, case_id, per_capita_income="99999.00", eligible=False, relief_amount=None)
    ctx.clock.advance(days=4)
    visit = visit_api(ctx, client, reviewer, round_id, case_id, day=ctx.clock.today())
    r = client.post(f"/api/sampling-rounds/{round_id}/results/{case_id}/visit", headers=reviewer, json=visit)
    assert r.status_code == 422, r.text
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert set(errors) == {"visited_on"} and typed.isoformat() in errors["visited_on"], errors
    assert _entries(ctx, "sampling.result_visit_added") == 0 and _entries(ctx, "sampling.deviation_recorded") == 0
    with ctx.db.read() as session:
        assert session.get(SamplingResult, (round_id, case_id)).visited_on is None  # type: ignore[union-attr]

    # The page says it in Chinese.
    pages = Pages(client, users)
    pages.login("reviewer")
    fields, files = page_visit(ctx, case_id, ctx.clock.today())
    r = pages.post(f"/sampling/{round_id}/results/{case_id}/visit", fields, files=files)
    assert r.status_code == 422 and "晚于复核数据录入日期" in r.text and "after the day" not in r.text

    # The figures re-entered after the visit (a correction: the desk's kept in its entry), then the visit counts.
    r = client.post(f"/api/sampling-rounds/{round_id}/results/{case_id}/corrections", headers=reviewer,
                    json={"per_capita_income": "2666.67", "eligible": True, "relief_amount": "1000.00",
                          "reason": "走访后按实际情况录入"})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/sampling-rounds/{round_id}/results/{case_id}/visit", headers=reviewer, json=visit)
    assert r.status_code == 200, r.text
    with ctx.db.read() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "sampling.result_corrected"))
        assert entry is not None and json.loads(entry.entry)["payload"]["previous"]["per_capita_income"] == "99999.00"

    # A visit on or before the day the figures were typed is taken as before (the other tests: same day).


def test_a_desk_deviation_is_in_neither_the_dashboards_bar_nor_its_case_list(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The dashboard's per-round rate left a result waiting for its visit out while the list behind the bar
    (`deviations:<round>`) still named it: bar and list disagreed. Both count with `visits.counts_in_verdict_sql`."""
    round_id, (case_id, other) = _round(ctx, client, users)
    reviewer = users.headers("reviewer")
    _desk(client, reviewer, round_id, case_id, per_capita_income="99999.00", eligible=False, relief_amount=None)
    _desk(client, reviewer, round_id, other, per_capita_income="99999.00", eligible=False, relief_amount=None)
    with ctx.db.begin() as session:  # one of them from before the control (its evidence never set): it counts
        session.get(SamplingResult, (round_id, other)).evidence = None  # type: ignore[union-attr]
    today = ctx.clock.today()

    def bar_and_list() -> tuple[tuple[int, int], set[str]]:
        with ctx.db.read() as session:
            me = principal_of(session.get(User, users.ids["reviewer"]))
            period = dash.parse_period(f"{today.year}", today)
            rates = {r.round_id: r for r in dash.dashboard(session, me, COUNTY, period, today=today).rounds}
            listed = set(session.scalars(dash.chart_cases(session, me, COUNTY, period, f"deviations:{round_id}",
                                                          today=today)))
        return (rates[round_id].rechecked, rates[round_id].deviations), listed

    assert bar_and_list() == ((1, 1), {other})
    visit = visit_api(ctx, client, reviewer, round_id, case_id)
    assert client.post(f"/api/sampling-rounds/{round_id}/results/{case_id}/visit", headers=reviewer,
                       json=visit).status_code == 200
    assert bar_and_list() == ((2, 2), {case_id, other})
