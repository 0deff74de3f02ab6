"""The households service, one module per purpose (the readers import from here, as before the split):

- `changes`: merging two households found to be one, and moving a member to another household (the rules);
- `proposals`: either proposed by one person and made only when another person confirms it;
- `reading`: a household's history, a household in brief, finding households, the other household of a person;
- `rows`: a household, its cases and its members as both read them.
"""

from .changes import (
    DECIDED,
    LIVE_BATCH_STATUSES,
    MAX_REASON,
    RELATIONS,
    ROLE,
    MergedCase,
    MergeResult,
    MoveResult,
)
from .proposals import CONFIRMERS, Confirmed, confirm, decline, propose_merge, propose_move, withdraw
from .reading import (
    MAX_FOUND,
    CaseBrief,
    HouseholdBrief,
    HouseholdChangeOut,
    MemberBrief,
    conflict_household,
    find_households,
    household_brief,
    household_changes,
)
from .rows import household_members

__all__ = [
    "CaseBrief", "DECIDED", "HouseholdBrief", "HouseholdChangeOut", "LIVE_BATCH_STATUSES", "MAX_FOUND", "MAX_REASON",
    "MemberBrief", "MergeResult", "MergedCase", "MoveResult", "RELATIONS", "ROLE", "conflict_household",
    "find_households", "household_brief", "household_changes", "household_members", "CONFIRMERS", "Confirmed",
    "confirm", "decline", "propose_merge", "propose_move", "withdraw",
]
