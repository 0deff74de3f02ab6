"""The county's acceptance of a loaded contract.

A contract is loaded by whoever holds the server's shell (`verifier contracts add`, `verifier init`): the insurer's
administrator, as often as not. So a loaded contract is `pending` (待县审核确认) and prices nothing, opens no sampling
round and signs off nothing (`store.contracts.require_accepted`) until a county reviewer of every county it covers
has accepted it, having seen its id, title, period, counties, SHA-256 (to compare with the signed paper contract) and
its figures in Chinese (`contract_terms_zh.terms_zh`). One refusal, with a reason, and it never comes into force. A county's
answer is given once: an accepted contract cannot be un-accepted. Each answer is an audit entry in its transaction.

A county answers through a reviewer limited to it: a reviewer without a county limit (a city's, `--all-counties`)
reads every contract but answers for no county, or one person would bring a contract of every county into force with
one click. And a contract of several counties comes into force only with the acceptances of at least two persons: a
reviewer limited to several of its counties answers for some of them (`county_codes`), never for all of them alone.
A county without a reviewer limited to it is named on the contract's page: its contract waits until one is set up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..accounts.service import display_names
from ..audit import log as audit
from ..clock import Clock
from ..contract import Contract
from ..contract_terms_zh import ContractTerms, terms_zh
from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..referrals.service import contract_problem
from ..store import contracts as contract_store
from ..store.contracts import ACCEPTED, PENDING, REFUSED
from ..store.tables import Case, ContractDecision, ContractRow, Determination, Referral, User

REVIEWER = "county_reviewer"
STATUS_ZH = {PENDING: "待县审核确认", ACCEPTED: "已确认生效", REFUSED: "县审核拒绝，不生效"}
DECISION_ZH = {"accepted": "已确认", "refused": "拒绝确认", "before_control": "本控制启用前已载入，视为已确认",
               None: "待确认"}
REASON_MAX = 1000


@dataclass(frozen=True)
class CountyAnswer:
    county_code: str
    county_name: str
    decision: str | None  # accepted, refused, before_control; None: not yet answered
    decision_zh: str
    decided_by: str  # a display name ("" when nobody: not yet, or before the control existed)
    decided_at: datetime | None
    reason: str


@dataclass(frozen=True)
class ContractReview:
    """A contract as the county reviews it."""

    id: str
    title: str
    start: str
    end: str
    content_hash: str
    status: str
    status_zh: str
    loaded_at: datetime
    counties: list[CountyAnswer]
    terms: ContractTerms
    answerable: list[str]  # the counties the reader may still answer for (their own, pending, not yet answered)
    # Why the reader, a county reviewer, answers for none or not all of the counties still open (Chinese; "" if none).
    answer_note: str = ""
    # Counties with no active county reviewer limited to them (their answer cannot be given until one is set up).
    unreviewed: tuple[str, ...] = ()


def _visible(row: ContractRow, principal: Principal) -> bool:
    return any(principal.may_see_county(c) for c in row.county_codes)


UNLIMITED_ZH = ("您的账户不限县（区）：服务合同须由所覆盖每个县（区）限于本县（区）的县级复核员确认，不限县（区）的复核员"
                "可以查看，但不能代表县（区）确认或拒绝")


def _alone_zh(row: ContractRow) -> str:
    return (f"服务合同 {row.id} 覆盖 {len(row.county_codes)} 个县（区），须至少两名县级复核员确认才生效，不能由一人确认全部"
            "县（区）：请只代表其中一部分县（区）确认，其余由另一名限于该县（区）的县级复核员确认")


def _reviewed_counties(session: Session, codes: list[str]) -> set[str]:
    """Those of `codes` that an active county reviewer limited to them could answer for."""
    found: set[str] = set()
    for roles, counties in session.execute(select(User.roles, User.counties).where(User.active.is_(True))):
        if REVIEWER in (roles or ()):
            found.update(c for c in (counties or ()) if c in codes)
    return found


def _review(session: Session, row: ContractRow, contract: Contract, principal: Principal) -> ContractReview:
    decisions = {d.county_code: d for d in session.scalars(
        select(ContractDecision).where(ContractDecision.contract_id == row.id))}
    names = display_names(session, {d.decided_by for d in decisions.values() if d.decided_by})
    counties = []
    for code in row.county_codes:
        d = decisions.get(code)
        counties.append(CountyAnswer(
            county_code=code, county_name=contract.county_name(code) or code,
            decision=d.decision if d else None, decision_zh=DECISION_ZH[d.decision if d else None],
            decided_by=names.get(d.decided_by or "", "") if d else "", decided_at=d.decided_at if d else None,
            reason=(d.reason or "") if d else ""))
    still = [c for c in row.county_codes if c not in decisions]
    answerable: list[str] = []
    note = ""
    unreviewed: tuple[str, ...] = ()
    if row.status == PENDING:
        reviewed = _reviewed_counties(session, still)
        unreviewed = tuple(c for c in still if c not in reviewed)
        if principal.has(REVIEWER):
            if not principal.counties:
                note = UNLIMITED_ZH
            else:
                answerable = [c for c in still if c in principal.counties]
                others = {d.decided_by for d in decisions.values()} - {principal.id}
                if len(row.county_codes) > 1 and answerable and len(answerable) == len(still) and not others:
                    note = _alone_zh(row)
    return ContractReview(id=row.id, title=row.title, start=row.period_start.isoformat(),
                          end=row.period_end.isoformat(), content_hash=row.content_hash, status=row.status,
                          status_zh=STATUS_ZH[row.status], loaded_at=row.loaded_at, counties=counties,
                          terms=terms_zh(contract), answerable=answerable, answer_note=note, unreviewed=unreviewed)


def list_contracts(session: Session, principal: Principal) -> list[ContractReview]:
    """The contracts of the reader's counties, pending ones first, then the latest period first."""
    rows = [r for r in session.scalars(select(ContractRow)) if _visible(r, principal)]
    rows.sort(key=lambda r: (r.status != PENDING, -r.period_start.toordinal(), r.id))
    return [_review(session, r, contract_store.contract_from_row(r), principal) for r in rows]


def get_review(session: Session, contract_id: str, principal: Principal) -> ContractReview:
    row = session.get(ContractRow, contract_id)
    if row is None or not _visible(row, principal):
        raise NotFound("服务合同不存在，或不在您的权限范围内")
    return _review(session, row, contract_store.contract_from_row(row), principal)


def _answering(session: Session, contract_id: str, principal: Principal, verb: str,
               chosen: list[str] | None = None) -> tuple[ContractRow, list[str], dict[str, ContractDecision]]:
    """The contract, locked, the counties `principal` answers for now (those `chosen`, when given) and the answers
    given before; refusals for everyone else."""
    row = session.scalars(select(ContractRow).where(ContractRow.id == contract_id).with_for_update()).first()
    if row is None or not _visible(row, principal):
        raise NotFound("服务合同不存在，或不在您的权限范围内")
    if not principal.has(REVIEWER):
        raise Forbidden(f"只有合同所覆盖县（区）的县级复核员才能{verb}服务合同")
    if not principal.counties:
        raise Forbidden(UNLIMITED_ZH)
    if row.status == ACCEPTED:
        raise InvalidState(f"服务合同 {row.id} 已确认生效：确认不能撤回")
    if row.status == REFUSED:
        raise InvalidState(f"服务合同 {row.id} 已被拒绝确认，不会生效；更正后的合同须以新的合同编号载入")
    done = {d.county_code: d for d in session.scalars(
        select(ContractDecision).where(ContractDecision.contract_id == row.id))}
    mine = [c for c in row.county_codes if c in principal.counties]
    todo = [c for c in mine if c not in done]
    if not todo:
        raise InvalidState(f"您所在的县（区）已答复服务合同 {row.id}（已确认的不能撤回），"
                           "正等待合同覆盖的其他县（区）确认")
    if chosen is not None:
        wrong = [c for c in chosen if c not in todo]
        if wrong or not chosen:
            raise ValidationFailed.one("county_codes", "不是您可以答复的县（区）：" + "、".join(wrong) if wrong
                                       else "请至少选择一个县（区）")
        todo = [c for c in todo if c in chosen]
    return row, todo, done


def accept(session: Session, contract_id: str, *, principal: Principal, content_hash: str | None = None,
           county_codes: list[str] | None = None, clock: Clock) -> ContractReview:
    """A county reviewer accepts the contract for their counties (those of `county_codes`, when given); with every
    county's acceptance, given by at least two persons when the contract covers several counties, it is in force.
    `content_hash`, when given, must be the contract's (the reviewer compared it with the signed paper)."""
    row, counties, done = _answering(session, contract_id, principal, "确认", county_codes)
    if content_hash is not None and content_hash.strip().lower() != row.content_hash:
        raise ValidationFailed.one("content_hash", "与该合同的 SHA-256 不符：所确认的不是这份合同的内容")
    left = set(row.county_codes) - set(done) - set(counties)
    if len(row.county_codes) > 1 and not left and {d.decided_by for d in done.values()} <= {principal.id}:
        raise InvalidState(_alone_zh(row))
    now = clock.now()
    for code in counties:
        session.add(ContractDecision(contract_id=row.id, county_code=code, decision="accepted",
                                     decided_by=principal.id, role=REVIEWER, decided_at=now))
    session.flush()
    answered = set(session.scalars(select(ContractDecision.county_code).where(
        ContractDecision.contract_id == row.id, ContractDecision.decision.in_(("accepted", "before_control")))))
    in_force = set(row.county_codes) <= answered
    if in_force:
        row.status = ACCEPTED
    audit.append(session, actor=principal.id, role=REVIEWER, action="contract.accept", subject=row.id,
                 contract_hash=row.content_hash, clock=clock,
                 county_code=counties[0] if len(counties) == 1 else None,
                 payload={"county_codes": counties, "content_hash": row.content_hash, "in_force": in_force})
    session.flush()
    if in_force:
        rebind_waiting(session, row, principal=principal, clock=clock)
    return get_review(session, row.id, principal)


def _channels(session: Session, case_ids: list[str]) -> dict[str, set[str]]:
    """The channels each case was referred through (a household's own application, a bureau's file)."""
    found: dict[str, set[str]] = {c: set() for c in case_ids}
    for start in range(0, len(case_ids), 500):
        for case_id, channel in session.execute(select(Referral.case_id, Referral.channel)
                                                .where(Referral.case_id.in_(case_ids[start:start + 500]))):
            found[case_id].add(channel)
    return found


def rebind_obstacle(contract: Contract, cause_code: str, group: str, channels: set[str]) -> FieldError | None:
    """Why a case waiting on a refused contract cannot go to the corrected `contract`, None when it can: the intake's
    own check (`referrals.service.contract_problem`), its problem as intake gives it (the page words it,
    `web.stagelabels.rebind_obstacle_zh`): the corrected contract must serve its cause and household group, and let
    at least one of the channels it was referred through refer that cause (README "Which channels refer a cause"):
    a case the contract would have refused at intake does not move there unseen."""
    return contract_problem(contract, cause_code, group, sorted(channels))


def rebind_waiting(session: Session, row: ContractRow, *, principal: Principal, clock: Clock) -> list[str]:
    """The cases bound to a contract the county refused that the contract `row`, now in force, covers (the case's
    county, its referral day) are bound to `row` instead, one `case.contract_rebound` audit entry each: the corrected
    contract is what the county agreed to for that period, and a case referred while the refused text was pending
    would otherwise wait for ever, unpriced. A determined case is never moved (none is: nothing is determined under a
    refused contract), nor one the new contract could not have taken in (`rebind_obstacle`: its cause or household
    group not served, or none of its channels allowed to refer its cause): it stays waiting, its page saying why,
    marked on the case list, and one `case.contract_not_rebound` audit entry says so. Returns the ids moved."""
    refused = [r for r in session.scalars(select(ContractRow).where(ContractRow.status == REFUSED))
               if set(r.county_codes) & set(row.county_codes)]
    if not refused:
        return []
    contract = contract_store.contract_from_row(row)
    waiting = session.scalars(select(Case).where(
        Case.contract_id.in_([r.id for r in refused]), Case.county_code.in_(list(row.county_codes)),
        Case.referred_on >= row.period_start, Case.referred_on <= row.period_end,
        Case.id.not_in(select(Determination.case_id))).order_by(Case.id).with_for_update()).all()
    channels = _channels(session, [c.id for c in waiting])
    moved = []
    now = clock.now()
    for case in waiting:
        obstacle = rebind_obstacle(contract, case.cause, case.household_group, channels[case.id])
        if obstacle is not None:
            audit.append(session, actor=principal.id, role=REVIEWER, action="case.contract_not_rebound",
                         subject=case.id, contract_hash=row.content_hash, clock=clock, county_code=case.county_code,
                         payload={"from": case.contract_id, "to": row.id, "to_hash": row.content_hash,
                                  "channels": sorted(channels[case.id]), "why": obstacle.message,
                                  "field": obstacle.field})
            continue
        before = (case.contract_id, case.contract_hash)
        case.contract_id, case.contract_hash, case.contract_year = row.id, row.content_hash, contract.year
        case.updated_at, case.version = now, case.version + 1
        session.flush()
        audit.append(session, actor=principal.id, role=REVIEWER, action="case.contract_rebound", subject=case.id,
                     contract_hash=row.content_hash, clock=clock, county_code=case.county_code,
                     payload={"from": before[0], "from_hash": before[1], "to": row.id, "to_hash": row.content_hash,
                              "channels": sorted(channels[case.id]),
                              "why": "原合同被县级复核员拒绝确认，改按县已确认的更正合同办理"})
        moved.append(case.id)
    return moved


@dataclass(frozen=True)
class WaitingNote:
    """What a case bound to a contract not in force waits for (the page words it,
    `web.stagelabels.contract_waiting_zh`): `pending` (the counties have not all accepted it), `refused` (waiting for a corrected contract), or
    `cannot_move` (a corrected contract is in force but could not take it in: `obstacle`, intake's problem)."""

    kind: str
    contract_id: str
    title: str
    corrected_id: str | None = None
    obstacle: FieldError | None = None


def waiting_note(session: Session, contract_id: str, case: Case | None = None) -> WaitingNote | None:
    """What a case bound to `contract_id` waits for (the case page); None when the contract is in force. With the
    `case`: when the county has accepted a corrected contract for its county and referral day that could not take it
    (`rebind_obstacle`), why it stays."""
    row = session.execute(select(ContractRow.status, ContractRow.title).where(ContractRow.id == contract_id)).first()
    if row is None or row.status == ACCEPTED:
        return None
    if row.status == REFUSED:
        corrected = (contract_store.contract_for(session, case.county_code, case.referred_on)
                     if case is not None else None)
        if corrected is not None and contract_store.status_of(session, corrected.id) == ACCEPTED:
            obstacle = rebind_obstacle(corrected, case.cause, case.household_group,  # type: ignore[union-attr]
                                       _channels(session, [case.id])[case.id])  # type: ignore[union-attr]
            if obstacle is not None:
                return WaitingNote("cannot_move", contract_id, row.title, corrected.id, obstacle)
        return WaitingNote("refused", contract_id, row.title)
    return WaitingNote("pending", contract_id, row.title)


def refusal_reason(reason: str | None) -> str:
    """The reason of a refusal as kept (trimmed); ValidationFailed naming `reason` when it is empty or too long."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.one("reason", "请填写拒绝确认的理由")
    if len(reason) > REASON_MAX:
        raise ValidationFailed.one("reason", f"理由最多 {REASON_MAX} 个字")
    return reason


def refuse(session: Session, contract_id: str, *, principal: Principal, reason: str, clock: Clock) -> ContractReview:
    """A county reviewer refuses the contract, with a reason: it never comes into force."""
    reason = refusal_reason(reason)
    row, counties, _ = _answering(session, contract_id, principal, "拒绝确认")
    now = clock.now()
    for code in counties:
        session.add(ContractDecision(contract_id=row.id, county_code=code, decision="refused",
                                     decided_by=principal.id, role=REVIEWER, reason=reason, decided_at=now))
    row.status = REFUSED
    session.flush()
    audit.append(session, actor=principal.id, role=REVIEWER, action="contract.refuse", subject=row.id,
                 contract_hash=row.content_hash, clock=clock,
                 county_code=counties[0] if len(counties) == 1 else None,
                 payload={"county_codes": counties, "content_hash": row.content_hash,
                          "reason_sha256": audit.text_digest(reason)})
    session.flush()
    return get_review(session, row.id, principal)
