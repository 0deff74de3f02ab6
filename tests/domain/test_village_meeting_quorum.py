"""The attendance a village review meeting needs to decide (domain/village_meeting.py)."""

from __future__ import annotations

import pytest

from verifier.domain.village_meeting import MIN_ATTENDANCE, attendance_problems, attendee_names, quorum


def test_attendees_are_counted_by_name_once_each() -> None:
    text = "刘建国（村支书）\n陈志强（村主任）、杨秀英 (村民代表)；黄德明,周桂兰，刘建国（村支书）\n\n"
    assert attendee_names(text) == ["刘建国（村支书）", "陈志强（村主任）", "杨秀英 (村民代表)", "黄德明", "周桂兰"]
    assert attendee_names("") == [] and attendee_names("  \n 、") == []


@pytest.mark.parametrize(("members", "need"), [(5, 5), (7, 5), (8, 6), (9, 6), (11, 8), (30, 20)])
def test_two_thirds_of_the_body_and_never_fewer_than_five(members: int, need: int) -> None:
    assert quorum(members) == need and need >= MIN_ATTENDANCE


def test_each_shortfall_is_named_in_chinese() -> None:
    five = [f"代表{i}" for i in range(5)]
    assert attendance_problems(7, five) == []
    assert attendance_problems(None, five) == [("members_expected", "请填写评议小组应到人数")]
    assert attendance_problems(3, five)[0][0] == "members_expected"
    assert "多于应到" in attendance_problems(4 + 1, five + ["代表9"])[0][1]
    assert attendance_problems(9, five) == [("attendees", "实到 5 人（按姓名计），不足应到 9 人的三分之二（至少 6 人），"
                                                         "评议不能作出决定")]
