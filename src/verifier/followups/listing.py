"""The follow-up page's lists, paged and searched: the payments waiting for a follow-up (the overdue first, then by
due day) and the follow-ups recorded (newest first)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of, page_of_list
from .service import DueFollowup, due_followups, marked, own_due, recorded_query


def find_due(session: Session, principal: Principal, *, today: date, mine: bool = False, q: str = "",
             page: int = 1, page_size: int = PAGE_SIZE) -> tuple[Paged[DueFollowup], int, int]:
    """One page of the follow-ups due, how many of all of them are overdue, and how many are left to other officers.
    `mine` (an officer's own list): those they may record (`service.own_due`), the others only counted; else the
    county's, those the reader will be refused marked on the page (`service.marked`). Whether one is due at all depends
    on its contract's terms, so the list is made whole and then cut (it holds only what nobody has done yet)."""
    if mine:
        own = own_due(session, principal, q=fold_search(q))
        due, others = own.items, own.others
    else:
        due, others = due_followups(session, principal, q=fold_search(q)), 0
    overdue = sum(1 for d in due if d.due_on < today)
    shown = page_of_list(due, page, page_size)
    return (shown if mine else replace(shown, items=marked(session, principal, shown.items))), overdue, others


def find_recorded(session: Session, principal: Principal, *, q: str = "", page: int = 1,
                  page_size: int = PAGE_SIZE) -> Paged[Any]:
    """One page of the recorded follow-ups: (follow-up, case, household head) rows."""
    return page_of(session, recorded_query(principal, q=fold_search(q)), page, page_size, rows=True)
