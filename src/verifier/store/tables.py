"""The core tables: contracts, users, households and members, referrals, cases, visits, checks, determinations.

Money columns hold integer fen. Personal data (ID numbers, phones, bank accounts) is held sealed by the
Vault (`*_enc`), with a keyed blind index (`*_bidx`) where something must be found by it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UtcDateTime

# Cases in these states are finished; a household may then have a new case for the same cause and year.
CLOSED_STATUSES = ("screened_out", "ineligible", "no_relief", "review_failed", "paid", "withdrawn", "merged")
OPEN_CASE_PREDICATE = ("status NOT IN ('screened_out', 'ineligible', 'no_relief', 'review_failed', 'paid', 'withdrawn',"
                       " 'merged')")
_OPEN_CASE = text(OPEN_CASE_PREDICATE)


class ContractRow(Base):
    __tablename__ = "contract"
    __table_args__ = (CheckConstraint("status IN ('pending', 'accepted', 'refused')", name="status_known"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    county_codes: Mapped[list[str]] = mapped_column(JSON)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    budget: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # pending (待县审核确认: prices nothing) until a county reviewer of each county it covers accepts it; refused
    # (never in force) when one refuses. See contract_review/service.py.
    status: Mapped[str] = mapped_column(String(16), server_default="pending")


class ContractDecision(Base):
    """One county's answer to a contract: accepted or refused by a county reviewer of that county, once; or
    `before_control` for a contract loaded before acceptance existed (migration 0039), which no one reviewed."""

    __tablename__ = "contract_decision"
    __table_args__ = (
        UniqueConstraint("contract_id", "county_code", name="uq_contract_decision_county"),
        CheckConstraint("decision IN ('accepted', 'refused', 'before_control')", name="decision_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contract.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(12))
    decision: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(40), nullable=True)  # a user id; NULL for before_control
    role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(300))
    roles: Mapped[list[str]] = mapped_column(JSON)
    counties: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every county
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Set when an administrator gave the password: until its owner chooses one, the account may only change it.
    password_change_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Who last set this password other than its owner (kept when the owner then chooses their own): that person knew
    # a password of this account, so the account never confirms a role grant they proposed (accounts/grants.py).
    password_set_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Household(Base):
    __tablename__ = "household"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    town: Mapped[str] = mapped_column(String(100))
    village: Mapped[str] = mapped_column(String(100))
    household_group: Mapped[str] = mapped_column(String(32))
    head_name: Mapped[str] = mapped_column(String(100))
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    members: Mapped[list["Member"]] = relationship(back_populates="household", order_by="Member.id")


class Member(Base):
    __tablename__ = "member"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("household.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    id_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    # A person belongs to one household: the blind index finds it from any member's ID number.
    id_number_bidx: Mapped[str] = mapped_column(String(64), unique=True)
    # A keyed index of the last four characters, to find a person by them (cases/numbers.py fills it; NULL for
    # members stored before 0016 until the first start after the upgrade).
    id_tail_bidx: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    relation: Mapped[str] = mapped_column(String(16), default="other")
    labour: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The home check that added the member or last changed their name (NULL: as the referral or application brought
    # them; 0063 filled it for the members stored before). Such a name is on record for payment (a payee at the door,
    # a payee change without the county reviewer) only once a confirmed check of another case vouches for it: that
    # check, or one by other officers listing them under that name (checks/on_record.py).
    added_by_check_id: Mapped[str | None] = mapped_column(String(40), nullable=True)

    household: Mapped[Household] = relationship(back_populates="members")


class ReferralImport(Base):
    __tablename__ = "referral_import"
    __table_args__ = (UniqueConstraint("county_code", "channel", "file_sha256"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6))
    channel: Mapped[str] = mapped_column(String(32))
    file_sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    rows: Mapped[int] = mapped_column(Integer)
    new_cases: Mapped[int] = mapped_column(Integer)
    merged: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(40))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Case(Base):
    __tablename__ = "relief_case"
    __table_args__ = (
        # One open case per household, cause and contract year: the database refuses a second.
        Index(
            "uq_relief_case_open",
            "household_id",
            "cause",
            "contract_year",
            unique=True,
            postgresql_where=_OPEN_CASE,
            sqlite_where=_OPEN_CASE,
        ),
        # A county's cases by status (counts, the work lists) in the order of their numbers: the case list's first
        # page of a status is read in order, not sorted from every case of that status.
        Index("ix_relief_case_county_status_number", "county_code", "status", "number"),
        # The API's list of a county's status, in id order (its cursor), read in order rather than by walking every
        # case's id and filtering.
        Index("ix_relief_case_county_status_id", "county_code", "status", "id"),
        # The case list of a county in the order of its numbers (its first page, unfiltered, is read in order).
        Index("ix_relief_case_county_number", "county_code", "number"),
        # The case list filtered by town and village; the monthly report's new cases of a county's year.
        Index("ix_relief_case_place", "county_code", "town", "village"),
        Index("ix_relief_case_county_referred", "county_code", "referred_on"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The readable number, e.g. 340223-2026-000123: county, year received, a sequence per county and year
    # (cases/numbers.py), given once when the case is created.
    number: Mapped[str] = mapped_column(String(24), unique=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("household.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6))
    town: Mapped[str] = mapped_column(String(100))
    village: Mapped[str] = mapped_column(String(100))
    household_group: Mapped[str] = mapped_column(String(32))
    cause: Mapped[str] = mapped_column(String(16))
    contract_id: Mapped[str] = mapped_column(ForeignKey("contract.id"))
    contract_hash: Mapped[str] = mapped_column(String(64))
    contract_year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    referred_on: Mapped[date] = mapped_column(Date)
    reported_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    screening_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # A screen-out of a case a bureau referred, proposed by one clerk and waiting for another clerk of the county or
    # the county reviewer (cases/service.py `screen`); the reason is `screening_reason`. NULL when none is pending.
    screen_out_proposed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    screen_out_proposed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # A failed village review (未通过) recorded by one clerk and waiting for another clerk of the county or the county
    # reviewer (notices/service.py `record_review`); the reason is the latest review's note. NULL when none is pending.
    review_fail_proposed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    review_fail_proposed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Status merged: the case it was merged into when two households were found to be one (households/service/changes.py).
    merged_into_id: Mapped[str | None] = mapped_column(String(40), nullable=True)

    household: Mapped[Household] = relationship()


class CaseNumberCounter(Base):
    """The last sequence number given to a case of a county and year; the row is updated in the transaction that
    creates the cases, so two writers never take the same number."""

    __tablename__ = "case_number_counter"

    county_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer)


class Referral(Base):
    """One referral row as received. Written in bulk by imports and read by case: only `case_id` is indexed
    (every further index is paid for on each of an import's rows; add one with the query that needs it)."""

    __tablename__ = "referral"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    import_id: Mapped[str | None] = mapped_column(ForeignKey("referral_import.id"), nullable=True)
    row_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    id_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_bidx: Mapped[str] = mapped_column(String(64))
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    town: Mapped[str] = mapped_column(String(100))
    village: Mapped[str] = mapped_column(String(100))
    household_group: Mapped[str] = mapped_column(String(32))
    cause: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    referred_on: Mapped[date] = mapped_column(Date)
    household_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    entered_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        Index("ix_referral_referred_on", "referred_on"),  # the monthly report counts a year's referrals
    )


class Visit(Base):
    """A scheduled home visit: two officers and a vehicle on a day. Rescheduling keeps the old rows, inactive."""

    __tablename__ = "visit"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    visit_on: Mapped[date] = mapped_column(Date, index=True)
    due_on: Mapped[date] = mapped_column(Date)
    officer_ids: Mapped[list[str]] = mapped_column(JSON)
    vehicle: Mapped[str | None] = mapped_column(String(40), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    planned_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Who chose the officers (migration 0041): False for the planner's assignment, True for a supervisor's own choice,
    # with its reason ("" when an older client gave none); NULL for visits scheduled before this was kept.
    by_hand: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class VisitAttempt(Base):
    """A visit that produced no check (nobody home, refused, moved away): it counts as a visit, and the case goes
    back to be scheduled again."""

    __tablename__ = "visit_attempt"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    visit_id: Mapped[str | None] = mapped_column(ForeignKey("visit.id"), nullable=True)
    visited_on: Mapped[date] = mapped_column(Date, index=True)
    officer_ids: Mapped[list[str]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(16))  # not_home | refused | moved_away | other
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # why it was recorded only now (补录原因, `domain.late_entry`), when the officers gave one; kept after the note
    # before migration 0068
    late_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the photos taken at the door that day (SHA-256 of the case's evidence, `checks.attempts.door_problems`), NULL
    # for attempts recorded before migration 0069 asked for them
    evidence: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)


class ReviewRequest(Base):
    """A household's request for a review (复核申请) of an ineligible decision: the case is checked again by officers
    who did not make the earlier check."""

    __tablename__ = "review_request"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    determination_id: Mapped[str] = mapped_column(ForeignKey("determination.id"), unique=True)
    received_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Check(Base):
    """A home income check. A second check of a case (after an upheld objection) stands beside the first."""

    __tablename__ = "home_check"
    __table_args__ = (
        UniqueConstraint("case_id", "seq"),
        CheckConstraint(
            "wages >= 0 AND business_net >= 0 AND property_net >= 0 AND transfer_net >= 0 AND productive_costs >= 0"
            " AND medical_self_paid >= 0 AND schooling >= 0 AND disaster_loss >= 0",
            name="amounts_not_negative",
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Read by case through the unique index of (case_id, seq): its own index went in 0045 (one index less to write)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"))
    seq: Mapped[int] = mapped_column(Integer)
    # The monthly report and a sampling round's population read the checks of a period.
    visited_on: Mapped[date] = mapped_column(Date, index=True)
    # The insurer's deadline for this check and how many days it missed it by (0: on time); NULL before 0008.
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    days_late: Mapped[int | None] = mapped_column(Integer, nullable=True)
    officer_ids: Mapped[list[str]] = mapped_column(JSON)
    members: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # name, id_number_bidx, relation, labour (no clear ID)
    member_count: Mapped[int] = mapped_column(Integer)
    wages: Mapped[int] = mapped_column(BigInteger)
    business_net: Mapped[int] = mapped_column(BigInteger)
    property_net: Mapped[int] = mapped_column(BigInteger)
    transfer_net: Mapped[int] = mapped_column(BigInteger)
    productive_costs: Mapped[int] = mapped_column(BigInteger)
    medical_self_paid: Mapped[int] = mapped_column(BigInteger)
    schooling: Mapped[int] = mapped_column(BigInteger)
    disaster_loss: Mapped[int] = mapped_column(BigInteger)
    # The generic basis of a cause a contract adds (因残 …); 0 on checks stored before migration 0021.
    other_rigid: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    stable_income: Mapped[bool] = mapped_column(Boolean)
    payee_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    payee_bank: Mapped[str | None] = mapped_column(String(100), nullable=True)
    payee_account_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # The Vault's keyed blind index of the account number (digits only): one account found across households.
    payee_account_index: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    cross_checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    evidence: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Sent back by the supervisor for another visit (the check stays, marked); NULL for a check that stands.
    sent_back_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    sent_back_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    sent_back_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # How many calendar days (Asia/Shanghai) after its visit day the check was recorded, and the officers' reason for
    # a late entry (required beyond `domain.late_entry.LATE_ENTRY_DAYS`); NULL days before migration 0036.
    recorded_days_after: Mapped[int | None] = mapped_column(Integer, nullable=True)
    late_entry_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class Determination(Base):
    __tablename__ = "determination"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    check_id: Mapped[str] = mapped_column(ForeignKey("home_check.id"), unique=True)
    eligible: Mapped[bool] = mapped_column(Boolean)
    rule: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    per_capita_income: Mapped[int] = mapped_column(BigInteger)
    basis: Mapped[int] = mapped_column(BigInteger)  # the year's cumulative verified cost the relief was priced on
    already_paid: Mapped[int] = mapped_column(BigInteger)
    relief: Mapped[int] = mapped_column(BigInteger)
    breakdown: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    capped: Mapped[bool] = mapped_column(Boolean)
    # Other agencies' registers consulted at determination (import, kind, bureau, dates) and how many comparisons
    # (members x registers) that made; NULL for determinations before registers were matched.
    registers_consulted: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    register_comparisons: Mapped[int | None] = mapped_column(Integer, nullable=True)
    contract_hash: Mapped[str] = mapped_column(String(64))
    confirmed_by: Mapped[str] = mapped_column(String(40))
    confirmed_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)  # the monthly report's period


class Evidence(Base):
    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("case_id", "sha256"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # the same file held by another case (checks/bills.py)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    uploaded_by: Mapped[str] = mapped_column(String(40))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # A photo's capture time as its camera wrote it (ISO 8601, with the offset when there was one), "" when the photo
    # carries none; NULL for PDF scans and files uploaded before migration 0037 (`checks/photo_exif.py`).
    captured_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
