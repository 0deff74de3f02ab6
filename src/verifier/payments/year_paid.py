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
  confirmed and not yet paid (open and confirmed, or in a batch), a misdirected one's from its opening (its recovery
  took the whole amount off the paid already: waiting for its confirmation it would count nowhere), and the relief
  of the household's other cases determined and not yet paid (determined … in a batch, payment failed: their latest
  determination's).
* `taken` = paid + committed is what the cap is read against (a re-check, a supplement's confirmation, a held case's
  raised relief); the household's cases are those of its household, cause and contract year.
* The determination prices a case on `priced_on`: the basis of the household's other paid cases is their
  determinations' (the costs the insurer verified, which a re-check does not change), so what is already paid
  against it is the larger of what was granted on it (their latest determinations' relief and the supplements a
  re-check found, confirmed) and `taken`. A recovery repaid lowers `taken` and leaves the room under the cap, but is
  not paid back through the next case's pricing.

One statement of scalar subqueries (one snapshot: a bank return imported meanwhile is counted whole or not at all),
whatever the number of the household's cases. `lock` serializes the steps that read and then add to a household's
year (a determination, a supplement's confirmation, a held case's raised relief): on PostgreSQL two of them for one
household would otherwise each read the other's not yet written. Such a step locks the household before the case
(`cases.workflow.load_case_for_year`), as a household's merge or split does (households/service/changes.py): one order, no deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, aliased

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


def _same_year(case: Case, besides: str | None = None) -> ColumnElement[bool]:
    same = ((Case.household_id == case.household_id) & (Case.cause == case.cause)
            & (Case.contract_year == case.contract_year))
    return same & (Case.id != besides) if besides else same


def _sum(amount: ColumnElement[int], table: Any, where: ColumnElement[bool]) -> ScalarSelect[int]:
    """The sum of `amount` over `table`'s rows of the cases `where` selects (0 when none), as a scalar subquery."""
    return (select(func.coalesce(func.sum(amount), 0)).select_from(table).join(Case, Case.id == table.case_id)
            .where(where).scalar_subquery())


def _latest_reliefs(where: ColumnElement[bool]) -> ScalarSelect[int]:
    """The sum of the latest determination's relief of each case `where` selects (0 when none)."""
    det = aliased(Determination)
    latest = (select(det.relief).where(det.case_id == Case.id)
              .order_by(det.confirmed_at.desc(), det.id.desc()).limit(1).scalar_subquery())
    return select(func.coalesce(func.sum(latest), 0)).where(where).scalar_subquery()


def _money(case: Case, besides: str | None, besides_supplement: str | None) -> tuple[ScalarSelect[int], ...]:
    """(paid by the bank, come back, committed supplements, committed relief): the module's docstring."""
    same = _same_year(case, besides)
    back = sql_case((Recovery.round_id.is_(None), Recovery.amount), else_=Recovery.repaid)
    # a misdirected supplement (no round) is committed from its opening: its recovery already took the money back
    committed = (SupplementaryPayment.status == "in_batch") | (
        (SupplementaryPayment.status == "open")
        & (SupplementaryPayment.confirmed_by.is_not(None) | SupplementaryPayment.round_id.is_(None)))
    if besides_supplement:
        committed = committed & (SupplementaryPayment.id != besides_supplement)
    return (_sum(PaymentItem.amount, PaymentItem, same & (PaymentItem.status == "succeeded")),
            _sum(back, Recovery, same & (Recovery.status != "withdrawn")),
            _sum(SupplementaryPayment.amount, SupplementaryPayment, same & committed),
            _latest_reliefs(same & Case.status.in_(UNPAID)))


def _year(paid: int, back: int, supplements: int, reliefs: int) -> YearPaid:
    return YearPaid(max(0, int(paid) - int(back)), int(supplements) + int(reliefs))


def year_paid(session: Session, case: Case, *, besides: str | None = None,
              besides_supplement: str | None = None) -> YearPaid:
    """Paid and committed for `case`'s household, cause and contract year (the module's docstring), on its cases but
    `besides` (a case id), and without the supplement `besides_supplement`: one statement."""
    return _year(*session.execute(select(*_money(case, besides, besides_supplement))).one())


@dataclass(frozen=True)
class Priced:
    """What a case of a household is priced on (checks/service.py `_prior_paid`): the cumulative basis of the
    household's other paid cases of the cause and year (the largest of their determinations'), what was granted
    against that basis (`granted`: their latest determinations' relief and the supplements a re-check found and a
    second reviewer confirmed, whatever was recovered since), and the money (`year`)."""

    basis: int
    granted: int
    year: YearPaid

    @property
    def already(self) -> int:
        """The 本年已付 the case is priced on: the larger of what was granted against the basis and the money taken.
        A recovery repaid lowers the money, not the basis: priced on the money alone, the next case would pay the
        recovered sum back (the basis still counts the costs it was granted for)."""
        return max(self.granted, self.year.taken)


def priced_on(session: Session, case: Case) -> Priced:
    """`Priced` for `case`, beside its own figures: one statement, one snapshot."""
    paid_before = _same_year(case, case.id) & (Case.status == "paid")
    found = (SupplementaryPayment.round_id.is_not(None)
             & ((SupplementaryPayment.status.in_(("in_batch", "paid")))
                | ((SupplementaryPayment.status == "open") & SupplementaryPayment.confirmed_by.is_not(None))))
    basis = (select(func.coalesce(func.max(Determination.basis), 0)).join(Case, Case.id == Determination.case_id)
             .where(paid_before).scalar_subquery())
    row = session.execute(select(basis, _latest_reliefs(paid_before),
                                 _sum(SupplementaryPayment.amount, SupplementaryPayment, paid_before & found),
                                 *_money(case, case.id, None))).one()
    return Priced(int(row[0]), int(row[1]) + int(row[2]), _year(*row[3:]))


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
