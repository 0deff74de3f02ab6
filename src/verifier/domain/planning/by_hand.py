"""A visit scheduled by hand: the same rules as the planner's, checked for one visit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from ..errors import FieldError
from .model import (
    DEFAULT_CAPACITY,
    ExistingVisit,
)


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
        problems.append(FieldError("officers", f"须选择两名核查员（选择了 {len(ids)} 名）"))
    if any(not str(i).strip() for i in ids):
        problems.append(FieldError("officers", "核查员不能为空"))
    elif len(ids) == 2 and ids[0] == ids[1]:
        problems.append(FieldError("officers", "两名核查员不能是同一人"))
    if not str(vehicle_id).strip():
        problems.append(FieldError("vehicle", "请填写车辆"))
    if visit_on < referred_on:
        problems.append(FieldError("visit_on", f"不能早于接收日期 {referred_on}（填写的是 {visit_on}）"))

    for officer in dict.fromkeys(ids):
        limit = capacity if isinstance(capacity, int) else capacity.get(officer, DEFAULT_CAPACITY)
        load = officer_load.get((officer, visit_on), 0)
        if load >= limit:
            problems.append(
                FieldError(f"officers[{ids.index(officer)}]", f"该核查员 {visit_on} 已有 {load} 户走访（每日最多 {limit} 户）")
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
            FieldError("vehicle", f"车辆 {vehicle_id} 在 {visit_on} 已安排给其他核查员")
        )
    for officer, other_vehicle in sorted(officer_clash):
        problems.append(
            FieldError(f"officers[{ids.index(officer)}]", f"该核查员 {visit_on} 已乘坐车辆 {other_vehicle}")
        )
    return problems
