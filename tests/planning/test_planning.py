"""The visit planner and the check of a visit scheduled by hand (pure functions, no database)."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifier.domain.errors import FieldError, ValidationFailed
from verifier.domain.planning import (
    MONDAY_TO_FRIDAY,
    Assignment,
    ExistingVisit,
    Officer,
    Plan,
    PlanCase,
    Unplaced,
    Vehicle,
    days_late,
    due_date,
    plan_visits,
    validate_manual_assignment,
)

MON = date(2020, 6, 1)  # a Monday


def day(n: int) -> date:
    return MON + timedelta(days=n)


def case(case_id: str, town: str = "T1", village: str = "V1", due: int = 9, referred: int = -5) -> PlanCase:
    return PlanCase(case_id, town, village, day(referred), day(due))


def officers(n: int, capacity: int = 4) -> list[Officer]:
    return [Officer(f"o{i}", capacity) for i in range(n)]


def vehicles(n: int) -> list[Vehicle]:
    return [Vehicle(f"v{i}") for i in range(n)]


def by_day(plan: Plan) -> dict[date, list[Assignment]]:
    out: dict[date, list[Assignment]] = defaultdict(list)
    for a in plan.assignments:
        out[a.visit_on].append(a)
    return out


def reasons(plan: Plan) -> dict[str, str]:
    return {u.case_id: u.reason for u in plan.unplaced}


# --------------------------------------------------------------------------------------------------
# The invariants every plan must keep; used by the examples and by the property test.


def assert_valid_plan(
    plan: Plan,
    cases: list[PlanCase],
    officer_list: list[Officer],
    vehicle_list: list[Vehicle],
    start: date,
    days: int,
    existing: list[ExistingVisit] = [],  # noqa: B006 - never mutated
    workdays: frozenset[int] = MONDAY_TO_FRIDAY,
    holidays: frozenset[date] = frozenset(),
) -> None:
    cases_by_id = {c.case_id: c for c in cases}
    off = {o.user_id: o for o in officer_list}
    veh = {v.vehicle_id: v for v in vehicle_list}
    end = start + timedelta(days=days - 1)

    # Every case exactly once: assigned or unplaced (with a reason).
    assigned = [a.case_id for a in plan.assignments]
    unplaced = [u.case_id for u in plan.unplaced]
    assert sorted(assigned + unplaced) == sorted(cases_by_id)
    assert all(u.reason for u in plan.unplaced)

    existing_in_window = [e for e in existing if start <= e.visit_on <= end]
    load = Counter((o, e.visit_on) for e in existing_in_window for o in set(e.officer_ids))
    new_load: Counter[tuple[str, date]] = Counter()
    for a in plan.assignments:
        c = cases_by_id[a.case_id]
        # two distinct, known officers and a known vehicle, all available that day
        assert len(a.officer_ids) == 2 and a.officer_ids[0] != a.officer_ids[1]
        assert all(o in off and a.visit_on not in off[o].unavailable for o in a.officer_ids)
        assert a.vehicle_id in veh and a.visit_on not in veh[a.vehicle_id].unavailable
        # a working day inside the window, not before the referral; lateness said exactly
        assert start <= a.visit_on <= end
        assert a.visit_on.weekday() in workdays and a.visit_on not in holidays
        assert c.referred_on <= a.visit_on
        assert a.days_late == max((a.visit_on - c.due_on).days, 0)
        assert not set(a.officer_ids) & c.excluded_officers
        for o in a.officer_ids:
            new_load[(o, a.visit_on)] += 1
    for (o, d), n in new_load.items():
        assert load[(o, d)] + n <= off[o].capacity_per_day, (o, d)

    # One vehicle per team, one team per officer, per day (booked visits included).
    visits = [(e.visit_on, tuple(sorted(set(e.officer_ids))), e.vehicle_id) for e in existing_in_window]
    visits += [(a.visit_on, a.officer_ids, a.vehicle_id) for a in plan.assignments]
    for a in plan.assignments:
        same_day = [(p, v) for d, p, v in visits if d == a.visit_on]
        assert {p for p, v in same_day if v == a.vehicle_id} == {a.officer_ids}
        for o in a.officer_ids:
            assert {v for p, v in same_day if o in p} == {a.vehicle_id}

    # Nothing is left out that the window's last working day could still have taken: late is better than never.
    window = [start + timedelta(days=i) for i in range(days)]
    plan_days = [d for d in window if d.weekday() in workdays and d not in holidays]
    for u in plan.unplaced:
        c = cases_by_id[u.case_id]
        feasible = [d for d in plan_days if max(start, c.referred_on) <= d] if c.referred_on <= c.due_on else []
        if feasible and not c.excluded_officers:
            assert not _could_take_one_more(feasible[-1], visits, off, veh), u


def _could_take_one_more(d, visits, off, veh) -> bool:  # type: ignore[no-untyped-def]
    today = [(p, v) for vd, p, v in visits if vd == d]
    load = Counter(o for p, _ in today for o in p)

    def room(o: str) -> int:
        return 0 if d in off[o].unavailable else off[o].capacity_per_day - load[o]

    groups = set(today)
    in_groups = Counter(o for p, _ in groups for o in p)
    vehicle_groups = Counter(v for _, v in groups)
    for pair, v in groups:
        if (
            len(pair) == 2
            and v in veh
            and d not in veh[v].unavailable
            and vehicle_groups[v] == 1
            and all(o in off and in_groups[o] == 1 for o in pair)
            and min(room(o) for o in pair) > 0
        ):
            return True
    idle_officers = [o for o in off if o not in load and room(o) > 0]
    idle_vehicles = [v for v in veh if v not in vehicle_groups and d not in veh[v].unavailable]
    return len(idle_officers) >= 2 and bool(idle_vehicles)


# --------------------------------------------------------------------------------------------------
# Examples


def test_each_visit_has_two_distinct_officers_and_a_vehicle() -> None:
    cases = [case(f"c{i:02}", village=f"V{i % 3}") for i in range(20)]
    offs, vehs = officers(5), vehicles(2)
    plan = plan_visits(cases, offs, vehs, MON, 14)
    assert not plan.unplaced
    assert_valid_plan(plan, cases, offs, vehs, MON, 14)
    for a in plan.assignments:
        assert len(set(a.officer_ids)) == 2
        assert a.officer_ids == tuple(sorted(a.officer_ids))


def test_daily_capacity_is_never_exceeded() -> None:
    cases = [case(f"c{i:02}") for i in range(12)]
    offs = [Officer("a", 3), Officer("b", 5)]
    plan = plan_visits(cases, offs, vehicles(1), MON, 7)
    counts = Counter(a.visit_on for a in plan.assignments)
    # the team's day is limited by its busiest officer: 3 a day, Monday to Thursday
    assert counts == {day(0): 3, day(1): 3, day(2): 3, day(3): 3}


def test_booked_visits_use_capacity() -> None:
    cases = [case(f"c{i}", due=0) for i in range(4)]
    booked = [ExistingVisit(MON, ("o0", "o1"), "v0")] * 3
    offs, vehs = officers(2), vehicles(1)
    plan = plan_visits(cases, offs, vehs, MON, 1, existing=booked)
    # the booked team goes on with one more visit; the rest is over capacity
    assert [(a.officer_ids, a.vehicle_id) for a in plan.assignments] == [(("o0", "o1"), "v0")]
    assert len(plan.unplaced) == 3
    assert set(reasons(plan).values()) == {
        "各组已排满（排期截至 2020-06-01，核查期限 2020-06-01）"}
    assert_valid_plan(plan, cases, offs, vehs, MON, 1, booked)


def test_a_vehicle_carries_one_team_a_day() -> None:
    cases = [case(f"c{i:02}", village=f"V{i % 4}") for i in range(16)]
    plan = plan_visits(cases, officers(4), vehicles(1), MON, 5)
    for visits in by_day(plan).values():
        assert len({a.officer_ids for a in visits}) == 1
    assert len(plan.assignments) == 16  # 4 a day, one team, four days

    plan = plan_visits(cases, officers(4), vehicles(2), MON, 5)
    monday = by_day(plan)[MON]
    teams = {(a.officer_ids, a.vehicle_id) for a in monday}
    assert len(teams) == 2 and len({v for _, v in teams}) == 2
    assert set(teams) == {(("o0", "o1"), "v0"), (("o2", "o3"), "v1")}


def test_a_booked_vehicle_or_officer_is_not_given_to_another_team() -> None:
    booked = [ExistingVisit(MON, ("o0", "o1"), "v0", "T9", "V9")] * 4  # that team is full on Monday
    cases = [case(f"c{i}", due=0) for i in range(2)]
    offs, vehs = officers(4), vehicles(1)
    plan = plan_visits(cases, offs, vehs, MON, 1, existing=booked)
    assert not plan.assignments
    assert set(reasons(plan).values()) == {
        "没有空闲车辆（排期截至 2020-06-01，核查期限 2020-06-01）"}


def test_a_booked_team_stays_in_its_village() -> None:
    booked = [ExistingVisit(MON, ("o0", "o1"), "v0", "T1", "V2")]
    cases = [case("a1", village="V1", due=0), case("a2", village="V1", due=0), case("b1", village="V2", due=3)]
    plan = plan_visits(cases, officers(2), vehicles(1), MON, 5, existing=booked)
    monday = [a.case_id for a in by_day(plan)[MON]]
    # room for 3 more: the booked village first, then the same town
    assert monday == ["b1", "a1", "a2"]


def test_visits_fall_on_working_days_inside_the_window_and_never_late() -> None:
    start = day(4)  # a Friday
    cases = [case(f"c{i}", due=11, referred=6) for i in range(6)] + [case("early", due=5, referred=-3)]
    holidays = frozenset({day(7)})
    offs, vehs = officers(2), vehicles(1)
    plan = plan_visits(cases, offs, vehs, start, 10, holidays=holidays)
    assert_valid_plan(plan, cases, offs, vehs, start, 10, holidays=holidays)
    dates = {a.case_id: a.visit_on for a in plan.assignments}
    assert dates["early"] == day(4)  # Friday; the weekend is skipped
    # referred on Sunday day(6); Monday day(7) is a holiday
    assert {dates[f"c{i}"] for i in range(6)} == {day(8), day(9)}
    assert not plan.unplaced


def test_custom_workdays() -> None:
    sunday = day(6)
    cases = [case("c1", due=6, referred=5)]
    plan = plan_visits(cases, officers(2), vehicles(1), MON, 7, workdays=frozenset({6}))
    assert [a.visit_on for a in plan.assignments] == [sunday]
    plan = plan_visits(cases, officers(2), vehicles(1), MON, 7)
    assert reasons(plan) == {
        "c1": "排期内 2020-06-06 起没有工作日（排期截至 2020-06-07，核查期限 2020-06-07）"}
    # over the weekend into Monday, it is planned a day late rather than not at all
    plan = plan_visits(cases, officers(2), vehicles(1), MON, 8)
    assert [(a.visit_on, a.days_late) for a in plan.assignments] == [(day(7), 1)]


def test_a_weekend_worked_for_a_holiday_is_a_working_day() -> None:
    saturday = day(5)
    cases = [case("c1", due=5, referred=5)]
    plan = plan_visits(cases, officers(2), vehicles(1), MON, 7, extra_workdays=frozenset({saturday}))
    assert [(a.visit_on, a.days_late) for a in plan.assignments] == [(saturday, 0)]


def test_a_team_works_in_one_village_a_day_when_it_can() -> None:
    # Two teams of capacity 4 and three villages of 4 cases each: every team-day is one village.
    cases = [case(f"{v}-{i}", village=v, due=2) for v in ("V1", "V2", "V3") for i in range(4)]
    random.Random(7).shuffle(cases)
    plan = plan_visits(cases, officers(4), vehicles(2), MON, 5)
    assert not plan.unplaced
    villages = defaultdict(set)
    for a in plan.assignments:
        villages[(a.visit_on, a.officer_ids)].add(a.case_id.split("-")[0])
    assert all(len(v) == 1 for v in villages.values())
    assert len(villages) == 3


def test_no_officer_is_sent_to_two_cases_of_one_household() -> None:
    # Rotation: a household's two causes, in one village, go to two teams (one team would check it twice in a row).
    cases = [PlanCase(c, "T1", "V1", day(-5), day(9), household="h1") for c in ("illness", "disaster")]
    cases.append(case("neighbour"))
    plan = plan_visits(cases, officers(4), vehicles(2), MON, 5)
    assert not plan.unplaced
    team = {a.case_id: set(a.officer_ids) for a in plan.assignments}
    assert not team["illness"] & team["disaster"], team
    # With one team only, the second cause waits, and says why.
    plan = plan_visits(cases, officers(2), vehicles(1), MON, 5)
    placed = {a.case_id for a in plan.assignments}
    assert "neighbour" in placed and len(placed & {"illness", "disaster"}) == 1, placed
    (waiting,) = {"illness", "disaster"} - placed
    assert "轮换" in reasons(plan)[waiting], reasons(plan)


def test_the_second_team_takes_a_village_rather_than_sharing_one() -> None:
    # Village V1 has 2 cases, V2 (same town) 4: one team for V1, one for V2, not V1 + half of V2.
    cases = [case("a1", village="V1", due=0), case("a2", village="V1", due=0)]
    cases += [case(f"b{i}", village="V2", due=1) for i in range(4)]
    plan = plan_visits(cases, officers(4), vehicles(2), MON, 5)
    teams = defaultdict(list)
    for a in plan.assignments:
        teams[a.officer_ids].append(a.case_id)
    assert sorted(teams.values()) == [["a1", "a2"], ["b0", "b1", "b2", "b3"]]


def test_a_team_fills_up_in_the_same_town_but_not_in_another() -> None:
    cases = [case("a1", "T1", "V1", due=5), case("a2", "T1", "V2", due=6)]
    cases += [case("x1", "T2", "V1", due=7), case("x2", "T2", "V1", due=7)]
    plan = plan_visits(cases, officers(2), vehicles(1), MON, 5)
    dates = {a.case_id: a.visit_on for a in plan.assignments}
    assert dates == {"a1": MON, "a2": MON, "x1": day(1), "x2": day(1)}


def test_another_town_is_visited_on_the_last_chance_day() -> None:
    cases = [case(f"a{i}", "T1", "V1", due=0) for i in range(3)] + [case("x", "T2", "V1", due=0)]
    plan = plan_visits(cases, officers(2), vehicles(1), MON, 5)
    assert {a.case_id for a in by_day(plan)[MON]} == {"a0", "a1", "a2", "x"}


def test_earliest_due_first_under_overload() -> None:
    cases = [case(f"c{i:02}", due=1 if i < 6 else 0) for i in range(10)]
    offs, vehs = officers(2), vehicles(1)
    plan = plan_visits(cases, offs, vehs, MON, 5)
    assert_valid_plan(plan, cases, offs, vehs, MON, 5)
    assert [a.case_id for a in by_day(plan)[MON]] == ["c06", "c07", "c08", "c09"]
    assert [a.case_id for a in by_day(plan)[day(1)]] == ["c00", "c01", "c02", "c03"]
    # the two that could not be met on time go first the next day, one day late
    assert [(a.case_id, a.days_late) for a in by_day(plan)[day(2)]] == [("c04", 1), ("c05", 1)]
    assert not plan.unplaced
    # with a window of two days they are listed, with the reason
    plan = plan_visits(cases, offs, vehs, MON, 2)
    assert plan.unplaced == [
        Unplaced("c04", "各组已排满（排期截至 2020-06-02，核查期限 2020-06-02）"),
        Unplaced("c05", "各组已排满（排期截至 2020-06-02，核查期限 2020-06-02）"),
    ]


def test_a_review_is_visited_by_officers_who_did_not_make_the_first_check() -> None:
    first_team = frozenset({"o0", "o1"})
    review = PlanCase("review", "T1", "V1", day(-2), day(8), excluded_officers=first_team)
    cases = [case("a1"), review, case("a2")]
    offs, vehs = officers(4), vehicles(2)
    plan = plan_visits(cases, offs, vehs, MON, 5)
    assert_valid_plan(plan, cases, offs, vehs, MON, 5)
    teams = {a.case_id: a.officer_ids for a in plan.assignments}
    assert teams["review"] == ("o2", "o3")
    # With only the first team at work, it is not placed, and says so.
    plan = plan_visits([review], officers(2), vehicles(1), MON, 5)
    assert reasons(plan) == {"review": ("复核须由未参加首次核查的核查员进行，但无空闲人员"
                                       "（排期截至 2020-06-05，核查期限 2020-06-09）")}


def test_overdue_cases_are_planned_first_most_overdue_first() -> None:
    # Referred while the officers were busy: two are overdue at the start, one is due well later.
    cases = [case("fresh", "T2", "V9", due=9, referred=-1), case("late3", "T1", "V1", due=-3, referred=-13),
             case("late8", "T3", "V5", due=-8, referred=-18)]
    offs, vehs = [Officer("o0", 1), Officer("o1", 1)], vehicles(1)
    plan = plan_visits(cases, offs, vehs, MON, 5)
    assert_valid_plan(plan, cases, offs, vehs, MON, 5)
    assert [(a.case_id, a.visit_on, a.days_late) for a in plan.assignments] == [
        ("late8", day(0), 8), ("late3", day(1), 4), ("fresh", day(2), 0)]


def test_an_overdue_case_takes_room_in_another_town() -> None:
    # The only team is booked in T1 on Monday; its room left goes to its village, then to the overdue case in T2.
    booked = [ExistingVisit(MON, ("o0", "o1"), "v0", "T1", "V1")]
    cases = [case("a1", "T1", "V1", due=3), case("x", "T2", "V1", due=-2, referred=-12), case("b1", "T3", "V1", due=3)]
    plan = plan_visits(cases, officers(2), vehicles(1), MON, 5, existing=booked)
    assert [(a.case_id, a.days_late) for a in by_day(plan)[MON]] == [("a1", 0), ("x", 2)]


def test_unplaced_reasons() -> None:
    cases = [
        case("past", due=-1, referred=-11),
        case("later", due=40, referred=20),
        case("bad", due=-2, referred=0),
        case("beyond", due=30),
    ]
    plan = plan_visits(cases, officers(2, capacity=0), vehicles(1), MON, 14)
    assert reasons(plan) == {
        "bad": "核查期限 2020-05-30 早于接收日期 2020-06-01，请核对案件日期",
        "past": "没有两名空闲的核查员（排期截至 2020-06-14，核查期限 2020-05-31）",
        "later": "接收日期 2020-06-21 晚于排期结束日 2020-06-14",
        "beyond": "没有两名空闲的核查员（排期截至 2020-06-14，核查期限 2020-07-01）",
    }
    one = [case("c1", due=9)]
    assert reasons(plan_visits(one, officers(1), vehicles(3), MON, 14)) == {
        "c1": "没有两名空闲的核查员（排期截至 2020-06-14，核查期限 2020-06-10）"
    }
    assert reasons(plan_visits(one, officers(2), [], MON, 14)) == {
        "c1": "没有空闲车辆（排期截至 2020-06-14，核查期限 2020-06-10）"
    }
    away = [Officer("o0", unavailable=frozenset(day(i) for i in range(14))), Officer("o1")]
    assert reasons(plan_visits(one, away, vehicles(1), MON, 14)) == {
        "c1": "没有两名空闲的核查员（排期截至 2020-06-14，核查期限 2020-06-10）"
    }
    # away until the due date: visited late, not dropped
    away = [Officer("o0", unavailable=frozenset(day(i) for i in range(10))), Officer("o1")]
    assert [(a.visit_on, a.days_late) for a in plan_visits(one, away, vehicles(1), MON, 14).assignments] == [
        (day(10), 1)]
    repair = [Vehicle("v0", unavailable=frozenset(day(i) for i in range(14)))]
    assert reasons(plan_visits(one, officers(2), repair, MON, 14)) == {
        "c1": "没有空闲车辆（排期截至 2020-06-14，核查期限 2020-06-10）"
    }


def test_same_input_same_plan_whatever_the_order() -> None:
    rng = random.Random(11)
    cases = [
        case(f"c{i:03}", rng.choice("ABC"), rng.choice(["V1", "V2", "V3"]), due=rng.randint(0, 12))
        for i in range(150)
    ]
    offs = [Officer(f"o{i}", rng.randint(1, 5)) for i in range(7)]
    vehs = vehicles(3)
    first = plan_visits(cases, offs, vehs, MON, 14)
    for _ in range(3):
        rng.shuffle(cases)
        rng.shuffle(offs)
        rng.shuffle(vehs)
        assert plan_visits(cases, offs, vehs, MON, 14) == first
    assert_valid_plan(first, cases, offs, vehs, MON, 14)


def test_malformed_input_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        plan_visits(
            [case("c1"), case("c1")],
            [Officer("o1", -1), Officer("o1")],
            [Vehicle("v"), Vehicle("v")],
            MON,
            0,
            workdays=frozenset({7}),
        )
    assert {e.field for e in err.value.errors} == {"cases", "officers", "vehicles", "days", "workdays"}


def test_due_date() -> None:
    assert due_date(date(2020, 6, 2), 10) == date(2020, 6, 12)


def test_a_few_thousand_cases_are_all_planned_or_listed() -> None:
    """At a county's scale every case is placed or listed as unplaced (its speed: benchmarks/planning.py)."""
    rng = random.Random(3)
    cases = [
        case(f"c{i:05}", f"T{rng.randint(1, 12)}", f"V{rng.randint(1, 15)}", due=rng.randint(0, 40))
        for i in range(4000)
    ]
    offs, vehs = officers(28), vehicles(9)
    plan = plan_visits(cases, offs, vehs, MON, 30)
    assert len(plan.assignments) + len(plan.unplaced) == 4000
    placed = {a.case_id for a in plan.assignments}
    assert len(placed) == len(plan.assignments) and not placed & {u.case_id for u in plan.unplaced}


# --------------------------------------------------------------------------------------------------
# Property: random inputs, every invariant


@st.composite
def planning_inputs(draw):  # type: ignore[no-untyped-def]
    start = MON + timedelta(days=draw(st.integers(0, 6)))
    days = draw(st.integers(1, 12))
    window = [start + timedelta(days=i) for i in range(-1, days + 1)]
    some_days = st.frozensets(st.sampled_from(window), max_size=4)
    n_cases = draw(st.integers(0, 25))
    cases = []
    for i in range(n_cases):
        referred = start + timedelta(days=draw(st.integers(-5, days + 1)))
        cases.append(
            PlanCase(
                f"c{i}",
                draw(st.sampled_from(["T1", "T2", "T3"])),
                draw(st.sampled_from(["V1", "V2", "V3"])),
                referred,
                referred + timedelta(days=draw(st.integers(-1, 12))),
                frozenset(draw(st.lists(st.sampled_from(["o0", "o1", "o2"]), max_size=2))),
            )
        )
    offs = [Officer(f"o{i}", draw(st.integers(0, 4)), draw(some_days)) for i in range(draw(st.integers(0, 6)))]
    vehs = [Vehicle(f"v{i}", draw(some_days)) for i in range(draw(st.integers(0, 3)))]
    officer_ids = [o.user_id for o in offs] + ["ox", "oy"]
    pairs = st.lists(st.sampled_from(officer_ids), min_size=2, max_size=2, unique=True)
    messy = st.lists(st.sampled_from(officer_ids), min_size=1, max_size=3)  # bad data must not break it
    existing = [
        ExistingVisit(
            draw(st.sampled_from(window)),
            tuple(draw(st.one_of(pairs, pairs, messy))),
            draw(st.sampled_from([v.vehicle_id for v in vehs] + ["vx"])),
            *draw(st.sampled_from([(None, None), ("T1", "V1"), ("T2", "V2")])),
        )
        for _ in range(draw(st.integers(0, 6)))
    ]
    workdays = draw(st.frozensets(st.integers(0, 6)))
    holidays = draw(some_days)
    return cases, offs, vehs, start, days, existing, workdays, holidays


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planning_inputs(), st.randoms(use_true_random=False))
def test_property_every_plan_keeps_every_rule(inputs, rng) -> None:  # type: ignore[no-untyped-def]
    cases, offs, vehs, start, days, existing, workdays, holidays = inputs
    plan = plan_visits(cases, offs, vehs, start, days, existing=existing, workdays=workdays, holidays=holidays)
    assert_valid_plan(plan, cases, offs, vehs, start, days, existing, workdays, holidays)
    # the same values in another order give the same plan
    shuffled = [list(x) for x in (cases, offs, vehs, existing)]
    for x in shuffled:
        rng.shuffle(x)
    again = plan_visits(
        shuffled[0], shuffled[1], shuffled[2], start, days,
        existing=shuffled[3], workdays=workdays, holidays=holidays,
    )
    assert again == plan


# --------------------------------------------------------------------------------------------------
# A visit scheduled by hand


def manual(**overrides):  # type: ignore[no-untyped-def]
    args = dict(
        officer_ids=["u1", "u2"],
        visit_on=date(2020, 6, 10),
        vehicle_id="car1",
        referred_on=date(2020, 6, 2),
        officer_load={},
        capacity=4,
        existing=(),
    )
    args.update(overrides)
    return validate_manual_assignment(**args)


def test_manual_assignment_ok() -> None:
    assert manual() == []
    # past and future visits are both fine, as long as they are not before the referral
    assert manual(visit_on=date(2020, 6, 2)) == []
    assert manual(visit_on=date(2020, 6, 12), officer_load={("u1", date(2020, 6, 12)): 3}) == []
    # the same team in the same vehicle may take more visits that day
    same_team = [ExistingVisit(date(2020, 6, 10), ("u2", "u1"), "car1")]
    assert manual(existing=same_team) == []


def test_manual_assignment_needs_two_distinct_officers_and_a_vehicle() -> None:
    assert manual(officer_ids=["u1"]) == [FieldError("officers", "须选择两名核查员（选择了 1 名）")]
    assert manual(officer_ids=["u1", "u2", "u3"])[0].message == "须选择两名核查员（选择了 3 名）"
    assert manual(officer_ids=["u1", "u1"]) == [FieldError("officers", "两名核查员不能是同一人")]
    assert manual(officer_ids=["u1", " "])[0] == FieldError("officers", "核查员不能为空")
    assert manual(vehicle_id="") == [FieldError("vehicle", "请填写车辆")]


def test_manual_assignment_dates() -> None:
    # after the due date (2020-06-12) is allowed: the household's claim does not end with the insurer's deadline
    assert manual(visit_on=date(2020, 6, 20)) == []
    assert days_late(date(2020, 6, 20), date(2020, 6, 12)) == 8
    assert days_late(date(2020, 6, 12), date(2020, 6, 12)) == 0
    assert manual(visit_on=date(2020, 6, 1)) == [
        FieldError("visit_on", "不能早于接收日期 2020-06-02（填写的是 2020-06-01）")
    ]


def test_manual_assignment_capacity() -> None:
    d = date(2020, 6, 10)
    assert manual(officer_load={("u2", d): 4, ("u1", d + timedelta(days=1)): 9}) == [
        FieldError("officers[1]", "该核查员 2020-06-10 已有 4 户走访（每日最多 4 户）")
    ]
    assert manual(officer_load={("u1", d): 2}, capacity={"u1": 2, "u2": 6}) == [
        FieldError("officers[0]", "该核查员 2020-06-10 已有 2 户走访（每日最多 2 户）")
    ]


def test_manual_assignment_vehicle_and_team_clashes() -> None:
    d = date(2020, 6, 10)
    taken = [ExistingVisit(d, ("u3", "u4"), "car1"), ExistingVisit(d - timedelta(days=1), ("u5", "u6"), "car1")]
    assert manual(existing=taken) == [FieldError("vehicle", "车辆 car1 在 2020-06-10 已安排给其他核查员")]
    elsewhere = [ExistingVisit(d, ("u1", "u9"), "car2")]
    assert FieldError("officers[0]", "该核查员 2020-06-10 已乘坐车辆 car2") in manual(
        existing=elsewhere
    )
