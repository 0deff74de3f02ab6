"""Hand-picked visits the county reviewer should look at (人工指派待关注).

A supervisor may choose a visit's officers by hand (`cases.service.schedule`), with any reason or, over the API, none:
the rotation rule stops the household's last officers, not a colluding officer met for the first time. So the
county's dashboard lists each hand-picked visit of the last days that one of these makes worth a look, with every
reason that applies:

* `no_reason` — scheduled without a reason (an older client's body, still taken);
* `sent_back` — a check of the household (any of its cases) was sent back by a supervisor before;
* `deviation` — a county re-check of the household found a deviation before (`sampling_deviation`);
* `review` — the household asked for a review of an ineligible decision before;
* `same_officers` — an officer of the household's last check goes again, or an account linked to one of theirs by a
  password (allowed only in a county with too few others, with a reason);
* `picked_before` — the same supervisor had already hand-picked one of these officers for this household;
* `high_share` — the supervisor chose by hand more than `SHARE_LIMIT` of the visits they scheduled in the window
  (at least `SHARE_MIN_VISITS` of them known).

The reasons are read from what the database holds; nothing ties officers to households (kin, neighbours), so such a
conflict of interest is not looked for.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..clock import SCHEME_TZ
from ..sampling.models import SamplingDeviation
from ..store.tables import Case, Check, ReviewRequest, Visit
from .service import hand_picked_shares, rotation_links

SHARE_LIMIT = Decimal("50")  # percent of a supervisor's visits chosen by hand
SHARE_MIN_VISITS = 4  # a share over fewer visits says little
LIMIT = 100  # rows shown, newest first

# The reasons' codes, in the order they are shown; their Chinese is `web.stagelabels.HAND_PICKED_REASONS`.
FLAGS = ("no_reason", "sent_back", "deviation", "review", "same_officers", "picked_before", "high_share")


def _share_number(share: str | None) -> Decimal | None:
    return None if share is None else Decimal(share.rstrip("%"))


def to_review(session: Session, principal: Principal, *, since: date,
              county_code: str | None = None) -> list[dict[str, Any]]:
    """The hand-picked visits created since `since` (Asia/Shanghai) in the caller's counties (or `county_code`) that
    have at least one reason to be looked at, newest first: `visit_id`, `case_id`, `case_number`, `household_id`,
    `planned_by`, `officers`, `visit_on`, `created_at`, `reason` (the supervisor's), `flags` (codes, in the order of
    `FLAGS`; the page words them: `web.stagelabels.hand_picked_reasons`), `share` (the supervisor's share of
    hand-picked visits, "62.5%") and `share_limit`."""
    start = datetime.combine(since, time.min, tzinfo=SCHEME_TZ)
    stmt = (select(Visit, Case.number, Case.household_id, Case.county_code).join(Case, Case.id == Visit.case_id)
            .where(Visit.by_hand.is_(True), Visit.created_at >= start)
            .order_by(Visit.created_at.desc(), Visit.id.desc()))
    if principal.counties:
        stmt = stmt.where(Case.county_code.in_(principal.counties))
    if county_code:
        stmt = stmt.where(Case.county_code == county_code)
    rows = session.execute(stmt).all()
    if not rows:
        return []
    households = {r.household_id for r in rows}
    case_household = dict(session.execute(select(Case.id, Case.household_id)
                                          .where(Case.household_id.in_(households))).tuples().all())
    cases = list(case_household)
    # Each kind read once and grouped by household, so a visit looks only at its own household's rows.
    checks: dict[str, list[Any]] = defaultdict(list)
    for c in session.execute(select(Check.case_id, Check.officer_ids, Check.recorded_at, Check.sent_back_at)
                             .where(Check.case_id.in_(cases))):
        checks[case_household[c.case_id]].append(c)
    first_deviation: dict[str, datetime] = {}
    for case_id, at in session.execute(select(SamplingDeviation.case_id, SamplingDeviation.created_at)
                                       .where(SamplingDeviation.case_id.in_(cases))).tuples():
        household = case_household[case_id]
        first_deviation[household] = min(at, first_deviation.get(household, at))
    first_review: dict[str, datetime] = {}
    for case_id, at in session.execute(select(ReviewRequest.case_id, ReviewRequest.recorded_at)
                                       .where(ReviewRequest.case_id.in_(cases))).tuples():
        household = case_household[case_id]
        first_review[household] = min(at, first_review.get(household, at))
    picks: dict[str, list[Any]] = defaultdict(list)
    for p in session.execute(select(Visit.id, Visit.case_id, Visit.planned_by, Visit.officer_ids, Visit.created_at)
                             .where(Visit.case_id.in_(cases), Visit.by_hand.is_(True))):
        picks[case_household[p.case_id]].append(p)
    shares = {s["user_id"]: s for s in hand_picked_shares(session, principal, since=since, county_code=county_code)}
    # the officers of each visit's household's latest check on another case before it, and of the visit's officers
    # the accounts linked to theirs by a password (the same persons: rotation's; one statement for them all)
    last_of: dict[str, frozenset[str]] = {}
    for visit, _number, household, _county in rows:
        others = [c for c in checks.get(household, ()) if c.recorded_at <= visit.created_at
                  and c.case_id != visit.case_id]
        if others:
            last_of[visit.id] = frozenset(max(others, key=lambda c: c.recorded_at).officer_ids)
    linked = rotation_links(session, last_of, {visit.id: visit.officer_ids for visit, *_ in rows})
    out = []
    for visit, number, household, _county in rows:
        at = visit.created_at
        mine = set(visit.officer_ids)
        flags: list[str] = []
        if not (visit.reason or "").strip():
            flags.append("no_reason")
        household_checks = [c for c in checks.get(household, ()) if c.recorded_at <= at]
        if any(c.sent_back_at is not None and c.sent_back_at <= at for c in household_checks):
            flags.append("sent_back")
        if household in first_deviation and first_deviation[household] <= at:
            flags.append("deviation")
        if household in first_review and first_review[household] <= at:
            flags.append("review")
        if mine & last_of.get(visit.id, frozenset()) or visit.id in linked:
            flags.append("same_officers")
        if any(p.id != visit.id and p.planned_by == visit.planned_by and p.created_at <= at
               and mine & set(p.officer_ids) for p in picks.get(household, ())):
            flags.append("picked_before")
        share = shares.get(visit.planned_by)
        pct = _share_number(share["share"]) if share else None
        if share and pct is not None and pct > SHARE_LIMIT and share["total"] - share["unknown"] >= SHARE_MIN_VISITS:
            flags.append("high_share")
        if not flags:
            continue
        out.append({"visit_id": visit.id, "case_id": visit.case_id, "case_number": number, "household_id": household,
                    "planned_by": visit.planned_by, "officers": list(visit.officer_ids), "visit_on": visit.visit_on,
                    "created_at": at, "reason": visit.reason or "", "active": visit.active, "flags": flags,
                    "share": share["share"] if share else None, "share_limit": SHARE_LIMIT})
        if len(out) >= LIMIT:
            break
    return out
