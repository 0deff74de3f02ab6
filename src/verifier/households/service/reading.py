"""Reading households: a household's history (its merges and moves), a household in brief (members masked, cases),
finding households by a case number or a name, and the other household a person at a check is recorded in."""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...accounts.auth import Principal
from ...cases.numbers import typed_number
from ...domain.errors import ValidationFailed
from ...domain.lifecycle import STATUS_LABELS_ZH
from ...domain.masking import mask_id, mask_name
from ...store.tables import CLOSED_STATUSES, Case, Household, Member
from ...store.vault import Vault
from ..models import HouseholdChange
from .rows import cases_of, load_household, members_of


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
    changed_by: str  # who made it, or since migration 0061 who proposed it
    changed_at: datetime
    relations: list[dict[str, str]] = []  # member_id, name, before, after: each relation to the head that changed
    # who heads the members concerned after the change, in this household (`head_in`): its new head when the head
    # moved out of it, else as HouseholdChange.head_member_id
    head_member_id: str | None = None
    head_name: str | None = None
    confirmed_by: str | None = None  # the second person who confirmed it (migration 0061); None before


def head_in(r: HouseholdChange, household_id: str) -> str | None:
    """Who heads the members the change concerns in `household_id`. When the head moved out, two households got a
    head: the one left has the new head named in `relations` (after "head", not the member moved), the one joined
    the change's `head_member_id` (rows recorded before it was the joined household's head held the left one's new
    head: then the member who set up a new household heads it, else the joined household's head is not known)."""
    stayed = next((c["member_id"] for c in r.relations or [] if r.kind == "move" and c.get("after") == "head"
                   and c.get("member_id") != r.member_id), None)
    if stayed is None:
        return r.head_member_id
    if household_id == r.from_household_id:
        return stayed
    if r.head_member_id != stayed:
        return r.head_member_id
    return r.member_id if r.new_household else None


def household_changes(session: Session, household_id: str, *, principal: Principal | None = None
                      ) -> list[HouseholdChangeOut]:
    """Every merge and move that concerns the household (from it or into it), oldest first. With `principal`,
    a household outside the caller's counties is 404."""
    if principal is not None:
        load_household(session, household_id, principal)
    rows = list(session.scalars(
        select(HouseholdChange).where(or_(HouseholdChange.from_household_id == household_id,
                                          HouseholdChange.to_household_id == household_id))
        .order_by(HouseholdChange.changed_at, HouseholdChange.id)))
    heads = {r.id: head_in(r, household_id) for r in rows}
    named = {r.member_id for r in rows} | set(heads.values()) | {
        c["member_id"] for r in rows for c in r.relations or []}
    names = dict(session.execute(select(Member.id, Member.name).where(
        Member.id.in_([m for m in named if m]))).tuples().all())
    return [HouseholdChangeOut(id=r.id, kind=r.kind, from_household_id=r.from_household_id,
                               to_household_id=r.to_household_id, member_id=r.member_id,
                               member_name=names.get(r.member_id) if r.member_id else None, members=list(r.members),
                               new_household=r.new_household, merged_cases=list(r.merged_cases),
                               moved_cases=list(r.moved_cases), reason=r.reason, changed_by=r.changed_by,
                               changed_at=r.changed_at,
                               relations=[{**c, "name": names.get(c["member_id"], "")} for c in r.relations or []],
                               head_member_id=heads[r.id], head_name=names.get(heads[r.id] or ""),
                               confirmed_by=r.confirmed_by)
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
                           relation=m.relation) for m in members_of(session, household.id)]
    cases = sorted(cases_of(session, [household.id]), key=lambda c: (c.status in CLOSED_STATUSES, c.number))
    return HouseholdBrief(id=household.id, county_code=household.county_code, town=household.town,
                          village=household.village, head_name=name(household.head_name),
                          household_group=household.household_group, members=members,
                          cases=[CaseBrief(id=c.id, number=c.number, cause=c.cause, contract_year=c.contract_year,
                                           status=c.status, status_label=STATUS_LABELS_ZH.get(c.status, c.status))
                                 for c in cases])


def household_brief(session: Session, vault: Vault, household_id: str, principal: Principal) -> HouseholdBrief:
    """The household with its members (ID numbers masked) and cases, within the caller's counties."""
    return _brief(session, vault, load_household(session, household_id, principal))


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
    found = []
    whole, suffixes = typed_number(text)
    if whole:
        found.append(Household.id.in_(select(Case.household_id).where(Case.number == whole)))
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
    home = load_household(session, household_id, principal)
    other_id = session.scalar(select(Member.household_id).where(
        Member.id_number_bidx == vault.blind_index(id_number, "id_number")))
    if other_id is None or other_id == home.id:
        return None
    other = session.get(Household, other_id)
    if other is None or other.county_code != home.county_code:
        return None
    return _brief(session, vault, other, mask_names=True)
