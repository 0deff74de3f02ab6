"""The same write sent again (a stale tab, the back button) or twice at once (two tabs, two workers) finds the row
already stored instead of storing a second.

The application looks first (`find`), for the answer it gives; a unique index is what makes it true: of two writers
that both looked before either committed, the database refuses the second's insert (`IntegrityError`), its
transaction rolls back whole, and it then finds the row the first stored.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import Database


def write_or_find(db: Database, find: Callable[[Session], str | None],
                  write: Callable[[Session], str]) -> tuple[str, bool]:
    """(id, whether it was stored before): the row `find` finds, else the one `write` stores."""
    try:
        with db.begin() as session:
            found = find(session)
            return (found, True) if found else (write(session), False)
    except IntegrityError:
        with db.read() as session:
            found = find(session)
        if found is None:
            raise  # refused for another reason: not a twin
        return found, True
