"""A county's file of towns and villages (columns 乡镇 and 村): read it, every bad row refused at once, and import it
into the county's list (`service`), all or nothing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import FieldError, ValidationFailed
from ..settings import ImportLimits
from ..sheets import read_records
from ..store.base import new_ids
from .models import Place
from .service import MAX_NAME, normal, place_list

TOWN_HEADERS = ("乡镇", "乡镇（街道）", "乡镇(街道)", "town")
VILLAGE_HEADERS = ("村", "村（社区）", "村(社区)", "village")


def read_file(data: bytes, filename: str, limits: ImportLimits | None = None) -> list[tuple[int, str, str]]:
    """The (row, town, village) of a county's file (columns 乡镇 and 村), every bad row refused at once."""
    records = list(read_records(data, filename, limits or ImportLimits()))
    if not records:
        raise ValidationFailed.one("file", "文件是空的：第一行应为表头“乡镇”“村”")
    header = [normal(str(c)) if c is not None else "" for c in records[0][1]]
    town_at = next((i for i, h in enumerate(header) if h in TOWN_HEADERS), None)
    village_at = next((i for i, h in enumerate(header) if h in VILLAGE_HEADERS), None)
    if town_at is None or village_at is None:
        raise ValidationFailed.one("file", "第 1 行应为表头，含“乡镇”和“村”两列；现在是：" + "、".join(h for h in header if h))
    errors: list[FieldError] = []
    rows: list[tuple[int, str, str]] = []
    for number, cells in records[1:]:
        def cell(i: int) -> str:
            value = cells[i] if i < len(cells) else None
            return normal(value if isinstance(value, str) else ("" if value is None else str(value)))

        town, village = cell(town_at), cell(village_at)
        if not town and not village and not any(normal(str(c)) for c in cells if c is not None):
            continue  # a blank line
        for field, name, label in (("town", town, "乡镇"), ("village", village, "村")):
            if not name:
                errors.append(FieldError(field, f"第 {number} 行：缺少{label}名称", number))
            elif len(name) > MAX_NAME:
                errors.append(FieldError(field, f"第 {number} 行：{label}名称超过 {MAX_NAME} 个字", number))
        if town and village and len(town) <= MAX_NAME and len(village) <= MAX_NAME:
            rows.append((number, town, village))
    if errors:
        raise ValidationFailed(errors)
    if not rows:
        raise ValidationFailed.one("file", "文件中没有乡镇和村")
    return rows


@dataclass(frozen=True)
class ImportOutcome:
    added: int
    already: int


def import_places(session: Session, county_code: str, data: bytes, filename: str, *, clock: Clock,
                  actor: str = "system", role: str = "admin", limits: ImportLimits | None = None) -> ImportOutcome:
    """Add the file's towns and villages to the county's list: all or nothing; the same file again changes nothing
    (what is already on the list is left as it is, and nothing is removed)."""
    if not (len(county_code) == 6 and county_code.isdigit()):
        raise ValidationFailed.one("county_code", f"县（区）代码应为六位数字，现在是“{county_code}”")
    rows = read_file(data, filename, limits)
    have = {(t, v) for t, vs in place_list(session, county_code).towns.items() for v in vs}
    new: list[tuple[str, str]] = []
    for _, town, village in rows:
        if (town, village) not in have:
            have.add((town, village))
            new.append((town, village))
    if new:
        now = clock.now()
        session.add_all(Place(id=pid, county_code=county_code, town=t, village=v, source="import", added_by=actor,
                              added_at=now) for pid, (t, v) in zip(new_ids("plc", len(new)), new))
        session.flush()
        audit.append(session, actor=actor, role=role, action="places.import", subject=county_code,
                     payload={"county_code": county_code, "file_sha256": hashlib.sha256(data).hexdigest(),
                              "added": len(new), "rows": len(rows)}, county_code=county_code, clock=clock)
    return ImportOutcome(added=len(new), already=len(rows) - len(new))
