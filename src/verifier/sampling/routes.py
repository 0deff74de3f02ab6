"""HTTP routes of the sampling stage: open a round, the parties' commitments, the freeze, the public value, the
reveals and pass-overs (the draw happens with the last input), re-check results, report and expansion.

Writes accept an `Idempotency-Key` header: a repeat gets the first answer and changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar

import hashlib

from litestar import Controller, Request, Response
from litestar.datastructures import UploadFile
from litestar.params import FromQuery, Parameter, QueryParameter
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..cases import hold_proposals, holds
from ..cases.workflow import load_case
from ..checks import evidence_files
from ..domain.errors import DomainError, NotFound, ValidationFailed
from ..http import Ctx, JSONBody, MultipartBody, get, post
from ..idempotency import idempotent
from ..peeks import record as peeks
from . import assessment, consequences, flow, service, visits
from .schemas import (
    CommitmentIn,
    ExpandOut,
    PassOverIn,
    PopulationOut,
    PublicValueEntryIn,
    RecheckEvidenceOut,
    ProposalAnswerIn,
    RedeterminationIn,
    ReportOut,
    ResultCorrectionIn,
    ResultIn,
    ResultOut,
    RevealIn,
    RoundCreated,
    RoundIn,
    RoundOpened,
    RoundOut,
    RoundPage,
    StepOut,
    VisitIn,
)

Id = Annotated[str, Parameter(max_length=40)]
AnyRequest = Request[Principal, Any, Any]
WRITERS = ("county_reviewer",)
PARTIES = ("county_reviewer", "insurer_supervisor")
READERS = ("county_reviewer", "insurer_supervisor", "auditor")


def visit_file_response(ctx: Any, user: Principal, round_id: str, case_id: str, sha256: str, *,
                        route: str = "api") -> Response[bytes]:
    """The bytes of a re-check's file, for a reader of the round (404 otherwise, or when the file is not there); the
    look recorded in a short write after the read (查阅留痕: when it cannot be, nothing is served)."""
    with ctx.db.read() as session:
        rnd = service.load_round(session, round_id, user)
        row = visits.file_of(session, rnd, case_id, sha256)
        case = load_case(session, case_id, user)
    content = evidence_files.read(ctx.settings.evidence_dir, ctx.vault, row.sha256)
    if content is None:
        raise NotFound("走访证据不存在，或不在您的权限范围内")
    with ctx.db.begin() as session:
        peeks.evidence(session, user, case, None, route=route, clock=ctx.clock)
    return Response(content=content, media_type=row.content_type,
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


class DrawWithdrawn(DomainError):
    status = 410


class SamplingController(Controller):
    path = "/api/sampling-rounds"
    tags: ClassVar[list[str]] = ["sampling"]

    @post("/", opt={"roles": WRITERS}, status_code=201)
    def create(self, data: JSONBody[RoundIn], ctx: Ctx, request: AnyRequest) -> Response[RoundOpened]:
        """Open a round for the parties' commitments; optionally name a value to be published after the freeze."""
        req = flow.RoundRequest(
            county_code=data.county_code, checked_from=data.checked_from, checked_to=data.checked_to,
            confidence=data.confidence, tolerable_rate=data.tolerable_rate, expected_rate=data.expected_rate,
            min_rate=data.min_rate, kind=data.kind, stratify_by_town=data.stratify_by_town,
            public_value_description=data.public_value.description if data.public_value else None,
            public_value_available_on=data.public_value.available_on if data.public_value else None,
        )
        return idempotent(ctx.db, request, lambda s: flow.opened_out(flow.open_round(
            s, req, principal=request.user, clock=ctx.clock)), body=data, status_code=201, clock=ctx.clock)

    @get("/", opt={"roles": READERS})
    def list_rounds(self, ctx: Ctx, request: AnyRequest, county_code: FromQuery[str | None] = None,
                    limit: Annotated[int, Parameter(ge=1, le=500)] = 50) -> RoundPage:
        with ctx.db.read() as session:
            return service.list_rounds(session, request.user, county_code=county_code, limit=limit)

    @get("/{round_id:str}", opt={"roles": READERS})
    def get_round(self, round_id: Id, ctx: Ctx, request: AnyRequest) -> RoundOut:
        with ctx.db.read() as session:
            return service.round_view(session, round_id, request.user)

    @get("/{round_id:str}/population", opt={"roles": READERS})
    def population(self, round_id: Id, ctx: Ctx, request: AnyRequest) -> PopulationOut:
        """The frozen population's sorted case ids: SHA-256 of them joined by newlines is the digest."""
        with ctx.db.read() as session:
            return service.population_view(session, round_id, request.user)

    @post("/{round_id:str}/commitments", opt={"roles": PARTIES}, status_code=201)
    def commit(self, round_id: Id, data: JSONBody[CommitmentIn], ctx: Ctx, request: AnyRequest) -> Response[StepOut]:
        """A party's commitment (hex SHA-256 of its secret's bytes): each party once, by its own role, while open."""
        return idempotent(ctx.db, request, lambda s: flow.commit(
            s, round_id, data.party, data.commitment, principal=request.user, clock=ctx.clock), body=data,
            status_code=201, clock=ctx.clock)

    @post("/{round_id:str}/freeze", opt={"roles": WRITERS}, status_code=200)
    def freeze(self, round_id: Id, ctx: Ctx, request: AnyRequest) -> RoundCreated:
        """Freeze the population and commit it to a signed checkpoint; refused (409) until both parties committed."""
        # The freezing transaction is the keyed write; the checkpoint follows its commit, and the answer is
        # rebuilt from the stored round, so a repeat with the same key answers the same round.
        idempotent(ctx.db, request, lambda s: {"id": flow.freeze(s, round_id, principal=request.user,
                                                                 clock=ctx.clock).id}, clock=ctx.clock)
        return flow.frozen_view(ctx.db, ctx.signer, round_id, principal=request.user, clock=ctx.clock)

    @post("/{round_id:str}/public-value", opt={"roles": PARTIES}, status_code=200)
    def public_value(self, round_id: Id, data: JSONBody[PublicValueEntryIn], ctx: Ctx,
                     request: AnyRequest) -> Response[StepOut]:
        """The value the round named, once published; entered before the secrets are revealed."""
        flow.ready_for_inputs(ctx.db, ctx.signer, round_id, principal=request.user, clock=ctx.clock)
        return idempotent(ctx.db, request, lambda s: flow.enter_public_value(
            s, round_id, data.value, principal=request.user, clock=ctx.clock), body=data, clock=ctx.clock)

    @post("/{round_id:str}/reveals", opt={"roles": PARTIES}, status_code=200)
    def reveal(self, round_id: Id, data: JSONBody[RevealIn], ctx: Ctx, request: AnyRequest) -> Response[StepOut]:
        """A party's secret (hex, at least 16 bytes), checked against its commitment; the last input draws."""
        flow.ready_for_inputs(ctx.db, ctx.signer, round_id, principal=request.user, clock=ctx.clock)
        return idempotent(ctx.db, request, lambda s: flow.reveal(
            s, round_id, data.party, data.secret, principal=request.user, clock=ctx.clock, vault=ctx.vault), body=data,
            clock=ctx.clock)

    @post("/{round_id:str}/pass-over", opt={"roles": PARTIES}, status_code=200)
    def pass_over(self, round_id: Id, data: JSONBody[PassOverIn], ctx: Ctx, request: AnyRequest) -> Response[StepOut]:
        """Proceed without a party that has not revealed by its deadline (the other party, after the deadline)."""
        flow.ready_for_inputs(ctx.db, ctx.signer, round_id, principal=request.user, clock=ctx.clock)
        return idempotent(ctx.db, request, lambda s: flow.pass_over(
            s, round_id, data.party, principal=request.user, clock=ctx.clock, vault=ctx.vault), body=data,
            clock=ctx.clock)

    @post("/{round_id:str}/draw", opt={"roles": WRITERS}, status_code=200)
    def draw(self, round_id: Id, ctx: Ctx, request: AnyRequest) -> None:
        """Withdrawn: one party choosing randomness after seeing the population can steer the sample."""
        raise DrawWithdrawn(
            "单方抽取已停用：看到总体后独自给出随机数的一方可以反复尝试，直到样本合其心意。请双方在冻结总体"
            "（POST .../freeze）之前各自提交承诺（POST .../commitments），冻结之后揭示（POST .../reveals），"
            "最后一方揭示后即抽取样本。")

    @post("/{round_id:str}/results", opt={"roles": WRITERS}, status_code=201)
    def results(self, round_id: Id, data: JSONBody[ResultIn], ctx: Ctx, request: AnyRequest) -> Response[ResultOut]:
        """Record the county's re-check of a sampled case; the system decides whether it deviates."""
        payload = service.ResultInput(case_id=data.case_id, per_capita_income=data.per_capita_income,
                                      eligible=data.eligible, relief_amount=data.relief_amount, note=data.note,
                                      visit=visits.api_visit(data.visited_on, data.met_member, data.signed_form,
                                                             data.evidence))
        return idempotent(ctx.db, request, lambda s: service.record_result(
            s, round_id, payload, principal=request.user, clock=ctx.clock), body=data, status_code=201, clock=ctx.clock)

    @post("/{round_id:str}/results/{case_id:str}/evidence", opt={"roles": WRITERS}, status_code=201)
    def upload_evidence(self, round_id: Id, case_id: Id, ctx: Ctx, request: AnyRequest,
                        data: MultipartBody[dict[str, UploadFile]]) -> Response[RecheckEvidenceOut]:
        """A file of the county's visit for the re-check of a sampled case (multipart field `file`): a photo taken
        there (its capture time is read) or the re-check record signed by the household member met."""
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed.one("file", "请以 multipart 表单字段 file 上传走访证据")
        content = upload.file.read(ctx.settings.max_upload_bytes + 1)

        def run(session: Session) -> RecheckEvidenceOut:
            rnd = service.load_round(session, round_id, request.user, for_update=True)
            row = visits.store(session, rnd, case_id, data=content, declared_type=upload.content_type,
                               evidence_dir=ctx.settings.evidence_dir, vault=ctx.vault,
                               max_bytes=ctx.settings.max_upload_bytes, principal=request.user, clock=ctx.clock)
            return RecheckEvidenceOut(sha256=row.sha256, size=row.size, content_type=row.content_type,
                                      captured_at=row.captured_at)

        sent = {"file_sha256": hashlib.sha256(content).hexdigest(), "content_type": upload.content_type or ""}
        return idempotent(ctx.db, request, run, body=sent, status_code=201, clock=ctx.clock)

    @post("/{round_id:str}/results/{case_id:str}/visit", opt={"roles": WRITERS}, status_code=200)
    def add_visit(self, round_id: Id, case_id: Id, data: JSONBody[VisitIn], ctx: Ctx,
                  request: AnyRequest) -> Response[ResultOut]:
        """Add the county's visit to a result taken without it (the figures-only body): only then does it count in
        the round's verdict and assessment, and a deviation have its consequence."""
        visit = visits.VisitInput(visited_on=data.visited_on, met_member=data.met_member,
                                  signed_form=data.signed_form, evidence=tuple(data.evidence))
        return idempotent(ctx.db, request, lambda s: service.add_visit(
            s, round_id, case_id, visit, principal=request.user, clock=ctx.clock), body=data, clock=ctx.clock)

    @get("/{round_id:str}/results/{case_id:str}/evidence/{sha256:str}", opt={"roles": READERS})
    def evidence_file(self, round_id: Id, case_id: Id, sha256: Annotated[str, Parameter(pattern=r"^[0-9a-f]{64}$")],
                      ctx: Ctx, request: AnyRequest) -> Response[bytes]:
        """A file of a re-check's visit, as uploaded (readers of the round: the county, the insurer, auditors)."""
        return visit_file_response(ctx, request.user, round_id, case_id, sha256)

    @post("/{round_id:str}/results/{case_id:str}/corrections", opt={"roles": WRITERS}, status_code=200)
    def correct(self, round_id: Id, case_id: Id, data: JSONBody[ResultCorrectionIn], ctx: Ctx,
                request: AnyRequest) -> Response[ResultOut]:
        """Correct a recorded re-check result with a reason, while the round's verdict is pending (409 after)."""
        payload = service.ResultInput(case_id=case_id, per_capita_income=data.per_capita_income,
                                      eligible=data.eligible, relief_amount=data.relief_amount, note=data.note)
        return idempotent(ctx.db, request, lambda s: service.correct_result(
            s, round_id, payload, reason=data.reason, principal=request.user, clock=ctx.clock), body=data,
            clock=ctx.clock)

    @get("/{round_id:str}/report", opt={"roles": READERS})
    def report(self, round_id: Id, ctx: Ctx, request: AnyRequest) -> ReportOut:
        with ctx.db.read() as session:
            return service.report(session, round_id, request.user)

    @get("/{round_id:str}/assessment", opt={"roles": READERS})
    def assessment(self, round_id: Id, ctx: Ctx, request: AnyRequest) -> dict[str, Any]:
        """The round's assessment record: cases re-checked, deviations by kind, amounts over and under, and what
        became of them (hold, recovery)."""
        with ctx.db.read() as session:
            return assessment.round_assessment(session, round_id, request.user)

    @post("/{round_id:str}/expand", opt={"roles": WRITERS}, status_code=200)
    def expand(self, round_id: Id, ctx: Ctx, request: AnyRequest) -> Response[ExpandOut]:
        """Widen a round whose verdict is expand: a next stage from the same frozen population and seed."""
        return idempotent(ctx.db, request, lambda s: service.expand(
            s, round_id, principal=request.user, clock=ctx.clock), clock=ctx.clock)


class AssessmentController(Controller):
    """The insurer's assessment record (考核) from its sampling rounds."""

    path = "/api/sampling-assessment"
    tags: ClassVar[list[str]] = ["sampling"]

    @get("/", opt={"roles": READERS})
    def summary(self, ctx: Ctx, request: AnyRequest, county_code: FromQuery[str],
                date_from: Annotated[date, QueryParameter(name="from")],
                date_to: Annotated[date, QueryParameter(name="to")]) -> dict[str, Any]:
        """The county's rounds drawn from `from` to `to` (both included), each with its record, and the totals."""
        with ctx.db.read() as session:
            return assessment.assessment_summary(session, county_code, date_from, date_to, request.user)


class HoldController(Controller):
    """Re-determining a case held after a sampling round found it deviating."""

    path = "/api/cases/{case_id:str}/redetermination"
    tags: ClassVar[list[str]] = ["sampling"]

    @post("/", opt={"roles": (holds.ROLE,)}, status_code=200)
    def redetermine(self, case_id: Id, data: JSONBody[RedeterminationIn], ctx: Ctx,
                    request: AnyRequest) -> Response[Any]:
        """`proceed` (optionally with a corrected relief) lifts the hold; `ineligible` ends the case."""
        return idempotent(ctx.db, request, lambda s: holds.redetermine(
            s, case_id, outcome=data.outcome, reason=data.reason, relief_amount=data.relief_amount,
            principal=request.user, clock=ctx.clock), body=data, clock=ctx.clock)

    @post("/proposal/confirm", opt={"roles": (hold_proposals.ROLE,)}, status_code=200)
    def confirm_proposal(self, case_id: Id, data: JSONBody[ProposalAnswerIn], ctx: Ctx,
                         request: AnyRequest) -> Response[Any]:
        """A county reviewer of the county confirms a re-determination against the county's finding, or raising the
        relief above the determination's on a re-check that found more: it takes effect. 409 when the proposal is no longer waiting; 403 for its proposer, the re-check's recorder, one who
        took part in the case's check, or an account linked to theirs."""
        return idempotent(ctx.db, request, lambda s: hold_proposals.confirm(
            s, case_id, data.proposal_id, reason=data.reason, principal=request.user, clock=ctx.clock),
            body=data, clock=ctx.clock)

    @post("/proposal/decline", opt={"roles": (hold_proposals.ROLE,)}, status_code=200)
    def decline_proposal(self, case_id: Id, data: JSONBody[ProposalAnswerIn], ctx: Ctx,
                         request: AnyRequest) -> Response[Any]:
        """Declines it, with a reason: the hold stays open. The same bars as confirming."""
        return idempotent(ctx.db, request, lambda s: hold_proposals.decline(
            s, case_id, data.proposal_id, reason=data.reason, principal=request.user, clock=ctx.clock),
            body=data, clock=ctx.clock)


    @post("/proposal/withdraw", opt={"roles": (holds.ROLE,)}, status_code=200)
    def withdraw_proposal(self, case_id: Id, data: JSONBody[ProposalAnswerIn], ctx: Ctx,
                          request: AnyRequest) -> Response[Any]:
        """An insurer supervisor withdraws the waiting proposal, with a reason: nothing changes, the hold stays open
        (a county whose only county reviewer recorded the re-check cannot answer it). 409 when no longer waiting."""
        return idempotent(ctx.db, request, lambda s: hold_proposals.withdraw(
            s, case_id, data.proposal_id, reason=data.reason, principal=request.user, clock=ctx.clock),
            body=data, clock=ctx.clock)


class SupplementController(Controller):
    """Confirming a supplementary payment a re-check opened: by a second county reviewer, before any batch pays it."""

    path = "/api/supplements"
    tags: ClassVar[list[str]] = ["sampling"]

    @post("/{supplement_id:str}/confirm", opt={"roles": (consequences.CONFIRMER,)}, status_code=200)
    def confirm(self, supplement_id: Id, ctx: Ctx, request: AnyRequest) -> Response[Any]:
        """403 for the reviewer whose re-check opened it, or one who took part in the case's check."""
        return idempotent(ctx.db, request, lambda s: consequences.confirm_supplement(
            s, supplement_id, principal=request.user, clock=ctx.clock), clock=ctx.clock)


ROUTES: list[Any] = [SamplingController, AssessmentController, HoldController, SupplementController]
