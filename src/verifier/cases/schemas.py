"""Request and response shapes for cases, screening and scheduling."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

Text = Annotated[str, msgspec.Meta(max_length=2000)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class ScreeningIn(msgspec.Struct, forbid_unknown_fields=True):
    decision: Literal["pass", "reject"]
    reason: Text = ""


class ScheduleIn(msgspec.Struct, forbid_unknown_fields=True):
    officers: Annotated[list[Short], msgspec.Meta(min_length=2, max_length=2)]
    visit_on: date
    vehicle: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    # Why the supervisor chooses these officers rather than the planner (kept in the visit and its audit entry, shown
    # on the schedule page and the route sheet). Optional for older clients: a visit without one is shown as such.
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class PlanIn(msgspec.Struct, forbid_unknown_fields=True):
    county_code: Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]
    from_: date = msgspec.field(name="from")
    days: Annotated[int, msgspec.Meta(ge=1, le=60)] = 10
    apply: bool = False
    vehicles: list[Annotated[str, msgspec.Meta(min_length=1, max_length=40)]] | None = None


class ReferralOut(msgspec.Struct):
    id: str
    channel: str
    name: str
    id_number: str
    town: str
    village: str
    cause: str
    amount: str
    referred_on: date
    import_id: str | None
    row_number: int | None


class VisitOut(msgspec.Struct):
    id: str
    visit_on: date
    due_on: date
    officers: list[str]
    vehicle: str | None
    active: bool
    days_late: int = 0  # a visit booked after the case's due date: by how many days
    by_hand: bool | None = None  # officers chosen by a supervisor (True) or the planner (False); None: not kept then
    reason: str | None = None  # a supervisor's reason for choosing them
    # why a visit no longer current ended, derived from the case's record (cases/present.py `visit_endings`):
    # rescheduled | failed | sent_back | objection_upheld | officers_stood_aside | rotation | rotation_by_hand |
    # merged | ended (none of these found); None while current
    ended: str | None = None


class MemberOut(msgspec.Struct):
    name: str
    id_number: str
    relation: str
    labour: str | None


class ApplicationEditIn(msgspec.Struct, forbid_unknown_fields=True):
    """A corrected application (until the case is screened): the fields as the application takes them; the ID number
    is not among them. An absent phone keeps the phone."""

    name: Annotated[str, msgspec.Meta(max_length=100)]
    town: Annotated[str, msgspec.Meta(max_length=100)]
    village: Annotated[str, msgspec.Meta(max_length=100)]
    household_group: Annotated[str, msgspec.Meta(max_length=40)]
    cause: Annotated[str, msgspec.Meta(max_length=20)]
    amount: Annotated[str, msgspec.Meta(max_length=20)]
    referred_on: date | None = None
    household_size: Annotated[int, msgspec.Meta(ge=1, le=50)] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class PhotoFindingOut(msgspec.Struct):
    """What a photo's capture time (EXIF) says against the check's visit day (`domain.photo_times`): `kind` is
    other_day, after_recording or no_capture_time; `text` says it in Chinese. A warning to check, not a refusal."""

    kind: str
    text: str
    sha256: str | None = None
    taken_at: datetime | None = None  # in Asia/Shanghai
    taken_on: date | None = None
    days_apart: int | None = None  # the day it was taken minus the visit day
    photos: int = 0  # no_capture_time: how many photos carry none
    number: int = 0  # the photo's place among the check's photos (1 for the first, as the case page numbers them)


class CheckOut(msgspec.Struct):
    id: str
    seq: int
    visited_on: date
    due_on: date | None
    days_late: int | None  # 0: on time; None for checks recorded before lateness was kept
    officers: list[str]
    members: list[MemberOut]
    income: dict[str, str]
    rigid_expenditure: dict[str, str]
    stable_income: bool
    payee: dict[str, str] | None
    cross_checks: list[dict[str, str]]
    evidence: list[str]
    note: str | None
    recorded_by: str
    recorded_at: datetime
    sent_back_by: str | None = None  # the supervisor sent it back for another visit: by whom, when, why
    sent_back_at: datetime | None = None
    sent_back_reason: str | None = None
    # How many calendar days after `visited_on` it was recorded, and the officers' reason for a late entry (required
    # beyond 3 days: domain/late_entry.py); `late_entry` says whether the gap is beyond that.
    recorded_days_after: int | None = None
    late_entry: bool = False
    late_entry_reason: str | None = None
    # The photos' capture times against the visit day and the recording time (domain/photo_times.py).
    photo_findings: list[PhotoFindingOut] = []


class BandOut(msgspec.Struct):
    from_: str = msgspec.field(name="from")
    to: str | None = None
    rate: str = "0"
    base: str = "0.00"
    amount: str = "0.00"


class ReliefOut(msgspec.Struct):
    amount: str
    breakdown: list[BandOut]
    capped: bool
    cap: str | None = None
    basis: str | None = None
    already_paid: str = "0.00"


class DeterminationOut(msgspec.Struct):
    eligible: bool
    rule: str
    per_capita_income: str
    relief: ReliefOut
    reason: str
    contract_hash: str
    confirmed: bool
    check_id: str
    # Other agencies' registers consulted at determination ({import_id, kind, bureau, as_of, valid_until, sha256})
    # and the comparisons made (members × registers); None before registers were matched.
    registers_consulted: list[dict[str, Any]] | None = None
    register_comparisons: int | None = None
    # The bills the check counted ({kind, issuer, number, amount, counted_in}): `counted_in` names a case that
    # already counts the bill (then the determination is refused), "another county" beyond the caller's county.
    bills: list[dict[str, Any]] = []
    # Evidence files of the check another determined or paid case also holds ({sha256, case_number, case_status,
    # same_household}): the same photo of the same papers, for the confirming supervisor to see.
    evidence_elsewhere: list[dict[str, Any]] = []
    # Rigid expenditure claimed beyond its bills ({field, claimed, billed, missing}): the figures above count only the
    # billed part; `rests_on_unbilled` when the amounts as claimed would give another result (confirming is refused).
    unbilled: list[dict[str, Any]] = []
    rests_on_unbilled: bool = False


class HistoryOut(msgspec.Struct):
    index: int
    time: datetime
    actor: str
    role: str
    action: str
    payload: dict[str, Any]


class CaseOut(msgspec.Struct):
    id: str
    number: str  # the readable case number, e.g. 340223-2026-000123
    status: str
    status_label: str
    county_code: str
    town: str
    village: str
    household_group: str
    cause: str
    head_name: str
    contract_id: str
    contract_hash: str
    contract_year: int
    referred_on: date
    reported_amount: str
    screening_reason: str | None
    closed_reason: str | None
    updated_at: datetime
    household_id: str = ""  # for /api/households/{id}: the household's members, history, merge and move
    merged_into: str | None = None  # status merged: the case it was joined into when two households were merged
    # A screen-out proposed by one clerk, waiting for a second person: {"proposed_by", "proposed_at", "reason"}.
    screen_out_proposal: dict[str, Any] | None = None
    # A failed village review recorded by one clerk, waiting for a second person: {"proposed_by", "proposed_at"}
    # (its reason is the latest village review's note).
    review_fail_proposal: dict[str, Any] | None = None


class VisitAttemptOut(msgspec.Struct):
    id: str
    visited_on: date
    officers: list[str]
    outcome: str  # not_home | refused | moved_away | other
    note: str | None
    recorded_by: str
    recorded_at: datetime
    late_entry_reason: str | None = None  # why it was recorded only now (补录原因), if the officers said
    # the photos taken at the door that day (SHA-256 of the case's evidence); None for attempts recorded before they
    # were asked for (migration 0069)
    evidence: list[str] | None = None


class CaseDetail(CaseOut):
    referrals: list[ReferralOut] = []
    visits: list[VisitOut] = []
    visit_attempts: list[VisitAttemptOut] = []
    checks: list[CheckOut] = []
    determination: DeterminationOut | None = None
    village_review: dict[str, Any] | None = None
    notice: dict[str, Any] | None = None
    payments: list[dict[str, Any]] = []
    history: list[HistoryOut] = []


class CasePage(msgspec.Struct):
    items: list[CaseOut]
    next_cursor: str | None
    total: int | None = None  # with q, sort or page: how many cases match, and how many pages of `limit` they fill
    page: int | None = None
    pages: int | None = None
