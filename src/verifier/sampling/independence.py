"""A re-check is the county's own look at the insurer's work: never recorded (or corrected) by a person who took part
in that work on the case: an officer of one of its checks, whoever recorded one, or the supervisor who confirmed its
determination (one person may hold a county role beside an insurer role)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..clock import Clock
from ..domain.errors import Forbidden
from ..recusal import guard as recusal
from ..store.tables import Check, Determination


def took_part(session: Session, case_id: str, user_id: str) -> bool:
    """Whether `user_id` was an officer of one of the case's checks, recorded one, or confirmed its determination."""
    checks = session.execute(select(Check.officer_ids, Check.recorded_by).where(Check.case_id == case_id)).all()
    confirmed = set(session.scalars(select(Determination.confirmed_by).where(Determination.case_id == case_id)))
    return user_id in confirmed or any(user_id in (officers or []) or user_id == by for officers, by in checks)


def require_independent(session: Session, case_id: str, principal: Principal, clock: Clock | None = None) -> None:
    if took_part(session, case_id, principal.id):
        raise Forbidden("按“四眼原则”，您参加了保险机构对该户的核查或认定，复核结果须由其他县级复核人员录入。")
    recusal.refuse_case(session, principal, case_id, step="recheck", clock=clock)  # 回避: nor a member, or declared relative of one, of the household
