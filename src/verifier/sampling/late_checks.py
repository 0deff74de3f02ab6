"""Checks a frozen round missed: dated within its period but arriving after it froze. They were not in that round's
population, so the next round of the county and kind frozen after them takes them in (see `flow.population_rows`).

A check's visit day is what the officers say it was; the day it was recorded is the system's. Without this, a
check recorded once a round is frozen and dated back into the round's period would fall into no sample.

A monetary round weighs a case by its confirmed relief, so a check arrives in a monetary population only when its
determination is confirmed (always after the check's recording). A supervisor who held back the confirmation of a
doubtful, large relief until the county froze the period's monetary round kept the case out of that round, and the
next round (a later period) would not take it either: the case fell into no monetary sample. For monetary rounds
the day that counts is therefore the confirmation's (`arrived`). The round's page shows the cases it missed
(`missed_cases`) and the next round's page those it took in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..store.tables import Case, Check, Determination
from .models import SamplingMember, SamplingRound

SAMPLED = ("frozen", "drawn")
LIST_MAX = 200
"""A round's lists of cases (`missed`, `redone`, `awaiting_determination`) show at most this many each, with how
many there are in all: the page says how many more it does not list, never a list cut short unsaid."""
# A case with checks but no current one: its latest check sent back, or its case to be checked again after a failed
# visit, a review request (复核) or an upheld objection (`screened`, then `scheduled`); withdrawn cases; and cases
# merged into another when their households were found to be one (`merged`, households/service/changes.py): no live
# case, the county's verdict being about the case kept, by that case's own check (a merged-away case is not
# determined again, so its old check, or a determination objected to, stands for nothing; and the household would
# be sampled twice). The same for every population a round reads: attribute and monetary, the checks a frozen round
# missed and the list of those waiting for the next round (`carried`, `missed_cases`).
EXCLUDED_STATUSES = ("screened", "scheduled", "withdrawn", "merged")


def population_statement(county_code: str, kind: str) -> Select[Any]:
    """The population's statement without its period (`flow.population_rows`): (case id, town, contract id, check
    id[, relief in fen]) of the county's cases by their latest check, less the cases a population leaves out
    (`EXCLUDED_STATUSES`; a monetary round: but the confirmed determinations with relief above zero, and not the
    cases whose village review failed)."""
    later = aliased(Check)
    # A case's latest check is the one with no later check of the same case: the checks visited in the period are
    # read by their day (an index), not every check ever made grouped by case.
    latest = ~exists().where(later.case_id == Check.case_id, later.seq > Check.seq)
    stmt = (
        select(Case.id, Case.town, Case.contract_id, Check.id)
        .join(Check, Check.case_id == Case.id)
        .where(Case.county_code == county_code, latest, Case.status.not_in(EXCLUDED_STATUSES))
    )
    if kind == "monetary":
        stmt = (stmt.add_columns(Determination.relief)
                .join(Determination, Determination.check_id == Check.id)
                .where(Determination.relief > 0, Case.status != "review_failed"))
    return stmt


def arrived(kind: str) -> Any:
    """When a check joined the populations of `kind`: its recording (attribute), its determination's confirmation
    (monetary: the caller joins `Determination`)."""
    return Determination.confirmed_at if kind == "monetary" else Check.recorded_at


def missed_by_a_frozen_round(county_code: str, kind: str) -> ColumnElement[bool]:
    """True for a check (`Check`, joined by the caller, and `Determination` for a monetary round) dated within the
    period of a frozen or drawn round of the county and kind but arrived (`arrived`) after that round froze, whose
    case no round of the county and kind frozen since that check arrived has taken in."""
    missed = aliased(SamplingRound)
    since = aliased(SamplingRound)
    at = arrived(kind)
    return and_(
        exists().where(missed.county_code == county_code, missed.kind == kind, missed.status.in_(SAMPLED),
                       missed.checked_from <= Check.visited_on, missed.checked_to >= Check.visited_on,
                       missed.frozen_at < at),
        ~exists().where(SamplingMember.case_id == Check.case_id, SamplingMember.round_id == since.id,
                        since.county_code == county_code, since.kind == kind, since.status.in_(SAMPLED),
                        since.frozen_at >= at),
    )


def carried_rows(session: Session, stmt: Select[Any], county_code: str, kind: str, start: date,
                 end: date) -> list[Any]:
    """The rows of `stmt` (the population's statement without its period) whose check a frozen round missed, dated
    outside `start`..`end`. No query of the checks when the county has no frozen round of the kind; otherwise they
    are read through the visit day's index, between the first and last day the frozen rounds cover."""
    first, last, first_freeze = session.execute(
        select(func.min(SamplingRound.checked_from), func.max(SamplingRound.checked_to),
               func.min(SamplingRound.frozen_at))
        .where(SamplingRound.county_code == county_code, SamplingRound.kind == kind,
               SamplingRound.status.in_(SAMPLED))).one()
    if first is None:
        return []
    return list(session.execute(carried(stmt, county_code, kind).where(
        Check.visited_on >= first, Check.visited_on <= last, arrived(kind) > first_freeze,
        or_(Check.visited_on < start, Check.visited_on > end))))


def carried(stmt: Select[Any], county_code: str, kind: str) -> Select[Any]:
    """The rows of `stmt` (`population_statement`) the next round of the county and kind frozen now takes in, whatever
    its period: their check a frozen round missed (`missed_by_a_frozen_round`). What `carried_rows` reads, and what
    a frozen round's page says waits for that round (`missed_cases`)."""
    return stmt.where(missed_by_a_frozen_round(county_code, kind))


@dataclass(frozen=True)
class Missed:
    """A case a frozen round missed: its check dated within the round's period, recorded (or, for a monetary round,
    its determination confirmed) after the freeze; `taken_in_by`: the round of the county and kind that took it in
    since, None while it waits for the next; `in_population`: the case was in the round's population by an earlier
    check (sent back, or objected to, and redone after the freeze): the round did not miss the case, only this
    check, which the next round takes in all the same (the insurer's new work, sampled once)."""
    case_id: str
    visited_on: date
    recorded_at: datetime
    confirmed_at: datetime | None
    relief: int | None  # fen; monetary rounds
    late_confirmed: bool  # recorded before the freeze, confirmed after it (monetary rounds)
    taken_in_by: SamplingRound | None
    in_population: bool = False


def missed_cases(session: Session, rnd: SamplingRound) -> list[Missed]:
    """The cases `rnd` (frozen or drawn) missed, by visit day, all of them: their latest check dated within its
    period and arrived after its freeze (`arrived`), each either waiting for the next round of the county and kind,
    which takes it in (`carried`: the population's rule, `population_statement`, read by the carry too), or taken
    in by a round since (`taken_in_by`). A case the population leaves out (withdrawn, merged into another, waiting
    to be checked again, its check sent back among others; a monetary round: its village review failed) is not
    listed: no round takes it, and `rnd` would have left it out as well had its check come before the freeze."""
    if rnd.status not in SAMPLED or rnd.frozen_at is None:
        return []
    later = aliased(Check)
    at = arrived(rnd.kind)
    of_the_round = (Check.visited_on >= rnd.checked_from, Check.visited_on <= rnd.checked_to, at > rnd.frozen_at)
    stmt = (select(Check.case_id, Check.visited_on, Check.recorded_at, Check.id)
            .join(Case, Case.id == Check.case_id)
            .where(Case.county_code == rnd.county_code, *of_the_round,
                   ~exists().where(later.case_id == Check.case_id, later.seq > Check.seq)))
    if rnd.kind == "monetary":
        stmt = (stmt.add_columns(Determination.confirmed_at, Determination.relief)
                .join(Determination, Determination.check_id == Check.id)
                .where(Determination.relief > 0))
    rows = list(session.execute(stmt.order_by(Check.visited_on, Check.case_id)))
    if not rows:
        return []
    waiting = {r[0] for r in session.execute(
        carried(population_statement(rnd.county_code, rnd.kind), rnd.county_code, rnd.kind).where(*of_the_round))}
    taken = _taken_in(session, rnd, [r[0] for r in rows])
    members = set(session.scalars(select(SamplingMember.case_id).where(
        SamplingMember.round_id == rnd.id, SamplingMember.case_id.in_([r[0] for r in rows]))))
    out = []
    for r in rows:
        confirmed, relief = (r[4], int(r[5])) if rnd.kind == "monetary" else (None, None)
        late_confirmed = confirmed is not None and r[2] <= rnd.frozen_at
        since = confirmed if rnd.kind == "monetary" else r[2]
        taker = next((t for t in taken.get(r[0], []) if t.frozen_at >= since), None)
        if taker is not None or r[0] in waiting:
            out.append(Missed(r[0], r[1], r[2], confirmed, relief, late_confirmed, taker, r[0] in members))
    return out


def _taken_in(session: Session, rnd: SamplingRound, case_ids: list[str]) -> dict[str, list[SamplingRound]]:
    """Per case: the rounds of the county and kind frozen after `rnd` whose population holds it, by freeze."""
    if not case_ids:
        return {}
    found: dict[str, list[SamplingRound]] = {}
    for case_id, taker in session.execute(
            select(SamplingMember.case_id, SamplingRound)
            .join(SamplingRound, SamplingRound.id == SamplingMember.round_id)
            .where(SamplingMember.case_id.in_(case_ids), SamplingRound.county_code == rnd.county_code,
                   SamplingRound.kind == rnd.kind, SamplingRound.status.in_(SAMPLED),
                   SamplingRound.frozen_at > rnd.frozen_at)
            .order_by(SamplingRound.frozen_at)):
        found.setdefault(case_id, []).append(taker)
    return found


def carried_in(session: Session, rnd: SamplingRound) -> list[str]:
    """The members of `rnd` carried in from an earlier round that missed them, as `rnd` froze them: the check each
    was frozen by (its case's latest recorded by the freeze, the one `flow.population_rows` read) is dated outside
    `rnd`'s period (the population takes no other such check). A check sent back and redone since changes nothing."""
    if rnd.status not in SAMPLED or rnd.frozen_at is None:
        return []
    later = aliased(Check)
    return list(session.scalars(
        select(SamplingMember.case_id).join(Check, Check.case_id == SamplingMember.case_id)
        .where(SamplingMember.round_id == rnd.id, Check.recorded_at <= rnd.frozen_at,
               ~exists().where(later.case_id == Check.case_id, later.seq > Check.seq,
                               later.recorded_at <= rnd.frozen_at),
               or_(Check.visited_on < rnd.checked_from, Check.visited_on > rnd.checked_to))
        .order_by(SamplingMember.case_id)))


def awaiting_determination(session: Session, rnd: SamplingRound, limit: int | None = None) -> tuple[list[str], int]:
    """Of an open monetary round: (the first `limit` (`LIST_MAX`) by visit day, how many in all) of the county's cases
    whose latest check is dated within its period and waits for its determination (`checked`); counted only when
    the list is full. A freeze now leaves them out; each confirmed afterwards is carried into the next monetary round
    frozen after its confirmation (`missed_by_a_frozen_round`)."""
    if rnd.status != "open" or rnd.kind != "monetary":
        return [], 0
    limit = LIST_MAX if limit is None else limit
    later = aliased(Check)
    stmt = (select(Check.case_id).join(Case, Case.id == Check.case_id)
            .where(Case.county_code == rnd.county_code, Case.status == "checked",
                   Check.visited_on >= rnd.checked_from, Check.visited_on <= rnd.checked_to,
                   ~exists().where(later.case_id == Check.case_id, later.seq > Check.seq)))
    listed = list(session.scalars(stmt.order_by(Check.visited_on, Check.case_id).limit(limit)))
    if len(listed) < limit:
        return listed, len(listed)
    return listed, int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
