"""What a household has had of its relief for one cause in one contract year (本年度已发放), read against the contract's
yearly cap: the determination prices a case on it (checks/service.py `_prior_paid`), a county re-check may not find
more than it leaves (sampling/service.py), a supplementary payment (补发) is not confirmed beyond it
(sampling/consequences.py `confirm_supplement`), nor a held case's relief raised beyond it (cases/holds.py).

* **Paid** (`paid`): the transfers the bank's return confirmed (payment items `succeeded`, the relief and the
  supplements alike, as the monthly report counts 已兑现金额 on the day the bank settled them), less what came back:
  the confirmed repayments of a recovery (追回, `Recovery.repaid`, as the report counts 追回到账), and the whole of a
  recovery a follow-up opened as misdirected (核实未收到, no round: the money went to another account, the household
  never had it, and the supplement opened with it pays the household again) unless withdrawn. A waived recovery of
  a re-check (核销) still counts as paid: the household kept the money, and its next case has no more room for it.
* **Committed** (`committed`): what will be paid without another decision: supplements a second county reviewer
  confirmed and not yet paid (open and confirmed, or in a batch), and the relief of the household's other cases
  determined and not yet paid (determined … in a batch, payment failed: their latest determination's).
* `taken` = paid + committed is what the cap is read against; the household's cases are those of its household,
  cause and contract year.

Read in four statements, whatever the number of the household's cases. `lock` serializes the steps that read and
then add to a household's year (a determination, a supplement's confirmation, a held case's raised relief): on
PostgreSQL two of them for one household would otherwise each read the other's not yet written.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ..domain.money import format_yuan
from ..domain.relief import cap_room
from ..store import contracts as contract_store
from ..store.tables import Case, Check, Determination, Household
from .models import PaymentItem, Recovery, SupplementaryPayment

# The statuses of a determined case whose relief is still to be paid.
UNPAID = ("determined", "reviewed", "in_notice", "ready_to_pay", "in_batch", "payment_failed")


@dataclass(frozen=True)
class YearPaid:
    paid: int
    committed: int

    @property
    def taken(self) -> int:
        return self.paid + self.committed


@dataclass(frozen=True)
class Room:
    """The yearly cap of a case's rule for its household (`domain.relief.rule_cap`), what the household's other cases
    have taken of it, and what is left for this case."""

    cap: int
    taken: int
    left: int

    def most(self) -> str:
        """The refusal of a relief above what is left (a county re-check's, a held case's raised one), in yuan."""
        text = f"最多 {format_yuan(self.left)} 元（服务合同对该致贫原因和户类型的年度上限 {format_yuan(self.cap)} 元"
        if self.taken:
            text += f"，本户本年度同一致贫原因的其他案件已发放或待发放 {format_yuan(self.taken)} 元"
        return text + "）"


def lock(session: Session, household_id: str) -> None:
    """The household's row locked to the end of the transaction (see the module's docstring)."""
    session.execute(select(Household.id).where(Household.id == household_id).with_for_update())


def _same_year(case: Case) -> ColumnElement[bool]:
    return ((Case.household_id == case.household_id) & (Case.cause == case.cause)
            & (Case.contract_year == case.contract_year))


def year_paid(session: Session, case: Case, *, besides: str | None = None,
              besides_supplement: str | None = None) -> YearPaid:
    """Paid and committed for `case`'s household, cause and contract year (the module's docstring), on its cases but
    `besides` (a case id), and without the supplement `besides_supplement`."""
    same = _same_year(case) & (Case.id != besides) if besides else _same_year(case)
    paid = int(session.scalar(
        select(func.coalesce(func.sum(PaymentItem.amount), 0)).join(Case, Case.id == PaymentItem.case_id)
        .where(same, PaymentItem.status == "succeeded")) or 0)
    for round_id, amount, repaid, status in session.execute(
            select(Recovery.round_id, Recovery.amount, Recovery.repaid, Recovery.status)
            .join(Case, Case.id == Recovery.case_id).where(same, Recovery.status != "withdrawn")):
        paid -= amount if round_id is None else repaid
    confirmed = (SupplementaryPayment.status == "in_batch") | (
        (SupplementaryPayment.status == "open") & SupplementaryPayment.confirmed_by.is_not(None))
    if besides_supplement:
        confirmed = confirmed & (SupplementaryPayment.id != besides_supplement)
    committed = int(session.scalar(
        select(func.coalesce(func.sum(SupplementaryPayment.amount), 0))
        .join(Case, Case.id == SupplementaryPayment.case_id).where(same, confirmed)) or 0)
    latest: dict[str, int] = {}
    for case_id, relief in session.execute(
            select(Determination.case_id, Determination.relief).join(Case, Case.id == Determination.case_id)
            .where(same, Case.status.in_(UNPAID))
            .order_by(Determination.case_id, Determination.confirmed_at.desc(), Determination.id.desc())):
        latest.setdefault(case_id, relief)
    return YearPaid(max(0, paid), committed + sum(latest.values()))


def room(session: Session, case: Case, *, besides_supplement: str | None = None,
         own: bool = False) -> Room | None:
    """The yearly cap of `case` (its contract's rule for its cause and group, `cap_per_year` and `cap_per_member` x
    the members of its latest check) and what the household's other cases of the cause and year have taken of it
    (`own`: its own too); None when the rule sets no cap (or the contract has no rule for it)."""
    rule = contract_store.get_contract(session, case.contract_id).rules.get((case.cause, case.household_group))
    if rule is None:
        return None
    members = session.scalar(select(Check.member_count).where(Check.case_id == case.id)
                             .order_by(Check.seq.desc()).limit(1))
    taken = year_paid(session, case, besides=None if own else case.id, besides_supplement=besides_supplement).taken
    left = cap_room(rule, members or 1, taken)
    return None if left is None else Room(left[0], taken, left[1])
