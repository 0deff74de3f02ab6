"""One household, one case: merging two households found to be one, and moving a member to another household.

A referral for a husband and an application naming his wife make two households until someone sees they are one;
a check listing both is then refused ("this person is recorded in another household"). The insurer's supervisor
settles it here, with a reason, in the audit log and in `household_change` (a household's history):

- `merge_households`: every member and case of one household moves into the other; two open cases of the same
  cause and contract year become one (the case further along is kept; at the same stage, the surviving
  household's). The other ends `merged`, pointing at the one kept, its referrals attached to it. A case with a
  determination is never merged away, and a determined open case is not joined with the other household's paid
  case of the same cause and year (its amount was priced without that payment: it would be paid twice).
- `move_member`: one member to another household, or to a new one (分户), e.g. after a marriage.

Both are refused (409) while a case of either household is in a live payment batch (not yet reconciled or
cancelled), across counties, and for anyone but an insurer supervisor (403). Messages are in Chinese: the pages
show them as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import msgspec
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..cases.numbers import NUMBER, format_number, seq_suffixes
from ..cases.workflow import advance
from ..clock import Clock
from ..recusal import service as recusal
from ..domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from ..domain.lifecycle import STATUS_LABELS_ZH
from ..domain.masking import mask_id, mask_name
from ..payments.models import PaymentBatch, PaymentItem
from ..payments.service import BATCH_STATUS_LABELS_ZH
from ..store.base import new_id
from ..store.tables import CLOSED_STATUSES, Case, Household, Member, Referral, Visit
from ..store.vault import Vault
from .models import HouseholdChange

ROLE = "insurer_supervisor"
RELATIONS = ("spouse", "child", "parent", "other")
"""What a member who joins a household may be to its head (the head is chosen by the next home check)."""
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


def _household(session: Session, household_id: str, principal: Principal | None, *, for_update: bool = False,
               which: str = "") -> Household:
    """The household, if it lies in the caller's counties (otherwise 404: nothing leaks)."""
    stmt = select(Household).where(Household.id == household_id)
    if for_update:
        stmt = stmt.with_for_update()
    found = session.scalar(stmt) if household_id else None
    if found is None or (principal is not None and not principal.may_see_county(found.county_code)):
        raise NotFound(f"没有这个家庭{which}")
    return found


def _cases(session: Session, household_ids: Sequence[str], *, for_update: bool = False) -> list[Case]:
    stmt = select(Case).where(Case.household_id.in_(list(household_ids))).order_by(Case.number)
    if for_update:
        stmt = stmt.with_for_update()
    return list(session.scalars(stmt))


def _members(session: Session, household_id: str, *, for_update: bool = False) -> list[Member]:
    stmt = select(Member).where(Member.household_id == household_id).order_by(Member.relation != "head", Member.id)
    if for_update:
        stmt = stmt.with_for_update()
    return list(session.scalars(stmt))


def household_members(session: Session, household_id: str) -> list[Member]:
    """The members of a household, head first (the check form offers them to be confirmed at the door)."""
    return _members(session, household_id)


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


def merge_households(session: Session, household_id: str, from_household_id: str, *, reason: str,
                     principal: Principal, clock: Clock, head_relation: str = "other") -> MergeResult:
    """Merge household `from_household_id` into `household_id` (which survives). See the module's docstring."""
    _require_supervisor(principal, "合并家庭")
    reason = _reason(reason)
    if head_relation not in RELATIONS:
        raise ValidationFailed.one("head_relation", "请选择被并入户户主与保留户户主的关系")
    if household_id == from_household_id:
        raise ValidationFailed.one("from_household_id", "不能把一个家庭并入它自己：请选择另一户")
    first, second = sorted((household_id, from_household_id))  # one locking order for every writer
    locked = {h: _household(session, h, principal, for_update=True, which="" if h == household_id else "（并入的一户）")
              for h in (first, second)}
    # not a relative's households (回避): a merge or a move could take the relative out of the household whose case
    # the same person then decides
    recusal.refuse_principal(session, principal, [first, second], step="household_merge", clock=clock)
    into, other = locked[household_id], locked[from_household_id]
    _same_county(into, other, "合并家庭")
    moving = _members(session, other.id, for_update=True)
    if not moving:
        raise _already_merged(session, other)
    staying = _members(session, into.id, for_update=True)
    if not staying:  # a household merged away earlier is not revived: merge into the one that was kept
        raise _already_merged(session, into)
    twice = {m.id_number_bidx for m in staying} & {m.id_number_bidx for m in moving}
    if twice:
        raise InvalidState("同一人不能在一个家庭中登记两次：两户有相同的成员")
    cases = _cases(session, [into.id, other.id], for_update=True)
    _refuse_during_live_batches(session, cases, "合并家庭")
    keep = [c for c in cases if c.household_id == into.id]
    theirs = [c for c in cases if c.household_id == other.id]
    joins = _plan_joins(keep, theirs)
    _refuse_paying_twice(keep, theirs, joins)

    merged: list[MergedCase] = []
    for kept, gone in joins:
        visit = session.scalar(select(Visit).where(Visit.case_id == gone.id, Visit.active.is_(True)))
        if visit is not None:
            visit.active = False
        referral_ids = list(session.scalars(select(Referral.id).where(Referral.case_id == gone.id)))
        was = gone.status
        gone.merged_into_id = kept.id
        gone.closed_reason = f"已并入案件 {kept.number}（家庭合并）"
        advance(session, gone, "merge", actor=principal, role=ROLE, clock=clock, payload={
            "into_case_id": kept.id, "into_number": kept.number, "referrals": referral_ids,
            "household_id": into.id, "from_household_id": other.id, "reason_sha256": audit.text_digest(reason)})
        session.execute(update(Referral).where(Referral.case_id == gone.id).values(case_id=kept.id))
        kept.updated_at = clock.now()
        kept.version += 1
        audit.append(session, actor=principal.id, role=ROLE, action="case.merged_in", subject=kept.id,
                     contract_hash=kept.contract_hash, county_code=kept.county_code,
                     payload={"from_case_id": gone.id, "from_number": gone.number, "referrals": referral_ids,
                              "from_status": was, "reason_sha256": audit.text_digest(reason)},
                     clock=clock)
        merged.append(MergedCase(gone.id, gone.number, kept.id, kept.number))
    session.flush()  # the merged cases are closed before any case changes household (one open case per cause)
    moved_cases = [c.id for c in theirs]
    if moved_cases:
        session.execute(update(Case).where(Case.id.in_(moved_cases)).values(household_id=into.id))
    member_ids = []
    for m in moving:
        m.household_id = into.id
        if m.relation == "head":
            m.relation = head_relation
        member_ids.append(m.id)
    change = HouseholdChange(
        id=new_id("hhc"), kind="merge", county_code=into.county_code, from_household_id=other.id,
        to_household_id=into.id, member_id=None, members=member_ids, new_household=False,
        merged_cases=[{"case_id": m.case_id, "number": m.number, "into_case_id": m.into_case_id,
                       "into_number": m.into_number} for m in merged],
        moved_cases=moved_cases, reason=reason, changed_by=principal.id, changed_at=clock.now())
    session.add(change)
    session.flush()
    audit.append(session, actor=principal.id, role=ROLE, action="household.merge", subject=into.id,
                 county_code=into.county_code,
                 payload={"change_id": change.id, "household_id": into.id, "from_household_id": other.id,
                          "members": member_ids, "merged_cases": change.merged_cases, "moved_cases": moved_cases,
                          "head_relation": head_relation, "reason_sha256": audit.text_digest(reason)},
                 clock=clock)
    return MergeResult(change.id, into.id, other.id, member_ids, merged, moved_cases)


@dataclass
class MoveResult:
    change_id: str
    member_id: str
    from_household_id: str
    household_id: str  # where the member is now
    new_household: bool


def move_member(session: Session, household_id: str, member_id: str, *, to_household_id: str | None,
                new_household: bool, reason: str, principal: Principal, clock: Clock, relation: str = "other",
                new_head_member_id: str | None = None) -> MoveResult:
    """Move a member of `household_id` to `to_household_id`, or (`new_household`) to a new household of their own
    (分户) of which they are the head. The cases stay with the household they belong to. Moving the head needs
    the member who becomes the head of those who stay; the last member is not moved (merge the households)."""
    _require_supervisor(principal, "迁移家庭成员")
    reason = _reason(reason)
    if new_household == bool(to_household_id):
        raise ValidationFailed.one("to_household_id", "请选择迁入的家庭，或选择“新立一户（分户）”（二者选一）")
    if not new_household and relation not in RELATIONS:
        raise ValidationFailed.one("relation", "请选择与迁入户户主的关系")
    if to_household_id == household_id:
        raise ValidationFailed.one("to_household_id", "该成员已在这一户：请选择另一户")
    ids = sorted(h for h in (household_id, to_household_id) if h)
    recusal.refuse_principal(session, principal, ids, step="member_move", clock=clock)  # not a relative's households (回避; see merge_households)
    locked = {h: _household(session, h, principal, for_update=True, which="" if h == household_id else "（迁入的一户）")
              for h in ids}
    source = locked[household_id]
    target = locked.get(to_household_id or "")
    if target is not None:
        _same_county(source, target, "迁移成员")
    members = _members(session, source.id, for_update=True)
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
    if target is not None:
        staying = _members(session, target.id, for_update=True)
        if any(m.id_number_bidx == member.id_number_bidx for m in staying):
            raise InvalidState("同一人不能在一个家庭中登记两次：迁入户已有此人")
    cases = _cases(session, ids, for_update=True)
    _refuse_during_live_batches(session, cases, "迁移成员")

    now = clock.now()
    if target is None:
        target = Household(id=new_id("hh"), county_code=source.county_code, town=source.town, village=source.village,
                           household_group=source.household_group, head_name=member.name, phone_enc=None,
                           created_at=now)
        session.add(target)
        session.flush()
        relation = "head"
    member.household_id = target.id
    member.relation = relation
    if new_head is not None:
        new_head.relation = "head"
        source.head_name = new_head.name
    change = HouseholdChange(
        id=new_id("hhc"), kind="move", county_code=source.county_code, from_household_id=source.id,
        to_household_id=target.id, member_id=member.id, members=[member.id], new_household=new_household,
        merged_cases=[], moved_cases=[], reason=reason, changed_by=principal.id, changed_at=now)
    session.add(change)
    session.flush()
    audit.append(session, actor=principal.id, role=ROLE, action="household.member_move", subject=member.id,
                 county_code=source.county_code,
                 payload={"change_id": change.id, "member_id": member.id, "from_household_id": source.id,
                          "to_household_id": target.id, "new_household": new_household, "relation": relation,
                          "new_head_member_id": new_head.id if new_head else None,
                          "reason_sha256": audit.text_digest(reason)},
                 clock=clock)
    return MoveResult(change.id, member.id, source.id, target.id, new_household)


# ---- reading: a household's history, a household in brief, finding households --------------------------------

class HouseholdChangeOut(msgspec.Struct):
    id: str
    kind: str  # merge | move
    from_household_id: str
    to_household_id: str
    member_id: str | None
    member_name: str | None
    members: list[str]
    new_household: bool
    merged_cases: list[dict[str, str]]  # case_id, number, into_case_id, into_number
    moved_cases: list[str]
    reason: str
    changed_by: str
    changed_at: datetime


def household_changes(session: Session, household_id: str, *, principal: Principal | None = None
                      ) -> list[HouseholdChangeOut]:
    """Every merge and move that concerns the household (from it or into it), oldest first. With `principal`,
    a household outside the caller's counties is 404."""
    if principal is not None:
        _household(session, household_id, principal)
    rows = list(session.scalars(
        select(HouseholdChange).where(or_(HouseholdChange.from_household_id == household_id,
                                          HouseholdChange.to_household_id == household_id))
        .order_by(HouseholdChange.changed_at, HouseholdChange.id)))
    names = dict(session.execute(select(Member.id, Member.name).where(
        Member.id.in_([r.member_id for r in rows if r.member_id]))).tuples().all())
    return [HouseholdChangeOut(id=r.id, kind=r.kind, from_household_id=r.from_household_id,
                               to_household_id=r.to_household_id, member_id=r.member_id,
                               member_name=names.get(r.member_id) if r.member_id else None, members=list(r.members),
                               new_household=r.new_household, merged_cases=list(r.merged_cases),
                               moved_cases=list(r.moved_cases), reason=r.reason, changed_by=r.changed_by,
                               changed_at=r.changed_at)
            for r in rows]


class MemberBrief(msgspec.Struct):
    id: str
    name: str
    id_number: str  # masked 6+4
    relation: str


class CaseBrief(msgspec.Struct):
    id: str
    number: str
    cause: str
    contract_year: int
    status: str
    status_label: str


class HouseholdBrief(msgspec.Struct):
    id: str
    county_code: str
    town: str
    village: str
    head_name: str
    household_group: str
    members: list[MemberBrief]
    cases: list[CaseBrief]
    """Open cases first, then closed ones; newest number first within each."""


def _brief(session: Session, vault: Vault, household: Household, *, mask_names: bool = False) -> HouseholdBrief:
    def name(n: str) -> str:
        return mask_name(n) if mask_names else n

    members = [MemberBrief(id=m.id, name=name(m.name), id_number=mask_id(vault.open(m.id_number_enc, "member.id_number")),
                           relation=m.relation) for m in _members(session, household.id)]
    cases = sorted(_cases(session, [household.id]), key=lambda c: (c.status in CLOSED_STATUSES, c.number))
    return HouseholdBrief(id=household.id, county_code=household.county_code, town=household.town,
                          village=household.village, head_name=name(household.head_name),
                          household_group=household.household_group, members=members,
                          cases=[CaseBrief(id=c.id, number=c.number, cause=c.cause, contract_year=c.contract_year,
                                           status=c.status, status_label=STATUS_LABELS_ZH.get(c.status, c.status))
                                 for c in cases])


def household_brief(session: Session, vault: Vault, household_id: str, principal: Principal) -> HouseholdBrief:
    """The household with its members (ID numbers masked) and cases, within the caller's counties."""
    return _brief(session, vault, _household(session, household_id, principal))


MAX_FOUND = 20


def find_households(session: Session, vault: Vault, principal: Principal, q: str, *, county_code: str,
                    exclude: str | None = None) -> list[HouseholdBrief]:
    """Households of `county_code` (within the caller's counties) found by a case number (whole, or its trailing
    sequence digits) or a name (part of the head's or a member's name); at most MAX_FOUND."""
    text = (q or "").strip()
    if not text or not principal.may_see_county(county_code):
        return []
    if len(text) > 50:
        raise ValidationFailed.one("q", "搜索内容最多 50 个字符")
    compact = text.upper().replace(" ", "")
    found = []
    whole = NUMBER.match(compact)
    if whole:
        county, year, seq = whole.groups()
        found.append(Household.id.in_(select(Case.household_id).where(
            Case.number == format_number(county, int(year), int(seq)))))
    suffixes = list(seq_suffixes(compact))
    if suffixes:
        found.append(Household.id.in_(select(Case.household_id).where(
            or_(*(Case.number.endswith(s) for s in suffixes)))))
    if not any(ch.isdigit() for ch in text):
        found.append(Household.head_name.contains(text, autoescape=True))
        found.append(Household.id.in_(select(Member.household_id).where(Member.name.contains(text, autoescape=True))))
    if not found:
        return []
    stmt = (select(Household).where(Household.county_code == county_code, or_(*found),
                                    Household.id.in_(select(Member.household_id)))
            .order_by(Household.head_name, Household.id).limit(MAX_FOUND))
    if exclude:
        stmt = stmt.where(Household.id != exclude)
    return [_brief(session, vault, h) for h in session.scalars(stmt)]


def conflict_household(session: Session, vault: Vault, principal: Principal, household_id: str,
                       id_number: str) -> HouseholdBrief | None:
    """The other household of the same county in which a person named at a check of `household_id` is recorded,
    masked for the check form (names to the family name, ID numbers 6+4), or None (nobody, the same household, or
    another county's: that one stays unnamed, as the check's refusal is)."""
    home = _household(session, household_id, principal)
    other_id = session.scalar(select(Member.household_id).where(
        Member.id_number_bidx == vault.blind_index(id_number, "id_number")))
    if other_id is None or other_id == home.id:
        return None
    other = session.get(Household, other_id)
    if other is None or other.county_code != home.county_code:
        return None
    return _brief(session, vault, other, mask_names=True)
