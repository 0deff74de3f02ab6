"""What waits for a second person (a roster, a register's proposal, a notice's posting): the items the caller may
decide and how many wait for someone else, asked by the step's own rule (its `confirms_refused`, the rule the step
refuses by) all at once. The home page's cards count `mine`; the steps' `?to_decide` lists show them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from .accounts.auth import Principal


@dataclass(frozen=True)
class Waiting:
    """Those the caller may decide (`mine`, ids) and how many others wait for someone else."""

    mine: list[str]
    others: int


def waiting(session: Session, principal: Principal, stmt: Any, county: Any,
            refused: Callable[[Session, Sequence[Any], Principal], Mapping[str, object | None]]) -> Waiting:
    """The rows `stmt` selects in the caller's counties (`county`: their county column), each asked `refused`
    (None: nothing stands against the caller)."""
    if principal.counties:
        stmt = stmt.where(county.in_(sorted(principal.counties)))
    rows = list(session.scalars(stmt))
    said = refused(session, rows, principal)
    mine = sorted(r.id for r in rows if said[r.id] is None)
    return Waiting(mine, len(rows) - len(mine))
