"""Merging two households and moving a member are proposals another person confirms.

Either changes a household's size, so its per-capita income and whether (and how much) it is helped: one person
alone could make a household eligible or raise its tier. So an insurer supervisor proposes (`propose_merge`,
`propose_move`: every rule of `changes` asked, nothing changed, a row `household_change_proposal` pending) and the
change is made only when another person confirms it (`confirm`): an insurer supervisor or a county reviewer limited
to the county (`CONFIRMERS`: the county's own check on eligibility may confirm, so a county with one supervisor can
still merge; an account of every county is no county's), never its proposer, nor an account linked to the proposer's
by a password, nor a relative of either household (回避; both kept on 回避拦截记录). Every rule is asked again at the
confirmation, on the rows locked then (the households still there and not merged since, no live payment batch, no
case paid twice, one county); the households' members must be those the proposal was made on, and what it would
change (members, names, relations, heads, sizes, cases joined or moved) what the confirmer's page or GET showed
(`seen`, `shown_digest`; 409 otherwise: the confirmer confirms what they were shown).

The proposer may withdraw it (`withdraw`, 撤销); another who may confirm it may decline it with a reason (`decline`,
驳回: the reason in its row, its SHA-256 in the log). A household is in one pending proposal at a time (asked here
for the message; unique indexes of the pending rows hold it on each side). Each step writes its audit entry in its
transaction; a second decision is refused (409).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...accounts.auth import Principal
from ...audit import log as audit
from ...clock import Clock
from ...domain.errors import DomainError, Forbidden, InvalidState, NotFound, ValidationFailed
from ...recusal import refusals
from ...roster.service import PASSWORD_LINK, password_links
from ...store.base import new_id
from ...store.tables import Household, User
from ..models import HouseholdChangeProposal as Proposal
from .changes import (
    MergePlan,
    MergeResult,
    MovePlan,
    MoveResult,
    ROLE,
    _reason,
    _require_supervisor,
    apply_merge,
    apply_move,
    plan_merge,
    plan_move,
)
from .rows import members_of

CONFIRMERS = (ROLE, "county_reviewer")
CONFIRM_STEP = "household_change_confirm"  # on 回避拦截记录
DECLINE_STEP = "household_change_decline"
MAX_DECLINE_REASON = 1000
NO_SUCH_PROPOSAL = "没有这份合并家庭或迁移成员的申请"
NOT_A_CONFIRMER = "只有本县的保险公司主管或县级复核员可以确认或驳回合并家庭、迁移成员的申请"
NOT_OF_COUNTY = ("合并家庭、迁移成员的申请须由本县的保险公司主管或县级复核员确认或驳回"
                 "（您的账号未限定为该县）")
OWN_PROPOSAL = ("按“四眼原则”，这份申请是您提交的，须由本县另一位保险公司主管或县级复核员确认或驳回；"
                "您可以撤销它")
LINKED_PROPOSER = ("按“四眼原则”，您的账号与这份申请提交人的账号有密码关联" + PASSWORD_LINK
                   + "，须由本县另一位保险公司主管或县级复核员确认或驳回")
NOT_THE_PROPOSER = "只有申请的提交人可以撤销这份申请；其他人不同意的，请驳回并说明原因"
DECIDED = {
    "confirmed": "这份申请已确认，家庭已按申请变更，不能再确认、驳回或撤销",
    "declined": "这份申请已驳回，不能再确认、驳回或撤销：如仍需办理，请重新提交",
    "withdrawn": "这份申请已由提交人撤销，不能再确认、驳回或撤销：如仍需办理，请重新提交",
}
MEMBERS_CHANGED = ("{head}户的成员在申请提交后已有变化，申请所示的变更已不准确：请驳回这份申请，"
                   "由主管按现在的成员重新提交")
ALREADY_PROPOSED = ("{head}户已有一份待确认的合并家庭或迁移成员申请：请等它确认、驳回或撤销后再提交")
SUBMITTED = "已提交，待另一位保险公司主管或县级复核员确认"
SHOWN_CHANGED = ("您打开这份申请后，各户的成员、与户主的关系、户主或合为一案的案件已有变化，确认的不是您核对过的内容："
                 "请重新打开申请，核对现在的变化后再确认")
NOT_SEEN = "请先打开这份申请核对变化：确认时须附上页面所示内容的校验值"
UNKNOWN_ACCOUNT = "未知账号"  # a user id no account has (shown instead of the id)


def _snapshot(session: Session, household_ids: list[str]) -> dict[str, list[str]]:
    return {h: sorted(m.id for m in members_of(session, h)) for h in household_ids}


def _refuse_second_proposal(session: Session, households: list[Household]) -> None:
    """A household is in one pending proposal at a time (asked with the households locked: two proposals at once
    wait for each other, and the second sees the first)."""
    ids = [h.id for h in households]
    taken = session.scalar(select(Proposal).where(
        Proposal.status == "pending",
        or_(Proposal.household_id.in_(ids), Proposal.other_household_id.in_(ids))).limit(1))
    if taken is not None:
        busy = next(h for h in households if h.id in (taken.household_id, taken.other_household_id))
        raise InvalidState(ALREADY_PROPOSED.format(head=busy.head_name))


def _proposed(session: Session, proposal: Proposal, action: str, principal: Principal, clock: Clock,
              **payload: object) -> Proposal:
    session.add(proposal)
    session.flush()
    audit.append(session, actor=principal.id, role=ROLE, action=action,
                 subject=proposal.household_id, county_code=proposal.county_code, clock=clock,
                 payload={"proposal_id": proposal.id, "household_id": proposal.household_id,
                          "other_household_id": proposal.other_household_id, "member_id": proposal.member_id,
                          "new_household": proposal.new_household, "members": proposal.members, **payload,
                          "reason_sha256": audit.text_digest(proposal.reason)})
    return proposal


def propose_merge(session: Session, household_id: str, from_household_id: str, *, reason: str,
                  principal: Principal, clock: Clock, head_relation: str = "other") -> Proposal:
    """Propose merging `from_household_id` into `household_id` (which survives): every rule of the merge asked now
    (`changes.plan_merge`), nothing changed until another confirms it."""
    _require_supervisor(principal, "合并家庭")
    reason = _reason(reason)
    plan = plan_merge(session, household_id, from_household_id, principal=principal, clock=clock,
                      head_relation=head_relation)
    _refuse_second_proposal(session, [plan.into, plan.other])
    return _proposed(session, Proposal(
        id=new_id("hcp"), kind="merge", county_code=plan.into.county_code, household_id=plan.into.id,
        other_household_id=plan.other.id, member_id=None, new_household=False, relation=head_relation,
        new_head_member_id=None, members=_snapshot(session, [plan.into.id, plan.other.id]), reason=reason,
        status="pending", proposed_by=principal.id, proposed_at=clock.now()), "household.merge_proposed", principal,
        clock, head_relation=head_relation, merged_cases=[{"case_id": b.id, "into_case_id": a.id} for a, b in plan.joins])


def propose_move(session: Session, household_id: str, member_id: str, *, to_household_id: str | None,
                 new_household: bool, reason: str, principal: Principal, clock: Clock, relation: str = "other",
                 new_head_member_id: str | None = None) -> Proposal:
    """Propose moving a member of `household_id` to `to_household_id` or to a new household (分户): every rule of
    the move asked now (`changes.plan_move`), nothing changed until another confirms it."""
    _require_supervisor(principal, "迁移家庭成员")
    reason = _reason(reason)
    plan = plan_move(session, household_id, member_id, to_household_id=to_household_id, new_household=new_household,
                     principal=principal, clock=clock, relation=relation, new_head_member_id=new_head_member_id)
    households = [plan.source] + ([plan.target] if plan.target is not None else [])
    _refuse_second_proposal(session, households)
    return _proposed(session, Proposal(
        id=new_id("hcp"), kind="move", county_code=plan.source.county_code, household_id=plan.source.id,
        other_household_id=plan.target.id if plan.target is not None else None, member_id=plan.member.id,
        new_household=plan.new_household, relation=plan.relation,
        new_head_member_id=plan.new_head.id if plan.new_head is not None else None,
        members=_snapshot(session, [h.id for h in households]), reason=reason, status="pending",
        proposed_by=principal.id, proposed_at=clock.now()), "household.move_proposed", principal, clock,
        relation=plan.relation,
        new_head_member_id=plan.new_head.id if plan.new_head is not None else None)


def load_proposal(session: Session, proposal_id: str, principal: Principal, *, for_update: bool = False) -> Proposal:
    """A proposal of the caller's counties; another county's is not found, as an id that does not exist."""
    stmt = select(Proposal).where(Proposal.id == proposal_id)
    row = session.scalar(stmt.with_for_update() if for_update else stmt) if proposal_id else None
    if row is None or not principal.may_see_county(row.county_code):
        raise NotFound(NO_SUCH_PROPOSAL)
    return row


def _pending(row: Proposal) -> None:
    if row.status != "pending":
        raise InvalidState(DECIDED.get(row.status, row.status))


def _bar(row: Proposal, principal: Principal) -> str | None:
    """Why `principal` may not decide the proposal `row` before any password link is asked: not a confirmer, not
    limited to its county (an account of every county is no one's county reviewer), or its proposer."""
    if not principal.has(*CONFIRMERS):
        return NOT_A_CONFIRMER
    if row.county_code not in principal.counties:
        return NOT_OF_COUNTY
    if principal.id == row.proposed_by:
        return OWN_PROPOSAL
    return None


def _linked(row: Proposal) -> list[refusals.LinkedPart]:
    households = [h for h in (row.household_id, row.other_household_id) if h]
    return [refusals.LinkedPart(row.proposed_by, LINKED_PROPOSER, households=households, county_code=row.county_code,
                                subject=row.id, extra={"proposal_id": row.id})]


def may_confirm(session: Session, row: Proposal, principal: Principal) -> str | None:
    """Whether `principal` may confirm or decline the proposal `row` (its status aside): None, or why not in
    Chinese (403), what `_second_person` refuses with, nothing recorded. The one rule (`confirms_refused`), read by
    the steps, the proposal's page (the reason instead of the buttons), the list and the home card
    (`proposal_list.waiting`); 回避 is asked by the step itself."""
    return confirms_refused(session, [row], principal)[row.id]


def confirms_refused(session: Session, rows: Iterable[Proposal], principal: Principal) -> dict[str, str | None]:
    """`may_confirm` of each proposal, by proposal, in one statement whatever their count: a confirmer limited to
    the proposal's county, not its proposer (`_bar`), nor linked to the proposer's account by a password
    (`roster.service.password_links`: `LINKED_PROPOSER`)."""
    rows = list(rows)
    barred = {r.id: _bar(r, principal) for r in rows}
    linked = password_links(session, principal.id, {r.proposed_by for r in rows if barred[r.id] is None})
    return {r.id: barred[r.id] or (LINKED_PROPOSER if r.proposed_by in linked else None) for r in rows}


def _second_person(session: Session, row: Proposal, principal: Principal, step: str, clock: Clock) -> None:
    """403 for anyone but another confirmer of the county (`may_confirm`), the password-linked account kept on
    回避拦截记录."""
    refusal = may_confirm(session, row, principal)
    if refusal == LINKED_PROPOSER:
        raise refusals.linked_refusal(session, principal, step, _linked(row)[0], clock=clock)
    if refusal is not None:
        raise Forbidden(refusal)


def plan_of(session: Session, row: Proposal, principal: Principal, clock: Clock, *, lock: bool,
            step: str | None) -> MergePlan | MovePlan:
    """The proposal planned again on the households as they are now (every rule of `changes` asked)."""
    if row.kind == "merge":
        return plan_merge(session, row.household_id, row.other_household_id or "", principal=principal, clock=clock,
                          head_relation=row.relation, lock=lock, step=step)
    return plan_move(session, row.household_id, row.member_id or "", to_household_id=row.other_household_id,
                     new_household=row.new_household, principal=principal, clock=clock, relation=row.relation,
                     new_head_member_id=row.new_head_member_id, lock=lock, step=step)


def _refuse_changed_members(session: Session, row: Proposal) -> None:
    now = _snapshot(session, sorted(row.members))
    for household_id, ids in sorted(row.members.items()):
        if now.get(household_id) != sorted(ids):
            head = session.scalar(select(Household.head_name).where(Household.id == household_id)) or ""
            raise InvalidState(MEMBERS_CHANGED.format(head=head))


def shown_digest(row: Proposal, plan: MergePlan | MovePlan) -> str:
    """The SHA-256 of what the proposal's page shows of `plan`: each household's village, members (id, name, relation
    to the head) and size before and after, the member moved and who heads those who stay, the cases joined (and
    which is kept) or moved. The confirmer sends it back (`seen`): a confirmation of anything else is refused
    (409)."""
    def people(members: list) -> list[list[str]]:  # type: ignore[type-arg]
        return sorted([m.id, m.name, m.relation] for m in members)

    if isinstance(plan, MergePlan):
        total = len(plan.staying) + len(plan.moving)
        shown: dict[str, object] = {
            "sides": [[plan.into.id, plan.into.head_name, plan.into.village, people(plan.staying),
                       len(plan.staying), total],
                      [plan.other.id, plan.other.head_name, plan.other.village, people(plan.moving),
                       len(plan.moving), 0]],
            "joins": sorted([b.id, b.number, a.id, a.number] for a, b in plan.joins),
            "moved_cases": sorted([c.id, c.number] for c in plan.theirs),
        }
    else:
        # a new household (分户) takes the source's village: the source's side says it
        target = ([plan.target.id, plan.target.head_name, plan.target.village, people(plan.staying),
                   len(plan.staying), len(plan.staying) + 1] if plan.target is not None else None)
        shown = {"sides": [[plan.source.id, plan.source.head_name, plan.source.village, people(plan.members),
                            len(plan.members), len(plan.members) - 1], target],
                 "member": [plan.member.id, plan.member.name, plan.member.relation],
                 "new_head": [plan.new_head.id, plan.new_head.name] if plan.new_head is not None else None}
    shown.update(proposal=row.id, kind=row.kind, relation=row.relation, new_household=row.new_household)
    text = json.dumps(shown, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seen_of(session: Session, row: Proposal, principal: Principal, clock: Clock) -> str | None:
    """What `GET /api/household-proposals/{id}` returns as `seen` (read, nothing locked): the `shown_digest` of the
    pending proposal planned on the households as they are now; None once decided or when it can no longer be made."""
    if row.status != "pending":
        return None
    try:
        plan = _plan_now(session, row, principal, clock)
    except DomainError:
        return None
    return shown_digest(row, plan)


def _plan_now(session: Session, row: Proposal, principal: Principal, clock: Clock) -> MergePlan | MovePlan:
    """The pending proposal planned on the households as they are now, read and nothing locked (the page and the
    API's `seen`): a DomainError when it can no longer be made or the households' members changed since."""
    plan = plan_of(session, row, principal, clock, lock=False, step=None)
    _refuse_changed_members(session, row)
    return plan


@dataclass
class Confirmed:
    proposal: Proposal
    merge: MergeResult | None = None
    move: MoveResult | None = None


def confirm(session: Session, proposal_id: str, *, principal: Principal, clock: Clock, seen: str) -> Confirmed:
    """The second person confirms what their page showed (`seen`: its `shown_digest`): the merge or move is made now,
    every rule asked again on the rows locked (409 when one no longer holds, the households' members changed since
    the proposal, or what it would change is no longer what was shown; 422 without `seen`; nothing written)."""
    row = load_proposal(session, proposal_id, principal, for_update=True)
    _pending(row)
    _second_person(session, row, principal, CONFIRM_STEP, clock)
    if not (seen or "").strip():
        raise ValidationFailed.one("seen", NOT_SEEN)
    plan = plan_of(session, row, principal, clock, lock=True, step=CONFIRM_STEP)
    _refuse_changed_members(session, row)
    if seen.strip() != shown_digest(row, plan):
        raise InvalidState(SHOWN_CHANGED)
    role = principal.acting_role(CONFIRMERS)
    asked = {"proposal_id": row.id, "proposed_by": row.proposed_by}
    done = Confirmed(row)
    if isinstance(plan, MergePlan):
        done.merge = apply_merge(session, plan, reason=row.reason, head_relation=row.relation, principal=principal,
                                 role=role, clock=clock, proposal=asked)
        row.change_id = done.merge.change_id
    else:
        done.move = apply_move(session, plan, reason=row.reason, principal=principal, role=role, clock=clock,
                               proposal=asked)
        row.change_id = done.move.change_id
        if row.new_household and row.other_household_id is None:
            row.other_household_id = done.move.household_id
    row.status, row.decided_by, row.decided_at = "confirmed", principal.id, clock.now()
    session.flush()
    return done


def decline(session: Session, proposal_id: str, *, principal: Principal, reason: str, clock: Clock) -> Proposal:
    """Another who may confirm it declines it (驳回), with a reason (kept in its row; its SHA-256 in the log); not a
    relative of either household (回避: declining keeps a household as it is). Nothing of the households changes."""
    row = load_proposal(session, proposal_id, principal, for_update=True)
    _pending(row)
    _second_person(session, row, principal, DECLINE_STEP, clock)
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed.one("reason", "请说明驳回的原因")
    if len(text) > MAX_DECLINE_REASON:
        raise ValidationFailed.one("reason", f"原因最多 {MAX_DECLINE_REASON} 个字")
    from ...recusal import guard as recusal

    recusal.refuse_principal(session, principal, [h for h in (row.household_id, row.other_household_id) if h],
                             step=DECLINE_STEP, field="reason", county_code=row.county_code, clock=clock)
    row.status, row.decided_by, row.decided_at, row.decline_reason = "declined", principal.id, clock.now(), text
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(CONFIRMERS),
                 action="household.change_declined", subject=row.household_id, county_code=row.county_code,
                 clock=clock, payload={"proposal_id": row.id, "kind": row.kind, "proposed_by": row.proposed_by,
                                       "reason_sha256": audit.text_digest(text)})
    return row


def withdraw(session: Session, proposal_id: str, *, principal: Principal, clock: Clock) -> Proposal:
    """Its proposer withdraws it (撤销); nobody else may (they decline it, with a reason)."""
    row = load_proposal(session, proposal_id, principal, for_update=True)
    _pending(row)
    if principal.id != row.proposed_by:
        raise Forbidden(NOT_THE_PROPOSER)
    row.status, row.decided_by, row.decided_at = "withdrawn", principal.id, clock.now()
    session.flush()
    audit.append(session, actor=principal.id, role=ROLE, action="household.change_withdrawn",
                 subject=row.household_id, county_code=row.county_code, clock=clock,
                 payload={"proposal_id": row.id, "kind": row.kind})
    return row


def pending_count(session: Session, principal: Principal) -> int:
    """The pending proposals the caller may decide (the home card: what `/household-proposals?to_decide=1` lists,
    `proposal_list.waiting`, by `confirms_refused`)."""
    from .proposal_list import waiting

    return len(waiting(session, principal).mine)


@dataclass(frozen=True)
class Side:
    """One household of a proposal as the page shows it: its head, members (names), size before and after."""

    id: str
    head_name: str
    village: str
    members: list[tuple[str, str]]  # (name, relation to the head)
    before: int
    after: int


@dataclass
class ProposalView:
    """A proposal's page: what it would change (`sides`, the cases joined or moved, the member moved), or why it can
    no longer be made (`problem`), who proposed and decided it, and what the viewer may do."""

    proposal: Proposal
    sides: list[Side]
    member_name: str | None
    joins: list[tuple[str, str]] = field(default_factory=list)  # (case merged away, case kept)
    moved_cases: list[str] = field(default_factory=list)
    case_ids: dict[str, str] = field(default_factory=dict)  # each case number shown -> its case (the page links it)
    problem: str | None = None
    refusal: str | None = None  # why the viewer may not confirm or decline it
    may_withdraw: bool = False
    names: dict[str, str] = field(default_factory=dict)
    seen: str = ""  # the SHA-256 of what the page shows (`shown_digest`), sent back by the confirm form
    new_head_name: str | None = None  # a move of the head: who heads those who stay

    def who(self, user_id: str | None) -> str:
        return self.names.get(user_id, UNKNOWN_ACCOUNT) if user_id else ""


def _names(session: Session, people: set[str]) -> dict[str, str]:
    return {uid: f"{name}（{username}）" for uid, name, username in session.execute(
        select(User.id, User.display_name, User.username).where(User.id.in_(sorted(people))))}


def _people(members: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(m.name, m.relation) for m in members]


def view(session: Session, proposal_id: str, principal: Principal, clock: Clock) -> ProposalView:
    """The page's read model, in a read transaction: a pending proposal planned on the households as they are now."""
    row = load_proposal(session, proposal_id, principal)
    names = _names(session, {u for u in (row.proposed_by, row.decided_by) if u})
    pending = row.status == "pending"
    out = ProposalView(row, [], None, names=names, may_withdraw=pending and principal.id == row.proposed_by,
                       refusal=may_confirm(session, row, principal) if pending else None)
    if not pending:
        return out
    try:
        plan = _plan_now(session, row, principal, clock)
    except DomainError as exc:
        out.problem = ("；".join(e.message for e in exc.errors) if isinstance(exc, ValidationFailed)
                       else exc.detail)
        return out
    out.seen = shown_digest(row, plan)
    if isinstance(plan, MergePlan):
        total = len(plan.staying) + len(plan.moving)
        out.sides = [Side(plan.into.id, plan.into.head_name, plan.into.village, _people(plan.staying),
                          len(plan.staying), total),
                     Side(plan.other.id, plan.other.head_name, plan.other.village, _people(plan.moving),
                          len(plan.moving), 0)]
        out.joins = [(b.number, a.number) for a, b in plan.joins]
        gone = {b.id for _, b in plan.joins}
        out.moved_cases = [c.number for c in plan.theirs if c.id not in gone]
        out.case_ids = {c.number: c.id for pair in plan.joins for c in pair} | {c.number: c.id for c in plan.theirs}
        return out
    out.member_name = plan.member.name
    out.new_head_name = plan.new_head.name if plan.new_head is not None else None
    out.sides = [Side(plan.source.id, plan.source.head_name, plan.source.village, _people(plan.members),
                      len(plan.members), len(plan.members) - 1)]
    if plan.target is not None:
        out.sides.append(Side(plan.target.id, plan.target.head_name, plan.target.village,
                              _people(plan.staying), len(plan.staying), len(plan.staying) + 1))
    else:
        out.sides.append(Side("", f"{plan.member.name}（新立一户）", plan.source.village, [], 0, 1))
    return out
