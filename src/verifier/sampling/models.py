"""Tables of the sampling stage: rounds, the parties' commitments and reveals, the frozen populations, stages,
drawn items and results.

A round is created open; the county and the insurer each commit to a secret (`sampling_party`, one row per
party: the primary key refuses a second commitment); then the population is frozen (one `sampling_member` row
per case, with its stratum and, for monetary rounds, its weight in fen) and never changes afterwards; its
digest, the checkpoint that covers the freezing audit entry, the revealed secrets, the public value and the seed
are kept, so anyone can re-derive the sample (`verifier sampling replay ROUND`).
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
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, UtcDateTime


_OPEN = text("status = 'open'")


class SamplingRound(Base):
    """A spot-check round (抽样复核) of one county's completed checks in a period."""

    __tablename__ = "sampling_round"
    __table_args__ = (
        CheckConstraint("kind IN ('attribute', 'monetary')", name="kind_known"),
        CheckConstraint("status IN ('open', 'frozen', 'drawn')", name="status_known"),
        CheckConstraint("checked_to >= checked_from", name="period_in_order"),
        Index("ix_sampling_round_county_created", "county_code", "created_at"),
        # One open round per county, kind and period: the same start sent twice at once opens one round.
        Index("uq_sampling_round_open", "county_code", "kind", "checked_from", "checked_to", unique=True,
              postgresql_where=_OPEN, sqlite_where=_OPEN),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6))
    kind: Mapped[str] = mapped_column(String(16))
    stratified: Mapped[bool] = mapped_column(Boolean)
    checked_from: Mapped[date] = mapped_column(Date)
    checked_to: Mapped[date] = mapped_column(Date)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contract.id"))
    contract_hash: Mapped[str] = mapped_column(String(64))
    # Rates as the decimal strings they were given in (exact; never floats).
    confidence: Mapped[str] = mapped_column(String(20))
    tolerable_rate: Mapped[str] = mapped_column(String(20))
    expected_rate: Mapped[str] = mapped_column(String(20))
    min_rate: Mapped[str] = mapped_column(String(20))
    income_tolerance: Mapped[str] = mapped_column(String(20))
    # Of the latest stage's size (the verdict uses the same); the population's: all set at the freeze.
    method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    population_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    population_total: Mapped[int] = mapped_column(BigInteger, default=0)  # fen; monetary rounds only
    population_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # hex
    freeze_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # audit entry freezing it
    checkpoint_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    checkpoint_root: Mapped[str | None] = mapped_column(String(64), nullable=True)  # hex
    checkpoint_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The withdrawn single-party draw's randomness (hex), kept for rounds drawn with it; NULL for commit-reveal.
    randomness: Mapped[str | None] = mapped_column(Text, nullable=True)
    seed: Mapped[str | None] = mapped_column(String(64), nullable=True)  # hex
    status: Mapped[str] = mapped_column(String(16), default="open")
    reveal_within_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")  # from the contract
    # A value to be published after the freeze (e.g. a lottery draw of a stated date), named when the round opens.
    public_value_description: Mapped[str | None] = mapped_column(Text, nullable=True)
    public_value_available_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    public_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    public_value_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    public_value_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    reveal_by: Mapped[date | None] = mapped_column(Date, nullable=True)  # last day to reveal; set when reveals open
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    frozen_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    frozen_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    drawn_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    drawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SamplingParty(Base):
    """One party's commitment to its secret, and later its reveal or its being passed over.

    The primary key allows one commitment per party and round; a row is never rewritten except to add the
    reveal (which must hash to `commitment`) or the pass-over.

    A reveal is kept sealed by the Vault (`sealed_secret`, column "sampling_party.secret") until the draw: whoever
    can read the database but not the key (the other party's database administrator, a copied dump) learns nothing
    of the sample before the last input is in. The draw opens it into `secret` (hex; logged with the draw, so no
    longer secret) and clears the sealed copy. `revealed_at` says whether a party has revealed.
    """

    __tablename__ = "sampling_party"
    __table_args__ = (
        CheckConstraint("party IN ('county', 'insurer')", name="party_known"),
        CheckConstraint("secret IS NULL OR passed_over_at IS NULL", name="revealed_or_passed_over"),
    )

    round_id: Mapped[str] = mapped_column(ForeignKey("sampling_round.id"), primary_key=True)
    party: Mapped[str] = mapped_column(String(16), primary_key=True)
    commitment: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of the secret's bytes
    committed_by: Mapped[str] = mapped_column(String(40))
    committed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    commit_index: Mapped[int] = mapped_column(BigInteger)  # the audit entry recording it
    secret: Mapped[str | None] = mapped_column(Text, nullable=True)  # hex, lower case, from the draw on
    sealed_secret: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # between the reveal and the draw
    revealed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    revealed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    passed_over_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    passed_over_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SamplingMember(Base):
    """One case of a round's frozen population."""

    __tablename__ = "sampling_member"
    __table_args__ = (CheckConstraint("weight >= 0", name="weight_not_negative"),)

    round_id: Mapped[str] = mapped_column(ForeignKey("sampling_round.id"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), primary_key=True, index=True)
    stratum: Mapped[str] = mapped_column(String(100))  # the town; "" when the round is not stratified
    weight: Mapped[int] = mapped_column(BigInteger, default=0)  # relief in fen (monetary rounds), else 0


class SamplingStage(Base):
    """A stage of a round: the first is planned at freezing, each expansion adds one.

    `size` is the cumulative planned size (monetary rounds: the number of selection points of the stage's
    monetary-unit selection); `allocation` the cumulative count per stratum (stratified rounds);
    `expected_deviations` the k the size was computed for.
    """

    __tablename__ = "sampling_stage"
    __table_args__ = (CheckConstraint("stage >= 1", name="stage_positive"),)

    round_id: Mapped[str] = mapped_column(ForeignKey("sampling_round.id"), primary_key=True)
    stage: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))
    expected_deviations: Mapped[int] = mapped_column(Integer)
    limited_by: Mapped[str] = mapped_column(String(16))
    allocation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SamplingItem(Base):
    """A drawn case. `position` is its place in its stratum's draw order (monetary: in the stage's selection);
    `units` the selection points on it in the latest monetary-unit selection (1 for attribute rounds)."""

    __tablename__ = "sampling_item"
    __table_args__ = (
        ForeignKeyConstraint(["round_id", "case_id"], ["sampling_member.round_id", "sampling_member.case_id"]),
        CheckConstraint("units >= 0", name="units_not_negative"),
    )

    round_id: Mapped[str] = mapped_column(ForeignKey("sampling_round.id"), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    stage: Mapped[int] = mapped_column(Integer)
    stratum: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(BigInteger, default=1)


class SamplingResult(Base):
    """The county's re-check of a drawn case, with the insurer's figures it was compared with.

    The primary key is the guarantee of one result per drawn case.
    """

    __tablename__ = "sampling_result"
    __table_args__ = (
        ForeignKeyConstraint(["round_id", "case_id"], ["sampling_item.round_id", "sampling_item.case_id"]),
        CheckConstraint("baseline IN ('determination', 'check')", name="baseline_known"),
    )

    round_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    per_capita_income: Mapped[int] = mapped_column(BigInteger)  # fen, may be negative
    eligible: Mapped[bool] = mapped_column(Boolean)
    relief_amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    baseline: Mapped[str] = mapped_column(String(16))  # what the insurer's side was: its determination, or its check
    check_id: Mapped[str] = mapped_column(ForeignKey("home_check.id"))
    insurer_eligible: Mapped[bool] = mapped_column(Boolean)
    insurer_per_capita_income: Mapped[int] = mapped_column(BigInteger)
    insurer_relief: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    deviation: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    recorded_by: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The latest correction (while the round's verdict is pending); each earlier result stays in the audit log.
    corrected_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    corrected_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    correction_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The county's visit behind the result (migration 0041; NULL for results recorded before): the day of the visit,
    # the household member met (who signed the re-check record), the signed record's file and the visit's photos,
    # each a `recheck_evidence` file of this round and case.
    visited_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    met_member_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    signed_form: Mapped[str | None] = mapped_column(String(64), nullable=True)
    evidence: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)


class RecheckEvidence(Base):
    """A file the county reviewer uploaded for the re-check of a sampled case (a photo taken at the visit, the
    re-check record signed by the household member met): sealed at rest like a check's evidence
    (`checks/evidence_files.py`), with the capture time its camera wrote (`checks/photo_exif.py`).

    A file is the evidence of one re-check only (unique `sha256`): one desk photo does not serve every sampled
    household."""

    __tablename__ = "recheck_evidence"
    __table_args__ = (
        ForeignKeyConstraint(["round_id", "case_id"], ["sampling_item.round_id", "sampling_item.case_id"]),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    round_id: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[str] = mapped_column(String(40), index=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    captured_at: Mapped[str | None] = mapped_column(String(32), nullable=True)  # as `Evidence.captured_at`
    uploaded_by: Mapped[str] = mapped_column(String(40))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SamplingDeviation(Base):
    """A deviating re-check's consequence and its place in the insurer's assessment (考核): one row per deviating
    result, written in the transaction that records (or corrects) the result.

    `kind` is `eligibility` (the eligibility differs), `amount` (the relief differs) or `income` (only the income
    differs beyond the tolerance: no money consequence). `insurer_amount` is what the insurer's side gives the
    household (paid so far for a paid case, else its confirmed relief); `county_amount` what the re-check finds;
    `over`/`under` their difference. `consequence` says what was opened: `hold` (an unpaid case is held for
    re-determination), `recovery` (a paid case got too much), `supplement` (a paid case got too little), `none`.
    """

    __tablename__ = "sampling_deviation"
    __table_args__ = (
        ForeignKeyConstraint(["round_id", "case_id"], ["sampling_result.round_id", "sampling_result.case_id"]),
        CheckConstraint("kind IN ('eligibility', 'amount', 'income')", name="kind_known"),
        CheckConstraint("consequence IN ('hold', 'recovery', 'supplement', 'none')", name="consequence_known"),
        CheckConstraint("over_amount >= 0 AND under_amount >= 0", name="amounts_not_negative"),
        Index("ix_sampling_deviation_county_created", "county_code", "created_at"),
    )

    round_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6))
    kind: Mapped[str] = mapped_column(String(16))
    paid: Mapped[bool] = mapped_column(Boolean)  # the case had been paid when the deviation was found
    insurer_amount: Mapped[int] = mapped_column(BigInteger)
    county_amount: Mapped[int] = mapped_column(BigInteger)
    over_amount: Mapped[int] = mapped_column(BigInteger)
    under_amount: Mapped[int] = mapped_column(BigInteger)
    consequence: Mapped[str] = mapped_column(String(16))
    hold_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    recovery_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    supplement_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CaseHold(Base):
    """An unpaid case held for re-determination after a sampling round found it deviating: out of every batch not
    yet approved, refused by new ones, until an insurer supervisor re-determines it (`proceed` or `ineligible`).
    At most one open hold per case (partial unique index)."""

    __tablename__ = "case_hold"
    __table_args__ = (
        Index("uq_case_hold_open_case", "case_id", unique=True, postgresql_where=_OPEN, sqlite_where=_OPEN),
        CheckConstraint("status IN ('open', 'decided', 'withdrawn')", name="status_known"),
        CheckConstraint("outcome IS NULL OR outcome IN ('proceed', 'ineligible')", name="outcome_known"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("sampling_round.id"))
    county_code: Mapped[str] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(16))
    finding: Mapped[str] = mapped_column(Text)  # what the re-check found, in words, for the supervisor
    opened_by: Mapped[str] = mapped_column(String(40))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    relief_before: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    relief_after: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


_WAITING = text("status = 'waiting'")
PROPOSAL_ANSWERED = ("(status = 'waiting' AND answered_by IS NULL AND answered_at IS NULL AND answer_note IS NULL)"
                     " OR (status IN ('confirmed', 'declined') AND answered_by IS NOT NULL AND answered_at IS NOT NULL"
                     " AND answer_note IS NOT NULL AND answered_by <> proposed_by)"
                     " OR (status = 'withdrawn' AND answered_at IS NOT NULL)")
# Who withdrew a proposal (migration 0068): 'insurer', an insurer supervisor (cases/hold_proposals.py `withdraw`);
# 'county', the county's side (its re-check corrected, the hold withdrawn with it, or another round's deviation
# joining the hold: sampling/consequences.py). Set on a withdrawn proposal, on no other.
WITHDRAWN_BY_INSURER, WITHDRAWN_BY_COUNTY = "insurer", "county"
PROPOSAL_WITHDRAWN_SIDE = ("(status = 'withdrawn' AND withdrawn_by_side IS NOT NULL"
                           " AND withdrawn_by_side IN ('insurer', 'county'))"
                           " OR (status <> 'withdrawn' AND withdrawn_by_side IS NULL)")


# A proposal goes above the county's figure, or raises the relief above the determination's (cases/holds.py `raised`).
PROPOSAL_ABOVE = "relief > 0 AND county_relief >= 0 AND (relief > county_relief OR relief > relief_before)"


class CaseHoldProposal(Base):
    """A supervisor's re-determination of a held case that goes against the county's re-check (the county found the
    household ineligible or its relief lower, and the supervisor would let the case go on above the county's figure),
    or that raises the relief above the determination's on the strength of a re-check that found more: it takes
    effect only once a county reviewer of the county (not the re-check's recorder) confirms it (`cases/holds.py`). Declined, it ends and
    the hold stays open; withdrawn with the hold when the county corrects its re-check. At most one waiting proposal
    per hold (partial unique index); the reasons are kept here in clear, their SHA-256 in the log."""

    __tablename__ = "case_hold_proposal"
    __table_args__ = (
        Index("uq_case_hold_proposal_waiting", "hold_id", unique=True, postgresql_where=_WAITING,
              sqlite_where=_WAITING),
        CheckConstraint("status IN ('waiting', 'confirmed', 'declined', 'withdrawn')", name="status_known"),
        CheckConstraint(PROPOSAL_ANSWERED, name="answered_by_another"),
        CheckConstraint(PROPOSAL_ABOVE, name="above_county_or_raised"),
        CheckConstraint(PROPOSAL_WITHDRAWN_SIDE, name="withdrawn_by_a_side"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    hold_id: Mapped[str] = mapped_column(ForeignKey("case_hold.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(16))
    relief: Mapped[int] = mapped_column(BigInteger)  # the relief the case would go on with
    relief_before: Mapped[int] = mapped_column(BigInteger)  # the determination's when proposed
    county_relief: Mapped[int] = mapped_column(BigInteger)  # the county re-check's figure (0: found ineligible)
    proposed_by: Mapped[str] = mapped_column(String(40))
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reason: Mapped[str] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    answer_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    withdrawn_by_side: Mapped[str | None] = mapped_column(String(8), nullable=True)  # `PROPOSAL_WITHDRAWN_SIDE`
