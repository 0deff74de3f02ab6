"""Which members' names are on record for payment (在册): a payee named at the door, or a payee change that needs no
county reviewer.

A member's name is on record when the referral or application brought it (`Member.added_by_check_id` NULL), or when
the home check that added the member or last changed their name (`added_by_check_id`) is of another case and its
determination was confirmed (by a supervisor who, by the four-eyes rule, neither made nor recorded it). A name a
check typed is otherwise one officer's word: at another case of the household the same officer could name that
person payee with his own card, and at the case of that check a payee change to them is a change to someone new,
with its reason and the county reviewer."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store.tables import Check, Determination, Member


def confirmed_checks(session: Session, check_ids: Iterable[str | None]) -> dict[str, str]:
    """Those of the checks whose determination is confirmed, each with its case."""
    ids = sorted({c for c in check_ids if c})
    if not ids:
        return {}
    return dict(session.execute(select(Check.id, Check.case_id).join(Determination, Determination.check_id == Check.id)
                                .where(Check.id.in_(ids))).tuples().all())


def on_record(added_by_check_id: str | None, case_id: str, confirmed: dict[str, str]) -> bool:
    """Whether a member's name, as the check `added_by_check_id` wrote it (None: as the referral brought it), is on
    record for a payment of `case_id` (`confirmed`: `confirmed_checks` of the members' checks)."""
    if added_by_check_id is None:
        return True
    return added_by_check_id in confirmed and confirmed[added_by_check_id] != case_id


def typed_by(session: Session, check_id: str) -> list[str]:
    """The names of the members the check added or renamed, still as it wrote them (the determination page shows
    them: confirming it puts them on record for the household's other cases)."""
    return list(session.scalars(select(Member.name).where(Member.added_by_check_id == check_id)
                                .order_by(Member.name)))
