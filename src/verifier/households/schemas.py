"""The household file's shapes: a header, a list of sections (each a table of rows), and the timeline of audit
entries. Codes stay codes and money stays "0.00" strings here; the page and the documents put them into words."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

Note = Annotated[str, msgspec.Meta(max_length=2000)]


class Column(msgspec.Struct, frozen=True):
    key: str
    title: str  # the column's Chinese heading
    # How a value is shown: text, int, money ("0.00"), day, moment, user (an id), case (a case number, linked by
    # the row's case_id), bool, people ([{name, relation}]), or label:<TABLE> (a code of web/labels.py's TABLE;
    # label:stage:<TABLE> for web/stagelabels.py's).
    kind: str = "text"


class Section(msgspec.Struct):
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]


class Step(msgspec.Struct):
    """One audit entry concerning the household: each step of its cases, and the county's marks."""

    index: int  # the audit entry's index (its inclusion proof: GET /api/audit/entries/{index})
    time: datetime
    actor: str
    role: str
    action: str
    payload: dict[str, Any]
    case_id: str | None = None
    case_number: str | None = None


class HouseholdOut(msgspec.Struct):
    id: str
    county_code: str
    town: str
    village: str
    household_group: str
    head_name: str
    phone: str | None  # masked unless the reader may see it in full (cases/personal.py)
    roster_categories: list[str]  # the county's current roster, for any member (codes of domain/roster.py)
    risk_status: str  # at_risk | removed | restored (domain/risk.py)
    case_count: int
    years: list[int]


class HouseholdFile(msgspec.Struct):
    household: HouseholdOut
    sections: list[Section]
    timeline: list[Step]
    names: dict[str, str]  # user id -> display name, for every user the file names
    full_ids: bool  # whether ID numbers in it are shown in full (an officer at the door of one of its cases)


class RiskStatusIn(msgspec.Struct, forbid_unknown_fields=True):
    """`remove`: the household's risk is removed, with its evidence; `revoke`: the mark is withdrawn (the reason in
    `note`), the risk is back."""

    action: Literal["remove", "revoke"]
    on: date  # the day of the evidence, or of the revocation
    note: Note
    evidence_kind: Literal["income_above_line", "follow_up", "other"] | None = None
    months: Annotated[int, msgspec.Meta(ge=1, le=60)] | None = None


class RiskEventOut(msgspec.Struct):
    id: str
    household_id: str
    seq: int
    status: str
    evidence_kind: str | None
    months: int | None
    on: date
    recorded_by: str
    recorded_at: datetime
