"""One row by its id, within the caller's counties: the read every stage's `load_…`/`get_…` starts with."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.errors import NotFound

T = TypeVar("T")


class Viewer(Protocol):
    def may_see_county(self, county_code: str) -> bool: ...


def row_in_counties(session: Session, model: type[T], row_id: str, viewer: Viewer | None, *, missing: str,
                    for_update: bool = False, refresh: bool = False) -> T:
    """The `model` row of that id if it lies in the viewer's counties (any county when `viewer` is None), locked
    when `for_update` (and read again over what the session holds when `refresh`); else NotFound(`missing`), the
    same whether the row is absent or another county's, so nothing leaks."""
    table: Any = model
    stmt = select(model).where(table.id == row_id)
    if for_update:
        stmt = stmt.with_for_update()
        if refresh:
            stmt = stmt.execution_options(populate_existing=True)
    row = session.scalar(stmt)
    if row is None or (viewer is not None and not viewer.may_see_county(getattr(row, "county_code"))):
        raise NotFound(missing)
    return row
