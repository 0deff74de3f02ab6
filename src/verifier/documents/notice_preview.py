"""The public notice (公示) previewed as plain text and as an HTML fragment (see `notice` for what it holds)."""

from __future__ import annotations

import html
import unicodedata

from .notice import (_CONTROL, HEADERS, NoticeDocument, chinese_date, intro_text, period_text, table_rows, title_lines,
                     total_cells)


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
