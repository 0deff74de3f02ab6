"""What-if pricing for fund sizing: every confirmed eligible determination priced again under another contract."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..contract import Contract
from ..domain.relief import relief_for
from ..store.tables import Case, Check, Determination, Household


@dataclass
class SimulationLine:
    cases: int = 0
    current: int = 0
    proposed: int = 0


@dataclass(frozen=True)
class SimulatedCase:
    """One household's case: its relief as determined, and as the proposed contract would price it."""

    case_id: str
    town: str
    village: str
    head_name: str
    cause: str
    group: str
    current: int
    proposed: int


@dataclass
class Simulation:
    lines: dict[tuple[str, str], SimulationLine] = field(default_factory=lambda: defaultdict(SimulationLine))
    not_covered: list[str] = field(default_factory=list)
    cases: list[SimulatedCase] = field(default_factory=list)

    @property
    def gaining(self) -> int:
        return sum(1 for c in self.cases if c.proposed > c.current)

    @property
    def losing(self) -> int:
        return sum(1 for c in self.cases if c.proposed < c.current)

    @property
    def current(self) -> int:
        return sum(line.current for line in self.lines.values())

    @property
    def proposed(self) -> int:
        return sum(line.proposed for line in self.lines.values())


def simulate(session: Session, proposed: Contract, county_codes: list[str] | None = None) -> Simulation:
    """Reprice each eligible determination on the same cumulative basis and members as it was priced."""
    out = Simulation()
    stmt = (select(Case, Determination, Check, Household.head_name)
            .join(Determination, Determination.case_id == Case.id)
            .join(Household, Household.id == Case.household_id)
            .join(Check, Check.id == Determination.check_id)
            .where(Determination.eligible.is_(True))
            .order_by(Case.id))
    if county_codes:
        stmt = stmt.where(Case.county_code.in_(county_codes))
    for case, det, check, head_name in session.execute(stmt):
        rule = proposed.rules.get((case.cause, case.household_group))
        if rule is None:
            out.not_covered.append(case.id)
            continue
        line = out.lines[(case.cause, case.household_group)]
        priced = relief_for(det.basis, rule, check.member_count, det.already_paid).amount
        line.cases += 1
        line.current += det.relief
        line.proposed += priced
        out.cases.append(SimulatedCase(case.id, case.town, case.village, head_name, case.cause, case.household_group,
                                       det.relief, priced))
    return out
