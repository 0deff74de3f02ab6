"""Rotation (轮换), pure: an officer and a household do not meet twice in a row.

The officers of the household's latest check on another of its cases (last year's, another cause's) make none of this
case's visits; nor does an officer who holds a visit of another of its cases still to be made (two causes at once):
whichever of the two he recorded first, he would check the household again at the second. A county with fewer other
officers than a visit needs may send them again, by hand, with the supervisor's reason on record. The scheduling
refuses them and the planner leaves them out (`cases.service`).

The rule is asked again when the visit is recorded (the check, a visit without a check, the evidence added: `checks`),
for what holds at that moment: a check of another of the household's cases recorded since the visit was scheduled
(by one of its officers, through another visit he held), or a visit scheduled before the rule held, does not let its
officer record. Only a visit scheduled by hand with its reason at or after the household's latest check (the small
county's way) is the supervisor's decision on record, and stands.

An account linked by a password to one of the barred officers (`roster.service.password_links`: one set the other's
password, or one person set both and either still has it; the same person's second account) is barred alike, at the
scheduling, in the planner and at the door (`LINKED_LAST_OFFICER`, `LINKED_OPEN_VISIT`); the small county counts it
as the same person when it counts the officers left to send.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from .errors import FieldError
from .objection_recheck import _LINK

LAST_OFFICER = "该核查员上次核查过该户（另一案件）：按轮换规则，本次须由其他核查员走访"
OPEN_VISIT = "该核查员已排定走访该户的另一案件：按轮换规则，本次须由其他核查员走访"
# The partner, on a visit one of whose officers the rule bars: he records nothing on it either (a check is the two's).
VISIT_ENDED = "这次走访已失效：同组核查员上次核查过该户（另一案件），按轮换规则本次须由其他核查员走访，请等待主管重新安排"
# An account linked by a password to one of those officers: the same person's second account, barred alike.
LINKED_LAST_OFFICER = ("该核查员的账号与上次核查过该户（另一案件）的核查员的账号有密码关联" + _LINK
                       + "：按轮换规则，本次须由其他核查员走访")
LINKED_OPEN_VISIT = ("该核查员的账号与已排定走访该户另一案件的核查员的账号有密码关联" + _LINK
                     + "：按轮换规则，本次须由其他核查员走访")
LINKED_VISIT_ENDED = ("这次走访已失效：同组核查员的账号与上次核查过该户（另一案件）的核查员的账号有密码关联，"
                      "按轮换规则本次须由其他核查员走访，请等待主管重新安排")


@dataclass(frozen=True)
class LastCheck:
    """The household's latest check on another of its cases: its officers, and when it was recorded."""

    officer_ids: frozenset[str]
    recorded_at: datetime


def barred_on_visit(last: LastCheck | None, *, scheduled_at: datetime | None, by_hand: bool | None,
                    reason: str | None) -> frozenset[str]:
    """Who may not record on a visit now: the officers of the household's latest check on another of its cases,
    unless the visit was scheduled by hand, with a reason, at or after that check (the small county's exception,
    decided knowing it)."""
    if last is None:
        return frozenset()
    excused = (bool(by_hand) and bool((reason or "").strip()) and scheduled_at is not None
               and scheduled_at >= last.recorded_at)
    return frozenset() if excused else last.officer_ids


def refusals(officers: Sequence[str], barred: Iterable[str], linked: Iterable[str] = ()) -> list[FieldError]:
    """The problems of a visit's recorded team, by position (`officers[i]`), in the scheduling's words: `barred`, the
    officers of the household's latest check on another case; `linked`, accounts linked to one of theirs by a
    password (`linked_to`)."""
    barred, linked = frozenset(barred), frozenset(linked)
    return [FieldError(f"officers[{i}]", LAST_OFFICER if o in barred else LINKED_LAST_OFFICER)
            for i, o in enumerate(officers) if o in barred or o in linked]


def linked_to(barred: Iterable[str], candidates: Iterable[str], links: Mapping[str, Iterable[str]]) -> frozenset[str]:
    """Of `candidates`, those not `barred` themselves but linked by a password to one who is (`links`: per account,
    the accounts linked to it, as `roster.service.password_links_of` reads them)."""
    barred = frozenset(barred)
    linked = {a for o in barred for a in links.get(o, ())}
    return frozenset(c for c in candidates if c in linked and c not in barred)
