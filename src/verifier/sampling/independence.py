"""A re-check is the county's own look at the insurer's work: never recorded (or corrected) by a person who took part
in that work on the case: an officer of one of its checks, whoever recorded one, or the supervisor who confirmed its
determination (one person may hold a county role beside an insurer role), nor through an account linked to one of
theirs by a password (`recusal.refusals.refuse_linked`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..clock import Clock
from ..domain.errors import Forbidden
from ..recusal import guard as recusal
from ..recusal import refusals as recusal_refusals
from ..roster.service import PASSWORD_LINK
from ..store.tables import Check, Determination

LINKED_RECHECKER = ("按“四眼原则”，您的账号与{part}的账号有密码关联" + PASSWORD_LINK
                    + "，复核结果须由其他县级复核人员录入。")


def _parts(session: Session, case_id: str) -> dict[str, str]:
    """Who took part in the insurer's work on the case (user id → that part, in Chinese): the officers of its checks,
    their recorders, the confirmers of its determinations (of several parts, the last named here)."""
    checks = session.execute(select(Check.officer_ids, Check.recorded_by).where(Check.case_id == case_id)).all()
    confirmed = set(session.scalars(select(Determination.confirmed_by).where(Determination.case_id == case_id)))
    return {**{o: "参加该户入户核查的核查员" for officers, _ in checks for o in officers or []},
            **{by: "录入该户入户核查的人员" for _, by in checks if by},
            **{c: "确认该户认定的主管" for c in confirmed if c}}


def took_part(session: Session, case_id: str, user_id: str) -> bool:
    """Whether `user_id` was an officer of one of the case's checks, recorded one, or confirmed its determination."""
    return user_id in _parts(session, case_id)


def linked_parts(session: Session, case_id: str, said: str) -> list[recusal_refusals.LinkedPart]:
    """The accounts of who took part in the insurer's work on the case (`took_part`), each with `said` (naming the
    part as `{part}`): the refusal to an account linked to one of theirs by a password."""
    return [recusal_refusals.LinkedPart(who, said.format(part=part), case_id=case_id,
                                        extra={"why": "password_linked"})
            for who, part in sorted(_parts(session, case_id).items())]


def require_independent(session: Session, case_id: str, principal: Principal, clock: Clock | None = None) -> None:
    if took_part(session, case_id, principal.id):
        raise Forbidden("按“四眼原则”，您参加了保险机构对该户的核查或认定，复核结果须由其他县级复核人员录入。")
    # nor through an account linked to one of theirs by a password (kept on 回避拦截记录 under `recheck`)
    recusal_refusals.refuse_linked(session, principal, "recheck", linked_parts(session, case_id, LINKED_RECHECKER),
                                   clock=clock)
    recusal.refuse_case(session, principal, case_id, step="recheck", clock=clock)  # 回避: nor a member, or declared relative of one, of the household
