"""HTTP routes: evidence upload, the home check, the determination."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

import litestar
from litestar import Controller, Request, Response
from litestar.datastructures import UploadFile
from litestar.params import Parameter
from sqlalchemy.orm import Session

from ..accounts.probes import Limit
from ..accounts.auth import Principal
from ..cases.present import band_out
from ..cases.schemas import DeterminationOut, ReliefOut
from ..domain.errors import FieldError, ValidationFailed
from ..domain.income import HouseholdIncome, RigidExpenditure
from ..domain.money import format_yuan, parse_yuan
from ..http import DOCX, Ctx, JSONBody, MultipartBody, get, post
from ..idempotency import idempotent, write_once
from ..registers import service as registers
from . import attempts, bills, late_bills, review, service
from .schemas import (BillsIn, CheckIn, CheckRecorded, DeterminationIn, EvidenceOut, ReviewRequestIn, SendBackIn,
                      VisitAttemptIn)

Id = Annotated[str, Parameter(max_length=40)]


def _money_fields(obj: Any, prefix: str, names: tuple[str, ...], problems: list[FieldError]) -> dict[str, int]:
    out = {}
    for name in names:
        try:
            out[name] = parse_yuan(getattr(obj, name), f"{prefix}.{name}")
        except ValidationFailed as exc:
            problems.extend(exc.errors)
            out[name] = 0
    return out


def check_input(data: JSONBody[CheckIn]) -> service.CheckInput:
    problems: list[FieldError] = []
    income = _money_fields(data.income, "income", ("wages", "business_net", "property_net", "transfer_net",
                                                   "productive_costs"), problems)
    rigid = _money_fields(data.rigid_expenditure, "rigid_expenditure", ("medical_self_paid", "schooling",
                                                                        "disaster_loss", "other_rigid"), problems)
    if problems:
        raise ValidationFailed(problems)
    return service.CheckInput(
        visited_on=data.visited_on, officers=list(data.officers),
        members=[{"name": m.name, "id_number": m.id_number, "relation": m.relation, "labour": m.labour} for m in data.members],
        income=HouseholdIncome(**income), rigid=RigidExpenditure(**rigid), stable_income=data.stable_income,
        payee=None if data.payee is None else {"account_name": data.payee.account_name, "bank": data.payee.bank,
                                               "account_number": data.payee.account_number},
        cross_checks=[{"source": c.source, "finding": c.finding, "note": c.note} for c in data.cross_checks],
        evidence=list(data.evidence), note=data.note,
        bills=[{"kind": b.kind, "issuer": b.issuer, "number": b.number, "amount": b.amount} for b in data.bills],
        late_entry_reason=data.late_entry_reason,
    )


def check_recorder(ctx: Any, case_id: str, payload: service.CheckInput,
                   principal: Principal | service.Admission) -> Callable[[Session], CheckRecorded]:
    """The write of `POST /api/cases/{id}/check` (the route's and its shortcut's, checks/shortcut.py, whose caller
    is looked up with the check's first reads on PostgreSQL: `service.Admission`)."""
    def run(session: Session) -> CheckRecorded:
        # No word about the payee account here: a shared account's warning is read by `GET /api/cases/{id}` and
        # the pages (payments/one_account.py `case_warning`), not on this write.
        check = service.record_check(session, case_id, payload, vault=ctx.vault, principal=principal, clock=ctx.clock,
                                     lookups=Limit.of(ctx.settings))
        return CheckRecorded(id=check.id, case_id=case_id, seq=check.seq, status="checked")

    return run


def assessment_out(a: service.Assessment, confirmed: bool, session: Session | None = None) -> DeterminationOut:
    q = a.quote
    breakdown = [] if q is None else [
        band_out({"from": line.from_, "to": line.to, "rate": str(line.rate), "base": line.base, "amount": line.amount})
        for line in q.breakdown]
    return DeterminationOut(
        eligible=a.eligibility.eligible, rule=a.eligibility.rule,
        per_capita_income=format_yuan(a.eligibility.per_capita_income),
        relief=ReliefOut(amount=format_yuan(q.amount if q else 0), breakdown=breakdown, capped=bool(q and q.capped),
                         cap=None if q is None or q.cap is None else format_yuan(q.cap), basis=format_yuan(a.basis),
                         already_paid=format_yuan(q.already_paid if q else 0)),
        reason=a.eligibility.reason, contract_hash=a.contract.content_hash, confirmed=confirmed, check_id=a.check.id,
        bills=[] if session is None else [{**b, "amount": format_yuan(b["amount"])}
                                          for b in bills.shown(session, a.case, a.check)],
        evidence_elsewhere=[] if session is None else bills.evidence_elsewhere(session, a.case, a.check),
        unbilled=[{"field": s.field, "claimed": format_yuan(s.claimed), "billed": format_yuan(s.billed),
                   "missing": format_yuan(s.missing)} for s in a.shortfalls],
        rests_on_unbilled=a.rests_on_unbilled,
    )


class CheckController(Controller):
    path = "/api/cases/{case_id:str}"
    tags = ["checks"]

    @post("/evidence", opt={"roles": ("field_officer",)}, status_code=201)
    def upload_evidence(
        self, case_id: Id, ctx: Ctx, request: Request[Principal, Any, Any],
        data: MultipartBody[dict[str, UploadFile]],
    ) -> Response[EvidenceOut]:
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed.one("file", "请以 multipart 表单字段 file 上传证明材料")
        content = upload.file.read(ctx.settings.max_upload_bytes + 1)
        def run(session: Session) -> EvidenceOut:
            ev = service.store_evidence(session, case_id, data=content, declared_type=upload.content_type,
                                        evidence_dir=ctx.settings.evidence_dir, vault=ctx.vault,
                                        max_bytes=ctx.settings.max_upload_bytes,
                                        principal=request.user, clock=ctx.clock)
            return EvidenceOut(sha256=ev.sha256, size=ev.size, content_type=ev.content_type)

        # A repeat is the same file with the same declared type (the upload object itself is not the request).
        sent = {"file_sha256": hashlib.sha256(content).hexdigest(), "content_type": upload.content_type or ""}
        return idempotent(ctx.db, request, run, body=sent, status_code=201, clock=ctx.clock)

    @litestar.post("/check", opt={"roles": ("field_officer",)}, status_code=201)
    async def record_check(self, case_id: Id, data: JSONBody[CheckIn], ctx: Ctx,
                           request: Request[Principal, Any, Any]) -> Response[CheckRecorded]:
        """A short write: on SQLite run on the event loop (`Database.write`), without a hand-off to a worker thread."""
        run = check_recorder(ctx, case_id, check_input(data), request.user)
        return await write_once(ctx.db, request, run, body=data, status_code=201, clock=ctx.clock)

    @post("/check/bills", opt={"roles": ("field_officer",)}, status_code=201)
    def add_bills(self, case_id: Id, data: JSONBody[BillsIn], ctx: Ctx,
                  request: Request[Principal, Any, Any]) -> Response[dict[str, Any]]:
        """Bills added to the recorded check before its determination, by one of its two officers."""
        def run(session: Session) -> dict[str, Any]:
            listed = late_bills.add_bills(session, case_id, [
                {"kind": b.kind, "issuer": b.issuer, "number": b.number, "amount": b.amount} for b in data.bills],
                principal=request.user, clock=ctx.clock)
            return {"case_id": case_id, "bills": [{"kind": b.kind, "issuer": b.issuer, "number": b.number,
                                                   "amount": format_yuan(b.amount)} for b in listed]}

        return idempotent(ctx.db, request, run, body=data, status_code=201, clock=ctx.clock)

    @post("/visit-attempts", opt={"roles": ("field_officer",)}, status_code=201)
    def record_visit_attempt(self, case_id: Id, data: JSONBody[VisitAttemptIn], ctx: Ctx,
                             request: Request[Principal, Any, Any]) -> Response[dict[str, Any]]:
        """A visit that produced no check (nobody home, refused, moved away): the case is to be scheduled again."""
        def run(session: Session) -> dict[str, Any]:
            a = attempts.record_attempt(session, case_id, attempts.AttemptInput(
                visited_on=data.visited_on, officers=list(data.officers), outcome=data.outcome, note=data.note,
                late_entry_reason=data.late_entry_reason, evidence=list(data.evidence)),
                principal=request.user, clock=ctx.clock)
            return {"id": a.id, "case_id": case_id, "visited_on": a.visited_on.isoformat(), "outcome": a.outcome,
                    "status": "screened"}

        return idempotent(ctx.db, request, run, body=data, status_code=201, clock=ctx.clock)

    @get("/result-letter", opt={"roles": ("town_clerk", "insurer_supervisor", "county_reviewer")}, media_type=DOCX)
    def result_letter(self, case_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> Response[bytes]:
        """The letter telling an ineligible household the decision, the reason and how to ask for a review (.docx)."""
        with ctx.db.read() as session:
            content = review.result_letter(session, case_id, principal=request.user, clock=ctx.clock)
        disposition = (f"attachment; filename=\"result-{case_id}.docx\"; "
                       f"filename*=UTF-8''{quote('认定结果告知书-' + case_id + '.docx')}")
        return Response(content=content, media_type=DOCX, headers={"Content-Disposition": disposition})

    @post("/review-request", opt={"roles": ("town_clerk",)}, status_code=201)
    def review_request(self, case_id: Id, data: JSONBody[ReviewRequestIn], ctx: Ctx,
                       request: Request[Principal, Any, Any]) -> Response[dict[str, Any]]:
        """The household asks for a review of an ineligible decision: the case is checked again by other officers."""
        def run(session: Session) -> dict[str, Any]:
            r = review.request_review(session, case_id, received_on=data.received_on, summary=data.summary,
                                      principal=request.user, clock=ctx.clock)
            return {"id": r.id, "case_id": case_id, "received_on": r.received_on.isoformat(),
                    "determination_id": r.determination_id, "status": "screened"}

        return idempotent(ctx.db, request, run, body=data, status_code=201, clock=ctx.clock)

    @post("/send-back", opt={"roles": ("insurer_supervisor",)}, status_code=200)
    def send_back(self, case_id: Id, data: JSONBody[SendBackIn], ctx: Ctx,
                  request: Request[Principal, Any, Any]) -> Response[dict[str, Any]]:
        """Send the latest check back for another visit, with a reason: the case is to be scheduled again (its
        officers may not make the next visit; the sender may not confirm the next determination)."""
        def run(session: Session) -> dict[str, Any]:
            check = service.send_back(session, case_id, reason=data.reason, principal=request.user, clock=ctx.clock)
            return {"case_id": case_id, "check_id": check.id, "status": "screened", "reason": check.sent_back_reason}

        return idempotent(ctx.db, request, run, body=data, status_code=200, clock=ctx.clock)

    @post("/determination", opt={"roles": ("insurer_supervisor",)}, status_code=200)
    def determination(self, case_id: Id, data: JSONBody[DeterminationIn], ctx: Ctx,
                      request: Request[Principal, Any, Any]) -> Response[DeterminationOut]:
        with ctx.db.begin() as session:  # registers imported since the check: their findings stay, confirmed or not
            registers.rematch_case(session, case_id, principal=request.user, clock=ctx.clock)

        def run(session: Session) -> DeterminationOut:
            a = service.determine(session, case_id, confirm=data.confirm, principal=request.user, clock=ctx.clock)
            return assessment_out(a, data.confirm, session)

        return idempotent(ctx.db, request, run, body=data, status_code=200, clock=ctx.clock)
