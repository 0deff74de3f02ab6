"""The public notice (公示) of relief cases as a Word document, plus a text and an HTML preview.

Independent of the database: the caller gathers the cases into a `NoticeDocument` (ID numbers are never part of it;
the notice has no ID column) and gets back the .docx bytes. What is shown follows DOMAIN.md step 7: village,
household head (masked when the contract says so), household size, cause category, relief amount; never a
diagnosis, a phone of a household or a bank account. As a last guard every text field is refused when it holds a
run of 15 or more digits (an ID or bank account number typed into the wrong field).

This module holds the notice's content and its checks; `notice_docx` writes it as a .docx, `notice_preview` as text
and HTML.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from verifier.domain.causes import DEFAULT_TABLE
from verifier.domain.errors import FieldError, ValidationFailed
from verifier.domain.masking import mask_name
from verifier.domain.money import Fen, grouped_yuan

Cause = str  # a cause code; its name comes from the contract (`cause_label`), else from CAUSE_LABELS

# The default causes' names; a contract may declare others (domain/causes.py), given to a row as `cause_label`.
CAUSE_LABELS: dict[str, str] = DEFAULT_TABLE.cause_names()

HEADERS = ("序号", "村", "户主姓名", "家庭人口", "救助类别", "救助金额（元）")

_LONG_DIGITS = re.compile(r"\d{14}[\dXx]")  # 15 or more characters: an ID number (old or new) or an account
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class NoticeRow:
    """One case on the notice. `relief_amount` is integer fen."""

    village: str
    head_name: str
    household_size: int
    cause: Cause
    relief_amount: Fen
    cause_label: str | None = None  # the cause's Chinese name by the contract (default: CAUSE_LABELS)

    @property
    def cause_name(self) -> str:
        return (self.cause_label or "").strip() or CAUSE_LABELS.get(self.cause, "")


@dataclass(frozen=True, kw_only=True)
class NoticeDocument:
    """Everything printed on one notice.

    `objection_place` and `objection_phone` say where objections go (an office and its phone, not a person's);
    `village` is None for a notice covering a whole town. `intro` replaces the generated opening paragraph.
    A line break in `title` ("\\n") is kept as a line break of the title.
    """

    issuing_body: str
    title: str
    county: str
    town: str
    village: str | None
    posted_on: date
    ends_on: date  # the last day of the period, as printed (a stored notice's ends_on is the day after it)
    objection_place: str
    objection_phone: str
    issued_on: date
    rows: Sequence[NoticeRow] = field(default_factory=list)
    mask_names: bool = True
    number: str | None = None
    intro: str | None = None

    def __post_init__(self) -> None:
        errors = _check(self)
        if errors:
            raise ValidationFailed(errors)

    @property
    def households(self) -> int:
        return len(self.rows)

    @property
    def persons(self) -> int:
        return sum(r.household_size for r in self.rows)

    @property
    def total(self) -> Fen:
        return sum(r.relief_amount for r in self.rows)

    @property
    def place(self) -> str:
        return f"{self.county.strip()}{self.town.strip()}{(self.village or '').strip()}"

    @property
    def shown_number(self) -> str | None:
        return self.number.strip() if self.number and self.number.strip() else None


def _check(doc: NoticeDocument) -> list[FieldError]:
    errors: list[FieldError] = []

    def text(name: str, value: object, *, required: bool = True, row: int | None = None, multiline: bool = False) -> None:
        where = f"rows.{name}" if row is not None else name
        if not required and (value is None or (isinstance(value, str) and not value.strip())):
            return  # an optional field left blank counts as absent
        if not isinstance(value, str) or not value.strip():
            errors.append(FieldError(where, "不能为空", row))
            return
        if _CONTROL.search(value) or (not multiline and any(ch in value for ch in "\r\n\t")):
            errors.append(FieldError(where, "不能含有控制字符或换行", row))
        if _LONG_DIGITS.search(value):
            errors.append(FieldError(where, "不能含有身份证号或银行账号（连续 15 位以上数字）", row))

    text("issuing_body", doc.issuing_body)
    text("title", doc.title, multiline=True)
    text("county", doc.county)
    text("town", doc.town)
    text("village", doc.village, required=False)
    text("objection_place", doc.objection_place)
    text("objection_phone", doc.objection_phone)
    text("number", doc.number, required=False)
    text("intro", doc.intro, required=False)
    for name in ("posted_on", "ends_on", "issued_on"):
        value = getattr(doc, name)
        if not isinstance(value, date) or isinstance(value, datetime):
            errors.append(FieldError(name, "日期格式应为 年-月-日，如 2026-12-05 或 2026年12月5日"))
    if isinstance(doc.posted_on, date) and isinstance(doc.ends_on, date) and doc.ends_on < doc.posted_on:
        errors.append(FieldError("ends_on", "公示结束日期不能早于开始日期"))
    if not isinstance(doc.mask_names, bool):
        errors.append(FieldError("mask_names", "应为 true 或 false"))
    if not doc.rows:
        errors.append(FieldError("rows", "公示至少列出一个案件"))
    for i, r in enumerate(doc.rows, start=1):
        if not isinstance(r, NoticeRow):
            errors.append(FieldError("rows", "应为公示行（NoticeRow）", i))
            continue
        text("village", r.village, row=i)
        text("head_name", r.head_name, row=i)
        if not isinstance(r.household_size, int) or isinstance(r.household_size, bool) or r.household_size < 1:
            errors.append(FieldError("rows.household_size", "家庭人口应为不小于 1 的整数", i))
        if not r.cause_name:
            errors.append(FieldError("rows.cause", f"应为{'、'.join(CAUSE_LABELS.values())}之一，或写明原因名称（cause_label）", i))
        elif r.cause_label is not None:
            text("cause_label", r.cause_label, row=i)
        if not isinstance(r.relief_amount, int) or isinstance(r.relief_amount, bool) or r.relief_amount < 0:
            errors.append(FieldError("rows.relief_amount", "应为不小于 0 的整数（分）", i))
    return errors


def chinese_date(d: date) -> str:
    """2020-06-03 -> 2020年6月3日 (GB/T 9704-2012: Arabic numerals, no leading zeros)."""
    return f"{d.year}年{d.month}月{d.day}日"


def shown_name(doc: NoticeDocument, name: str) -> str:
    return mask_name(name) if doc.mask_names else name.strip()


def table_rows(doc: NoticeDocument) -> list[tuple[str, str, str, str, str, str]]:
    """The body rows of the table as shown: 序号, 村, 户主姓名, 家庭人口, 救助类别, 救助金额（元）."""
    return [
        (str(i), r.village.strip(), shown_name(doc, r.head_name), str(r.household_size), r.cause_name,
         grouped_yuan(r.relief_amount))
        for i, r in enumerate(doc.rows, start=1)
    ]


def total_cells(doc: NoticeDocument) -> tuple[str, str, str, str]:
    """合计, households, persons, amount."""
    return ("合计", f"{doc.households}户", f"{doc.persons}人", grouped_yuan(doc.total))


def intro_text(doc: NoticeDocument) -> str:
    if doc.intro and doc.intro.strip():
        return doc.intro.strip()
    return (
        f"经入户核查、村级评议，{doc.place}拟享受防贫帮困保障金救助对象共{doc.households}户{doc.persons}人，"
        f"拟救助金额合计{grouped_yuan(doc.total)}元，现予以公示（名单附后）。"
    )


def period_text(doc: NoticeDocument) -> str:
    return (
        f"公示期为{chinese_date(doc.posted_on)}至{chinese_date(doc.ends_on)}。"
        f"公示期内如有异议，请向{doc.objection_place.strip()}反映。联系电话：{doc.objection_phone.strip()}。"
    )


def title_lines(doc: NoticeDocument) -> list[str]:
    return [line.strip() for line in doc.title.strip().splitlines() if line.strip()]
