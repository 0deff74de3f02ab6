"""One household, one case: merging two households found to be one, and moving a member to another household.

A referral for a husband and an application naming his wife make two households until someone sees they are one;
a check listing both is then refused ("this person is recorded in another household"). The insurer's supervisor
proposes to settle it and another person confirms it (`proposals`); the rules and the change itself are here, with a
reason, in the audit log and in `household_change` (a household's history). Each is planned first, every rule asked
and nothing written (`plan_merge`, `plan_move`: at the proposal, on its page, and again at the confirmation), then
made on the rows the plan locked (`apply_merge`, `apply_move`):

- merge: every member and case of one household moves into the other; two open cases of the same
  cause and contract year become one (the case further along is kept; at the same stage, the surviving
  household's). The other ends `merged`, pointing at the one kept, its referrals attached to it. A case with a
  determination is never merged away, and a determined open case is not joined with the other household's paid
  case of the same cause and year (its amount was priced without that payment: it would be paid twice).
- move: one member to another household, or to a new one (分户), e.g. after a marriage.

Both are refused (409) while a case of either household is in a live payment batch (not yet reconciled or
cancelled), and across counties; only an insurer supervisor proposes them (403). Messages are in Chinese: the pages
show them as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...accounts.auth import Principal
from ...audit import log as audit
from ...cases.workflow import advance
from ...clock import Clock
from ...recusal import guard as recusal
from ...domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from ...payments.models import PaymentBatch, PaymentItem
from ...payments.service import BATCH_STATUS_LABELS_ZH
from ...store.base import new_id
from ...store.tables import CLOSED_STATUSES, Case, Household, Member, Referral, Visit
from ..models import HouseholdChange
from .rows import cases_of, load_household, members_of

ROLE = "insurer_supervisor"
RELATIONS = ("spouse", "child", "parent", "other")
"""What a member who joins a household may be to its head (the head is chosen by the next home check)."""
# What a member of a household merged into another becomes to the kept household's head, by what the merged
# household's head becomes (`head_relation`) and what the member was to that head: the children of a spouse are the
# couple's, the spouse of a parent is the other parent; anyone else is 其他 until the next home check says more
# (never the former head's spouse shown as a second spouse of the kept head). The same, with the old head's
# relation to the new one, for those who stay when the head moves out.
JOINED_RELATIONS = {("spouse", "child"): "child", ("parent", "spouse"): "parent"}


# What the old head is to a member who was their spouse, child or parent (who heads the household after a move).
INVERSE_RELATIONS = {"spouse": "spouse", "child": "parent", "parent": "child"}


def joined_relation(head_relation: str, relation: str) -> str:
    """What a member of the merged household is to the kept household's head (see `JOINED_RELATIONS`)."""
    if relation == "head":
        return head_relation
    return JOINED_RELATIONS.get((head_relation, relation), "other")


LIVE_BATCH_STATUSES = ("prepared", "approved", "signed_off", "released")
"""A batch not yet reconciled or cancelled: its cases may still be paid, so their household stays as it is."""
MAX_REASON = 2000

# How far along an open case is: the one further along is kept when two are joined; from DECIDED on it has a
# determination (an amount may have been promised), so it is never merged away.
_STAGE = {"received": 0, "screened": 1, "scheduled": 2, "checked": 3}
DECIDED = 4


def _stage(case: Case) -> int:
    return _STAGE.get(case.status, DECIDED)


def _require_supervisor(principal: Principal, what: str) -> None:
    if not principal.has(ROLE):
        raise Forbidden(f"只有保险公司主管可以{what}；核查员和其他人员请联系主管办理")


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed.one("reason", "必填：请说明原因（如：两户实为夫妻一户，系重复登记）")
    if len(text) > MAX_REASON:
        raise ValidationFailed.one("reason", f"最多 {MAX_REASON} 个字符")
    return text


def _refuse_during_live_batches(session: Session, cases: Iterable[Case], what: str) -> None:
    by_id = {c.id: c for c in cases}
    if not by_id:
        return
    live = session.execute(
        select(PaymentItem.case_id, PaymentBatch.code, PaymentBatch.status)
        .join(PaymentBatch, PaymentBatch.id == PaymentItem.batch_id)
        .where(PaymentItem.case_id.in_(list(by_id)), PaymentItem.status != "cancelled",
               PaymentBatch.status.in_(LIVE_BATCH_STATUSES))
        .order_by(PaymentBatch.code)).first()
    if live is not None:
        case_id, code, status = live
        raise InvalidState(f"案件 {by_id[case_id].number} 在支付批次 {code}（{BATCH_STATUS_LABELS_ZH.get(status, status)}）"
                           f"中：批次对账完成或撤销之前不能{what}")


def _same_county(a: Household, b: Household, what: str) -> None:
    if a.county_code != b.county_code:
        raise InvalidState(f"两户不在同一个县（区）：不能跨县（区）{what}。一人登记在两县的，请联系两县的县级复核人员")


def _already_merged(session: Session, household: Household) -> InvalidState:
    """The answer to merging (or moving from) a household that was already merged into another: a double submit."""
    change = session.scalar(select(HouseholdChange).where(HouseholdChange.kind == "merge",
                                                          HouseholdChange.from_household_id == household.id)
                            .order_by(HouseholdChange.changed_at.desc()).limit(1))
    if change is None:
        return InvalidState("该户没有家庭成员，无可合并或迁移的内容")
    into = session.get(Household, change.to_household_id)
    return InvalidState(f"该户已于此前并入{into.head_name if into else ''}户（不再有成员），不能再次合并或迁移；"
                        f"请到保留的那一户办理")


def _relation_rows(changed: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    """`household_change.relations`: the relations that changed, in the order they were changed."""
    return [{"member_id": member_id, "before": c["before"], "after": c["after"]} for member_id, c in changed.items()]


@dataclass(frozen=True)
class MergedCase:
    case_id: str
    number: str
    into_case_id: str
    into_number: str


@dataclass
class MergeResult:
    change_id: str
    household_id: str  # the surviving household
    from_household_id: str
    members: list[str]
    merged_cases: list[MergedCase] = field(default_factory=list)
    moved_cases: list[str] = field(default_factory=list)


def _plan_joins(keep: list[Case], other: list[Case]) -> list[tuple[Case, Case]]:
    """(case kept, case merged into it) for each cause and year with an open case in both households."""
    open_keep = {(c.cause, c.contract_year): c for c in keep if c.status not in CLOSED_STATUSES}
    joins = []
    for b in other:
        if b.status in CLOSED_STATUSES:
            continue
        a = open_keep.get((b.cause, b.contract_year))
        if a is None:
            continue
        if _stage(a) >= DECIDED and _stage(b) >= DECIDED:
            raise InvalidState(f"案件 {a.number} 与案件 {b.number} 都已认定救助结果，不能合并为一案：请先撤回其中一案"
                               f"（认定后、公示前可以撤回），再合并家庭")
        joins.append((b, a) if _stage(b) > _stage(a) else (a, b))
    return joins


def _refuse_paying_twice(keep: list[Case], other: list[Case], joins: list[tuple[Case, Case]]) -> None:
    """A determined open case was priced without the other household's payment for the same cause and year: once
    they are one household it would be paid again. It must be withdrawn (and checked again) first."""
    gone = {id(b) for _, b in joins}
    for mine, theirs in ((keep, other), (other, keep)):
        paid = {(c.cause, c.contract_year): c for c in theirs if c.status == "paid"}
        for c in mine:
            if c.status in CLOSED_STATUSES or id(c) in gone or _stage(c) < DECIDED:
                continue
            p = paid.get((c.cause, c.contract_year))
            if p is not None:
                raise InvalidState(f"案件 {c.number} 的救助金额认定时未计入另一户已支付的案件 {p.number}，合并后会重复"
                                   f"支付：请先撤回案件 {c.number}，合并后重新核查认定")


@dataclass
class MergePlan:
    """What merging `other` into `into` would do, every rule asked: the members moving and staying, each household's
    cases, and the cases joined (kept, merged into it). Made before anything is written (a proposal, its page, its
    confirmation)."""

    into: Household
    other: Household
    moving: list[Member]
    staying: list[Member]
    keep: list[Case]
    theirs: list[Case]
    joins: list[tuple[Case, Case]]


def plan_merge(session: Session, household_id: str, from_household_id: str, *, principal: Principal, clock: Clock,
               head_relation: str = "other", lock: bool = True, step: str | None = "household_merge") -> MergePlan:
    """Every rule of merging `from_household_id` into `household_id`, nothing written (see the module's docstring).
    `lock`: the households, members and cases locked for a write; `step`: the 回避 step the caller is refused under
    (None: not asked, a page's read)."""
    if head_relation not in RELATIONS:
        raise ValidationFailed.one("head_relation", "请选择被并入户户主与保留户户主的关系")
    if household_id == from_household_id:
        raise ValidationFailed.one("from_household_id", "不能把一个家庭并入它自己：请选择另一户")
    first, second = sorted((household_id, from_household_id))  # one locking order for every writer
    locked = {h: load_household(session, h, principal, for_update=lock,
                                which="" if h == household_id else "（并入的一户）")
              for h in (first, second)}
    if step is not None:
        # not a relative's households (回避): a merge or a move could take the relative out of the household whose
        # case the same person then decides
        recusal.refuse_principal(session, principal, [first, second], step=step, clock=clock)
    into, other = locked[household_id], locked[from_household_id]
    _same_county(into, other, "合并家庭")
    moving = members_of(session, other.id, for_update=lock)
    if not moving:
        raise _already_merged(session, other)
    staying = members_of(session, into.id, for_update=lock)
    if not staying:  # a household merged away earlier is not revived: merge into the one that was kept
        raise _already_merged(session, into)
    twice = {m.id_number_bidx for m in staying} & {m.id_number_bidx for m in moving}
    if twice:
        raise InvalidState("同一人不能在一个家庭中登记两次：两户有相同的成员")
    cases = cases_of(session, [into.id, other.id], for_update=lock)
    _refuse_during_live_batches(session, cases, "合并家庭")
    keep = [c for c in cases if c.household_id == into.id]
    theirs = [c for c in cases if c.household_id == other.id]
    joins = _plan_joins(keep, theirs)
    _refuse_paying_twice(keep, theirs, joins)
    return MergePlan(into, other, moving, staying, keep, theirs, joins)


def apply_merge(session: Session, plan: MergePlan, *, reason: str, head_relation: str, principal: Principal,
                role: str, clock: Clock, proposal: dict[str, str] | None = None) -> MergeResult:
    """Make the merge `plan_merge` planned (in the same transaction, the rows it locked): `principal` (acting as
    `role`) is who confirmed it; `proposal`, the proposal's id and proposer, goes into every audit entry."""
    into, other, moving, staying, theirs, joins = (plan.into, plan.other, plan.moving, plan.staying, plan.theirs,
                                                   plan.joins)
    asked = dict(proposal or {})
    merged: list[MergedCase] = []
    for kept, gone in joins:
        visit = session.scalar(select(Visit).where(Visit.case_id == gone.id, Visit.active.is_(True)))
        if visit is not None:
            visit.active = False
        referral_ids = list(session.scalars(select(Referral.id).where(Referral.case_id == gone.id)))
        was = gone.status
        gone.merged_into_id = kept.id
        gone.closed_reason = f"已并入案件 {kept.number}（家庭合并）"
        advance(session, gone, "merge", actor=principal, role=role, clock=clock, payload={**asked,
            "into_case_id": kept.id, "into_number": kept.number, "referrals": referral_ids,
            "household_id": into.id, "from_household_id": other.id, "reason_sha256": audit.text_digest(reason)})
        session.execute(update(Referral).where(Referral.case_id == gone.id).values(case_id=kept.id))
        kept.updated_at = clock.now()
        kept.version += 1
        audit.append(session, actor=principal.id, role=role, action="case.merged_in", subject=kept.id,
                     contract_hash=kept.contract_hash, county_code=kept.county_code,
                     payload={**asked, "from_case_id": gone.id, "from_number": gone.number, "referrals": referral_ids,
                              "from_status": was, "reason_sha256": audit.text_digest(reason)},
                     clock=clock)
        merged.append(MergedCase(gone.id, gone.number, kept.id, kept.number))
    session.flush()  # the merged cases are closed before any case changes household (one open case per cause)
    moved_cases = [c.id for c in theirs]
    if moved_cases:
        session.execute(update(Case).where(Case.id.in_(moved_cases)).values(household_id=into.id))
    member_ids, relations = [], {}
    head = next((m.id for m in staying if m.relation == "head"), None)
    for m in moving:
        m.household_id = into.id
        joined = joined_relation(head_relation, m.relation)
        if joined != m.relation:
            relations[m.id] = {"before": m.relation, "after": joined}
        m.relation = joined
        member_ids.append(m.id)
    change = HouseholdChange(
        id=new_id("hhc"), kind="merge", county_code=into.county_code, from_household_id=other.id,
        to_household_id=into.id, member_id=None, members=member_ids, new_household=False,
        merged_cases=[{"case_id": m.case_id, "number": m.number, "into_case_id": m.into_case_id,
                       "into_number": m.into_number} for m in merged],
        moved_cases=moved_cases, relations=_relation_rows(relations), head_member_id=head, reason=reason,
        changed_by=asked.get("proposed_by", principal.id),
        confirmed_by=principal.id if "proposed_by" in asked else None, changed_at=clock.now())
    session.add(change)
    session.flush()
    audit.append(session, actor=principal.id, role=role, action="household.merge", subject=into.id,
                 county_code=into.county_code,
                 payload={**asked, "change_id": change.id, "household_id": into.id, "from_household_id": other.id,
                          "members": member_ids, "merged_cases": change.merged_cases, "moved_cases": moved_cases,
                          "head_relation": head_relation, "relations": relations,
                          "reason_sha256": audit.text_digest(reason)},
                 clock=clock)
    return MergeResult(change.id, into.id, other.id, member_ids, merged, moved_cases)


@dataclass
class MoveResult:
    change_id: str
    member_id: str
    from_household_id: str
    household_id: str  # where the member is now
    new_household: bool


@dataclass
class MovePlan:
    """What moving `member` out of `source` would do, every rule asked (see `MergePlan`): `target` None is a new
    household (分户); `members` those of `source`, `staying` those of `target`."""

    source: Household
    target: Household | None
    members: list[Member]
    member: Member
    new_head: Member | None
    staying: list[Member]
    new_household: bool
    relation: str


def plan_move(session: Session, household_id: str, member_id: str, *, to_household_id: str | None,
              new_household: bool, principal: Principal, clock: Clock, relation: str = "other",
              new_head_member_id: str | None = None, lock: bool = True, step: str | None = "member_move") -> MovePlan:
    """Every rule of moving a member of `household_id` to `to_household_id`, or (`new_household`) to a new household
    of their own (分户) of which they are the head, nothing written (`lock`, `step` as `plan_merge` takes them). The
    cases stay with the household they belong to. Moving the head needs the member who becomes the head of those who
    stay; the last member is not moved (merge the households)."""
    if new_household == bool(to_household_id):
        raise ValidationFailed.one("to_household_id", "请选择迁入的家庭，或选择“新立一户（分户）”（二者选一）")
    if not new_household and relation not in RELATIONS:
        raise ValidationFailed.one("relation", "请选择与迁入户户主的关系")
    if to_household_id == household_id:
        raise ValidationFailed.one("to_household_id", "该成员已在这一户：请选择另一户")
    ids = sorted(h for h in (household_id, to_household_id) if h)
    locked = {h: load_household(session, h, principal, for_update=lock,
                                which="" if h == household_id else "（迁入的一户）")
              for h in ids}
    if step is not None:
        # not a relative's households (回避; see plan_merge): asked once both are found within the caller's counties
        # and locked, so another county's household answers 404 and leaves no refusal in that county's audit
        recusal.refuse_principal(session, principal, ids, step=step, clock=clock)
    source = locked[household_id]
    target = locked.get(to_household_id or "")
    if target is not None:
        _same_county(source, target, "迁移成员")
    members = members_of(session, source.id, for_update=lock)
    member = next((m for m in members if m.id == member_id), None)
    if member is None:
        if not members:
            raise _already_merged(session, source)
        raise NotFound("该户没有这名成员")
    if len(members) == 1:
        raise InvalidState("该户只有这一名成员，不能迁出：两户实为一户的，请用“合并家庭”")
    new_head = None
    if member.relation == "head":
        new_head = next((m for m in members if m.id == new_head_member_id and m.id != member.id), None)
        if new_head is None:
            raise ValidationFailed.one("new_head_member_id", "迁出的是户主：请选择留在原户的成员中谁任户主")
    staying = []
    if target is not None:
        staying = members_of(session, target.id, for_update=lock)
        if any(m.id_number_bidx == member.id_number_bidx for m in staying):
            raise InvalidState("同一人不能在一个家庭中登记两次：迁入户已有此人")
    cases = cases_of(session, ids, for_update=lock)
    _refuse_during_live_batches(session, cases, "迁移成员")
    return MovePlan(source, target, members, member, new_head, staying, new_household,
                    "head" if target is None else relation)


def apply_move(session: Session, plan: MovePlan, *, reason: str, principal: Principal, role: str, clock: Clock,
               proposal: dict[str, str] | None = None) -> MoveResult:
    """Make the move `plan_move` planned (see `apply_merge`)."""
    source, target, members, member, new_head, staying = (plan.source, plan.target, plan.members, plan.member,
                                                          plan.new_head, plan.staying)
    new_household, relation = plan.new_household, plan.relation
    asked = dict(proposal or {})
    now = clock.now()
    if target is None:
        target = Household(id=new_id("hh"), county_code=source.county_code, town=source.town, village=source.village,
                           household_group=source.household_group, head_name=member.name, phone_enc=None,
                           created_at=now)
        session.add(target)
        session.flush()
    member.household_id = target.id
    # every relation that changed, for the household's history (the audit entry keeps its own fields)
    changed: dict[str, dict[str, str]] = {}
    if relation != member.relation:
        changed[member.id] = {"before": member.relation, "after": relation}
    head = member.id if relation == "head" else next((m.id for m in staying if m.relation == "head"), None)
    member.relation = relation
    relations = {}
    if new_head is not None:  # those who stay, in relation to their new head (what the old head was to them)
        old_head_was = INVERSE_RELATIONS.get(new_head.relation, "other")
        for m in members:
            if m.id not in (member.id, new_head.id):
                now_is = joined_relation(old_head_was, m.relation)
                if now_is != m.relation:
                    relations[m.id] = {"before": m.relation, "after": now_is}
                m.relation = now_is
        changed[new_head.id] = {"before": new_head.relation, "after": "head"}
        changed.update(relations)
        new_head.relation = "head"
        source.head_name = new_head.name  # `relations` names him (after: head); `head` stays the member's own head
    change = HouseholdChange(
        id=new_id("hhc"), kind="move", county_code=source.county_code, from_household_id=source.id,
        to_household_id=target.id, member_id=member.id, members=[member.id], new_household=new_household,
        merged_cases=[], moved_cases=[], relations=_relation_rows(changed), head_member_id=head, reason=reason,
        changed_by=asked.get("proposed_by", principal.id),
        confirmed_by=principal.id if "proposed_by" in asked else None, changed_at=now)
    session.add(change)
    session.flush()
    audit.append(session, actor=principal.id, role=role, action="household.member_move", subject=member.id,
                 county_code=source.county_code,
                 payload={**asked, "change_id": change.id, "member_id": member.id, "from_household_id": source.id,
                          "to_household_id": target.id, "new_household": new_household, "relation": relation,
                          "new_head_member_id": new_head.id if new_head else None, "relations": relations,
                          "reason_sha256": audit.text_digest(reason)},
                 clock=clock)
    return MoveResult(change.id, member.id, source.id, target.id, new_household)
