"""The planner: the greedy day-by-day fill, earliest due date first (the rules are in the package's docstring)."""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from ..errors import FieldError, ValidationFailed
from .model import (
    MAX_PLAN_DAYS,
    MONDAY_TO_FRIDAY,
    Assignment,
    ExistingVisit,
    Officer,
    Plan,
    PlanCase,
    Unplaced,
    Vehicle,
    days_late,
    working_days,
)


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
    met: dict[str, set[str]] = {}  # household → the officers this plan sends to one of its cases (rotation)
    same = {o.user_id: o.linked for o in officer_list if o.linked}  # and their linked accounts, the same persons
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
        assignments += _fill_day(day, teams, eligible, last_chance, placed, met, same)
        pending = [c for c in pending if c.case_id not in placed]

    unplaced = [
        Unplaced(c.case_id, _reason(c, start, window_end, plan_days, officers_free, teams_formed,
                                    bool(c.household) and c.household in met))
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
    met: dict[str, set[str]],
    same: Mapping[str, frozenset[str]],
) -> list[Assignment]:
    """Steps 2 to 4 of the algorithm for one day; ``eligible`` is in EDF order; adds to ``placed``, and to ``met``
    the officers sent to each household and their linked accounts (``same``; rotation: no officer is sent to two
    cases of one household)."""
    out: list[Assignment] = []
    by_village: dict[tuple[str, str], deque[PlanCase]] = defaultdict(deque)
    by_town: dict[str, deque[PlanCase]] = defaultdict(deque)
    for c in eligible:
        by_village[(c.town, c.village)].append(c)
        by_town[c.town].append(c)

    def barred(team: _Team, case: PlanCase) -> bool:
        return bool(case.excluded_officers.intersection(team.officer_ids)
                    or (case.household and met.get(case.household, set()).intersection(team.officer_ids)))

    def place(team: _Team, case: PlanCase) -> None:
        placed.add(case.case_id)
        if case.household:
            met.setdefault(case.household, set()).update(team.officer_ids, *(same.get(o, ()) for o in team.officer_ids))
        team.room -= 1
        out.append(Assignment(case.case_id, day, team.officer_ids, team.vehicle_id, days_late(day, case.due_on)))

    def drain(team: _Team, queue: deque[PlanCase]) -> None:
        # Every case popped is placed (or was already), so each queue is walked once a day; a case this team may
        # not visit goes back to the queue for another team.
        skipped: list[PlanCase] = []
        while team.room and queue:
            case = queue.popleft()
            if case.case_id in placed:
                continue
            if barred(team, case):
                skipped.append(case)
            else:
                place(team, case)
        queue.extendleft(reversed(skipped))

    # 2. one village per team, seeded by the most urgent open case
    for team in teams:
        if team.village is None:
            seed = next((c for c in eligible if c.case_id not in placed and not barred(team, c)), None)
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
    household_met: bool = False,
) -> str:
    if case.due_on < case.referred_on:
        return f"核查期限 {case.due_on} 早于接收日期 {case.referred_on}，请核对案件日期"
    if case.referred_on > window_end:
        return f"接收日期 {case.referred_on} 晚于排期结束日 {window_end}"
    first = max(start, case.referred_on)
    until = f"（排期截至 {window_end}，核查期限 {case.due_on}）"
    days = plan_days[bisect.bisect_left(plan_days, first):]
    if not days:
        return f"排期内 {first} 起没有工作日{until}"
    if not any(d in officers_free for d in days):
        return f"没有两名空闲的核查员{until}"
    if not any(d in teams_formed for d in days):
        return f"没有空闲车辆{until}"
    if case.excluded_officers:
        return f"复核须由未参加首次核查的核查员进行，但无空闲人员{until}"
    if household_met:
        return f"按轮换规则，走访该户另一案件的核查员不能走访本案，但无其他空闲人员{until}"
    return f"各组已排满{until}"


def _check_input(
    cases: Sequence[PlanCase],
    officers: Sequence[Officer],
    vehicles: Sequence[Vehicle],
    days: int,
    workdays: frozenset[int],
) -> None:
    problems: list[FieldError] = []
    if not 1 <= days <= MAX_PLAN_DAYS:
        problems.append(FieldError("days", f"应在 1 至 {MAX_PLAN_DAYS} 之间（填写的是 {days}）"))
    if any(not 0 <= w <= 6 for w in workdays):
        problems.append(FieldError("workdays", "星期几应为 0（星期一）至 6（星期日）"))
    for name, ids in (
        ("cases", [c.case_id for c in cases]),
        ("officers", [o.user_id for o in officers]),
        ("vehicles", [v.vehicle_id for v in vehicles]),
    ):
        for dup in sorted(k for k, n in Counter(ids).items() if n > 1):
            problems.append(FieldError(name, f"{dup} 重复出现"))
    for o in officers:
        if o.capacity_per_day < 0:
            problems.append(FieldError("officers", f"{o.user_id} 的每日走访户数不能为负数"))
    if problems:
        raise ValidationFailed(problems)


