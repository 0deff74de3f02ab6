"""Request and response shapes for merging households and moving members."""

from __future__ import annotations

from typing import Annotated

import msgspec

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Reason = Annotated[str, msgspec.Meta(max_length=2000)]
Relation = Annotated[str, msgspec.Meta(max_length=16)]


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
