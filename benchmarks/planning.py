"""Planning a county's backlog: 4,000 cases, 28 officers, 9 vehicles, a 30-day window.

Baseline: the same cases sorted in the planner's order (due date, town, village, id) and dealt out to officers'
days in turn, four a day, with no rule checked: what any plan must at least do.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from verifier.domain.planning import Officer, PlanCase, Vehicle, plan_visits

from .harness import Result, best_of

MON = date(2020, 6, 1)


def _inputs(n: int) -> tuple[list[PlanCase], list[Officer], list[Vehicle]]:
    rng = random.Random(3)
    cases = [PlanCase(case_id=f"c{i:05}", town=f"T{rng.randint(1, 12)}", village=f"V{rng.randint(1, 15)}",
                      referred_on=MON - timedelta(days=5), due_on=MON + timedelta(days=rng.randint(0, 40)))
             for i in range(n)]
    officers = [Officer(user_id=f"o{i:02}") for i in range(28)]
    vehicles = [Vehicle(vehicle_id=f"v{i}") for i in range(9)]
    return cases, officers, vehicles


def run(scale: float = 1.0) -> list[Result]:
    n = max(100, int(4000 * scale))
    cases, officers, vehicles = _inputs(n)

    def ours() -> None:
        plan_visits(cases, officers, vehicles, MON, 30)

    def baseline() -> None:
        ordered = sorted(cases, key=lambda c: (c.due_on, c.town, c.village, c.case_id))
        slots = [(d, o.user_id) for d in range(30) for o in officers]
        [(c.case_id, slots[(i // 4) % len(slots)]) for i, c in enumerate(ordered)]

    return [Result("planning", n, "cases", best_of(ours), best_of(baseline), "sort and deal out, no rules")]
