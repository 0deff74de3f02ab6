"""The result letter (认定结果告知书) to a household found ineligible: the decision, the reason in plain words, and
how and by when to ask for a review (复核申请).

Built on the notice's template (`templates/notice.docx`: GB/T 9704-2012 page, the same styles), so the office
prints it as it prints the notices. The letter goes to the household itself, so its head is named in full, but it
carries no ID number, phone or bank account: every text is refused when it holds a run of 15 or more digits.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from verifier.domain.errors import FieldError, ValidationFailed

from . import make_templates as T
from .notice import _CONTROL, _LONG_DIGITS, CAUSE_LABELS, chinese_date
from .notice_docx import _open_template, _para, _style_ids, _title_para, _x, replace_body


@dataclass(frozen=True, kw_only=True)
class ResultLetter:
    issuing_body: str  # who decides and signs: the town government or the county office
    county: str
    town: str
    village: str
    head_name: str
    cause: str
    referred_on: date
    decided_on: date
    reasons: Sequence[str]  # plain Chinese sentences, one paragraph each
    review_by: date  # the last day a review request is received
    review_place: str
    review_phone: str
    issued_on: date
    number: str | None = None
    title: str = "防贫帮困保障认定结果告知书"
    extra: Sequence[str] = field(default_factory=tuple)
    cause_label: str | None = None  # the cause's Chinese name by the contract (default: CAUSE_LABELS)

    @property
    def cause_name(self) -> str:
        return (self.cause_label or "").strip() or CAUSE_LABELS.get(self.cause, "")

    def __post_init__(self) -> None:
        errors = _check(self)
        if errors:
            raise ValidationFailed(errors)


def _check(letter: ResultLetter) -> list[FieldError]:
    errors: list[FieldError] = []

    def text(name: str, value: object, *, required: bool = True) -> None:
        if not required and (value is None or (isinstance(value, str) and not value.strip())):
            return
        if not isinstance(value, str) or not value.strip():
            errors.append(FieldError(name, "不能为空"))
            return
        if _CONTROL.search(value) or any(ch in value for ch in "\r\n\t"):
            errors.append(FieldError(name, "不能含有控制字符或换行"))
        if _LONG_DIGITS.search(value):
            errors.append(FieldError(name, "不能含有身份证号或银行账号（连续 15 位以上数字）"))

    for name in ("issuing_body", "county", "town", "village", "head_name", "review_place", "review_phone", "title"):
        text(name, getattr(letter, name))
    text("number", letter.number, required=False)
    if not letter.reasons:
        errors.append(FieldError("reasons", "认定须写明理由"))
    for i, r in enumerate([*letter.reasons, *letter.extra]):
        text(f"reasons[{i}]", r)
    if not letter.cause_name:
        errors.append(FieldError("cause", f"应为{'、'.join(CAUSE_LABELS.values())}之一，或写明原因名称（cause_label）"))
    elif letter.cause_label is not None:
        text("cause_label", letter.cause_label)
    if letter.review_by < letter.decided_on:
        errors.append(FieldError("review_by", "复核申请期限不能早于认定日期"))
    return errors


def letter_paragraphs(letter: ResultLetter) -> list[tuple[str, str]]:
    """The letter as (kind, text) paragraphs, kind being title, number, to, body or signature."""
    place = f"{letter.county.strip()}{letter.town.strip()}{letter.village.strip()}"
    out = [("title", letter.title.strip())]
    if letter.number and letter.number.strip():
        out.append(("number", letter.number.strip()))
    out.append(("to", f"{place}{letter.head_name.strip()}户："))
    out.append(("body", f"你户于{chinese_date(letter.referred_on)}申请（或经部门推送）的{letter.cause_name}"
                        f"防贫帮困保障，经入户核查，于{chinese_date(letter.decided_on)}认定为不符合救助条件。理由如下："))
    out += [("body", f"{i}. {r.strip().rstrip('。')}。") for i, r in enumerate(letter.reasons, start=1)]
    out += [("body", e.strip()) for e in letter.extra]
    out.append(("body", f"如对认定结果有异议，可于{chinese_date(letter.review_by)}前（含当日）向{letter.review_place.strip()}"
                        f"提出书面复核申请，说明理由并附相关材料。联系电话：{letter.review_phone.strip()}。复核将由未参加"
                        "首次核查的工作人员重新入户核查。"))
    out.append(("body", "特此告知。"))
    out.append(("signature", letter.issuing_body.strip()))
    out.append(("signature", chinese_date(letter.issued_on)))
    return out


def render_letter(letter: ResultLetter) -> bytes:
    """The letter as .docx bytes, on the notice template's page and styles."""
    document = _open_template(None)
    ids = _style_ids(document)
    style = {"title": ids[T.STYLE_TITLE], "number": ids[T.STYLE_NUMBER], "body": ids[T.STYLE_BODY],
             "signature": ids[T.STYLE_SIGNATURE]}
    parts = []
    for kind, text in letter_paragraphs(letter):
        if kind == "title":
            parts.append(_title_para(style["title"], [text]))
        elif kind == "to":  # the addressee line stands flush left, without the body's first-line indent
            parts.append(f'<w:p><w:pPr><w:pStyle w:val="{style["body"]}"/><w:ind w:firstLineChars="0" w:firstLine="0"/>'
                         f'</w:pPr><w:r><w:t xml:space="preserve">{_x(text)}</w:t></w:r></w:p>')
        else:
            parts.append(_para(style[kind], text))
        if kind in ("title", "number"):
            parts.append(_para(style["body"], ""))
    replace_body(document, "".join(parts))
    cp = document.core_properties
    cp.title, cp.subject, cp.author = letter.title.strip(), "认定结果告知", letter.issuing_body.strip()
    cp.last_modified_by, cp.comments, cp.keywords, cp.category = letter.issuing_body.strip(), "", "", ""
    cp.revision = 1
    cp.created = cp.modified = datetime.combine(letter.issued_on, time())
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
