"""A county reviewer records the re-check of a sampled case. Nothing used to show they went to the household: one
reviewer could write "the insurer's result stands" for every sampled case from the desk (hiding the insurer's errors)
or invent deviations. A re-check result now carries the county's visit, as a check does: the visit day, the household
member met, the re-check record that member signed and at least one photo taken on the visit day (its camera capture
time), uploaded for that re-check. Each one missing is refused (422, named), nothing written; the insurer's own photos
and one desk photo for every household are refused; the evidence is shown on the round's page and the case page."""

from __future__ import annotations

from datetime import timedelta

from deviation_helpers import drawn_round_api
from factories import make_case
from insider_kit import COUNTY, check_body, dated_photo, head_on_record, member_met, schedule, signed_form, upload, visit_api
from sqlalchemy import func, select, update
from web.pagekit import Pages

from verifier.audit.models import AuditEntry
from verifier.peeks.models import PersonalView
from verifier.sampling.models import RecheckEvidence, SamplingResult
from verifier.store.tables import User


def _counts(ctx) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return (int(session.scalar(select(func.count()).select_from(SamplingResult))),
                int(session.scalar(select(func.count()).select_from(RecheckEvidence))),
                int(session.scalar(select(func.count()).select_from(AuditEntry))))


def _round(ctx, client, users, cases: int = 2):  # type: ignore[no-untyped-def]
    ids = [make_case(ctx) for _ in range(cases)]
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    round_id, sampled = drawn_round_api(client, users.headers("reviewer"), users.headers("insurer"))
    assert set(ids) <= set(sampled)
    return round_id, ids


def _result(client, headers, round_id: str, case_id: str, **visit):  # type: ignore[no-untyped-def]
    return client.post(f"/api/sampling-rounds/{round_id}/results", headers=headers, json={
        "case_id": case_id, "per_capita_income": "2666.67", "eligible": True, "relief_amount": "1000.00", **visit})


def test_attack_the_reviewer_writes_consistent_from_the_desk(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    round_id, (case_id, _) = _round(ctx, client, users)
    reviewer = users.headers("reviewer")
    before = _counts(ctx)

    # A body naming part of a visit has the whole of it checked. A day alone: every missing piece named, nothing
    # written.
    r = _result(client, reviewer, round_id, case_id, visited_on=ctx.clock.today().isoformat())
    assert r.status_code == 422, r.text
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"met_member", "signed_form", "evidence"}, r.json()
    assert _counts(ctx) == before

    # A day and a name, but no files.
    r = _result(client, reviewer, round_id, case_id, visited_on=ctx.clock.today().isoformat(),
                met_member=member_met(ctx, case_id))
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"signed_form", "evidence"}, r.text
    assert _counts(ctx) == before

    # Files the reviewer never uploaded for this re-check (made-up hashes).
    r = _result(client, reviewer, round_id, case_id, visited_on=ctx.clock.today().isoformat(),
                met_member=member_met(ctx, case_id), signed_form="ab" * 32, evidence=["cd" * 32])
    assert r.status_code == 422, r.text
    assert {e["field"] for e in r.json()["errors"]} == {"signed_form", "evidence[0]", "evidence"}, r.text
    assert _counts(ctx) == before


def test_attack_photos_that_were_not_taken_on_the_visit_day(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    round_id, (case_id, _) = _round(ctx, client, users)
    reviewer, today = users.headers("reviewer"), ctx.clock.today()
    old = upload(client, reviewer, round_id, case_id, dated_photo(f"{today - timedelta(days=40):%Y:%m:%d} 09:00:00"))
    bare = upload(client, reviewer, round_id, case_id, dated_photo(None))
    form = upload(client, reviewer, round_id, case_id, signed_form(), "application/pdf")
    assert old["captured_at"].startswith(f"{today - timedelta(days=40)}") and bare["captured_at"] == ""
    before = _counts(ctx)
    r = _result(client, reviewer, round_id, case_id, visited_on=today.isoformat(), met_member=member_met(ctx, case_id),
                signed_form=form["sha256"], evidence=[old["sha256"], bare["sha256"]])
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["evidence"], r.text
    assert "走访当天拍摄的照片" in r.json()["errors"][0]["message"]
    # Dating the visit back to the old photo's day: before the sample was drawn, the household was not yet sampled.
    r = _result(client, reviewer, round_id, case_id, visited_on=(today - timedelta(days=40)).isoformat(),
                met_member=member_met(ctx, case_id), signed_form=form["sha256"], evidence=[old["sha256"]])
    assert r.status_code == 422 and "早于样本抽取日期" in str(r.json()["errors"]), r.text
    # A name that is no member of the household.
    r = _result(client, reviewer, round_id, case_id, **{**visit_api(ctx, client, reviewer, round_id, case_id),
                                                        "met_member": "路人甲"})
    assert r.status_code == 422 and r.json()["errors"] == [
        {"field": "met_member", "message": "不是该户的家庭成员"}], r.text
    assert _counts(ctx)[0] == before[0] == 0


def test_attack_a_photo_dated_forward_and_sent_the_day_before_the_visit(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The phone's clock set a day forward: a photo sent today carrying tomorrow's date, and tomorrow the visit typed
    as of tomorrow. The server received the photo before its camera day: it proves no visit on that day."""
    round_id, (case_id, _) = _round(ctx, client, users)
    reviewer, today = users.headers("reviewer"), ctx.clock.today()
    tomorrow = today + timedelta(days=1)
    early = upload(client, reviewer, round_id, case_id, dated_photo(f"{tomorrow:%Y:%m:%d} 09:00:00"))
    form = upload(client, reviewer, round_id, case_id, signed_form(), "application/pdf")
    ctx.clock.advance(days=1)
    r = _result(client, reviewer, round_id, case_id, visited_on=tomorrow.isoformat(), met_member=member_met(ctx, case_id),
                signed_form=form["sha256"], evidence=[early["sha256"]])
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["evidence"], r.text
    assert "上传日期不早于该日" in r.json()["errors"][0]["message"]
    assert _counts(ctx)[0] == 0
    # the same camera day, sent on that day: taken
    again = upload(client, reviewer, round_id, case_id, dated_photo(f"{tomorrow:%Y:%m:%d} 09:05:00"))
    r = _result(client, reviewer, round_id, case_id, visited_on=tomorrow.isoformat(), met_member=member_met(ctx, case_id),
                signed_form=form["sha256"], evidence=[early["sha256"], again["sha256"]])
    assert r.status_code in (200, 201), r.text
    # the round's page says which of the two does not count, and why
    pages = Pages(client, users)
    pages.login("insurer")
    html = pages.get(f"/sampling/{round_id}").text
    assert html.count("上传早于拍摄日期，不计入") == 1, html


def test_attack_the_insurers_photo_or_one_desk_photo_for_every_household(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    sup, today = users.headers("sup"), ctx.clock.today()
    officers = [users.ids["off1"], users.ids["off2"]]
    checked = make_case(ctx, stage="screened")
    schedule(client, sup, checked, officers, today.isoformat())
    insurers_photo = dated_photo(f"{today:%Y:%m:%d} 08:00:00")
    r = client.post(f"/api/cases/{checked}/evidence", headers=users.headers("off1"),
                    files={"file": ("p.jpg", insurers_photo, "image/jpeg")})
    assert r.status_code == 201, r.text
    body = check_body(*head_on_record(ctx, checked), officers, today.isoformat())
    body["evidence"] = [r.json()["sha256"]]
    assert client.post(f"/api/cases/{checked}/check", headers=users.headers("off1"), json=body).status_code == 201
    other = make_case(ctx)
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    round_id, sampled = drawn_round_api(client, users.headers("reviewer"), users.headers("insurer"))
    assert {checked, other} <= set(sampled)
    reviewer = users.headers("reviewer")
    before = _counts(ctx)

    # The insurer officer's photo of the household, taken today, offered as the county's.
    r = upload(client, reviewer, round_id, checked, insurers_photo, status=422)
    assert r["errors"][0]["message"].startswith("该文件是保险公司核查时上传的证据"), r
    # One photo taken today at the desk, used for a second household.
    desk = dated_photo(f"{today:%Y:%m:%d} 09:00:00")
    upload(client, reviewer, round_id, other, desk)
    r = upload(client, reviewer, round_id, checked, desk, status=422)
    assert r["errors"][0]["message"] == "该文件已是另一户复核的证据：每户须有自己的走访照片和记录", r
    assert _counts(ctx)[:2] == (before[0], before[1] + 1)


def test_a_result_with_its_visit_is_recorded_and_shown(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    round_id, (case_id, _) = _round(ctx, client, users)
    reviewer = users.headers("reviewer")
    visit = visit_api(ctx, client, reviewer, round_id, case_id)
    r = _result(client, reviewer, round_id, case_id, **visit)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["visited_on"] == visit["visited_on"] and out["signed_form"] == visit["signed_form"]
    assert out["evidence"] == visit["evidence"] and out["met_member_id"]
    with ctx.db.read() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "sampling.result_recorded")).one()
        uploads = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "sampling.recheck_evidence_uploaded"))
    assert uploads == 2 and visit["met_member"].encode() not in bytes(entry.entry)  # the member by id, not by name

    # The insurer reads the files behind the county's word; another county's reader does not.
    photo = visit["evidence"][0]
    r = client.get(f"/api/sampling-rounds/{round_id}/results/{case_id}/evidence/{photo}", headers=users.headers("insurer"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/jpeg")
    users.add("far", "county_reviewer", counties=("340222",))
    r = client.get(f"/api/sampling-rounds/{round_id}/results/{case_id}/evidence/{photo}", headers=users.headers("far"))
    assert r.status_code == 404

    # Too late to add files once the result is in.
    assert upload(client, reviewer, round_id, case_id, dated_photo(None), status=409)

    pages = Pages(client, users)
    pages.login("insurer")
    html = pages.get(f"/sampling/{round_id}").text
    assert f'id="visit-{case_id}"' in html and "走访日期" in html and visit["met_member"] in html
    assert f"/sampling/{round_id}/results/{case_id}/evidence/{photo}" in html and "拍摄于" in html
    html = pages.get(f"/cases/{case_id}").text
    assert 'id="rechecks"' in html and "县级抽样复核" in html and "签字的复核记录" in html
    assert pages.get(f"/sampling/{round_id}/results/{case_id}/evidence/{photo}").status_code == 200
    # each look at the household's re-check files is on record (查阅留痕), by route; the refused one is not
    with ctx.db.read() as session:
        looks = session.execute(select(User.username, PersonalView.kind, PersonalView.route, PersonalView.case_id)
                                .join(User, User.id == PersonalView.user_id)
                                .where(PersonalView.kind == "evidence")).tuples().all()
    assert sorted(looks) == [("insurer", "evidence", "api", case_id), ("insurer", "evidence", "page", case_id)]

    # A result recorded before the visit was asked for (migration 0041 leaves it without one) says so.
    with ctx.db.begin() as session:
        session.execute(update(SamplingResult).values(visited_on=None, met_member_id=None, signed_form=None,
                                                      evidence=None))
    assert "没有走访证据</span> 本控制启用前录入" in pages.get(f"/sampling/{round_id}").text
    assert "没有走访证据</span> 本控制启用前录入" in pages.get(f"/cases/{case_id}").text


def test_the_page_refuses_a_result_without_its_visit_in_chinese(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    round_id, (case_id, _) = _round(ctx, client, users)
    pages = Pages(client, users)
    pages.login("reviewer")
    before = _counts(ctx)
    r = pages.post(f"/sampling/{round_id}/results", {"case_id": case_id, "eligible": "yes",
                                                    "per_capita_income": "2666.67"},
                   files={"photos": ("", b"", "application/octet-stream")})
    assert r.status_code == 422
    for said in ("请填写县级复核人员入户走访的日期", "请填写走访时见到并签字的家庭成员", "请上传该家庭成员签字的复核记录"):
        assert said in r.text, said
    assert "required:" not in r.text and _counts(ctx) == before


def test_the_documented_body_is_taken_and_marked_as_a_result_without_a_visit(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """INTERFACE.md's body (case, figures, note) is what other systems send: it is still taken, and the result is
    marked wherever it is read (the round's report `without_visit`, its page, the case page), so a desk re-check is
    seen by the insurer, the auditor and the county, and it has no consequence for the household (no hold, recovery
    or supplement); the page's form asks for the visit."""
    round_id, (case_id, other) = _round(ctx, client, users)
    reviewer = users.headers("reviewer")
    # A deviation made up at the desk: taken, but it holds nothing and opens no recovery or supplement.
    r = client.post(f"/api/sampling-rounds/{round_id}/results", headers=reviewer, json={
        "case_id": case_id, "per_capita_income": "99999.00", "eligible": False})
    assert r.status_code == 201 and r.json()["deviation"] is True, r.text
    with ctx.db.read() as session:
        assert not session.scalars(select(AuditEntry).where(AuditEntry.action == "sampling.deviation_recorded")).all()
    with ctx.db.read() as session:
        row = session.get(SamplingResult, (round_id, case_id))
        assert row is not None and row.visited_on is None and row.signed_form is None and not row.evidence
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "sampling.result_recorded")
                                .order_by(AuditEntry.idx.desc())).first()
        assert entry is not None and b'"visited_on":null' in entry.entry.replace(b" ", b"")
    report = client.get(f"/api/sampling-rounds/{round_id}/report", headers=reviewer).json()
    # Not counted as re-checked: the verdict waits for the visit (tests/insider/test_verdict_from_the_desk.py)
    assert report["rechecked"] == 0 and report["without_visit"] == 1 and report["awaiting_visit"] == [case_id]
    pages = Pages(client, users)
    pages.login("insurer")
    html = pages.get(f"/sampling/{round_id}").text
    assert 'id="awaiting-visit"' in html and "没有走访证据</span> 经接口只报送了复核数据" in html
    assert "不计入本轮结论" in pages.get(f"/cases/{case_id}").text

    # With its visit, the other result is not counted among them.
    visit = visit_api(ctx, client, reviewer, round_id, other)
    r = _result(client, reviewer, round_id, other, **visit)
    assert r.status_code == 201, r.text
    report = client.get(f"/api/sampling-rounds/{round_id}/report", headers=reviewer).json()
    assert report["rechecked"] == 1 and report["without_visit"] == 1 and report["awaiting_visit"] == [case_id]
