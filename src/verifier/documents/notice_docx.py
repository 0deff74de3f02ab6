"""The public notice (公示) as a Word document (see `notice` for what it holds and refuses).

The .docx is built on `templates/notice.docx` (see `make_templates`), which carries the GB/T 9704-2012 page setup,
the styles and the footer page numbers; this module only adds the body. The table is written as one XML string and
parsed once, which is several times faster than python-docx's row-by-row API for notices of hundreds of rows. The
other documents (`letter`, `household_file`) build their bodies with the same template and XML helpers.
"""

from __future__ import annotations

import io
from datetime import datetime, time
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape as _xml_escape

import docx
from docx.document import Document as DocumentObject
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn

from . import make_templates as T
from .notice import (_CONTROL, HEADERS, NoticeDocument, chinese_date, intro_text, period_text, table_rows, title_lines,
                     total_cells)

# Column widths in twips; they add up to the 156 mm type area (8844 twips).
COLUMN_WIDTHS = (794, 1588, 1361, 1361, 1361, 2379)

DEFAULT_TEMPLATE = T.TEMPLATES_DIR / T.NOTICE_TEMPLATE


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
