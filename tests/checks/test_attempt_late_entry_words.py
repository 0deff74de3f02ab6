"""A visit without a check dated back is refused in the words a check's is (`late_entry.problems`), said of a visit
(走访日期, 在走访当时), and without the clause that its day sets the lateness (a visit without a check sets none)."""

from __future__ import annotations

from datetime import date

from verifier.checks.attempts import late_problems

TODAY = date(2020, 6, 10)
TAIL = "：须填写补录原因（至少 4 个字），说明为何没有在走访当时录入"


def test_the_attempts_refusals_word_for_word() -> None:
    [late] = late_problems(date(2020, 6, 6), TODAY, "")
    assert late.field == "late_entry_reason"
    assert late.message == "走访日期 2020-06-06 比今天（2020-06-10）早 4 天，超过 3 天" + TAIL
    [early] = late_problems(date(2020, 6, 9), TODAY, "", scheduled_on=date(2020, 6, 10))
    assert early.message == "走访日期 2020-06-09 早于本次走访的安排日期（2020-06-10）" + TAIL
    [overdue] = late_problems(date(2020, 6, 9), TODAY, "", due_on=date(2020, 6, 8))
    assert overdue.message == "本案应在 2020-06-08 前核查，今天录入已逾期；走访日期 2020-06-09 比今天早 1 天" + TAIL
    assert late_problems(TODAY, TODAY, "字" * 1001)[0].message == "补录原因最多 1000 个字"
    assert late_problems(date(2020, 6, 6), TODAY, "村里没有信号") == []
