"""Request and response shapes: merging households and moving members; the household file (a header, a list of
sections, each a table of rows, and the timeline of audit entries; codes stay codes and money stays "0.00" strings
here, the page and the documents put them into words); the county's risk mark."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Reason = Annotated[str, msgspec.Meta(max_length=2000)]
Relation = Annotated[str, msgspec.Meta(max_length=16)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]



class MergeIn(msgspec.Struct, forbid_unknown_fields=True):
    """Merge `from_household_id` into the household of the path (which survives)."""

    from_household_id: Id
    reason: Reason
    head_relation: Relation = "other"  # what the merged household's head becomes: spouse | child | parent | other


class MoveIn(msgspec.Struct, forbid_unknown_fields=True):
    """Move the member to `to_household_id`, or (`new_household`) to a new household of their own (分户)."""

    reason: Reason
    to_household_id: Id | None = None
    new_household: bool = False
    relation: Relation = "other"  # to the head of the household joined (a new household: the head)
    new_head_member_id: Id | None = None  # required when the head moves out: who heads those who stay


class MergedCaseOut(msgspec.Struct):
    case_id: str
    number: str
    into_case_id: str
    into_number: str


class MergeOut(msgspec.Struct):
    change_id: str
    household_id: str
    from_household_id: str
    members: list[str]
    merged_cases: list[MergedCaseOut]
    moved_cases: list[str]


class MoveOut(msgspec.Struct):
    change_id: str
    member_id: str
    from_household_id: str
    household_id: str
    new_household: bool


class ProposalOut(msgspec.Struct):
    """A merge or move proposed by one person (`pending`), made when another confirms it (`confirmed`: `change_id`
    and `merge` or `move` say what was made), or `declined` (with `decline_reason`) or `withdrawn` by its proposer.
    Merge: `household_id` kept, `other_household_id` merged into it; move: the member's household and the one joined
    (NULL for a new household until confirmed)."""

    id: str
    kind: str  # merge | move
    status: str  # pending | confirmed | declined | withdrawn
    county_code: str
    household_id: str
    other_household_id: str | None
    member_id: str | None
    new_household: bool
    relation: str
    new_head_member_id: str | None
    members: dict[str, list[str]]  # each household's member ids when proposed
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decline_reason: str | None = None
    change_id: str | None = None
    merge: MergeOut | None = None
    move: MoveOut | None = None
    # pending: the SHA-256 of what it would change now (members, relations, heads, sizes, cases joined or moved),
    # sent back to confirm it (`ConfirmIn.seen`); None once decided or when it can no longer be made
    seen: str | None = None


class DeclineIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=1000)]


class ConfirmIn(msgspec.Struct, forbid_unknown_fields=True):
    """`seen`: the proposal's `seen` as read (GET): the change is made only while it is still what was read (409)."""

    seen: Annotated[str, msgspec.Meta(max_length=64)]



class Column(msgspec.Struct, frozen=True):
    key: str
    title: str  # the column's Chinese heading
    # How a value is shown: text, int, money ("0.00"), day, moment, user (an id), case (a case number, linked by
    # the row's case_id), bool, people ([{name, relation}]), relations ([{name, before, after}], shown as
    # "张三：配偶→父母"), or label:<TABLE> (a code of web/labels.py's TABLE; label:stage:<TABLE> for
    # web/stagelabels.py's).
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
