"""Who a relief payment goes to: the rules a payee (account name, bank, account number) must meet wherever it is
entered, at the home check or in a payee change, and whether its name belongs to the household."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .cells import formula_problem
from .errors import FieldError

MAX_NAME = 100


@dataclass(frozen=True)
class Payee:
    account_name: str
    bank: str
    account_number: str  # digits only


def check_payee(account_name: str, bank: str, account_number: str, *,
                prefix: str = "") -> tuple[Payee, list[FieldError]]:
    """The payee as stored (names trimmed, the number without spaces) and every problem with it, said in Chinese (the
    payee-change API shows them as they are; the pages' tables pass Chinese through)."""
    problems: list[FieldError] = []
    for key, raw in (("account_name", account_name), ("bank", bank)):
        text = raw.strip()
        if not text:
            problems.append(FieldError(prefix + key, "必填"))
            continue
        # Checked before and after trimming: a leading tab or carriage return is refused, not quietly dropped.
        formula = formula_problem(raw) or formula_problem(text)
        if formula:
            problems.append(FieldError(prefix + key, formula))
        elif len(text) > MAX_NAME:
            problems.append(FieldError(prefix + key, f"最多 {MAX_NAME} 个字符"))
    number = "".join(account_number.split())
    if not number:
        problems.append(FieldError(prefix + "account_number", "必填"))
    elif not (number.isdigit() and number.isascii() and 8 <= len(number) <= 30):
        problems.append(FieldError(prefix + "account_number", "应为 8 至 30 位数字"))
    return Payee(account_name.strip(), bank.strip(), number), problems


def same_person_name(a: str, b: str) -> bool:
    """Names compared as written on a bank card or an ID card: spaces (any width) do not count."""
    return "".join(a.split()) == "".join(b.split()) != ""


def is_household_member(account_name: str, member_names: Iterable[str]) -> bool:
    return any(same_person_name(account_name, name) for name in member_names)


OUTSIDE_AT_THE_DOOR = ("收款人不是本户家庭成员（按本次核查登记的成员）：入户核查只登记本户成员本人的收款账户。由监护人、亲属等代收的，"
                       "此处不填收款账户，认定后由主管或财务申请变更收款人，写明原因，经县级审核人员批准。")
"""Why a home check refuses a payee outside the household: a change to such a name needs a reason and a county
reviewer (`payments.payees.request_change`), so the door, where one officer types the account, does not take it."""


def door_problems(payee: Payee | None, member_names: Iterable[str], *, prefix: str = "payee.") -> list[FieldError]:
    """A check's payee must be one of the members the same check records (compared as `same_person_name` does)."""
    if payee is None or not payee.account_name or is_household_member(payee.account_name, member_names):
        return []
    return [FieldError(prefix + "account_name", OUTSIDE_AT_THE_DOOR)]


NEW_AT_THE_DOOR = ("收款人是本次核查新登记的家庭成员（按身份证号，本户此前没有此人）：入户核查只登记本户原有成员本人的收款账户。"
                   "新登记成员作收款人的，此处不填收款账户，核查录入后由主管或财务申请收款人变更，写明原因，经县级审核人员批准。")
RENAMED_AT_THE_DOOR = ("收款人的姓名由本次核查更改（按身份证号，本户登记的该成员原为另一姓名）：入户核查只登记本户原有成员按原登记姓名的收款账户。"
                       "更正姓名后由其收款的，此处不填收款账户，核查录入后由主管或财务申请收款人变更，写明原因，经县级审核人员批准。")
NOT_THE_REFERRED_AT_THE_DOOR = ("本户此前没有登记成员，收款人须是接收时登记的户主（申请人）本人：入户核查不登记其他人的收款账户。"
                                "由其他成员收款的，此处不填收款账户，核查录入后由主管或财务申请收款人变更，写明原因，经县级审核人员批准。")
"""Why a home check refuses a payee the household did not have before it: one officer at the door could add a
made-up member, or rename a member, and name that person payee (his own card); such a payee goes through the payee
change, with its reason and the county reviewer."""
NOT_YET_ON_RECORD_AT_THE_DOOR = ("收款人是由入户核查新登记或更改姓名的成员（按身份证号），尚未在册：须待登记该成员的那次核查经认定确认，"
                                 "且只在本户的其他案件中作收款人。此处不填收款账户，核查录入后由主管或财务申请收款人变更，"
                                 "写明原因，经县级审核人员批准。")
"""Why a home check refuses a payee an earlier check added or renamed (`checks.on_record`): that check's
determination is not yet confirmed, or it is of the same case; one officer sent to two cases of a household could
otherwise add a person at one and name him payee at the other."""


def on_record_problems(payee: Payee | None, members: Iterable[tuple[str, str | None] | tuple[str, str | None, bool]],
                       *, had_members: bool, head_on_record: str, prefix: str = "payee.") -> list[FieldError]:
    """A check's payee must be a member the household already had before this check, under the name it had, and that
    name on record (`checks.on_record`: not typed by a check still unconfirmed, or of this case). `members`: each
    member this check records, as (its name in the check, its stored name — None when its ID number is new to the
    household[, whether the stored name is on record: True when left out]). A household with no member on record
    (known only from its referral) takes the person its record names as head (the referral's applicant),
    `head_on_record`. Called once `door_problems` found the payee among the check's members."""
    if payee is None or not payee.account_name:
        return []
    named = [(m[0], m[1], m[2] if len(m) > 2 else True) for m in members  # type: ignore[misc]
             if same_person_name(payee.account_name, m[0])]
    if not named:
        return []  # not a member of this check at all: `door_problems` says so
    kept = [settled for name, stored, settled in named if stored is not None and same_person_name(stored, name)]
    if any(kept):
        return []
    if kept:
        return [FieldError(prefix + "account_name", NOT_YET_ON_RECORD_AT_THE_DOOR)]
    if not had_members:
        return [] if same_person_name(payee.account_name, head_on_record) else [
            FieldError(prefix + "account_name", NOT_THE_REFERRED_AT_THE_DOOR)]
    if any(stored is not None for _, stored, _ in named):
        return [FieldError(prefix + "account_name", RENAMED_AT_THE_DOOR)]
    return [FieldError(prefix + "account_name", NEW_AT_THE_DOOR)]
