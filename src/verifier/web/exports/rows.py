"""What the workbooks share: how many rows a list gives at most, and how a sheet names a case."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ...cases import service as case_service

MAX_ROWS = 100_000


def case_names(session: Session, case_ids: list[str]) -> dict[str, tuple[str, str]]:
    """Each case's readable number and household head, as a sheet names a case (never its internal id)."""
    if not case_ids:
        return {}
    return {i: (c.number, c.household.head_name) for i, c in case_service.cases_by_id(session, case_ids).items()}
