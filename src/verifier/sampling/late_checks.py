"""Checks recorded after a round froze but dated within its period: they were not in that round's population, so
the next round of the county and kind frozen after them takes them in (see `flow.population_rows`).

A check's visit day is what the officers say it was; the day it was recorded is the system's. Without this, a
check recorded once a round is frozen and dated back into the round's period would fall into no sample.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..store.tables import Check
from .models import SamplingMember, SamplingRound

SAMPLED = ("frozen", "drawn")


def missed_by_a_frozen_round(county_code: str, kind: str) -> ColumnElement[bool]:
    """True for a check (`Check`, joined by the caller) dated within the period of a frozen or drawn round of the
    county and kind but recorded after that round froze, whose case no round of the county and kind frozen since
    that check's recording has taken in."""
    missed = aliased(SamplingRound)
    since = aliased(SamplingRound)
    return and_(
        exists().where(missed.county_code == county_code, missed.kind == kind, missed.status.in_(SAMPLED),
                       missed.checked_from <= Check.visited_on, missed.checked_to >= Check.visited_on,
                       missed.frozen_at < Check.recorded_at),
        ~exists().where(SamplingMember.case_id == Check.case_id, SamplingMember.round_id == since.id,
                        since.county_code == county_code, since.kind == kind, since.status.in_(SAMPLED),
                        since.frozen_at >= Check.recorded_at),
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
    return list(session.execute(stmt.where(
        Check.visited_on >= first, Check.visited_on <= last, Check.recorded_at > first_freeze,
        or_(Check.visited_on < start, Check.visited_on > end), missed_by_a_frozen_round(county_code, kind))))
