"""A check recorded long after its visit day needs a reason for the late entry (domain/late_entry.py)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from verifier.domain import late_entry

TODAY = date(2020, 6, 10)


def test_more_than_three_days_after_the_visit_needs_a_reason_of_a_few_characters() -> None:
    assert late_entry.problems(date(2020, 6, 7), TODAY, "") == []  # three days: none needed
    assert late_entry.problems(TODAY, TODAY, "") == []
    [refused] = late_entry.problems(date(2020, 6, 6), TODAY, "")
    assert refused.field == "late_entry_reason" and "早 4 天" in refused.message and "须填写补录原因" in refused.message
    assert late_entry.problems(date(2020, 6, 6), TODAY, late_entry.clean_reason("  无  信号 ")) != []  # "无 信号": 3, the space says nothing
    assert late_entry.problems(date(2020, 6, 6), TODAY, late_entry.clean_reason("没有信号")) == []
    assert late_entry.problems(date(2020, 6, 6), TODAY, "没") != []
    assert late_entry.problems(TODAY, TODAY, "字" * 1001)[0].message == "补录原因最多 1000 个字"


def test_the_day_of_recording_is_the_schemes_calendar_day() -> None:
    # 17:00 UTC is already the next day in Asia/Shanghai
    assert late_entry.recorded_on(datetime(2020, 6, 9, 17, 0, tzinfo=timezone.utc)) == TODAY
    assert late_entry.days_after(date(2020, 6, 6), TODAY) == 4 and late_entry.days_after(TODAY, date(2020, 6, 6)) == 0
    assert late_entry.needs_reason(4) and not late_entry.needs_reason(3) and not late_entry.needs_reason(None)


def test_the_checks_refusals_word_for_word() -> None:
    tail = "：须填写补录原因（至少 4 个字），说明为何没有在核查当时录入"
    [late] = late_entry.problems(date(2020, 6, 6), TODAY, "")
    assert late.message == "核查日期 2020-06-06 比今天（2020-06-10）早 4 天，超过 3 天" + tail
    [early] = late_entry.problems(date(2020, 6, 9), TODAY, "", scheduled_on=date(2020, 6, 10))
    assert early.message == "核查日期 2020-06-09 早于本次走访的安排日期（2020-06-10）" + tail
    [overdue] = late_entry.problems(date(2020, 6, 9), TODAY, "", due_on=date(2020, 6, 8))
    assert overdue.message == ("本案应在 2020-06-08 前核查，今天录入已逾期；核查日期 2020-06-09 比今天早 1 天，"
                               "逾期天数按核查日期计算" + tail)
