"""The follow-up page's lists, paged and searched: the payments waiting for a follow-up (the overdue first, then by
due day) and the follow-ups recorded (newest first)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of, page_of_list
from .service import DueFollowup, due_followups, marked, recorded_query


def find_due(session: Session, principal: Principal, *, today: date, mine: bool = False, q: str = "",
             page: int = 1, page_size: int = PAGE_SIZE) -> tuple[Paged[DueFollowup], int]:
    """One page of the follow-ups due (those the reader will be refused marked: `service.marked`), and how many of all
    of them are overdue. Whether one is due at all depends
    on its contract's terms, so the list is made whole and then cut (it holds only what nobody has done yet)."""
    due = due_followups(session, principal, mine=mine, q=fold_search(q))
    overdue = sum(1 for d in due if d.due_on < today)
    shown = page_of_list(due, page, page_size)
    return replace(shown, items=marked(session, principal, shown.items)), overdue


def find_recorded(session: Session, principal: Principal, *, q: str = "", page: int = 1,
                  page_size: int = PAGE_SIZE) -> Paged[Any]:
    """One page of the recorded follow-ups: (follow-up, case, household head) rows."""
    return page_of(session, recorded_query(principal, q=fold_search(q)), page, page_size, rows=True)
