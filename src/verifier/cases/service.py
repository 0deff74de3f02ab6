"""Reading cases, screening them, and scheduling their home visits (by hand or by the planner)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import SCHEME_TZ, Clock
from ..contract import county_named
from ..domain import objection_recheck, planning, rotation
from ..domain import recusal as recusal_rules
from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..domain.lifecycle import refused_in_status
from ..store import contracts as contract_store
from ..store.base import new_id
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of, text_search
from ..store.tables import Case, Check, Determination, Household, Referral, ReviewRequest, User, Visit
from ..notices.models import Objection
from ..recusal import guard as recusal
from ..recusal import refusals as recusal_refusals
from ..roster.service import PASSWORD_LINK, password_links, password_links_of
from .listing import CaseFilters, filter_cases
from .workflow import advance, load_case


@dataclass(frozen=True)
class CaseFilter(CaseFilters):
    limit: int = 50
    cursor: str | None = None


def list_cases(session: Session, principal: Principal, f: CaseFilter) -> tuple[list[Case], str | None]:
    """Cases in the caller's counties, oldest id first, `limit` at a time; the cursor is the last id returned."""
    # With each case's household (its head is listed): one statement, not one more per case.
    stmt = select(Case).options(joinedload(Case.household, innerjoin=True)).order_by(Case.id).limit(f.limit + 1)
    stmt = filter_cases(session, stmt, principal, f)
    if f.cursor:
        stmt = stmt.where(Case.id > f.cursor)
    rows = list(session.scalars(stmt))
    more = len(rows) > f.limit
    rows = rows[: f.limit]
    return rows, (rows[-1].id if more and rows else None)


# Who confirms or overturns a screen-out another clerk proposed (a county reviewer screens nothing else).
SCREEN_OUT_CONFIRMERS = ("town_clerk", "county_reviewer")


LINKED_SCREEN_OUT = ("按“四眼原则”，您的账号与提出本案初筛不通过的经办人的账号有密码关联" + PASSWORD_LINK
                     + "，不能确认该初筛不通过，须由本乡镇其他经办人或县级复核人员确认；您可以改为“通过”。")


def bureau_referred(session: Session, case_id: str) -> bool:
    """Whether a bureau's list referred the case (not only the household's own application)."""
    return session.scalar(select(Referral.id).where(Referral.case_id == case_id,
                                                    Referral.channel != "application").limit(1)) is not None


def screen_out_parts(case: Case) -> list[recusal_refusals.LinkedPart]:
    """The account a screen-out's confirmer is the second person of: its proposer's (none without a proposal)."""
    if case.screen_out_proposed_by is None:
        return []
    return [recusal_refusals.LinkedPart(case.screen_out_proposed_by, LINKED_SCREEN_OUT, case_id=case.id,
                                        households=[case.household_id], extra={"why": "password_linked"})]


def own_screen_out(case: Case, principal: Principal) -> str | None:
    """Why `principal` may not confirm the screen-out proposed on `case` as its proposer, or None: what `screen`
    refuses 不通过 with, and the case page shows instead of the 不通过 choice."""
    if case.screen_out_proposed_by is None or case.screen_out_proposed_by != principal.id:
        return None
    return "按“四眼原则”，本案的初筛不通过由您提出，须由本乡镇其他经办人或县级复核人员确认；您可以改为“通过”。"


def screen_out_refused(session: Session, case: Case, principal: Principal) -> str | None:
    """Why `principal` may not confirm the screen-out proposed on `case` (its proposer, or an account linked to the
    proposer's by a password: the refusals `screen` gives 不通过, in its words), or None: the case page shows it
    instead of the 不通过 choice."""
    return own_screen_out(case, principal) or linked_screen_out(session, case, principal)


def linked_screen_out(session: Session, case: Case, principal: Principal) -> str | None:
    """Why `principal` may not confirm the screen-out proposed on `case` through an account linked to its proposer's
    by a password (what `screen` refuses 不通过 with), or None: the case page shows it instead of the 不通过 choice."""
    return recusal_refusals.linked_said(session, principal, screen_out_parts(case))


def screen(session: Session, case_id: str, *, decision: str, reason: str, principal: Principal, clock: Clock) -> Case:
    """The town's preliminary screening. 不通过 closes the case for good; on a case a bureau referred (the household
    never asked, so nobody would miss it) it is first a proposal, and another clerk or the county reviewer confirms
    it (不通过 again) or overturns it (通过). The clerk who proposed it never confirms it."""
    case = load_case(session, case_id, principal, for_update=True)
    # 回避: a relative's case is screened (in or out) by another clerk
    recusal.refuse_principal(session, principal, [case.household_id], step="screening", case_id=case.id, clock=clock)
    if decision not in ("pass", "reject"):
        raise ValidationFailed.one("decision", "请选择通过或不通过")
    if decision == "reject" and not reason.strip():
        raise ValidationFailed.one("reason", "不通过时须填写原因")
    if case.status != "received":
        raise InvalidState(refused_in_status(case.status, "初步筛选"))
    proposed_by = case.screen_out_proposed_by
    if proposed_by is None and not principal.has("town_clerk"):
        raise Forbidden("县级复核人员只确认或否决乡镇经办人提出的初筛不通过，初步筛选由乡镇经办人办理")
    own = own_screen_out(case, principal) if decision == "reject" else None
    if own is not None:
        raise Forbidden(own)
    if decision == "reject" and proposed_by is not None:  # nor through an account linked to the proposer's
        recusal_refusals.refuse_linked(session, principal, "screening", screen_out_parts(case), clock=clock)
    role = principal.acting_role(SCREEN_OUT_CONFIRMERS if proposed_by else ("town_clerk",))
    payload: dict[str, Any] = {"decision": decision, "reason_sha256": audit.text_digest(reason)}
    if decision == "reject" and proposed_by is None and bureau_referred(session, case.id):
        now = clock.now()
        case.screen_out_proposed_by, case.screen_out_proposed_at = principal.id, now
        case.screening_reason = reason
        case.updated_at, case.version = now, case.version + 1
        session.flush()
        audit.append(session, actor=principal.id, role=role, action="case.screen_out_propose", subject=case.id,
                      contract_hash=case.contract_hash, clock=clock, payload=payload)
        return case
    if proposed_by is not None:
        payload["proposal"] = {"proposed_by": proposed_by,
                               "proposed_at": case.screen_out_proposed_at.isoformat()
                               if case.screen_out_proposed_at else None,
                               "reason_sha256": audit.text_digest(case.screening_reason or ""),
                               "outcome": "confirmed" if decision == "reject" else "overturned"}
        case.screen_out_proposed_by = case.screen_out_proposed_at = None
    action = "screen_pass" if decision == "pass" else "screen_reject"
    advance(session, case, action, actor=principal, role=role, clock=clock, payload=payload)
    case.screening_reason = reason or None
    if decision == "reject":
        case.closed_reason = reason
    return case


def screen_out_proposals(session: Session, principal: Principal, limit: int = 50) -> list[dict[str, Any]]:
    """Screen-outs proposed and waiting for a second person, in the caller's counties, oldest first."""
    stmt = (select(Case).options(joinedload(Case.household, innerjoin=True))
            .where(Case.status == "received", Case.screen_out_proposed_by.is_not(None))
            .order_by(Case.screen_out_proposed_at, Case.id).limit(limit))
    if principal.counties:
        stmt = stmt.where(Case.county_code.in_(principal.counties))
    return [{"id": c.id, "number": c.number, "town": c.town, "village": c.village, "head_name": c.household.head_name,
             "reason": c.screening_reason or "", "proposed_by": c.screen_out_proposed_by,
             "proposed_at": c.screen_out_proposed_at, "mine": c.screen_out_proposed_by == principal.id}
            for c in session.scalars(stmt)]


def due_date(session: Session, case: Case) -> date:
    """The day its check is due: counted from the referral, or for a review from the day the request came in."""
    return due_dates(session, [case])[case.id]


def due_dates(session: Session, cases: list[Case]) -> dict[str, date]:
    """`due_date` of many cases, in two queries whatever their number."""
    reviews = dict(session.execute(_LATEST_REVIEW_REQUEST, {"case_ids": [c.id for c in cases]}).tuples().all())
    days = {cid: contract_store.get_contract(session, cid).spec.deadlines.check_within_days
            for cid in {c.contract_id for c in cases}}
    return {c.id: planning.due_date(reviews.get(c.id) or c.referred_on, days[c.contract_id]) for c in cases}


@dataclass(frozen=True)
class Calendar:
    """A contract's working calendar for visits, in the planner's terms."""

    capacity_per_day: int
    workdays: frozenset[int]  # date.weekday numbers: Monday 0 … Sunday 6
    holidays: frozenset[date]
    extra_workdays: frozenset[date]


def visit_calendar(session: Session, contract_id: str) -> Calendar:
    visits = contract_store.get_contract(session, contract_id).spec.visits
    return Calendar(capacity_per_day=visits.capacity_per_day, workdays=frozenset(w - 1 for w in visits.workdays),
                    holidays=frozenset(visits.holidays), extra_workdays=frozenset(visits.extra_workdays))


def barred_officers(session: Session, case_ids: list[str],
                    candidates: Iterable[str] = ()) -> dict[str, frozenset[str]]:
    """The officers who may not make a case's next visit: for a case under review (the household asked for a review
    of an ineligible decision), those who made its checks up to the one reviewed; for a case whose check the supervisor sent back,
    the officers of the sent-back check; for a case an objection to its notice was upheld against, the officers of
    the checks recorded before it was upheld (the doubt is settled by other eyes); and the household's officers of
    last time, or of a visit of another of its cases still to be made (rotation, `domain.rotation`), and of
    `candidates` the accounts linked to one of those by a password (`rotation_links`). The accounts linked to the
    first three by a password are `recheck_barred`'s."""
    barred = {k: set(v) for k, v in _barred_by_own_checks(session, case_ids).items()}
    rotating: dict[str, set[str]] = {}
    for case_id, officers in last_household_officers(session, case_ids).items():
        rotating.setdefault(case_id, set()).update(officers)
    for case_id, officers in open_household_visits(session, case_ids).items():
        rotating.setdefault(case_id, set()).update(officers)
    candidates = list(candidates)
    for case_id, linked in rotation_links(session, rotating, dict.fromkeys(rotating, candidates)).items():
        rotating[case_id].update(linked)
    for case_id, officers in rotating.items():
        barred.setdefault(case_id, set()).update(officers)
    return {k: frozenset(v) for k, v in barred.items()}


def rotation_links(session: Session, barred: Mapping[str, Iterable[str]],
                   candidates: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    """Rotation (`domain.rotation`): per key (a case, a visit), of its `candidates` the accounts linked by a password
    (`roster.service.password_links_of`) to one of its `barred` officers, not barred themselves: the same person's
    second account, barred alike. One statement whatever their number; nothing read when no key has both barred
    officers and other candidates (a key with none is left out)."""
    others = {k: set(candidates.get(k, ())) - set(b) for k, b in barred.items() if b}
    others = {k: v for k, v in others.items() if v}
    if not others:
        return {}
    links = password_links_of(session, {o for k in others for o in barred[k]}, set().union(*others.values()))
    out = {k: rotation.linked_to(barred[k], v, links) for k, v in others.items()}
    return {k: v for k, v in out.items() if v}


def _barred_by_own_checks(session: Session, case_ids: list[str]) -> dict[str, frozenset[str]]:
    return {k: frozenset(v) for k, v in first_check_officers(session, case_ids).items()}


# A check recorded before an objection to the case's notice was upheld: the objection is against its figures.
_OBJECTED_TO = (select(Objection.id).where(Objection.case_id == Check.case_id, Objection.status == "upheld",
                                           Objection.resolved_at >= Check.recorded_at).exists())
# A check up to the one whose determination a review request reopens (by the checks' numbers): the re-check recorded
# after the request is no earlier check, unless it is doubted in its turn.
_decided = aliased(Check)
_REVIEWED = (select(ReviewRequest.id)
             .join(Determination, Determination.id == ReviewRequest.determination_id)
             .join(_decided, _decided.id == Determination.check_id)
             .where(ReviewRequest.case_id == Check.case_id, _decided.seq >= Check.seq).exists())


def first_check_officers(session: Session, case_ids: list[str]) -> dict[str, dict[str, str]]:
    """Per case, the officers of its checks in doubt, each with why they make no check of it again
    (`domain.objection_recheck`: `OBJECTION`, a check an upheld objection was against; `SENT_BACK`, a check sent
    back; `REVIEW`, a check up to the one whose determination the household asked to review); a case with
    none is left out."""
    if not case_ids:
        return {}
    whys: dict[str, dict[str, set[str]]] = {}
    for case_id, officers, objected, sent_back in session.execute(select(
            Check.case_id, Check.officer_ids, _OBJECTED_TO.label("objected"),
            Check.sent_back_at.is_not(None).label("sent_back"))
            .where(Check.case_id.in_(case_ids), or_(_REVIEWED, Check.sent_back_at.is_not(None), _OBJECTED_TO))):
        why = (objection_recheck.OBJECTION if objected else objection_recheck.SENT_BACK if sent_back
               else objection_recheck.REVIEW)
        for o in officers:
            whys.setdefault(case_id, {}).setdefault(o, set()).add(why)
    return {c: {o: objection_recheck.strongest(w) for o, w in by.items()} for c, by in whys.items()}


def objected_officers(session: Session, case_ids: list[str]) -> dict[str, frozenset[str]]:
    """The officers of each case's checks that an upheld objection was against (see `first_check_officers`); a case
    with none is left out."""
    out = {c: frozenset(o for o, why in by.items() if why == objection_recheck.OBJECTION)
           for c, by in first_check_officers(session, case_ids).items()}
    return {c: v for c, v in out.items() if v}


def linked_to_barred(session: Session, barred: dict[str, str], candidates: Iterable[str]) -> dict[str, str]:
    """Of `candidates`, the accounts linked by a password (`roster.service.password_links`) to one of `barred` (the
    officers of the checks in doubt, each with why: `first_check_officers`), each with the why of the officer it is
    linked to (the strongest): the same person's second account makes no check of the case again either
    (`domain.objection_recheck`). Nothing is read when `barred` is empty."""
    return linked_to_barred_of(session, {"": barred}, {"": candidates}).get("", {})


def linked_to_barred_of(session: Session, barred: dict[str, dict[str, str]],
                        candidates: dict[str, Iterable[str]]) -> dict[str, dict[str, str]]:
    """`linked_to_barred` of many at once (keyed alike: a case, a visit), the links read in one statement
    (`roster.service.password_links_of`) whatever their number; a key with none is left out."""
    others = {k: set(candidates.get(k, ())) - set(b) for k, b in barred.items() if b}
    others = {k: v for k, v in others.items() if v}
    if not others:
        return {}
    links = password_links_of(session, {o for k in others for o in barred[k]}, set().union(*others.values()))
    out: dict[str, dict[str, str]] = {}
    for k, accounts in others.items():
        whys: dict[str, set[str]] = {}
        for o, why in barred[k].items():
            for a in links.get(o, frozenset()) & accounts:
                whys.setdefault(a, set()).add(why)
        if whys:
            out[k] = {a: objection_recheck.strongest(w) for a, w in whys.items()}
    return out


def recheck_barred(session: Session, case_id: str, candidates: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
    """The one rule of who makes no check of a case again (`domain.objection_recheck`): the officers of its checks in
    doubt, and of `candidates` the accounts linked to theirs by a password, each with why. Scheduling, the planner,
    the check's recording, a visit without a check and the evidence added all ask it."""
    barred = first_check_officers(session, [case_id]).get(case_id, {})
    return barred, linked_to_barred(session, barred, candidates)


def recheck_bars(session: Session, case_id: str, candidates: Iterable[str]) -> dict[str, str]:
    """For the scheduling page: of `candidates`, the officers who may not make the check of a case made again (after
    an upheld objection, a check sent back, a review request), each with why, as `schedule` refuses them
    (`domain.objection_recheck`): the why ("objection", "sent_back", "review") of an officer of a check in doubt, or
    "linked_" and the why of the officer an account is linked to by a password. Empty for a case with none."""
    candidates = list(candidates)
    barred, linked = recheck_barred(session, case_id, candidates)
    return {o: barred[o] if o in barred else f"linked_{linked[o]}" for o in candidates if o in barred or o in linked}


def stale_visits(session: Session, visits: Iterable[Visit]) -> set[str]:
    """Of `visits` (active ones), the ids of the stale ones (`stale_whys`): listed nowhere as work to do, nothing is
    added to them (`refuse_stale`); the supervisor schedules the case anew."""
    return set(stale_whys(session, visits))


RECHECK = "recheck"  # held by an officer who makes no check of the case again (checks in doubt), or a linked account
ROTATED = "rotation"  # the rotation rule ends it; the county has other officers to send
ROTATED_BY_HAND = "rotation_by_hand"  # the rotation rule ends it; too few others: the supervisor sends them by hand


def stale_whys(session: Session, visits: Iterable[Visit]) -> dict[str, str]:
    """Of `visits` (active ones), those that ended, by id, each with why: `RECHECK`, held by an officer who makes no
    check of their case again, or by an account linked to one's by a password (`recheck_barred`: visits scheduled
    before the doubt, a case whose objection was upheld before the visit was ended, a case under review); else
    `ROTATED` (or `ROTATED_BY_HAND`, the county having too few other officers, `rotation_spare`), of a case still
    to be checked whose officers the rotation rule bars now (`rotation_barred`: the household checked since on
    another case by one of them, or a visit scheduled before the rule held), which the officer is told at the door
    (请等待主管重新安排). Two statements for the checks in doubt whatever their number (`linked_to_barred_of`), a few for
    rotation."""
    visits = list(visits)
    doubted = first_check_officers(session, sorted({v.case_id for v in visits}))
    held = {v.id: doubted[v.case_id] for v in visits if doubted.get(v.case_id)}
    linked = linked_to_barred_of(session, held, {v.id: v.officer_ids for v in visits if v.id in held})
    stale: dict[str, str] = {v.id: RECHECK for v in visits
                             if v.id in held and (set(v.officer_ids) & set(held[v.id]) or v.id in linked)}
    rotated = _rotation_stale(session, [v for v in visits if v.id not in stale])
    if rotated:
        holding = open_household_visits(session, sorted({v.case_id for v, _, _ in rotated}))
        officers: dict[str, list[str]] = {}
        for _, county, _ in rotated:
            if county not in officers:
                officers[county] = [u.id for u in field_officers(session, county)]
        # the county's accounts linked by a password to the household's officers are the same persons: not others
        linked = rotation_links(session, {v.id: last | holding.get(v.case_id, frozenset()) for v, _, last in rotated},
                                {v.id: officers[county] for v, county, _ in rotated})
        for v, county, last in rotated:
            spare = rotation_spare(officers[county], last, holding.get(v.case_id, frozenset()),
                                   linked.get(v.id, frozenset()))
            stale[v.id] = ROTATED if len(spare) >= len(v.officer_ids) else ROTATED_BY_HAND
    return stale


def rotation_spare(eligible: Iterable[str], *barred: Iterable[str]) -> list[str]:
    """The rotation rule's small county (`domain.rotation`): of the county's `eligible` officers, those outside every
    set of `barred` (the household's officers of last time, of its other cases' visits still to be made, and of its
    checks in doubt). Fewer than a visit needs: the household's officers may be sent again, by hand, with the
    supervisor's reason on record (`schedule`); and the list of visits that ended says so (`stale_whys`)."""
    out = set().union(*map(set, barred))
    return [u for u in eligible if u not in out]


def _rotation_stale(session: Session, visits: list[Visit]) -> list[tuple[Visit, str, frozenset[str]]]:
    """Of `visits`, those of a case still `scheduled` whose officers the rotation rule bars now (`rotation_barred`:
    or an account linked to one's by a password), each with its case's county and the household's officers of last
    time."""
    if not visits:
        return []
    cases = dict(session.execute(select(Case.id, Case.county_code).where(
        Case.id.in_(sorted({v.case_id for v in visits})), Case.status == "scheduled")).tuples().all())
    last = last_household_checks(session, sorted(cases))
    rotated = _rotation_bars(session, {v.id: (last[v.case_id], v) for v in visits if v.case_id in last})
    return [(v, cases[v.case_id], last[v.case_id].officer_ids) for v in visits if v.id in rotated]


# A case with a check in doubt (`first_check_officers`): only such a case's visit may be stale, or one whose household
# was checked on another of its cases (rotation, `_rotation_stale`).
_DOUBTED = (select(Check.id).where(Check.case_id == Case.id, or_(_REVIEWED, Check.sent_back_at.is_not(None),
                                                                  _OBJECTED_TO)).exists())
_other_case = aliased(Case)
_HOUSEHOLD_CHECKED = (select(Check.id).join(_other_case, _other_case.id == Check.case_id)
                      .where(_other_case.household_id == Case.household_id, _other_case.id != Case.id).exists())


def stale_scheduled(session: Session, principal: Principal) -> list[str]:
    """The cases in the principal's counties still `scheduled` on a stale visit (`stale_visits`: its officers, or an
    account linked to one's, make no check of the case again, an objection upheld, a check sent back, before upholding
    or sending back ended the visit; or the rotation rule bars its officers now): no officer has work on them, and
    they wait for the supervisor to send others. The scheduling page lists them with the screened cases
    (`find_waiting`), and the home card 待排期 counts them."""
    stmt = (select(Visit).join(Case, Case.id == Visit.case_id)
            .where(Visit.active.is_(True), Case.status == "scheduled", or_(_DOUBTED, _HOUSEHOLD_CHECKED)))
    if principal.counties:
        stmt = stmt.where(Case.county_code.in_(principal.counties))
    visits = list(session.scalars(stmt))
    stale = stale_visits(session, visits)
    return sorted({v.case_id for v in visits if v.id in stale})


def reassign(session: Session, case_ids: list[str]) -> dict[str, str]:
    """Of `case_ids`, those whose active visit is stale, each with why (`stale_whys`): a list row says the visit's
    officers must stand aside and others be sent (原走访人员须回避，请改派), or, by the rotation rule, whom to send."""
    if not case_ids:
        return {}
    visits = list(session.scalars(select(Visit).where(Visit.case_id.in_(case_ids), Visit.active.is_(True))))
    whys = stale_whys(session, visits)
    return {v.case_id: whys[v.id] for v in visits if v.id in whys}


def booking_visits(session: Session, days: Iterable[date], *, exclude_case: str | None = None) -> list[Visit]:
    """The one booking rule: the active visits on `days` that book their officers and vehicle (against an officer's
    daily capacity, a vehicle's one team), those of `exclude_case` aside. A stale visit (`stale_visits`) books
    nobody: its officers make no check of its case, and it ends when the case is scheduled anew (by hand or by the
    planner). Scheduling by hand and the planner both count these."""
    days = sorted(set(days))
    if not days:
        return []
    visits = [v for v in session.scalars(select(Visit).where(Visit.active.is_(True), Visit.visit_on.in_(days))
                                         .order_by(Visit.visit_on, Visit.id))
              if v.case_id != exclude_case]
    stale = stale_visits(session, visits)
    return [v for v in visits if v.id not in stale]


def last_household_officers(session: Session, case_ids: list[str]) -> dict[str, frozenset[str]]:
    """Rotation (轮换, `domain.rotation`): the officers of the household's latest check on another of its cases (last
    year's, another cause's), who do not make this case's visits: an officer and a household do not meet twice in a
    row, so no supervisor can keep sending a household to the same officer."""
    return {c: last.officer_ids for c, last in last_household_checks(session, case_ids).items()}


def last_household_checks(session: Session, case_ids: list[str]) -> dict[str, rotation.LastCheck]:
    """Per case, the household's latest check on another of its cases (its officers, when recorded); a case whose
    household has none is left out. Two statements whatever the number of cases."""
    if not case_ids:
        return {}
    households = dict(session.execute(select(Case.id, Case.household_id).where(Case.id.in_(case_ids))).tuples().all())
    rows = session.execute(select(Check.case_id, Case.household_id, Check.officer_ids, Check.recorded_at)
                           .join(Case, Case.id == Check.case_id)
                           .where(Case.household_id.in_(set(households.values())))).all()
    by_household: dict[str, list[Any]] = {}
    for r in rows:
        by_household.setdefault(r.household_id, []).append(r)
    out: dict[str, rotation.LastCheck] = {}
    for case_id, household in households.items():
        others = [r for r in by_household.get(household, ()) if r.case_id != case_id]
        if others:
            last = max(others, key=lambda r: r.recorded_at)
            out[case_id] = rotation.LastCheck(frozenset(last.officer_ids), last.recorded_at)
    return out


def open_household_visits(session: Session, case_ids: list[str]) -> dict[str, frozenset[str]]:
    """Rotation (`domain.rotation`): per case, the officers of the active visits of the household's other cases still
    to be visited (two causes at once), who are not sent to this one: whichever they recorded first, they would
    check the household again at the other. A case with none is left out. Two statements."""
    if not case_ids:
        return {}
    households = dict(session.execute(select(Case.id, Case.household_id).where(Case.id.in_(case_ids))).tuples().all())
    rows = session.execute(select(Visit.case_id, Case.household_id, Visit.officer_ids)
                           .join(Case, Case.id == Visit.case_id)
                           .where(Case.household_id.in_(set(households.values())), Case.status == "scheduled",
                                  Visit.active.is_(True))).all()
    out: dict[str, set[str]] = {}
    for case_id, household in households.items():
        for r in rows:
            if r.household_id == household and r.case_id != case_id:
                out.setdefault(case_id, set()).update(r.officer_ids)
    return {c: frozenset(o) for c, o in out.items()}


def rotation_barred(session: Session, case: Case, visit: Visit) -> tuple[frozenset[str], frozenset[str]]:
    """Of a visit's officers, those the rotation rule bars from recording on it now (`domain.rotation.barred_on_visit`:
    the household's latest check on another case, unless the visit was scheduled by hand with its reason knowing
    it), and those linked to one of that check's officers by a password (the same person's second account). The
    check's recording asks the same rule of the case's one locked read (`checks.recording`); a visit without a check
    and the evidence added ask it here. Only of a visit still to be recorded (a case scheduled): the visit of a case
    checked already stays what it was."""
    if case.status != "scheduled":
        return frozenset(), frozenset()
    last = last_household_checks(session, [case.id]).get(case.id)
    return _rotation_bars(session, {visit.id: (last, visit)}).get(visit.id, (frozenset(), frozenset()))


def _rotation_bars(session: Session, visits: Mapping[str, tuple[rotation.LastCheck | None, Visit]]
                   ) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Per key, of the visit's officers those `domain.rotation.barred_on_visit` bars given the household's latest
    check on another case, and those linked by a password to an officer it bars (`rotation_links`, one statement for
    them all; read, as the check reads them, only for a visit the rule bars someone of and none of its officers
    themselves): `rotation_barred`'s rule, and the lists' (`stale_whys`, `stopped_officers`). A key with neither is
    left out."""
    bars = {k: rotation.barred_on_visit(last, scheduled_at=v.created_at, by_hand=v.by_hand, reason=v.reason)
            for k, (last, v) in visits.items()}
    linked = rotation_links(session, {k: b for k, b in bars.items() if not b & set(visits[k][1].officer_ids)},
                            {k: v.officer_ids for k, (_, v) in visits.items()})
    out: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    for k, (_, v) in visits.items():
        own = bars[k] & frozenset(v.officer_ids)
        if own or k in linked:
            out[k] = (own, linked.get(k, frozenset()))
    return out


_ACTIVE_VISIT = select(Visit).where(Visit.case_id == bindparam("case_id"), Visit.active.is_(True))
_LATEST_REVIEW_REQUEST = (select(ReviewRequest.case_id, func.max(ReviewRequest.received_on))
                          .where(ReviewRequest.case_id.in_(bindparam("case_ids", expanding=True)))
                          .group_by(ReviewRequest.case_id))


def active_visit(session: Session, case_id: str) -> Visit | None:
    return session.scalar(_ACTIVE_VISIT, {"case_id": case_id})


def assigned_visit(session: Session, case_id: str, user: Principal, *, adding: bool = False,
                   clock: Clock | None = None) -> tuple[Case, Visit]:
    """The case (in the user's counties) and its active visit, which the user is one of the officers of; 404
    otherwise, as to a case the user may not see (the pages where officers record a visit or a check). A stale visit
    (`stale_visit`) is refused (403, `refuse_stale`); `adding`: the user sends something to the case (a form with
    its photos), the refusal kept on 回避拦截记录."""
    case = load_case(session, case_id, user)
    visit = active_visit(session, case.id)
    if visit is None or user.id not in visit.officer_ids:
        raise NotFound("该案件未分配给您")
    refuse_stale(session, case, visit, user, clock=clock, kept=adding)
    return case, visit


def why_stopped(user_id: str, officers: Iterable[str], barred: Iterable[str], linked: Iterable[str],
                rotated: frozenset[str], rotated_linked: frozenset[str] = frozenset()) -> str | None:
    """What an officer of a visit is told when he opens it (`refuse_stale`'s words, in its order), or None when he
    may record on it: `barred`/`linked`, the case's officers of its checks in doubt and the visit's accounts linked to
    theirs (`recheck_barred`); `rotated`/`rotated_linked`, the visit's officers the rotation rule bars now and its
    accounts linked to one it bars by a password (`rotation_barred`)."""
    barred, linked = frozenset(barred), frozenset(linked)
    if user_id in barred:
        return objection_recheck.OWN_STALE
    if user_id in linked:
        return objection_recheck.LINKED_STALE
    if any(o in barred or o in linked for o in officers):
        return objection_recheck.VISIT_ENDED
    if user_id in rotated:
        return rotation.LAST_OFFICER
    if user_id in rotated_linked:
        return rotation.LINKED_LAST_OFFICER
    if rotated:
        return rotation.VISIT_ENDED
    return rotation.LINKED_VISIT_ENDED if rotated_linked else None


def stopped_visits(session: Session, user_id: str, visits: Iterable[tuple[Visit, Case]]) -> dict[str, str]:
    """Of `user_id`'s active visits to cases still scheduled, those he would be refused on (`refuse_stale`: a stale
    visit, or one the rotation rule bars now), each with what he is told (`why_stopped`): his lists show them apart,
    已停用（须改派）, not as work, and count them on no card (`stopped_officers`, for him alone)."""
    return {v: whys[user_id] for v, whys in stopped_officers(session, visits).items() if user_id in whys}


def stopped_officers(session: Session, visits: Iterable[tuple[Visit, Case]]) -> dict[str, dict[str, str]]:
    """Of active visits to cases still scheduled, those their officers would be refused on (`refuse_stale`), each with
    what every officer of it is told (`why_stopped`: one barred makes the visit no work for his partner either).
    Set-based: the checks in doubt and the households' latest checks read once for them all (`first_check_officers`,
    `last_household_checks`), the password links in one statement for them all (`linked_to_barred_of`, as
    `stale_whys`; and one for rotation's, `_rotation_bars`, when a visit has an officer it bars)."""
    rows = [(v, c) for v, c in visits if v.active and c.status == "scheduled"]
    ids = sorted({c.id for _, c in rows})
    doubted = first_check_officers(session, ids)
    last = last_household_checks(session, ids)
    held = {v.id: doubted[c.id] for v, c in rows if doubted.get(c.id)}
    links = linked_to_barred_of(session, held, {v.id: v.officer_ids for v, _ in rows if v.id in held})
    rotating = _rotation_bars(session, {v.id: (last.get(c.id), v) for v, c in rows})
    out: dict[str, dict[str, str]] = {}
    for v, c in rows:
        barred = doubted.get(c.id, {})
        linked = links.get(v.id, {})
        rotated, rotated_linked = rotating.get(v.id, (frozenset(), frozenset()))
        whys = {o: why for o in v.officer_ids
                if (why := why_stopped(o, v.officer_ids, barred, linked, rotated, rotated_linked)) is not None}
        if whys:
            out[v.id] = whys
    return out


def refuse_stale(session: Session, case: Case, visit: Visit, principal: Principal, *, clock: Clock | None,
                 kept: bool = True) -> None:
    """403 on a stale visit (`stale_visit`) of the case: to an officer of its checks in doubt, or to an account linked
    to one's by a password, saying so (with `kept`, on 回避拦截记录 under `evidence`, the trace kept after the
    rollback); to his partner on that visit, that it ended. The same for an officer the rotation rule bars on the visit
    now (`rotation_barred`: not kept on record, no 回避). Nothing when the visit is no stale one."""
    barred, linked = recheck_barred(session, case.id, visit.officer_ids)
    if principal.id in barred or principal.id in linked:
        exc = Forbidden(objection_recheck.OWN_STALE if principal.id in barred else objection_recheck.LINKED_STALE)
        if kept:
            why = barred.get(principal.id) or f"linked_{linked[principal.id]}"
            raise recusal_refusals.refused(exc, principal, "evidence", [case.household_id], case_id=case.id,
                                           clock=clock, extra={"why": why, "visit_id": visit.id})
        raise exc
    # Rotation, as it holds now: an officer of the household's latest check on another of its cases (recorded since
    # the visit was scheduled, or a visit scheduled before the rule held) makes no visit of it; his partner is told
    # the visit ended (`rotation_barred`); an account linked to his by a password alike. The words are
    # `why_stopped`'s, which the officer's lists show.
    why = why_stopped(principal.id, visit.officer_ids, barred, linked, *rotation_barred(session, case, visit))
    if why is not None:
        raise Forbidden(why)


def case_status(session: Session, case_id: str) -> str | None:
    """A case's status as stored now (None when there is no such case)."""
    return session.scalar(select(Case.status).where(Case.id == case_id))


def _officer_load(visits: Iterable[Visit]) -> dict[tuple[str, date], int]:
    """Per officer and day, the visits of `visits` (`booking_visits`) he makes."""
    load: dict[tuple[str, date], int] = {}
    for v in visits:
        for o in v.officer_ids:
            load[(o, v.visit_on)] = load.get((o, v.visit_on), 0) + 1
    return load


def field_officers(session: Session, county_code: str) -> list[User]:
    """Active field officers who may work in the county, by username."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    return [u for u in users if "field_officer" in u.roles and (not u.counties or county_code in u.counties)]


def pickable_officers(session: Session, county_code: str, principal: Principal) -> list[User]:
    """The county's field officers a supervisor may send (by hand, or through his plan): not himself, nor his second
    account (linked to his by a password: `roster.service.password_links`)."""
    others = [u for u in field_officers(session, county_code) if u.id != principal.id]
    own = password_links(session, principal.id, {u.id for u in others})
    return [u for u in others if u.id not in own]


def schedule(
    session: Session, case_id: str, *, officers: list[str], visit_on: date, vehicle: str,
    principal: Principal, clock: Clock, reason: str = "", reason_required: bool = False,
) -> Visit:
    """A visit whose officers the supervisor chooses (by hand): recorded as such, with the reason (kept in the visit
    and its audit entry, shown on the case page; "" when an older client sends none, refused then when
    `reason_required`, as the page asks)."""
    case = load_case(session, case_id, principal, for_update=True)
    if case.status not in ("screened", "scheduled"):
        raise InvalidState(refused_in_status(case.status, "安排走访"))
    eligible = {u.id: u for u in field_officers(session, case.county_code)}
    by_name = {u.username: u.id for u in eligible.values()}
    ids = [by_name.get(o, o) for o in officers]
    problems = [FieldError(f"officers[{i}]", f"不是{county_named(case.county_code)}的核查员")
                for i, o in enumerate(officers) if by_name.get(o, o) not in eligible]
    # not the officers of the checks in doubt (an upheld objection, a check sent back, a review request), nor an
    # account linked to one of theirs by a password (`domain.objection_recheck`)
    whys, linked = recheck_barred(session, case.id, [i for i in ids if i in eligible])
    barred = frozenset(whys)
    # rotation (`domain.rotation`): the household's officers of last time, or of a visit of another of its cases
    # still to be made
    last_time = last_household_officers(session, [case.id]).get(case.id, frozenset())
    holding = open_household_visits(session, [case.id]).get(case.id, frozenset())
    problems += objection_recheck.refusals(ids, whys, linked)
    # A supervisor who is also a field officer does not send themselves by hand: the visit they schedule is the
    # check that pays, and whoever chose its officers should not be one of them (nor does the planner send the
    # supervisor who plans, `plan` below; another supervisor's plan or hand may).
    problems += [FieldError(f"officers[{i}]", SELF_PICKED) for i, o in enumerate(officers)
                 if by_name.get(o, o) == principal.id]
    # nor his second account (a password links it to his)
    own = password_links(session, principal.id, {i for i in ids if i in eligible})
    named = {p.field for p in problems}
    problems += [FieldError(f"officers[{i}]", SELF_LINKED) for i, o in enumerate(officers)
                 if by_name.get(o, o) in own and f"officers[{i}]" not in named]
    # 回避: an officer who is a member of the household, or a declared relative of one, is not sent to it (the message
    # says so and no more: not which member, nor how related).
    recused = recusal.conflicted(session, [i for i in ids if i in eligible], case.household_id)
    problems += [FieldError(f"officers[{i}]", recusal_rules.OFFICER_RECUSED) for i, o in enumerate(officers)
                 if by_name.get(o, o) in recused]
    reason = (reason or "").strip()
    # and the accounts linked to one of theirs by a password (the same person's second account), barred alike and
    # counted as the same persons when the small county counts the others it has
    rotating = {"last": last_time, "open": holding}
    rotated_links = rotation_links(session, rotating, dict.fromkeys(rotating, eligible))
    linked_last = rotated_links.get("last", frozenset())
    linked_open = rotated_links.get("open", frozenset()) - last_time - linked_last
    again = [i for i, o in enumerate(officers)
             if by_name.get(o, o) in (last_time | holding | linked_last | linked_open) - barred - set(linked)]
    spare = rotation_spare(eligible, last_time, holding, barred, linked_last, linked_open)
    words = {**dict.fromkeys(linked_open, rotation.LINKED_OPEN_VISIT),
             **dict.fromkeys(linked_last, rotation.LINKED_LAST_OFFICER), **dict.fromkeys(holding, rotation.OPEN_VISIT),
             **dict.fromkeys(last_time, rotation.LAST_OFFICER)}
    if len(spare) >= len(officers):  # the county has others enough: the household's last officers do not go again
        problems += [FieldError(f"officers[{i}]", words[by_name.get(officers[i], officers[i])]) for i in again]
    elif again and not reason:  # too few others (a small county): they may go again, with the reason on record
        problems.append(FieldError("reason", SAME_OFFICERS_REASON))
    if reason_required and not reason:
        problems.append(FieldError("reason", REASON_REQUIRED))
    if len(reason) > 500:
        problems.append(FieldError("reason", "最多 500 个字符"))
    due = due_date(session, case)
    others = booking_visits(session, [visit_on], exclude_case=case.id)  # a stale visit books nobody
    problems += planning.validate_manual_assignment(
        ids, visit_on, vehicle, referred_on=case.referred_on,
        officer_load=_officer_load(others),
        capacity=visit_calendar(session, case.contract_id).capacity_per_day,
        existing=[planning.ExistingVisit(visit_on=v.visit_on, officer_ids=tuple(v.officer_ids), vehicle_id=v.vehicle or "")
                  for v in others],
    )
    if problems:
        exc = ValidationFailed(problems)
        if recused:  # on record: sending officers by hand one after another shows whose kin a household is
            recusal_refusals.refused(exc, principal, "schedule", [case.household_id], case_id=case.id,
                                     officers=sorted(recused), clock=clock)
        raise exc
    return _assign(session, case, ids, visit_on, vehicle, due, principal, clock, by_hand=True, reason=reason)


def _rotation_stopped(session: Session, visit: Visit) -> str | None:
    """Why the rotation rule stopped the visit (`stale_whys`'s key), or None: read when it ends."""
    why = stale_whys(session, [visit]).get(visit.id)
    return why if why in (ROTATED, ROTATED_BY_HAND) else None


def _assign(session: Session, case: Case, officer_ids: list[str], visit_on: date, vehicle: str, due: date,
            principal: Principal, clock: Clock, *, by_hand: bool, reason: str = "") -> Visit:
    previous = active_visit(session, case.id)
    ended: dict[str, Any] = {}
    if previous is not None:
        previous.active = False
        barred, linked = recheck_barred(session, case.id, previous.officer_ids)
        stood_aside = {o: barred[o] if o in barred else f"linked_{linked[o]}" for o in previous.officer_ids
                       if o in barred or o in linked}
        if stood_aside:  # a stale visit (`stale_visits`) ends: why, in the entry (the officers and their why)
            ended = {"visit_ended": [previous.id], "visit_ended_why": STOOD_ASIDE, "officers_stood_aside": stood_aside}
        elif (why := _rotation_stopped(session, previous)) is not None:
            # one the rotation rule stopped (`stale_whys`: `ROTATED`, `ROTATED_BY_HAND`): its key, nothing more
            ended = {"visit_ended": [previous.id], "visit_ended_why": why}
    visit = Visit(id=new_id("visit"), case_id=case.id, visit_on=visit_on, due_on=due, officer_ids=list(officer_ids),
                  vehicle=vehicle, active=True, planned_by=principal.id, created_at=clock.now(), by_hand=by_hand,
                  reason=reason if by_hand else None)
    session.add(visit)
    advance(session, case, "schedule", actor=principal, role="insurer_supervisor", clock=clock,
            payload={"visit_id": visit.id, "visit_on": visit_on.isoformat(), "officers": list(officer_ids),
                     "vehicle": vehicle, "due_on": due.isoformat(), "by_hand": by_hand,
                     **({"reason_sha256": audit.text_digest(reason)} if by_hand and reason else {}), **ended})
    return visit


# Why a stale visit ended when the case was scheduled anew (`case.schedule`'s `visit_ended_why`).
STOOD_ASIDE = "officers_stood_aside"
REASON_REQUIRED = "必填：请说明不用自动排期、由您选定这两名核查员的原因"
SELF_PICKED = "您不能把自己选为您手动安排的走访的核查员：请选择其他核查员（自动排期仍可安排您）"
SELF_LINKED = ("您不能把与您的账号有密码关联" + PASSWORD_LINK + "的核查员选为您手动安排的走访的核查员：请选择其他核查员")
SAME_OFFICERS_REASON = "必填：本县其他核查员不足，上次核查过该户的核查员可以再次走访，但须说明原因"
HAND_PICKED_DAYS = 90  # the pages count the visits scheduled in these last days


def hand_picked_shares(session: Session, principal: Principal, *, since: date,
                       county_code: str | None = None) -> list[dict[str, Any]]:
    """Per supervisor, the visits they scheduled since `since` (created on or after it, Asia/Shanghai) in the caller's
    counties: how many, how many with officers chosen by hand, of those how many without a reason, and the share
    chosen by hand ("66.7%", of the visits whose way of assignment is known). Visits scheduled before the choice was
    kept (`by_hand` NULL) are counted apart."""
    start = datetime.combine(since, time.min, tzinfo=SCHEME_TZ)
    stmt = (select(Visit.planned_by, Visit.by_hand, Visit.reason, func.count())
            .join(Case, Case.id == Visit.case_id).where(Visit.created_at >= start)
            .group_by(Visit.planned_by, Visit.by_hand, Visit.reason))
    if principal.counties:
        stmt = stmt.where(Case.county_code.in_(principal.counties))
    if county_code:
        stmt = stmt.where(Case.county_code == county_code)
    by: dict[str, dict[str, Any]] = {}
    for who, hand, reason, n in session.execute(stmt):
        row = by.setdefault(who, {"user_id": who, "total": 0, "by_hand": 0, "without_reason": 0, "unknown": 0})
        row["total"] += n
        if hand is None:
            row["unknown"] += n
        elif hand:
            row["by_hand"] += n
            row["without_reason"] += n if not (reason or "").strip() else 0
    for row in by.values():
        known = row["total"] - row["unknown"]
        row["share"] = None if known == 0 else str((Decimal(row["by_hand"] * 100) / known).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP)) + "%"
    return sorted(by.values(), key=lambda r: (-r["by_hand"], r["user_id"]))


def plan(
    session: Session, *, county_code: str, start: date, days: int, vehicles: list[str] | None, apply: bool,
    principal: Principal, clock: Clock,
) -> dict[str, Any]:
    principal.require_county(county_code, "county")
    if not 1 <= days <= 60:
        raise ValidationFailed.one("days", "排期天数应在 1 至 60 天之间")
    contract = contract_store.contract_for(session, county_code, start)
    if contract is None:
        raise ValidationFailed.one("from", f"{start} 没有覆盖{county_named(county_code)}的服务合同")
    calendar = visit_calendar(session, contract.id)
    # the screened cases, and those scheduled on a stale visit whose officers stand aside (`stale_scheduled`):
    # a visit planned for one ends the stale visit (`_assign`)
    waiting = Case.status == "screened"
    stale = set(stale_scheduled(session, principal))
    if stale:
        waiting = or_(waiting, Case.id.in_(sorted(stale)))
    cases = list(session.scalars(
        select(Case).where(Case.county_code == county_code, waiting).order_by(Case.id).with_for_update()))
    # `stale` was read before the lock: a case scheduled anew meanwhile (by hand, another plan) is no longer on a
    # stale visit, and is not planned again
    still = reassign(session, [c.id for c in cases if c.status == "scheduled"])
    cases = [c for c in cases if c.status == "screened" or (c.status == "scheduled" and c.id in still)]
    due = due_dates(session, cases)
    # The planning supervisor is never among the planned officers: one holding both roles could preview the plan
    # again and again and apply it once it sends him where he wants (another supervisor's plan may send him).
    # Nor his second account (a password links it to his).
    pickable = [u.id for u in pickable_officers(session, county_code, principal)]
    # rotation: each officer's accounts linked to his by a password are the same person (within one plan too: not
    # the one to a household's case and the other to another of its cases), one statement
    same = password_links_of(session, set(pickable), set(pickable))
    officers = [planning.Officer(user_id=o, capacity_per_day=calendar.capacity_per_day,
                                 linked=same.get(o, frozenset())) for o in pickable]
    # (and the household's officers of last time, or of its other cases' visits, with their linked accounts)
    barred = barred_officers(session, [c.id for c in cases], pickable)
    # 回避: an officer is not planned onto a household of which he is a member or a declared relative of one (he is
    # left out of that case; other officers, or another day, take it).
    recused = recusal.conflicts_by_case(session, [c.id for c in cases], [o.user_id for o in officers])
    # nor onto a case checked again, the second account of an officer of the checks in doubt (objected to, sent
    # back, under review: `recheck_barred`)
    doubted = first_check_officers(session, [c.id for c in cases])
    linked = linked_to_barred_of(session, doubted, dict.fromkeys(doubted, [o.user_id for o in officers]))
    for case_id in doubted:
        barred[case_id] = objection_recheck.barred(barred.get(case_id, frozenset()), linked.get(case_id, {}))
    plan_cases = [planning.PlanCase(case_id=c.id, town=c.town, village=c.village, referred_on=c.referred_on,
                                    due_on=due[c.id],
                                    excluded_officers=barred.get(c.id, frozenset()) | recused.get(c.id, frozenset()),
                                    household=c.household_id)
                  for c in cases]
    window = [start + timedelta(days=i) for i in range(days)]
    existing = [planning.ExistingVisit(visit_on=v.visit_on, officer_ids=tuple(v.officer_ids), vehicle_id=v.vehicle or "")
                for v in booking_visits(session, window)]  # a stale visit books nobody: it ends when its case is planned
    fleet = [planning.Vehicle(vehicle_id=v) for v in (vehicles or default_vehicles(len(officers)))]
    result = planning.plan_visits(plan_cases, officers, fleet, start=start, days=days, existing=existing,
                                  workdays=calendar.workdays, holidays=calendar.holidays,
                                  extra_workdays=calendar.extra_workdays)
    if apply:
        by_id = {c.id: c for c in cases}
        for a in result.assignments:
            _assign(session, by_id[a.case_id], list(a.officer_ids), a.visit_on, a.vehicle_id, due[a.case_id],
                    principal, clock, by_hand=False)
    overdue = sorted((c for c in plan_cases if c.due_on < start), key=lambda c: (c.due_on, c.case_id))
    return {
        "applied": apply,
        "assignments": [{"case_id": a.case_id, "visit_on": a.visit_on.isoformat(), "officers": list(a.officer_ids),
                         "vehicle": a.vehicle_id, "due_on": due[a.case_id].isoformat(), "days_late": a.days_late}
                        for a in result.assignments],
        "unplaced": [{"case_id": u.case_id, "reason": u.reason} for u in result.unplaced],
        # Cases already past their due date when the window starts, the most overdue first: planned first.
        "overdue": [{"case_id": c.case_id, "due_on": c.due_on.isoformat(),
                     "days_overdue": planning.days_late(start, c.due_on)} for c in overdue],
    }


def vehicles_in_use(session: Session) -> set[str]:
    """Every vehicle a visit has named so far."""
    return {v for (v,) in session.execute(select(Visit.vehicle).where(Visit.vehicle.is_not(None)).distinct())}


@dataclass(frozen=True)
class Waiting:
    """A page of the cases waiting for a visit (`find_waiting`), and of them those whose active visit is stale
    (`reassign`): their rows say others are to be sent."""

    found: Paged[Case]
    reassign: dict[str, str]  # case id → why (`stale_whys`)


def find_waiting(session: Session, principal: Principal, *, q: str = "", page: int = 1,
                 page_size: int = PAGE_SIZE) -> Waiting:
    """One page of the cases waiting for a visit (oldest referral first, within the principal's counties): the
    screened ones, and those scheduled on a stale visit whose officers must stand aside (`stale_scheduled`), searched
    by the head's name, the case number (or its last digits), the town or the village; with the page's cases to
    reassign, each with why (`reassign`: the stale ones, and the screened ones whose visit is still active)."""
    waiting = Case.status == "screened"
    stale = stale_scheduled(session, principal)
    if stale:
        waiting = or_(waiting, Case.id.in_(stale))
    # with each case's household (its head is listed): one statement more, not one per case
    stmt = select(Case).options(selectinload(Case.household)).where(waiting).order_by(Case.referred_on, Case.id)
    if principal.counties:
        stmt = stmt.where(Case.county_code.in_(principal.counties))
    text = fold_search(q)
    if text:
        stmt = stmt.join(Household, Household.id == Case.household_id).where(
            text_search(text, (Household.head_name, Case.number, Case.town, Case.village)))
    found = page_of(session, stmt, page, page_size)
    return Waiting(found, reassign(session, [c.id for c in found.items]))


def cases_by_id(session: Session, case_ids: list[str]) -> dict[str, Case]:
    """The named cases, keyed by id (ids with no case are simply absent)."""
    return {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(case_ids)))}


def statuses_of(session: Session, case_ids: list[str]) -> dict[str, str]:
    """The current status of each named case, keyed by id."""
    return dict(session.execute(select(Case.id, Case.status).where(Case.id.in_(case_ids))).tuples().all())


def default_vehicles(officer_count: int) -> list[str]:
    """Without a vehicle list, assume one survey vehicle per two officers (the source: 28 staff, 9 vehicles)."""
    return [f"车{i + 1:02d}" for i in range(max(1, officer_count // 2))]


def count_by_status(session: Session, principal: Principal, county_code: str | None = None) -> dict[str, int]:
    stmt = select(Case.status, func.count()).group_by(Case.status)
    if principal.counties:
        stmt = stmt.where(Case.county_code.in_(principal.counties))
    if county_code:
        stmt = stmt.where(Case.county_code == county_code)
    return {s: n for s, n in session.execute(stmt)}


def officer_visits(session: Session, user: Principal) -> list[tuple[Visit, Case]]:
    """The user's active visits to cases still waiting for their check, in their counties, that he may record on
    (not a stale one nor one the rotation rule bars now: `stopped_visits`)."""
    stmt = (select(Visit, Case).join(Case, Case.id == Visit.case_id)
            .where(Visit.active.is_(True), Case.status == "scheduled").order_by(Visit.visit_on, Case.village, Case.id))
    if user.counties:
        stmt = stmt.where(Case.county_code.in_(user.counties))
    mine = [(v, c) for v, c in session.execute(stmt).tuples() if user.id in v.officer_ids]
    stopped = stopped_visits(session, user.id, mine)  # no work: the case is checked by others
    return [(v, c) for v, c in mine if v.id not in stopped]


def late_visits(session: Session, principal: Principal, today: date) -> list[tuple[Visit, Case]]:
    """Visits planned and not yet recorded (no check, no visit that came to nothing) whose day has passed or whose
    check is past its due date, in the principal's counties, the longest overdue first: who is late, for the
    supervisor."""
    stmt = (select(Visit, Case).join(Case, Case.id == Visit.case_id)
            .where(Visit.active.is_(True), Case.status == "scheduled",
                   or_(Visit.visit_on < today, Visit.due_on < today))
            .order_by(Visit.due_on, Visit.visit_on, Case.id))
    if principal.counties:
        stmt = stmt.where(Case.county_code.in_(principal.counties))
    return [(v, c) for v, c in session.execute(stmt).tuples()]


@dataclass(frozen=True)
class OfficerHome:
    """What waits for a field officer (the home page's cards), grouped as the visits page groups them: overdue (the
    visit day has passed or the check is past its due date), then the others by their day, today or later."""

    today: int
    overdue: int
    later: int


def officer_home(session: Session, user: Principal, today: date) -> OfficerHome:
    visits = [v for v, _ in officer_visits(session, user)]
    late = [v for v in visits if v.visit_on < today or v.due_on < today]
    rest = [v.visit_on for v in visits if not (v.visit_on < today or v.due_on < today)]
    return OfficerHome(today=sum(d == today for d in rest), overdue=len(late), later=sum(d > today for d in rest))
