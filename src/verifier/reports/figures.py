"""What the monthly report counts, and how counted rows add up: pure rules, no database.

Every figure is counted by the date its event happened (a check by its visit date, a determination by the day it was
decided, a payment by the day the bank settled it, …), never by the day someone typed it in. Each figure has two
columns: 本月 (the chosen month) and 累计 (from the start of the contract year to the end of the month).

The queries (reports/queries.py) hand back `Row`s: a case's place and kind (town, village, cause, household group),
whether the event fell in the month, and either an amount to add (`value`) or a key to count once (`key`: a household
seen twice in a month is one household). `roll_up` makes of them the county's total and the breakdowns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Figure:
    key: str  # the name in the JSON and in the case list's `figure=` link
    label: str  # as the page and the spreadsheet show it
    money: bool = False  # integer fen, shown as yuan
    counted_by: str = ""  # the event's date it counts by (for the page's note and the README)
    linked: bool = True  # leads to the list of the cases behind it


FIGURES: tuple[Figure, ...] = (
    Figure("referrals", "监测信息（条）", counted_by="监测信息日期（部门名单或申请日期）"),
    Figure("new_cases", "新立案件（件）", counted_by="首次接收日期"),
    Figure("visits", "入户走访（次）", counted_by="走访日期（含未能核查的走访）"),
    Figure("households_visited", "入户户数", counted_by="走访日期"),
    Figure("person_visits", "入户人次", counted_by="走访日期：每次走访的每名核查人员"),
    Figure("without_check", "　其中未能核查（次）", counted_by="走访日期"),
    Figure("checks", "完成入户核查（次）", counted_by="核查日期"),
    Figure("checked_households", "核查户数", counted_by="核查日期"),
    Figure("late", "其中逾期核查（次）", counted_by="核查日期"),
    Figure("cross_checks", "信息核实比对（条）", counted_by="核查日期：核查人员录入的比对记录"),
    Figure("eligible", "认定符合条件（户）", counted_by="认定日期"),
    Figure("ineligible", "认定不符合条件（户）", counted_by="认定日期"),
    Figure("relief_determined", "认定救助金额（元）", money=True, counted_by="认定日期"),
    Figure("reviews_passed", "村级评议通过（户）", counted_by="评议日期"),
    Figure("reviews_failed", "村级评议未通过（户）", counted_by="评议日期"),
    Figure("notices_posted", "发布公示（份）", counted_by="公示发布日期"),
    Figure("noticed", "公示户数", counted_by="公示发布日期"),
    Figure("noticed_relief", "公示金额（元）", money=True, counted_by="公示发布日期"),
    Figure("objections", "收到异议（件）", counted_by="异议收到日期"),
    Figure("objections_upheld", "异议成立（件）", counted_by="异议收到日期"),
    Figure("objections_dismissed", "异议不成立（件）", counted_by="异议收到日期"),
    Figure("objections_open", "异议待处理（件）", counted_by="异议收到日期"),
    Figure("paid", "兑现户数", counted_by="银行到账日期"),
    Figure("paid_amount", "兑现金额（元）", money=True, counted_by="银行到账日期"),
    Figure("payment_failed", "支付失败（笔）", counted_by="银行回单日期"),
    Figure("sampling_rounds", "抽样复核轮次（已抽取样本）", counted_by="抽取样本日期", linked=False),
    Figure("rechecked", "录入抽样复核结果户数（含尚无走访证据的）", counted_by="复核结果录入日期"),
    Figure("deviations", "其中经入户走访有偏差（户）", counted_by="复核结果录入日期"),
)
BY_KEY = {f.key: f for f in FIGURES}

# The figures of the breakdowns by town and village, by cause and by household group (the source documents' splits:
# publicized and paid households and the amount paid by group and by cause).
BREAKDOWN_FIGURES = ("referrals", "households_visited", "checks", "late", "eligible", "noticed", "paid",
                     "paid_amount", "deviations")
DIMENSIONS = ("village", "town", "cause", "group")


@dataclass(frozen=True)
class Row:
    """One counted row of a query: where and what kind of case, in the month or earlier in the year, and an amount
    to add (`value`) or a key to count once (`key`)."""

    figure: str
    town: str
    village: str
    cause: str
    group: str
    in_month: bool
    value: int = 0
    key: str | None = None


@dataclass
class Cell:
    """A figure's 本月 and 累计."""

    month: int = 0
    cumulative: int = 0
    _month_keys: set[str] = field(default_factory=set, repr=False, compare=False)
    _keys: set[str] = field(default_factory=set, repr=False, compare=False)

    def add(self, row: Row) -> None:
        if row.key is None:
            self.add_value(row.value, row.in_month)
        else:
            self.add_keys((row.key,), row.in_month)

    def add_value(self, value: int, in_month: bool) -> None:
        self.cumulative += value
        self.month += value if in_month else 0

    def add_keys(self, keys: Iterable[str], in_month: bool) -> None:
        self._keys.update(keys)
        if in_month:
            self._month_keys.update(keys)
        self.month, self.cumulative = len(self._month_keys), len(self._keys)


@dataclass
class Tally:
    """Every figure's cells: the total and one per town and village, town, cause and household group."""

    total: dict[str, Cell] = field(default_factory=dict)
    by: dict[str, dict[object, dict[str, Cell]]] = field(
        default_factory=lambda: {d: {} for d in DIMENSIONS})

    def cell(self, figure: str, dimension: str | None = None, value: object = None) -> Cell:
        cells = self.total if dimension is None else self.by[dimension].setdefault(value, {})
        return cells.setdefault(figure, Cell())


def dimension_value(row: Row, dimension: str) -> object:
    return {"village": (row.town, row.village), "town": row.town, "cause": row.cause, "group": row.group}[dimension]


def roll_up(rows: Iterable[Row]) -> Tally:
    """The total and the breakdowns of the counted rows. A keyed figure counts each key once per cell.

    The rows of the same figure, place, kind and month flag are added up (values) or gathered (keys) first, then
    each such group is added to its cells once: a county's year may hold hundreds of thousands of rows."""
    values: dict[tuple[Any, ...], int] = {}
    keys: dict[tuple[Any, ...], set[str]] = {}
    for row in rows:
        group = (row.figure, row.town, row.village, row.cause, row.group, row.in_month)
        if row.key is None:
            values[group] = values.get(group, 0) + row.value
        else:
            keys.setdefault(group, set()).add(row.key)
    tally = Tally()
    for grouped, add in ((values, Cell.add_value), (keys, Cell.add_keys)):
        for (figure, town, village, cause, group, in_month), amount in grouped.items():
            add(tally.cell(figure), amount, in_month)
            if figure in BREAKDOWN_FIGURES:
                for dimension, value in (("village", (town, village)), ("town", town), ("cause", cause),
                                         ("group", group)):
                    add(tally.cell(figure, dimension, value), amount, in_month)
    return tally


def cumulative_start(first: date, contract_start: date | None) -> date:
    """Where 累计 starts: the contract year's first day when a contract covers the month, else 1 January (and never
    after the month itself)."""
    start = contract_start if contract_start is not None else date(first.year, 1, 1)
    return min(start, first)


def ordered_codes(known: Iterable[str], present: Iterable[str]) -> list[str]:
    """The known codes in their order (each once), then any other code present in the data (a contract's own
    cause, …) in alphabetical order."""
    known = list(dict.fromkeys(known))
    return known + sorted(set(present) - set(known))
