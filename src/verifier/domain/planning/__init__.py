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
* A case is not given an officer of its ``excluded_officers``, nor (rotation) an officer the plan already sends
  to another case of its ``household``.

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

The pieces: `model` (inputs, outputs, due and late days), `planner` (`plan_visits`), `by_hand`
(`validate_manual_assignment`).
"""

from __future__ import annotations

from .by_hand import validate_manual_assignment
from .model import (
    DEFAULT_CAPACITY,
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
    due_date,
    working_days,
)
from .planner import plan_visits

__all__ = [
    "DEFAULT_CAPACITY",
    "MAX_PLAN_DAYS",
    "MONDAY_TO_FRIDAY",
    "Assignment",
    "ExistingVisit",
    "Officer",
    "Plan",
    "PlanCase",
    "Unplaced",
    "Vehicle",
    "days_late",
    "due_date",
    "plan_visits",
    "validate_manual_assignment",
    "working_days",
]
