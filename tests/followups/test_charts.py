"""The server-drawn charts: bars proportional to their values, every non-zero value visible, nothing drawn from
nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from verifier.web.charts import Point, bar_chart, column_chart


@given(st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=14))
def test_bars_are_proportional_and_stay_inside_the_chart(values: list[int]) -> None:
    points = [Point(f"第{i}项", v, str(v)) for i, v in enumerate(values)]
    for chart, size in ((bar_chart("a", "甲", points), lambda b: b.width),
                        (column_chart("b", "乙", points), lambda b: b.height)):
        top = max(values)
        longest = max(size(b) for b in chart.bars)
        for bar, v in zip(chart.bars, values):
            assert (size(bar) > 0) == (v > 0)  # a value is visible exactly when it is not zero
            assert 0 <= bar.x and bar.x + bar.width <= chart.width and 0 <= bar.y <= chart.height
            if v == top and top:
                assert size(bar) == longest
        assert chart.empty == (top == 0)


def test_a_bars_title_names_it_with_its_number() -> None:
    chart = bar_chart("c", "丙", [Point("因病", 3, "3 户", "/cases?x=1"), Point("因灾", 1, "1 户")])
    assert [b.title for b in chart.bars] == ["因病：3 户", "因灾：1 户"]
    assert chart.bars[0].width > chart.bars[1].width > 0
