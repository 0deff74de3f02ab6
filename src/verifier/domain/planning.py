"""Visit planning: which two officers and which vehicle visit which household on which day.

Pure functions only (no I/O, no database, standard library only). The caller loads the screened cases,
the officers, the vehicles and the visits already booked, computes each case's due date
(referral or screening date + the contract's ``check_within_days``, see `due_date`), and stores
whatever part of the returned `Plan` it accepts.

Rules
-----
* Every visit is made by a **team**: two distinct officers and one vehicle. On a given day an officer
  travels in one team only and a vehicle carries one team only.
* An officer makes at most ``capacity_per_day`` visits a day (visits already booked count). A team's room
  for the day is therefore the smaller of its two officers' remaining capacities.
* A case is visited on a working day (``workdays``, Monday to Friday by default, and not in ``holidays``;
  ``extra_workdays`` are weekend days worked in exchange for a holiday, 调休) inside the planning window
  ``[start, start + days - 1]``, on or after ``start`` and its referral date. The due date measures the
  insurer's service, it does not end the household's claim: a case that can only be visited late is still
  placed, as early as possible, and its assignment says by how many days it is late. Every case that is not
  placed is listed in `Plan.unplaced` with the reason. No case is dropped silently.

Algorithm (greedy, day by day, earliest due date first)
-------------------------------------------------------
Cases are ordered by ``(due_on, town, village, case_id)`` ("EDF order"). For each planning day:

1. **Teams.** Teams already booked that day (from ``existing``) keep their officers and vehicle and may
   take more visits while both officers have capacity left; such a team stays in the village of its
   booked visits when that is known. The remaining officers who are available and below capacity are
   sorted by remaining capacity (largest first), then id, and paired in that order (pairing officers of
   similar room wastes the least capacity); the pairs get the free vehicles in id order. An officer or
   vehicle left over stays home.
2. **One village per team.** Each team without a village takes the most urgent case still open (EDF
   order) as its seed and fills its day with the most urgent cases of that same village.
3. **Then the same town.** A team with room left fills it with the most urgent cases of its town.
4. **Last chance.** A team with room left still takes, in EDF order, any case that is already overdue or
   for which today is the last planning day on or before its due date (another town, but otherwise it
   would be late, or later still).

Overdue cases have the earliest due dates, so EDF order plans them first, the most overdue first. At the end
every case not placed gets a reason: the due date precedes the referral date, the referral comes after the
window, no working day was left, no two officers were free, no vehicle was free, or every team was fully
booked.

Output is fully determined by the input *values*: inputs are sorted internally, so their order does not
matter. The cost is O(cases x days) plus sorting, fine for a few thousand cases.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from .errors import FieldError, ValidationFailed

MONDAY_TO_FRIDAY: frozenset[int] = frozenset(range(5))
"""Weekday numbers as `date.weekday` gives them: Monday is 0, Sunday is 6."""

DEFAULT_CAPACITY = 4
"""Visits one officer can make in a day unless told otherwise."""

MAX_PLAN_DAYS = 366


# --------------------------------------------------------------------------------------------------
# Inputs and outputs


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


@dataclass(frozen=True)
class Officer:
    user_id: str
    capacity_per_day: int = DEFAULT_CAPACITY
    unavailable: frozenset[date] = frozenset()


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


# --------------------------------------------------------------------------------------------------
# The planner


@dataclass
class _Team:
    officer_ids: tuple[str, str]
    vehicle_id: str
    room: int
    town: str | None = None
    village: str | None = None


def _edf_key(case: PlanCase) -> tuple[date, str, str, str]:
    return (case.due_on, case.town, case.village, case.case_id)


def plan_visits(
    cases: Iterable[PlanCase],
    officers: Iterable[Officer],
    vehicles: Iterable[Vehicle],
    start: date,
    days: int,
    *,
    existing: Iterable[ExistingVisit] = (),
    workdays: frozenset[int] = MONDAY_TO_FRIDAY,
    holidays: frozenset[date] = frozenset(),
    extra_workdays: frozenset[date] = frozenset(),
) -> Plan:
    """Propose a visit day, two officers and a vehicle for each case; list the cases that cannot be met.

    ``days`` is the length of the window in calendar days, from ``start`` included. Raises
    `ValidationFailed` for malformed input (duplicate ids, negative capacity, a bad window or weekday).
    """
    cases = sorted(cases, key=_edf_key)
    officer_list = sorted(officers, key=lambda o: o.user_id)
    vehicle_list = sorted(vehicles, key=lambda v: v.vehicle_id)
    _check_input(cases, officer_list, vehicle_list, days, workdays)

    window_end = start + timedelta(days=days - 1)
    plan_days = working_days(start, days, workdays, holidays, extra_workdays)
    booked: dict[date, list[ExistingVisit]] = defaultdict(list)
    for visit in existing:
        if start <= visit.visit_on <= window_end:
            booked[visit.visit_on].append(visit)

    def earliest(case: PlanCase) -> date:
        return max(start, case.referred_on)

    def last_day(case: PlanCase) -> date | None:
        """The last planning day on or before the case's due date (and inside the window)."""
        i = bisect.bisect_right(plan_days, min(case.due_on, window_end))
        return plan_days[i - 1] if i else None

    last_chance = {c.case_id: last_day(c) for c in cases}
    officers_free: set[date] = set()  # days on which two officers could have gone out
    teams_formed: set[date] = set()  # days on which at least one team (with a vehicle) had room
    assignments: list[Assignment] = []
    placed: set[str] = set()
    pending = [c for c in cases if c.referred_on <= c.due_on and c.referred_on <= window_end]

    for day in plan_days:
        if not pending:
            break
        teams, two_officers = _teams_for_day(day, officer_list, vehicle_list, booked.get(day, []))
        if two_officers:
            officers_free.add(day)
        if teams:
            teams_formed.add(day)

        eligible = [c for c in pending if earliest(c) <= day]
        assignments += _fill_day(day, teams, eligible, last_chance, placed)
        pending = [c for c in pending if c.case_id not in placed]

    unplaced = [
        Unplaced(c.case_id, _reason(c, start, window_end, plan_days, officers_free, teams_formed))
        for c in cases
        if c.case_id not in placed
    ]
    return Plan(assignments, unplaced)


def _fill_day(
    day: date,
    teams: Sequence[_Team],
    eligible: Sequence[PlanCase],
    last_chance: Mapping[str, date | None],
    placed: set[str],
) -> list[Assignment]:
    """Steps 2 to 4 of the algorithm for one day; ``eligible`` is in EDF order; adds to ``placed``."""
    out: list[Assignment] = []
    by_village: dict[tuple[str, str], deque[PlanCase]] = defaultdict(deque)
    by_town: dict[str, deque[PlanCase]] = defaultdict(deque)
    for c in eligible:
        by_village[(c.town, c.village)].append(c)
        by_town[c.town].append(c)

    def place(team: _Team, case: PlanCase) -> None:
        placed.add(case.case_id)
        team.room -= 1
        out.append(Assignment(case.case_id, day, team.officer_ids, team.vehicle_id, days_late(day, case.due_on)))

    def drain(team: _Team, queue: deque[PlanCase]) -> None:
        # Every case popped is placed (or was already), so each queue is walked once a day; a case this team may
        # not visit goes back to the queue for another team.
        barred: list[PlanCase] = []
        while team.room and queue:
            case = queue.popleft()
            if case.case_id in placed:
                continue
            if case.excluded_officers.intersection(team.officer_ids):
                barred.append(case)
            else:
                place(team, case)
        queue.extendleft(reversed(barred))

    # 2. one village per team, seeded by the most urgent open case
    for team in teams:
        if team.village is None:
            seed = next((c for c in eligible if c.case_id not in placed
                         and not c.excluded_officers.intersection(team.officer_ids)), None)
            if seed is None:
                continue
            team.town, team.village = seed.town, seed.village
        if team.town is not None:
            drain(team, by_village[(team.town, team.village)])
    # 3. then the same town
    for team in teams:
        if team.town is not None:
            drain(team, by_town[team.town])
    # 4. last chance for cases that would otherwise be late (or are already), whatever the town
    def urgent_today(c: PlanCase) -> bool:
        last = last_chance[c.case_id]
        return last is None or last <= day

    urgent = deque(c for c in eligible if urgent_today(c) and c.case_id not in placed)
    for team in teams:
        drain(team, urgent)
    return out


def _teams_for_day(
    day: date,
    officers: Sequence[Officer],
    vehicles: Sequence[Vehicle],
    booked: Sequence[ExistingVisit],
) -> tuple[list[_Team], bool]:
    """The teams that can still take visits on ``day``, and whether two officers could go out at all."""
    by_officer = {o.user_id: o for o in officers}
    by_vehicle = {v.vehicle_id: v for v in vehicles}
    load: Counter[str] = Counter()
    groups: dict[tuple[tuple[str, ...], str], list[ExistingVisit]] = defaultdict(list)
    for visit in booked:
        pair = tuple(sorted(set(visit.officer_ids)))
        load.update(pair)
        groups[(pair, visit.vehicle_id)].append(visit)
    busy_officers = Counter(o for pair, _ in groups for o in pair)
    busy_vehicles = Counter(v for _, v in groups)

    def room(officer: Officer) -> int:
        if day in officer.unavailable:
            return 0
        return max(officer.capacity_per_day - load[officer.user_id], 0)

    teams: list[_Team] = []
    extended = 0
    # Booked teams go on with their own pair and vehicle, when that is unambiguous and still possible.
    for (pair, vehicle_id), visits in sorted(groups.items()):
        vehicle = by_vehicle.get(vehicle_id)
        members = [by_officer.get(o) for o in pair]
        if (
            len(pair) != 2
            or vehicle is None
            or day in vehicle.unavailable
            or busy_vehicles[vehicle_id] != 1
            or any(m is None or busy_officers[m.user_id] != 1 for m in members)
        ):
            continue
        team_room = min(room(m) for m in members if m is not None)
        if team_room > 0:
            places = sorted((v.town, v.village) for v in visits if v.town is not None and v.village is not None)
            town, village = places[0] if places else (None, None)
            teams.append(_Team((pair[0], pair[1]), vehicle_id, team_room, town, village))
            extended += 1

    free = sorted(
        (o for o in officers if o.user_id not in busy_officers and room(o) > 0),
        key=lambda o: (-room(o), o.user_id),
    )
    free_vehicles = [v for v in vehicles if v.vehicle_id not in busy_vehicles and day not in v.unavailable]
    pairs = [(free[i], free[i + 1]) for i in range(0, len(free) - 1, 2)]
    for (a, b), vehicle in zip(pairs, free_vehicles):
        ids = tuple(sorted((a.user_id, b.user_id)))
        teams.append(_Team((ids[0], ids[1]), vehicle.vehicle_id, min(room(a), room(b))))
    return teams, len(free) >= 2 or extended > 0


def _reason(
    case: PlanCase,
    start: date,
    window_end: date,
    plan_days: Sequence[date],
    officers_free: set[date],
    teams_formed: set[date],
) -> str:
    if case.due_on < case.referred_on:
        return f"due date {case.due_on} is before the referral date {case.referred_on}"
    if case.referred_on > window_end:
        return f"referred on {case.referred_on}, after the planning window ends {window_end}"
    first = max(start, case.referred_on)
    until = f"before the planning window ends {window_end} (due date {case.due_on})"
    days = plan_days[bisect.bisect_left(plan_days, first):]
    if not days:
        return f"no working day from {first} {until}"
    if not any(d in officers_free for d in days):
        return f"no officers free {until}"
    if not any(d in teams_formed for d in days):
        return f"no vehicle free {until}"
    if case.excluded_officers:
        return f"no officers other than those of its earlier check free {until}"
    return f"all teams fully booked {until}"


def _check_input(
    cases: Sequence[PlanCase],
    officers: Sequence[Officer],
    vehicles: Sequence[Vehicle],
    days: int,
    workdays: frozenset[int],
) -> None:
    problems: list[FieldError] = []
    if not 1 <= days <= MAX_PLAN_DAYS:
        problems.append(FieldError("days", f"must be between 1 and {MAX_PLAN_DAYS}"))
    if any(not 0 <= w <= 6 for w in workdays):
        problems.append(FieldError("workdays", "must be weekday numbers from 0 (Monday) to 6 (Sunday)"))
    for name, ids in (
        ("cases", [c.case_id for c in cases]),
        ("officers", [o.user_id for o in officers]),
        ("vehicles", [v.vehicle_id for v in vehicles]),
    ):
        for dup in sorted(k for k, n in Counter(ids).items() if n > 1):
            problems.append(FieldError(name, f"{dup} appears more than once"))
    for o in officers:
        if o.capacity_per_day < 0:
            problems.append(FieldError("officers", f"capacity of {o.user_id} must not be negative"))
    if problems:
        raise ValidationFailed(problems)


# --------------------------------------------------------------------------------------------------
# A visit scheduled by hand


def validate_manual_assignment(
    officer_ids: Sequence[str],
    visit_on: date,
    vehicle_id: str,
    *,
    referred_on: date,
    officer_load: Mapping[tuple[str, date], int],
    capacity: int | Mapping[str, int] = DEFAULT_CAPACITY,
    existing: Iterable[ExistingVisit] = (),
) -> list[FieldError]:
    """Every problem with a visit a supervisor schedules by hand; an empty list when it may be stored.

    ``officer_load`` counts the visits each officer already has on a day (this case's own earlier booking
    excluded); ``capacity`` is one number for all officers or one per officer (missing: the default).
    ``existing`` holds other visits booked that day, to check that a vehicle carries one team and an
    officer travels in one vehicle. Field names are those of the request: ``officers``, ``visit_on``,
    ``vehicle``. A visit may be in the past (recorded later) or the future, but not before the referral
    date. A visit after the due date is allowed (the caller warns with `days_late`).
    """
    problems: list[FieldError] = []
    ids = list(officer_ids)
    if len(ids) != 2:
        problems.append(FieldError("officers", f"exactly two officers are needed, got {len(ids)}"))
    if any(not str(i).strip() for i in ids):
        problems.append(FieldError("officers", "an officer id must not be empty"))
    elif len(ids) == 2 and ids[0] == ids[1]:
        problems.append(FieldError("officers", "the two officers must be different people"))
    if not str(vehicle_id).strip():
        problems.append(FieldError("vehicle", "a vehicle is needed"))
    if visit_on < referred_on:
        problems.append(FieldError("visit_on", f"visit {visit_on} is before the referral date {referred_on}"))

    for officer in dict.fromkeys(ids):
        limit = capacity if isinstance(capacity, int) else capacity.get(officer, DEFAULT_CAPACITY)
        load = officer_load.get((officer, visit_on), 0)
        if load >= limit:
            problems.append(
                FieldError("officers", f"officer {officer} already has {load} visits on {visit_on} (capacity {limit})")
            )

    team = set(ids)
    vehicle_clash: set[tuple[str, ...]] = set()
    officer_clash: set[tuple[str, str]] = set()
    for visit in existing:
        if visit.visit_on != visit_on:
            continue
        if visit.vehicle_id == vehicle_id and set(visit.officer_ids) != team:
            vehicle_clash.add(tuple(sorted(set(visit.officer_ids))))
        if visit.vehicle_id != vehicle_id:
            for officer in team & set(visit.officer_ids):
                officer_clash.add((officer, visit.vehicle_id))
    for other in sorted(vehicle_clash):
        problems.append(
            FieldError("vehicle", f"vehicle {vehicle_id} already carries {' and '.join(other)} on {visit_on}")
        )
    for officer, other_vehicle in sorted(officer_clash):
        problems.append(
            FieldError("officers", f"officer {officer} already travels in vehicle {other_vehicle} on {visit_on}")
        )
    return problems
