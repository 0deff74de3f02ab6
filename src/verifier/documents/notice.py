"""The public notice (公示) of relief cases as a Word document, plus a text and an HTML preview.

Independent of the database: the caller gathers the cases into a `NoticeDocument` (ID numbers are never part of it;
the notice has no ID column) and gets back the .docx bytes. What is shown follows DOMAIN.md step 7: village,
household head (masked when the contract says so), household size, cause category, relief amount; never a
diagnosis, a phone of a household or a bank account. As a last guard every text field is refused when it holds a
run of 15 or more digits (an ID or bank account number typed into the wrong field).

The .docx is built on `templates/notice.docx` (see `make_templates`), which carries the GB/T 9704-2012 page setup,
the styles and the footer page numbers; this module only adds the body. The table is written as one XML string and
parsed once, which is several times faster than python-docx's row-by-row API for notices of hundreds of rows.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape as _xml_escape

import docx
from docx.document import Document as DocumentObject
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn

from verifier.domain.causes import DEFAULT_TABLE
from verifier.domain.errors import FieldError, ValidationFailed
from verifier.domain.masking import mask_name
from verifier.domain.money import Fen, grouped_yuan

from . import make_templates as T

Cause = str  # a cause code; its name comes from the contract (`cause_label`), else from CAUSE_LABELS

# The default causes' names; a contract may declare others (domain/causes.py), given to a row as `cause_label`.
CAUSE_LABELS: dict[str, str] = DEFAULT_TABLE.cause_names()

HEADERS = ("序号", "村", "户主姓名", "家庭人口", "救助类别", "救助金额（元）")

# Column widths in twips; they add up to the 156 mm type area (8844 twips).
COLUMN_WIDTHS = (794, 1588, 1361, 1361, 1361, 2379)

DEFAULT_TEMPLATE = T.TEMPLATES_DIR / T.NOTICE_TEMPLATE

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
            errors.append(FieldError(where, "must not be empty", row))
            return
        if _CONTROL.search(value) or (not multiline and any(ch in value for ch in "\r\n\t")):
            errors.append(FieldError(where, "must not contain control characters or line breaks", row))
        if _LONG_DIGITS.search(value):
            errors.append(FieldError(where, "must not contain an ID or account number (a run of 15 or more digits)", row))

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
            errors.append(FieldError(name, "must be a date"))
    if isinstance(doc.posted_on, date) and isinstance(doc.ends_on, date) and doc.ends_on < doc.posted_on:
        errors.append(FieldError("ends_on", "the notice period cannot end before it starts"))
    if not isinstance(doc.mask_names, bool):
        errors.append(FieldError("mask_names", "must be true or false"))
    if not doc.rows:
        errors.append(FieldError("rows", "a notice lists at least one case"))
    for i, r in enumerate(doc.rows, start=1):
        if not isinstance(r, NoticeRow):
            errors.append(FieldError("rows", "must be a NoticeRow", i))
            continue
        text("village", r.village, row=i)
        text("head_name", r.head_name, row=i)
        if not isinstance(r.household_size, int) or isinstance(r.household_size, bool) or r.household_size < 1:
            errors.append(FieldError("rows.household_size", "must be a whole number of at least 1", i))
        if not r.cause_name:
            errors.append(FieldError("rows.cause", f"must be one of {', '.join(CAUSE_LABELS)}, or name its cause "
                                                   "(cause_label)", i))
        elif r.cause_label is not None:
            text("cause_label", r.cause_label, row=i)
        if not isinstance(r.relief_amount, int) or isinstance(r.relief_amount, bool) or r.relief_amount < 0:
            errors.append(FieldError("rows.relief_amount", "must be a non-negative whole number of fen", i))
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


# --- .docx ---------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _built_in_template() -> bytes:
    return T.notice_template_bytes()


def _open_template(template: Path | None) -> DocumentObject:
    if template is not None:
        return docx.Document(str(template))
    if DEFAULT_TEMPLATE.is_file():
        return docx.Document(str(DEFAULT_TEMPLATE))
    # Installed without the repository's templates/ directory: build the same template in memory.
    return docx.Document(io.BytesIO(_built_in_template()))


def _style_ids(document: DocumentObject) -> dict[str, str]:
    ids = {}
    missing = []
    for name in T.NOTICE_STYLES:
        try:
            ids[name] = document.styles[name].style_id
        except KeyError:
            missing.append(name)
    if missing:
        raise ValueError(f"the notice template lacks the styles {', '.join(missing)}; rebuild it with make_templates")
    return ids


def _x(text: str) -> str:
    return _xml_escape(_CONTROL.sub("", text))


def _para(style_id: str, text: str) -> str:
    if not text:
        return f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/></w:pPr></w:p>'
    return f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/></w:pPr><w:r><w:t xml:space="preserve">{_x(text)}</w:t></w:r></w:p>'


def _title_para(style_id: str, lines: list[str]) -> str:
    runs = '<w:r><w:br/></w:r>'.join(f'<w:r><w:t xml:space="preserve">{_x(line)}</w:t></w:r>' for line in lines)
    return f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/></w:pPr>{runs}</w:p>'


def _table_xml(doc: NoticeDocument, ids: dict[str, str]) -> tuple[str, str]:
    """The table as (the table with its header row only, every other row): see `build_notice` for why two."""
    text_id, amount_id, header_id = ids[T.STYLE_TABLE_TEXT], ids[T.STYLE_TABLE_AMOUNT], ids[T.STYLE_TABLE_HEADER]
    w = COLUMN_WIDTHS
    # Each cell: its width, vertically centred, one paragraph of one run.
    cell = (
        '<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
        '<w:p><w:pPr><w:pStyle w:val="{s}"/></w:pPr><w:r><w:t xml:space="preserve">{t}</w:t></w:r></w:p></w:tc>'
    )
    # Rows never split across pages; the header row also repeats at the top of every page (w:tblHeader).
    tr_pr = '<w:trPr><w:cantSplit/><w:trHeight w:val="510"/>{}<w:jc w:val="center"/></w:trPr>'
    shell = (
        f'<w:tbl><w:tblPr><w:tblStyle w:val="{ids[T.STYLE_TABLE]}"/><w:tblW w:w="{sum(w)}" w:type="dxa"/>'
        '<w:jc w:val="center"/><w:tblLayout w:type="fixed"/>'
        '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="1" w:firstColumn="0" w:lastColumn="0" w:noHBand="1" w:noVBand="1"/>'
        "</w:tblPr><w:tblGrid>"
        + "".join(f'<w:gridCol w:w="{x}"/>' for x in w)
        + "</w:tblGrid><w:tr>" + tr_pr.format("<w:tblHeader/>")
        + "".join(cell.format(w=w[i], s=header_id, t=_x(h)) for i, h in enumerate(HEADERS))
        + "</w:tr></w:tbl>"
    )
    # The body-row cells with everything but the text filled in, so the loop below only formats six strings.
    c = [cell.format(w=w[i], s=amount_id if i == 5 else text_id, t="{}") for i in range(6)]
    row = "<w:tr>" + tr_pr.format("") + "".join(c) + "</w:tr>"
    fmt, x = row.format, _x
    parts = [fmt(no, x(village), x(name), size, cause, amount) for no, village, name, size, cause, amount in table_rows(doc)]
    label, households, persons, amount = total_cells(doc)
    parts.append(
        "<w:tr>" + tr_pr.format("")
        + f'<w:tc><w:tcPr><w:tcW w:w="{w[0] + w[1]}" w:type="dxa"/><w:gridSpan w:val="2"/><w:vAlign w:val="center"/></w:tcPr>'
        f'<w:p><w:pPr><w:pStyle w:val="{header_id}"/></w:pPr><w:r><w:t>{label}</w:t></w:r></w:p></w:tc>'
        + c[2].format(households) + c[3].format(persons) + c[4].format("") + c[5].format(amount)
        + "</w:tr>"
    )
    return shell, "".join(parts)


def _body_xml(doc: NoticeDocument, ids: dict[str, str]) -> tuple[str, str]:
    """The body (with the table's header row only) and the table's other rows, as XML strings."""
    body = ids[T.STYLE_BODY]
    sig = ids[T.STYLE_SIGNATURE]
    shell, rows = _table_xml(doc, ids)
    parts = [_title_para(ids[T.STYLE_TITLE], title_lines(doc))]
    if doc.shown_number:
        parts.append(_para(ids[T.STYLE_NUMBER], doc.shown_number))
    parts.append(_para(body, intro_text(doc)))
    parts.append(shell)
    parts.append(_para(body, ""))
    parts.append(_para(body, period_text(doc)))
    parts.append(_para(body, ""))
    parts.append(_para(sig, doc.issuing_body.strip()))
    parts.append(_para(sig, chinese_date(doc.issued_on)))
    return "".join(parts), rows


def replace_body(document: DocumentObject, body_xml: str):  # type: ignore[no-untyped-def]
    """Put `body_xml` (paragraphs and tables as a string) in place of the template's body, keeping its page setup
    (the last w:sectPr); returns the body element."""
    body = document.element.body
    sect_pr = body.find(qn("w:sectPr"))
    for child in list(body):
        if child is not sect_pr:
            body.remove(child)
    for child in list(parse_xml(f"<w:body {nsdecls('w')}>{body_xml}</w:body>")):
        if sect_pr is not None:
            sect_pr.addprevious(child)
        else:
            body.append(child)
    return body


def build_notice(doc: NoticeDocument, template: Path | None = None) -> DocumentObject:
    """The notice as a python-docx Document (for callers that want to add to it before saving)."""
    document = _open_template(template)
    ids = _style_ids(document)
    # The XML is written as strings and parsed once, then moved into the template's tree. lxml moves a subtree
    # between documents in time that grows with the square of its size, so the table's rows are parsed apart and
    # moved one by one (linear), not inside the table.
    body_xml, rows_xml = _body_xml(doc, ids)
    body = replace_body(document, body_xml)
    table = body.find(qn("w:tbl"))
    for tr in list(parse_xml(f"<w:tbl {nsdecls('w')}>{rows_xml}</w:tbl>")):
        table.append(tr)

    cp = document.core_properties
    cp.title = "".join(title_lines(doc))
    cp.subject = "公示"
    cp.author = doc.issuing_body.strip()
    cp.last_modified_by = doc.issuing_body.strip()
    cp.comments = ""
    cp.keywords = ""
    cp.category = ""
    cp.revision = 1
    cp.created = datetime.combine(doc.issued_on, time())
    cp.modified = datetime.combine(doc.issued_on, time())
    return document


def render_notice(doc: NoticeDocument, template: Path | None = None) -> bytes:
    """The notice as .docx bytes, built on `template` (default: templates/notice.docx)."""
    out = io.BytesIO()
    build_notice(doc, template).save(out)
    return out.getvalue()


# --- previews --------------------------------------------------------------------------------------------------------


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


def render_notice_text(doc: NoticeDocument) -> str:
    """A plain-text preview (no markup: escape it, or put it in a text node, before showing it in a page)."""
    rows = [HEADERS, *table_rows(doc)]
    label, households, persons, amount = total_cells(doc)
    rows.append((label, "", households, persons, "", amount))
    widths = [max(_width(r[i]) for r in rows) for i in range(6)]
    lines = [*title_lines(doc)]
    if doc.shown_number:
        lines.append(doc.shown_number)
    lines += ["", intro_text(doc), ""]
    for r in rows:
        lines.append("  ".join(_pad(v, widths[i], right=i in (0, 3, 5) and r is not HEADERS) for i, v in enumerate(r)).rstrip())
    lines += ["", period_text(doc), "", doc.issuing_body.strip(), chinese_date(doc.issued_on)]
    return "\n".join(_CONTROL.sub("", line) for line in lines) + "\n"


def render_notice_html(doc: NoticeDocument) -> str:
    """An HTML fragment (every value escaped): title, period, the table with its total, issuer and date."""
    e = html.escape
    out = ['<section class="notice">', "<h1>" + "<br>".join(e(t) for t in title_lines(doc)) + "</h1>"]
    if doc.shown_number:
        out.append(f'<p class="notice-number">{e(doc.shown_number)}</p>')
    out.append(f"<p>{e(intro_text(doc))}</p>")
    out.append('<table class="notice-table">')
    out.append("<thead><tr>" + "".join(f'<th scope="col">{e(h)}</th>' for h in HEADERS) + "</tr></thead>")
    out.append("<tbody>")
    for r in table_rows(doc):
        out.append(
            "<tr>" + "".join(f'<td class="num">{e(v)}</td>' if i in (0, 3, 5) else f"<td>{e(v)}</td>" for i, v in enumerate(r))
            + "</tr>"
        )
    out.append("</tbody>")
    label, households, persons, amount = total_cells(doc)
    out.append(
        f'<tfoot><tr><th scope="row" colspan="2">{e(label)}</th><td>{e(households)}</td><td class="num">{e(persons)}</td>'
        f'<td></td><td class="num">{e(amount)}</td></tr></tfoot>'
    )
    out.append("</table>")
    out.append(f'<p class="notice-period">{e(period_text(doc))}</p>')
    out.append(f'<p class="notice-signature">{e(doc.issuing_body.strip())}<br>{e(chinese_date(doc.issued_on))}</p>')
    out.append("</section>")
    return "\n".join(_CONTROL.sub("", line) for line in out) + "\n"
