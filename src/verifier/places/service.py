"""A county's list of towns and villages: read it, check a town and village against it, add to it (its import from the
county's file is `county_file`).

A county without a list keeps free-text towns and villages (deployments from before the list go on working).
Once it has one, applications and referral files name a town of the list and a village of that town; anything
else is refused with a Chinese message that names what was written. The messages here are for the people who
keep the list and fill the forms, so they are written in Chinese.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import FieldError, Forbidden, ValidationFailed
from ..store.base import new_ids
from .models import Place

EDITORS = ("admin", "insurer_supervisor")  # who may add a village to a county's list
MAX_NAME = 100


def normal(name: object) -> str:
    """A town or village name as kept and compared: composed (NFC), without surrounding spaces."""
    return unicodedata.normalize("NFC", name).strip() if isinstance(name, str) else ""


@dataclass(frozen=True)
class PlaceList:
    """A county's list: each town with its villages, in name order (empty: the county has no list)."""

    county_code: str
    towns: dict[str, list[str]]

    @property
    def exists(self) -> bool:
        return bool(self.towns)

    def problem(self, town: str, village: str) -> tuple[str, str] | None:
        """(field, Chinese message) when `town`/`village` is not on the list; None when it is, or there is none."""
        if not self.towns:
            return None
        town, village = normal(town), normal(village)
        if town not in self.towns:
            return "town", f"“{town}”不是本县名单上的乡镇，请从名单中选择"
        if village not in self.towns[town]:
            return "village", f"“{village}”不是{town}的村（社区），请从名单中选择；名单上没有的村须由管理员或主管先添加"
        return None


def place_list(session: Session, county_code: str) -> PlaceList:
    towns: dict[str, list[str]] = {}
    for town, village in session.execute(select(Place.town, Place.village).where(Place.county_code == county_code)
                                         .order_by(Place.town, Place.village)):
        towns.setdefault(town, []).append(village)
    return PlaceList(county_code, towns)


def counts(session: Session, county_codes: Iterable[str]) -> dict[str, int]:
    """How many villages each county's list holds (counties without a list are absent)."""
    rows = session.execute(select(Place.county_code, func.count()).where(Place.county_code.in_(list(county_codes)))
                           .group_by(Place.county_code))
    return {c: n for c, n in rows}


def add_place(session: Session, county_code: str, town: str, village: str, *, principal: Principal,
              clock: Clock) -> Place:
    """Add one village (and its town, when new) to a county's list, on purpose: an admin or a supervisor of the
    county, recorded in the audit log. A county without a list gets one this way too."""
    if not principal.has(*EDITORS):
        raise Forbidden("只有管理员或主管可以添加乡镇和村")
    principal.require_county(county_code, "county")
    town, village = normal(town), normal(village)
    problems = []
    for field, name, label in (("town", town, "乡镇"), ("village", village, "村")):
        if not name:
            problems.append(FieldError(field, f"请填写{label}名称"))
        elif len(name) > MAX_NAME:
            problems.append(FieldError(field, f"{label}名称超过 {MAX_NAME} 个字"))
    if problems:
        raise ValidationFailed(problems)
    exists = session.scalar(select(Place.id).where(Place.county_code == county_code, Place.town == town,
                                                   Place.village == village))
    if exists:
        raise ValidationFailed.one("village", f"“{village}”已在{town}的名单上")
    place = Place(id=new_ids("plc", 1)[0], county_code=county_code, town=town, village=village, source="page",
                  added_by=principal.id, added_at=clock.now())
    session.add(place)
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(EDITORS), action="place.add",
                 subject=place.id, payload={"county_code": county_code, "town": town, "village": village},
                 county_code=county_code, clock=clock)
    return place


def added_by_page(session: Session, county_code: str) -> list[Place]:
    """The villages added one at a time on the page, newest first: what grew the list after its import."""
    return list(session.scalars(select(Place).where(Place.county_code == county_code, Place.source == "page")
                                .order_by(Place.added_at.desc()).limit(200)))
