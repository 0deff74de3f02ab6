"""Who must sit for a village review meeting to decide (村级评议的到会人数). Pure: no database, no I/O.

A village review is decided by the village's evaluation body (村"两委"成员、村民代表, often with the resident work
team): the Organic Law of Villagers' Committees (村民委员会组织法, art. 26) lets a villagers' representative meeting
sit only when two thirds of its members attend. So a meeting names how many sit on the body (应到) and who came
(实到, by name), and decides only when the named attendees are at least two thirds of the body, and never fewer than
`MIN_ATTENDANCE`: a "meeting" of a clerk and a friend decides nothing.
"""

from __future__ import annotations

import math
import re

MIN_ATTENDANCE = 5  # the smallest body that can sit: a committee of three and two representatives
MAX_MEMBERS = 200

_SEPARATORS = re.compile(r"[\r\n、，,；;]+")


def attendee_names(text: str) -> list[str]:
    """The attendees named in `text` (one a line, or separated by 、，,；;: "张三（村支书）" is one), each once, in
    order."""
    return list(dict.fromkeys(n for n in (p.strip() for p in _SEPARATORS.split(text or "")) if n))


def quorum(members_expected: int) -> int:
    """How many of a body of `members_expected` must attend for it to decide."""
    return max(MIN_ATTENDANCE, math.ceil(members_expected * 2 / 3))


def attendance_problems(members_expected: int | None, attendees: list[str]) -> list[tuple[str, str]]:
    """(field, Chinese message) for each reason the attendance does not let the meeting decide."""
    if members_expected is None:
        return [("members_expected", "请填写评议小组应到人数")]
    if members_expected < MIN_ATTENDANCE:
        return [("members_expected", f"评议小组应到人数不能少于 {MIN_ATTENDANCE} 人")]
    if members_expected > MAX_MEMBERS:
        return [("members_expected", f"评议小组应到人数不能多于 {MAX_MEMBERS} 人")]
    present = len(attendees)
    if present > members_expected:
        return [("attendees", f"实到 {present} 人，多于应到 {members_expected} 人")]
    need = quorum(members_expected)
    if present < need:
        return [("attendees", f"实到 {present} 人（按姓名计），不足应到 {members_expected} 人的三分之二"
                              f"（至少 {need} 人），评议不能作出决定")]
    return []
