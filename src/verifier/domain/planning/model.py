"""What a plan is made of: the cases, officers, vehicles and visits it starts from, what it returns, and the
days a visit is due and late."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

MONDAY_TO_FRIDAY: frozenset[int] = frozenset(range(5))
"""Weekday numbers as `date.weekday` gives them: Monday is 0, Sunday is 6."""

DEFAULT_CAPACITY = 4
"""Visits one officer can make in a day unless told otherwise."""

MAX_PLAN_DAYS = 366


@dataclass(frozen=True)
class PlanCase:
    """A screened case waiting for its home visit."""

    case_id: str
    town: str
    village: str
    referred_on: date
    due_on: date
    # Officers who may not visit it: a review (复核) after an ineligible decision is made by different officers.
    excluded_officers: frozenset[str] = frozenset()
    # Its household (rotation): the plan sends no officer to two of one household's cases ("": no such rule).
    household: str = ""


@dataclass(frozen=True)
class Officer:
    user_id: str
    capacity_per_day: int = DEFAULT_CAPACITY
    unavailable: frozenset[date] = frozenset()
    # Accounts linked to this one by a password (the same person, rotation): sent to a household's case, they are
    # not sent to another of its cases either.
    linked: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Vehicle:
    """A survey vehicle; it carries one two-officer team a day."""

    vehicle_id: str
    unavailable: frozenset[date] = frozenset()


@dataclass(frozen=True)
class ExistingVisit:
    """A visit already booked; it uses its officers' capacity and its vehicle on that day.

    ``town`` and ``village`` are optional: when given, the planner keeps that team in that village.
    """

    visit_on: date
    officer_ids: tuple[str, ...]
    vehicle_id: str
    town: str | None = None
    village: str | None = None


@dataclass(frozen=True)
class Assignment:
    case_id: str
    visit_on: date
    officer_ids: tuple[str, str]
    vehicle_id: str
    days_late: int = 0  # calendar days after the case's due date; 0 when on time


@dataclass(frozen=True)
class Unplaced:
    case_id: str
    reason: str


@dataclass(frozen=True)
class Plan:
    """``assignments`` in visiting order (day, then team, then case); ``unplaced`` in EDF order."""

    assignments: list[Assignment] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)


def due_date(counted_from: date, check_within_days: int) -> date:
    """The last day a case is visited on time: ``check_within_days`` calendar days after ``counted_from``."""
    return counted_from + timedelta(days=check_within_days)


def days_late(visit_on: date, due_on: date) -> int:
    """By how many calendar days a visit (or check) on ``visit_on`` misses ``due_on``; 0 when on time."""
    return max((visit_on - due_on).days, 0)


def working_days(
    start: date,
    days: int,
    workdays: frozenset[int] = MONDAY_TO_FRIDAY,
    holidays: frozenset[date] = frozenset(),
    extra_workdays: frozenset[date] = frozenset(),
) -> list[date]:
    """The working days of ``[start, start + days - 1]``: a weekday of ``workdays`` that is no holiday, or an
    ``extra_workdays`` day (a weekend worked in exchange for a holiday)."""
    window = (start + timedelta(days=i) for i in range(days))
    return [d for d in window if d in extra_workdays or (d.weekday() in workdays and d not in holidays)]


