"""Correcting a household's application (entered by the town clerk) until the case is screened.

What can be corrected: the applicant's name, the phone, the town and village, the household group, the cause, the
amount, the date, the household size and the note. The ID number cannot: it is who the person is (it finds the
household through the blind index, across counties); a wrong ID number is withdrawn and entered again.

The household's own details (head's name, town, village, group, phone) are the household's: correcting them here
corrects them for the household only when the household is the application's own — it has no other case (of any
status) and no member but the applicant (the head the application brought). Otherwise the edit corrects the
application and its case only, and the household's details and its members' names stay as they are: the household's
other cases go by them, its members are what checks recorded, and a clerk must not rename a member of a household
(the payee at the door is a member under the name on record) outside a check. The phone is sealed again by the vault
(columns "household.phone" and "referral.phone"); the audit entry records each field before and after, the phone
masked, and whether the household was corrected with it (`household_kept`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..cases.workflow import load_case
from ..clock import Clock
from ..domain.errors import FieldError, InvalidState, ValidationFailed
from ..domain.lifecycle import STATUS_LABELS_ZH
from ..domain.masking import mask_phone
from ..domain.money import format_yuan
from ..places import service as places
from ..recusal import guard as recusal
from ..store import contracts as contract_store
from ..store.tables import CLOSED_STATUSES, Case, Household, Member, Referral
from ..store.vault import Vault
from ..audit import log as audit
from .parsing import parse_application
from .service import contract_problem, roster_group_problem

EDITABLE = ("name", "town", "village", "household_group", "cause", "amount", "referred_on", "household_size", "phone",
            "note")
ACTION = "case.application_edited"


@dataclass(frozen=True)
class Application:
    """The application as the edit form shows it: the phone masked (retyped to change it, blank keeps it)."""

    case_id: str
    county_code: str
    status: str
    values: dict[str, str]
    phone_masked: str


def _application(session: Session, case: Case) -> Referral:
    row = session.scalar(select(Referral).where(Referral.case_id == case.id, Referral.channel == "application")
                         .order_by(Referral.created_at.desc(), Referral.id.desc()).limit(1))
    if row is None:
        raise InvalidState("本案件来自导入的监测信息，不是手工录入的申请：请在数据来源处更正")
    return row


def _editable(case: Case) -> None:
    if case.status != "received":
        raise InvalidState(f"初筛之后不能再修改申请信息（当前状态：{STATUS_LABELS_ZH.get(case.status, case.status)}）")


def household_is_own(session: Session, case: Case, ref: Referral) -> bool:
    """Whether the case's household is the application's own: no other case of it, and no member but the applicant
    (matched by ID number)."""
    other_case = session.scalar(select(Case.id).where(Case.household_id == case.household_id, Case.id != case.id)
                                .limit(1))
    other_member = session.scalar(select(Member.id).where(Member.household_id == case.household_id,
                                                          Member.id_number_bidx != ref.id_number_bidx).limit(1))
    return other_case is None and other_member is None


def household_kept(session: Session, case_id: str, principal: Principal) -> bool:
    """Whether an edit of the case's application leaves its household as it is (`household_is_own`): the page says
    so after the edit."""
    case = load_case(session, case_id, principal)
    return not household_is_own(session, case, _application(session, case))


def application_view(session: Session, case_id: str, *, vault: Vault, principal: Principal) -> Application:
    case = load_case(session, case_id, principal)
    ref = _application(session, case)
    phone = vault.open_optional(ref.phone_enc, "referral.phone")
    values = {"name": ref.name, "town": ref.town, "village": ref.village, "household_group": ref.household_group,
              "cause": ref.cause, "amount": format_yuan(ref.amount), "referred_on": ref.referred_on.isoformat(),
              "household_size": "" if ref.household_size is None else str(ref.household_size), "phone": "",
              "note": ref.note or ""}
    return Application(case.id, case.county_code, case.status, values, mask_phone(phone) if phone else "")


def edit_application(session: Session, case_id: str, payload: dict[str, Any], *, vault: Vault,
                     principal: Principal, clock: Clock, form_problems: list[FieldError] | None = None) -> Case:
    """Correct the application of a case not yet screened. `payload` holds the fields of `EDITABLE` as the
    application takes them; a blank or absent phone keeps the phone. Every problem is reported at once, with
    `form_problems` (what the caller's form found in fields it could not pass on, e.g. a household size in words)."""
    case = load_case(session, case_id, principal, for_update=True)
    ref = _application(session, case)
    _editable(case)
    # 回避: correcting the application (its amount, its cause) is entering it: not by a relative of the household
    recusal.refuse_principal(session, principal, [case.household_id], step="application", case_id=case.id,
                             clock=clock)
    problems: list[FieldError] = [FieldError(str(k), "不接受此字段") for k in payload if k not in EDITABLE]
    form_problems = list(form_problems or [])
    id_number = vault.open(ref.id_number_enc, "referral.id_number")
    fields = {k: v for k, v in payload.items() if k in EDITABLE and v not in (None, "")}
    contract = contract_store.get_contract(session, case.contract_id)
    try:
        row = parse_application({**fields, "id_number": id_number}, today=clock.today(), table=contract.cause_table)
    except ValidationFailed as exc:
        raise ValidationFailed(problems + form_problems + exc.errors) from None
    if problems:
        raise ValidationFailed(problems + form_problems)
    on = row.referred_on or ref.referred_on
    if not contract.start <= on <= contract.end:
        problems.append(FieldError("referred_on", f"{on} 不在本案件服务合同 {contract.id} 的期限内（{contract.start} 至 {contract.end}）"))
    place = places.place_list(session, case.county_code).problem(row.town, row.village)
    if place is not None:  # a typo must not make a village: the county's list decides, as on a new application
        problems.append(FieldError(*place))
    if (taken := contract_problem(contract, row.cause, row.household_group, ("application",))) is not None:
        problems.append(taken)
    elif (wrong := roster_group_problem(session, vault, case.county_code, id_number, row.household_group)):
        problems.append(wrong)
    if row.cause != case.cause and session.scalar(select(Case.id).where(
            Case.household_id == case.household_id, Case.cause == row.cause, Case.contract_year == case.contract_year,
            Case.id != case.id, Case.status.not_in(CLOSED_STATUSES)).limit(1)):
        problems.append(FieldError("cause", "该户本年度同类原因已有办理中的案件"))
    problems += form_problems
    if problems:
        raise ValidationFailed(problems)

    household = session.get(Household, case.household_id)
    assert household is not None
    old_phone = vault.open_optional(ref.phone_enc, "referral.phone")
    before = {"name": ref.name, "town": ref.town, "village": ref.village, "household_group": ref.household_group,
              "cause": ref.cause, "amount": format_yuan(ref.amount), "referred_on": ref.referred_on.isoformat(),
              "household_size": ref.household_size, "note": ref.note,
              "phone": mask_phone(old_phone) if old_phone else None}
    phone = row.phone or old_phone
    after = {"name": row.name, "town": row.town, "village": row.village, "household_group": row.household_group,
             "cause": row.cause, "amount": format_yuan(row.amount), "referred_on": on.isoformat(),
             "household_size": row.household_size, "note": row.note, "phone": mask_phone(phone) if phone else None}
    changed = {k: {"before": before[k], "after": after[k]} for k in before if before[k] != after[k]}
    if not changed:
        raise ValidationFailed.one("application", "没有修改任何内容")

    own = household_is_own(session, case, ref)  # else only the application and its case are corrected
    ref.name, ref.town, ref.village, ref.household_group = row.name, row.town, row.village, row.household_group
    ref.cause, ref.amount, ref.referred_on, ref.household_size, ref.note = (row.cause, row.amount, on,
                                                                           row.household_size, row.note)
    if row.phone:
        ref.phone_enc = vault.seal(row.phone, "referral.phone")
        if own:
            household.phone_enc = vault.seal(row.phone, "household.phone")
    if own:
        household.head_name, household.town, household.village = row.name, row.town, row.village
        household.household_group = row.household_group
        head = session.scalar(select(Member).where(Member.household_id == household.id, Member.relation == "head")
                              .limit(1))
        if head is not None:
            head.name = row.name
    case.town, case.village, case.household_group, case.cause = row.town, row.village, row.household_group, row.cause
    case.reported_amount, case.referred_on = row.amount, on
    case.updated_at, case.version = clock.now(), case.version + 1
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(("town_clerk",)), action=ACTION,
                 subject=case.id, contract_hash=case.contract_hash, clock=clock,
                 payload={"referral_id": ref.id, "changed": changed, "household_kept": not own})
    return case
