"""The places page's list, paged by town and searched: a town whose name holds the search text shows all its
villages, another town only its villages whose names hold it."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of
from .models import Place


def find_towns(session: Session, county_code: str, *, q: str = "", page: int = 1,
               page_size: int = PAGE_SIZE) -> Paged[tuple[str, list[str]]]:
    """One page of (town, villages) of a county's list, in name order."""
    text = fold_search(q)
    towns = select(Place.town).where(Place.county_code == county_code).distinct().order_by(Place.town)
    if text:
        towns = towns.where(or_(Place.town.contains(text, autoescape=True),
                                Place.village.contains(text, autoescape=True)))
    found = page_of(session, towns, page, page_size)
    villages: dict[str, list[str]] = {t: [] for t in found.items}
    rows = session.execute(select(Place.town, Place.village)
                           .where(Place.county_code == county_code, Place.town.in_(found.items))
                           .order_by(Place.town, Place.village)) if found.items else []
    for town, village in rows:
        if not text or text in town or text in village:
            villages[town].append(village)
    return found.map(lambda town: (town, villages[town]))
