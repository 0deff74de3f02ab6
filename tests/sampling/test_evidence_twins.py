"""The same file uploaded twice at once (two taps, two devices, one desk photo offered for two re-checks), each writer
with its own `Database`: both look for the file's row before either writes (race_kit). The unique hash lets one row
in; the other upload answers as if it had come second (the check's: the row already there; a re-check's: refused
as another re-check's file, 422), not a 500. The row is written before the file, so the upload that lost writes no
sealed file of its own: every file on disk is named by a row."""

from __future__ import annotations

import hashlib

from factories import COUNTY, count_rows, free_team, make_case, staff
from race_kit import race_twice
from recheck_kit import dated_photo

from verifier.accounts.auth import principal_of
from verifier.audit.models import AuditEntry
from verifier.checks import evidence_files
from verifier.checks import service as checks
from verifier.domain.errors import ValidationFailed
from verifier.sampling import service as sampling_service
from verifier.sampling import visits
from verifier.sampling.models import RecheckEvidence
from verifier.store.tables import Evidence, User


def _files(ctx) -> list[str]:  # type: ignore[no-untyped-def]
    root = ctx.settings.evidence_dir
    return sorted(p.name for p in root.glob("??/*") if len(p.name) == 64) if root.is_dir() else []


def _drawn_round(client, reviewer, insurer, day: str, secrets: tuple[str, str]) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """A round drawn over the checks of `day` (every one sampled)."""
    r = client.post("/api/sampling-rounds", headers=reviewer, json={
        "county_code": COUNTY, "checked_from": day, "checked_to": day, "min_rate": "1.00",
        "stratify_by_town": False})
    assert r.status_code == 201, r.text
    round_id = r.json()["id"]
    for party, secret, headers in (("county", secrets[0], reviewer), ("insurer", secrets[1], insurer)):
        r = client.post(f"/api/sampling-rounds/{round_id}/commitments", headers=headers, json={
            "party": party, "commitment": hashlib.sha256(bytes.fromhex(secret)).hexdigest()})
        assert r.status_code == 201, r.text
    r = client.post(f"/api/sampling-rounds/{round_id}/freeze", headers=reviewer)
    assert r.status_code == 200, r.text
    for party, secret, headers in (("county", secrets[0], reviewer), ("insurer", secrets[1], insurer)):
        r = client.post(f"/api/sampling-rounds/{round_id}/reveals", headers=headers,
                        json={"party": party, "secret": secret})
        assert r.status_code == 200, r.text
    return round_id, r.json()["case_ids"]


def test_one_desk_photo_for_two_rechecks_at_once(ctx, client, users, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    reviewer_h, insurer_h = users.headers("reviewer"), users.headers("insurer")
    cases = [make_case(ctx, stage="checked")]  # two rounds, of the checks of two days
    first, sampled = _drawn_round(client, reviewer_h, insurer_h, ctx.clock.today().isoformat(), ("11" * 32, "22" * 32))
    ctx.clock.advance(days=1)
    cases.append(make_case(ctx, stage="checked"))
    second, sampled_too = _drawn_round(client, reviewer_h, insurer_h, ctx.clock.today().isoformat(),
                                       ("33" * 32, "44" * 32))
    assert cases[0] in sampled and cases[1] in sampled_too
    with ctx.db.read() as session:
        reviewer = principal_of(session.get(User, users.ids["reviewer"]))
    desk = dated_photo(f"{ctx.clock.today():%Y:%m:%d} 09:00:00")
    sha = hashlib.sha256(desk).hexdigest()
    targets = iter([(first, cases[0]), (second, cases[1])])
    written: list[str] = []
    real_store = evidence_files.store
    monkeypatch.setattr(evidence_files, "store", lambda d, v, data, h: written.append(h) or real_store(d, v, data, h))

    def upload(db):  # type: ignore[no-untyped-def]
        round_id, case_id = next(targets)
        try:
            with db.begin() as session:
                rnd = sampling_service.load_round(session, round_id, reviewer, for_update=True)
                row = visits.store(session, rnd, case_id, data=desk, declared_type="image/jpeg",
                                   evidence_dir=ctx.settings.evidence_dir, vault=ctx.vault,
                                   max_bytes=ctx.settings.max_upload_bytes, principal=reviewer, clock=ctx.clock)
                return ("stored", row.round_id, row.case_id)
        except ValidationFailed as refused:
            return ("refused", refused.errors[0].message)

    answers = race_twice(monkeypatch, visits, "stored", ctx.db.url, upload)
    assert sorted(a[0] for a in answers) == ["refused", "stored"], answers
    assert ("refused", visits.ANOTHER_RECHECK) in answers
    assert count_rows(ctx, RecheckEvidence) == 1
    assert count_rows(ctx, AuditEntry, AuditEntry.action == visits.UPLOADED) == 1
    assert written == [sha] and _files(ctx) == [sha]  # the upload that lost wrote no file


def test_one_photo_sent_twice_at_once_for_a_check(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    team = free_team(ctx)
    case_id = make_case(ctx, stage="scheduled", team=team)
    officer = staff(ctx, COUNTY, team).officer1
    photo = dated_photo(f"{ctx.clock.today():%Y:%m:%d} 09:00:00")
    sha = hashlib.sha256(photo).hexdigest()
    before = count_rows(ctx, AuditEntry, AuditEntry.action == "evidence.upload")

    def upload(db):  # type: ignore[no-untyped-def]
        with db.begin() as session:
            ev = checks.store_evidence(session, case_id, data=photo, declared_type="image/jpeg",
                                       evidence_dir=ctx.settings.evidence_dir, max_bytes=ctx.settings.max_upload_bytes,
                                       principal=officer, clock=ctx.clock, vault=ctx.vault)
            return ev.id

    answers = race_twice(monkeypatch, checks, "stored_evidence", ctx.db.url, upload)
    assert len(answers) == 2 and answers[0] == answers[1], answers  # both answer the one row
    assert count_rows(ctx, Evidence, Evidence.case_id == case_id, Evidence.sha256 == sha) == 1
    assert count_rows(ctx, AuditEntry, AuditEntry.action == "evidence.upload") == before + 1
    assert sha in _files(ctx)
    assert evidence_files.read(ctx.settings.evidence_dir, ctx.vault, sha) == photo
