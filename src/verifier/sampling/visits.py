"""The county's visit behind a re-check result (复核走访证据).

A re-check result is the county's word against the insurer's; without evidence one reviewer could write "the
insurer's result stands" for every sampled case from the desk, or invent deviations. So a result carries what a
check carries: the day of the visit, the household member met, the re-check record that member signed (a photo or a
scan), and at least one photo whose camera capture time falls on the visit day. The files are uploaded for the
re-check of that sampled case (`POST /api/sampling-rounds/{id}/results/{case_id}/evidence`, like a check's
`POST /api/cases/{id}/evidence`), sealed at rest by `checks/evidence_files.py`, their capture time read by
`checks/photo_exif.py`. A file is the evidence of one re-check only, and never a file of the insurer's own check.

What it does not prove: a camera's clock can be set and a signature imitated. The files are kept and shown to the
insurer (who reads the round's page) and on the case page, so a desk re-check leaves something to contest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, String, cast, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..checks import evidence_files
from ..checks.service import _captured_at, accepted_file  # a file read as a check's evidence is
from ..clock import Clock
from ..domain.errors import FieldError, InvalidState, NotFound, ValidationFailed
from ..domain.photo_times import as_scheme_time, received_on, taken_on
from ..domain.scheme_calendar import SCHEME_TZ
from ..store.base import new_id
from ..store.tables import Case, Evidence, Member
from ..store.vault import Vault
from . import independence
from .models import RecheckEvidence, SamplingItem, SamplingResult, SamplingRound

UPLOADED = "sampling.recheck_evidence_uploaded"
ROLE = "county_reviewer"

VISIT_DAY_REQUIRED = "请填写县级复核人员入户走访的日期"
MEMBER_REQUIRED = "请填写走访时见到并签字的家庭成员"
NOT_A_MEMBER = "不是该户的家庭成员"
SIGNED_FORM_REQUIRED = "请上传该家庭成员签字的复核记录（照片或 PDF 扫描件）"
NOT_UPLOADED = "该文件不是为本次复核上传的"
PHOTO_REQUIRED = ("须至少有一张走访当天拍摄的照片（以照片里相机写入的拍摄时间为准，且上传日期不早于该日；截图或删除了拍摄信息的照片"
                  "不算）")
INSURERS_FILE = "该文件是保险公司核查时上传的证据：复核须有县级自己走访的照片和记录"
ANOTHER_RECHECK = "该文件已是另一户复核的证据：每户须有自己的走访照片和记录"
NOT_DRAWN = "本轮样本尚未抽取。"
NOT_SAMPLED = "该案件不在本轮样本中"
RECORDED_ALREADY = "该案件的复核结果已录入。"

@dataclass(frozen=True)
class VisitInput:
    visited_on: date | None = None
    met_member: str | None = None  # the member's name as the household's record has it
    signed_form: str | None = None  # sha256 of an upload of this re-check
    evidence: tuple[str, ...] = ()  # sha256 of uploads of this re-check (the visit's photos)


def _sampled(session: Session, rnd: SamplingRound, case_id: str) -> None:
    if rnd.status != "drawn":
        raise InvalidState(NOT_DRAWN)
    if session.get(SamplingItem, (rnd.id, case_id)) is None:
        raise ValidationFailed.one("case_id", NOT_SAMPLED)


def stored(session: Session, sha256: str) -> RecheckEvidence | None:
    """The re-check file of this hash already stored (a file is the evidence of one re-check only)."""
    return session.scalar(select(RecheckEvidence).where(RecheckEvidence.sha256 == sha256))


def store(session: Session, rnd: SamplingRound, case_id: str, *, data: bytes, declared_type: str | None,
          evidence_dir: Path, vault: Vault, max_bytes: int, principal: Principal, clock: Clock) -> RecheckEvidence:
    """A file of the re-check of a sampled case (the round is loaded, locked and in the caller's counties)."""
    _sampled(session, rnd, case_id)
    independence.require_independent(session, case_id, principal, clock)
    recorded = session.get(SamplingResult, (rnd.id, case_id))
    if recorded is not None and not awaiting_visit(recorded):  # a result without its visit takes the visit's files
        raise InvalidState(RECORDED_ALREADY)
    actual, sha = accepted_file(data, declared_type, max_bytes)
    existing = stored(session, sha)
    if existing is None and session.scalar(select(Evidence.id).where(Evidence.sha256 == sha).limit(1)) is not None:
        raise ValidationFailed.one("file", INSURERS_FILE)
    row = None
    if existing is None:
        captured = _captured_at(data, actual)
        row = RecheckEvidence(id=new_id("rev"), round_id=rnd.id, case_id=case_id, sha256=sha, size=len(data),
                              content_type=actual, captured_at=captured, uploaded_by=principal.id,
                              uploaded_at=clock.now())
        # The row first, the file after: an upload that loses a race on the unique hash (the same file sent for
        # another round's re-check at the same moment) writes no file, and answers as if it had come second.
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            row, existing = None, stored(session, sha)
            if existing is None:
                raise
    if existing is not None:
        if (existing.round_id, existing.case_id) == (rnd.id, case_id):
            return existing  # sent again
        raise ValidationFailed.one("file", ANOTHER_RECHECK)
    assert row is not None
    # Sealed at rest under its hash's name; a file left by a transaction that then failed to commit is reused
    # (never served: only a row names a file) by the next upload of the same bytes.
    evidence_files.store(evidence_dir, vault, data, sha)
    captured = row.captured_at
    audit.append(session, actor=principal.id, role=principal.acting_role((ROLE,)), action=UPLOADED, subject=rnd.id,
                 contract_hash=rnd.contract_hash, clock=clock,
                 payload={"case_id": case_id, "sha256": sha, "size": len(data), "content_type": actual,
                          **({"captured_at": captured} if captured else {})})
    return row


def api_visit(visited_on: date | None, met_member: str | None, signed_form: str | None,
              evidence: list[str] | tuple[str, ...]) -> VisitInput | None:
    """The visit an API body names; None when it names none of it: the documented body (INTERFACE.md: case, figures,
    note) is still taken, and its result is recorded and shown as one without the county's visit. A body naming any
    part of a visit has the whole of it checked (`require_visit`)."""
    if visited_on is None and not (met_member or "").strip() and not signed_form and not evidence:
        return None
    return VisitInput(visited_on=visited_on, met_member=met_member, signed_form=signed_form, evidence=tuple(evidence))


NO_VISIT: dict[str, Any] = {"visited_on": None, "met_member_id": None, "signed_form": None, "evidence": []}


def awaiting_visit(row: SamplingResult) -> bool:
    """A result taken without the county's visit under this control (the API's documented figures-only body): it is
    shown and kept, but it counts in no verdict and no assessment until its visit is added (`add_visit`), so one
    reviewer cannot steer a round's verdict from the desk. A result recorded before the control (migration 0041 left
    its `evidence` NULL, where one taken since has `[]`) counts as it did when it was recorded."""
    return row.visited_on is None and row.evidence is not None


def figures_typed_on(row: SamplingResult) -> date:
    """The day (Asia/Shanghai) a result's figures were last typed: its correction's, else its recording's."""
    return (row.corrected_at or row.recorded_at).astimezone(SCHEME_TZ).date()


def counts_in_verdict_sql() -> ColumnElement[bool]:
    """`not awaiting_visit(row)` as SQL, the one form every count of results uses (the round's report and
    assessment read the rows; the dashboard's bar and its case list, the monthly report's deviations and theirs
    count in SQL): visited, or recorded before the control. The column is JSON: a NULL written by the migration is
    SQL NULL, one written through the ORM is JSON `null`; both are "before the control"."""
    return or_(SamplingResult.visited_on.is_not(None), SamplingResult.evidence.is_(None),
               cast(SamplingResult.evidence, String) == "null")


def require_visit(session: Session, rnd: SamplingRound, case: Case, visit: VisitInput, today: date, *,
                  figures_typed: date | None = None) -> dict[str, Any]:
    """The visit's evidence checked (every problem at once, 422): the day, the member met, the signed record, a photo
    taken that day. Returns what the result keeps and its audit entry records. `figures_typed`: for a visit added to
    a result recorded without it, the day its figures were typed; the visit may not come after it (figures typed at
    the desk before anyone went out are not the visit's)."""
    problems: list[FieldError] = []
    uploads = {r.sha256: r for r in session.scalars(select(RecheckEvidence).where(
        RecheckEvidence.round_id == rnd.id, RecheckEvidence.case_id == case.id))}
    day = visit.visited_on
    if day is None:
        problems.append(FieldError("visited_on", VISIT_DAY_REQUIRED))
    elif day > today:
        problems.append(FieldError("visited_on", "不能晚于今天"))
    elif figures_typed is not None and day > figures_typed:
        problems.append(FieldError("visited_on", f"晚于复核数据录入日期（{figures_typed.isoformat()}）：走访前在办公室录入的"
                                                 "数据不算走访结果，请先按走访所得更正复核结果，再补录走访证据"))
    elif rnd.drawn_at is not None and day < rnd.drawn_at.astimezone(SCHEME_TZ).date():
        problems.append(FieldError("visited_on", f"早于样本抽取日期（{rnd.drawn_at.astimezone(SCHEME_TZ).date().isoformat()}）："
                                                 "当时该户尚未被抽中"))
    member_id = None
    name = (visit.met_member or "").strip()
    if not name:
        problems.append(FieldError("met_member", MEMBER_REQUIRED))
    else:
        member_id = session.scalar(select(Member.id).where(Member.household_id == case.household_id,
                                                           Member.name == name).order_by(Member.id).limit(1))
        if member_id is None:
            problems.append(FieldError("met_member", NOT_A_MEMBER))
    if not visit.signed_form:
        problems.append(FieldError("signed_form", SIGNED_FORM_REQUIRED))
    elif visit.signed_form not in uploads:
        problems.append(FieldError("signed_form", NOT_UPLOADED))
    photos = list(dict.fromkeys(visit.evidence))
    problems += [FieldError(f"evidence[{i}]", NOT_UPLOADED) for i, h in enumerate(photos) if h not in uploads]
    files = [h for h in dict.fromkeys([*photos, *([visit.signed_form] if visit.signed_form else [])]) if h in uploads]
    # a photo of the visit's day, received by the server no earlier than that day (a camera day after the upload is
    # a clock set forward: it proves no visit on that day)
    dated = [h for h in files if uploads[h].content_type.startswith("image/")
             and day is not None and taken_on(uploads[h].captured_at) == day
             and received_on(uploads[h].uploaded_at) >= day]
    if not dated and not any(p.field == "visited_on" for p in problems):
        problems.append(FieldError("evidence", PHOTO_REQUIRED))
    if problems:
        raise ValidationFailed(problems)
    assert day is not None and visit.signed_form is not None
    return {"visited_on": day, "met_member_id": member_id, "signed_form": visit.signed_form,
            "evidence": [h for h in photos if h != visit.signed_form],
            "photos_on_the_day": len(dated)}


def visit_of(session: Session, results: list[SamplingResult]) -> dict[str, dict[str, Any]]:
    """What the pages show of each result's visit, by case id: the day, the member met, the signed record and the
    photos with their capture times (in Asia/Shanghai), or `recorded_before` for a result without the county's visit
    (recorded before the evidence was asked for, or sent through the API's documented body without it)."""
    if not results:
        return {}
    keys = {(r.round_id, r.case_id) for r in results}
    rows = [e for e in session.scalars(select(RecheckEvidence).where(
        RecheckEvidence.case_id.in_({r.case_id for r in results}))) if (e.round_id, e.case_id) in keys]
    files = {e.sha256: e for e in rows}
    members = dict(session.execute(select(Member.id, Member.name).where(
        Member.id.in_({r.met_member_id for r in results if r.met_member_id}))).tuples().all())
    out: dict[str, dict[str, Any]] = {}
    for r in results:
        if r.visited_on is None:
            out[r.case_id] = {"recorded_before": True, "awaiting": awaiting_visit(r)}
            continue

        def shown(sha: str) -> dict[str, Any]:
            e = files.get(sha)
            taken = None
            if e is not None and e.captured_at:
                try:
                    taken = as_scheme_time(datetime.fromisoformat(e.captured_at))
                except ValueError:
                    taken = None
            return {"sha256": sha, "content_type": e.content_type if e else "", "taken_at": taken,
                    "on_the_day": taken is not None and taken.date() == r.visited_on,
                    # the camera's day later than the server's day of receipt: a clock set forward (require_visit
                    # does not count such a photo)
                    "sent_before_taken": e is not None and taken is not None
                    and taken.date() > received_on(e.uploaded_at),
                    "href": f"/sampling/{r.round_id}/results/{r.case_id}/evidence/{sha}"}

        out[r.case_id] = {"recorded_before": False, "awaiting": False, "round_id": r.round_id, "visited_on": r.visited_on,
                          "met_member": members.get(r.met_member_id or "", ""),
                          "signed_form": shown(r.signed_form) if r.signed_form else None,
                          "photos": [shown(h) for h in (r.evidence or [])]}
    return out


def file_of(session: Session, rnd: SamplingRound, case_id: str, sha256: str) -> RecheckEvidence:
    row = session.scalar(select(RecheckEvidence).where(RecheckEvidence.round_id == rnd.id,
                                                       RecheckEvidence.case_id == case_id,
                                                       RecheckEvidence.sha256 == sha256))
    if row is None:
        raise NotFound("要找的内容不存在，或不在您的权限范围内")
    return row
