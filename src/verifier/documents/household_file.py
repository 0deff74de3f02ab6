"""The household file (一户一档) as a .docx to print: on the notice's template (GB/T 9704-2012 page, the same styles
and fonts), a title, the household's facts, then each section of the file as a table and the timeline of audit
entries. The tables use the template's table style at 五号 (10.5 pt) so that many columns fit the type area; header
rows repeat on each page and rows do not split.

The document is for paper: no cell may hold a full ID or account number (a run of 15 or more digits) — the file is
masked before it gets here, and this refuses one that is not.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from . import make_templates as T
from .notice import _LONG_DIGITS, chinese_date
from .notice_docx import _open_template, _para, _style_ids, _title_para, _x, replace_body
from .notice_preview import _width

TYPE_AREA = 8844  # twips: 210 mm less the 28 mm and 26 mm margins
SMALL = '<w:rPr><w:sz w:val="21"/><w:szCs w:val="21"/></w:rPr>'  # 五号
TIGHT = '<w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0" w:line="300" w:lineRule="auto"/>'  # off the grid
HEADING = ('<w:rPr><w:rFonts w:ascii="{f}" w:hAnsi="{f}" w:eastAsia="{f}"/><w:b/></w:rPr>'
           .format(f=T.HEADER_FONT))


@dataclass(frozen=True)
class FileTable:
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class HouseholdDocument:
    title: str
    facts: Sequence[tuple[str, str]]
    tables: Sequence[FileTable]
    issued_on: date
    footer: str  # who printed it, and when


def _check(doc: HouseholdDocument) -> None:
    texts = [doc.title, doc.footer, *(x for f in doc.facts for x in f)]
    for t in doc.tables:
        texts += [t.title, *t.header, *(c for r in t.rows for c in r)]
    if any(_LONG_DIGITS.search(s) for s in texts):
        raise ValueError("a household file document must not contain a full ID or account number")


def _heading(style_id: str, text: str) -> str:
    return (f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/><w:keepNext/><w:ind w:firstLineChars="0" w:firstLine="0"/>'
            f'</w:pPr><w:r>{HEADING}<w:t xml:space="preserve">{_x(text)}</w:t></w:r></w:p>')


def _table(t: FileTable, ids: dict[str, str]) -> str:
    # Each column as wide as its longest text asks (a Chinese character two digits' worth; between 6 and 36), the
    # whole type area filled.
    n = max(1, len(t.header))
    wants = [min(36, max(6, _width(str(t.header[i])),
                         *(_width(str(r[i])) for r in t.rows if i < len(r)))) for i in range(n)]
    widths = [TYPE_AREA * w // sum(wants) for w in wants]
    widths[-1] += TYPE_AREA - sum(widths)

    def cell(i: int, text: str, style: str) -> str:
        return (f'<w:tc><w:tcPr><w:tcW w:w="{widths[i]}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
                f'<w:p><w:pPr><w:pStyle w:val="{style}"/>{TIGHT}</w:pPr><w:r>{SMALL}'
                f'<w:t xml:space="preserve">{_x(text)}</w:t></w:r></w:p></w:tc>')

    head = ('<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>'
            + "".join(cell(i, h, ids[T.STYLE_TABLE_HEADER]) for i, h in enumerate(t.header)) + "</w:tr>")
    body = "".join('<w:tr><w:trPr><w:cantSplit/></w:trPr>'
                   + "".join(cell(i, str(v), ids[T.STYLE_TABLE_TEXT]) for i, v in enumerate(row)) + "</w:tr>"
                   for row in t.rows)
    return (f'<w:tbl><w:tblPr><w:tblStyle w:val="{ids[T.STYLE_TABLE]}"/><w:tblW w:w="{TYPE_AREA}" w:type="dxa"/>'
            '<w:jc w:val="center"/><w:tblLayout w:type="fixed"/></w:tblPr><w:tblGrid>'
            + "".join(f'<w:gridCol w:w="{w}"/>' for w in widths) + "</w:tblGrid>" + head + body + "</w:tbl>")


def render_household_file(doc: HouseholdDocument) -> bytes:
    _check(doc)
    document = _open_template(None)
    ids = _style_ids(document)
    body = ids[T.STYLE_BODY]
    parts = [_title_para(ids[T.STYLE_TITLE], [doc.title]), _para(body, "")]
    parts.append(_table(FileTable("", ["项目", "内容"], [list(f) for f in doc.facts]), ids))
    for t in doc.tables:
        parts.append(_heading(body, t.title))
        parts.append(_table(t, ids) if t.rows else _para(body, "无"))
    parts.append(_para(body, ""))
    parts.append(_para(ids[T.STYLE_SIGNATURE], doc.footer))
    parts.append(_para(ids[T.STYLE_SIGNATURE], chinese_date(doc.issued_on)))
    replace_body(document, "".join(parts))
    cp = document.core_properties
    cp.title, cp.subject, cp.author = doc.title, "一户一档", ""
    cp.last_modified_by, cp.comments, cp.keywords, cp.category = "", "", "", ""
    cp.revision = 1
    cp.created = cp.modified = datetime.combine(doc.issued_on, time())
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
