"""How counted rows add up (reports/figures.py, no database): amounts add, keys count once per cell, and the
breakdowns list the known codes first, then any other the data carries."""

from __future__ import annotations

from datetime import date

from verifier.reports.figures import Row, cumulative_start, ordered_codes, roll_up


def test_amounts_add_and_a_household_counts_once_in_each_cell() -> None:
    rows = [
        Row("checks", "城关镇", "东村", "illness", "low_income", in_month=True, value=2),
        Row("checks", "城关镇", "西村", "illness", "low_income", in_month=False, value=3),
        # One household visited in the month and before it, once for each of two causes: one household.
        Row("households_visited", "城关镇", "东村", "illness", "low_income", in_month=True, key="hh1"),
        Row("households_visited", "城关镇", "东村", "illness", "low_income", in_month=False, key="hh1"),
        Row("households_visited", "城关镇", "东村", "flood", "low_income", in_month=False, key="hh1"),
        Row("households_visited", "河口镇", "河口村", "illness", "exited_low_standard", in_month=False, key="hh2"),
    ]
    tally = roll_up(rows)
    cell = tally.cell("checks")
    assert (cell.month, cell.cumulative) == (2, 5)
    visited = tally.cell("households_visited")
    assert (visited.month, visited.cumulative) == (1, 2)
    town = tally.cell("households_visited", "town", "城关镇")
    assert (town.month, town.cumulative) == (1, 1)
    flood = tally.cell("households_visited", "cause", "flood")
    assert (flood.month, flood.cumulative) == (0, 1)
    assert set(tally.by["village"]) == {("城关镇", "东村"), ("城关镇", "西村"), ("河口镇", "河口村")}


def test_known_codes_first_then_the_others_and_where_the_year_starts() -> None:
    assert ordered_codes(["illness", "illness", "disaster"], ["flood", "disaster", "accident"]) == \
        ["illness", "disaster", "accident", "flood"]
    assert cumulative_start(date(2020, 6, 1), date(2020, 4, 1)) == date(2020, 4, 1)
    assert cumulative_start(date(2020, 6, 1), None) == date(2020, 1, 1)
    assert cumulative_start(date(2020, 3, 1), date(2020, 4, 1)) == date(2020, 3, 1)  # never after the month
