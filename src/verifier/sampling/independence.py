"""Who took part in a case, in one list (`parts`), for every four-eyes rule that keeps them out of a later step: the
county's re-check (recorded or corrected), a supplementary payment's confirmation (sampling/consequences.py), a held
case's re-determination (cases/holds.py) and the county's answer to one against its finding (cases/hold_proposals.py).

A re-check is the county's own look at the insurer's work: never recorded (or corrected) by a person who took part
in that work on the case: an officer of one of its checks, whoever recorded one, or the supervisor who confirmed its
determination (one person may hold a county role beside an insurer role), nor through an account linked to one of
theirs by a password (`recusal.refusals.refuse_linked`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..clock import Clock
from ..domain.errors import Forbidden
from ..recusal import guard as recusal
from ..recusal import refusals as recusal_refusals
from ..roster.service import PASSWORD_LINK
from ..store.tables import Check, Determination
from .models import SamplingResult

LINKED_RECHECKER = ("按“四眼原则”，您的账号与{part}的账号有密码关联" + PASSWORD_LINK
                    + "，复核结果须由其他县级复核人员录入。")
# The parts, as a refusal names them (`{part}`): of the insurer's work, of the county's re-check, of a re-determination.
CHECK_RECORDER = "录入该户入户核查的人员"
CHECK_OFFICER = "参加该户入户核查的核查员"
CONFIRMER = "确认该户认定的主管"
RECHECK_RECORDER = "录入发现偏差的复核结果的人员"
PROPOSER = "提出重新认定的主管"


def parts(session: Session, case_id: str, *, rounds: Iterable[str] = (), proposer: str | None = None) -> dict[str, str]:
    """Who took part in the case (user id → that part, one of the names above): the officers of its checks, their
    recorders, the confirmers of its determinations; with `rounds`, who recorded or corrected its re-check results in
    those sampling rounds; with `proposer`, who proposed its re-determination. Of several parts, the last named here.
    The one list every rule above refuses, with the accounts linked to theirs by a password."""
    return parts_of_cases(session, {case_id: rounds}, {case_id: proposer})[case_id]


def parts_of_cases(session: Session, rounds: Mapping[str, Iterable[str]],
                   proposers: Mapping[str, str | None] | None = None) -> dict[str, dict[str, str]]:
    """`parts` of each case of `rounds` (case id → the sampling rounds asked of it), with its proposer of
    `proposers`, read in at most three statements whatever the number of cases (a list page's rows)."""
    case_ids = sorted(rounds)
    if not case_ids:
        return {}
    asked = {c: set(rounds[c]) for c in case_ids}
    checks = session.execute(select(Check.case_id, Check.officer_ids, Check.recorded_by)
                             .where(Check.case_id.in_(case_ids))).all()
    confirmed = session.execute(select(Determination.case_id, Determination.confirmed_by)
                                .where(Determination.case_id.in_(case_ids)).order_by(Determination.id)).all()
    wanted = sorted({r for rs in asked.values() for r in rs})
    results = session.execute(select(SamplingResult.case_id, SamplingResult.round_id, SamplingResult.recorded_by,
                                     SamplingResult.corrected_by).where(
        SamplingResult.case_id.in_(case_ids), SamplingResult.round_id.in_(wanted))).all() if wanted else []
    out: dict[str, dict[str, str]] = {}
    for case_id in case_ids:
        found: dict[str, str] = {}
        for who, part in [*((by, CHECK_RECORDER) for c, _, by in checks if c == case_id),
                          *((o, CHECK_OFFICER) for c, officers, _ in checks if c == case_id for o in officers or []),
                          *((by, CONFIRMER) for c, by in confirmed if c == case_id),
                          *((p, RECHECK_RECORDER) for c, r, *by in results if c == case_id and r in asked[case_id]
                            for p in by),
                          ((proposers or {}).get(case_id), PROPOSER)]:
            if who:
                found[who] = part
        out[case_id] = found
    return out


def took_part(session: Session, case_id: str, user_id: str) -> bool:
    """Whether `user_id` was an officer of one of the case's checks, recorded one, or confirmed its determination."""
    return user_id in parts(session, case_id)


def linked_parts(session: Session, case_id: str, said: str,
                 took: dict[str, str] | None = None) -> list[recusal_refusals.LinkedPart]:
    """The accounts of who took part in the case (`took`, by default `parts` of the insurer's work), each with `said`
    (naming the part as `{part}`): the refusal to an account linked to one of theirs by a password."""
    took = parts(session, case_id) if took is None else took
    return [recusal_refusals.LinkedPart(who, said.format(part=part), case_id=case_id,
                                        extra={"why": "password_linked"})
            for who, part in sorted(took.items())]


def require_independent(session: Session, case_id: str, principal: Principal, clock: Clock | None = None) -> None:
    if took_part(session, case_id, principal.id):
        raise Forbidden("按“四眼原则”，您参加了保险机构对该户的核查或认定，复核结果须由其他县级复核人员录入。")
    # nor through an account linked to one of theirs by a password (kept on 回避拦截记录 under `recheck`)
    recusal_refusals.refuse_linked(session, principal, "recheck", linked_parts(session, case_id, LINKED_RECHECKER),
                                   clock=clock)
    recusal.refuse_case(session, principal, case_id, step="recheck", clock=clock)  # 回避: nor a member, or declared relative of one, of the household
