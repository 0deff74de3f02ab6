"""Build the .docx templates under `templates/` (page setup, styles, footer page numbers; no content).

    python -m verifier.documents.make_templates [--out templates]

The generated files are committed; this script is how they were made and how to remake them after a change. The
output is byte-for-byte reproducible (fixed zip timestamps, fixed document properties), so regenerating an
unchanged template leaves the committed file untouched.

The notice template follows GB/T 9704-2012 (党政机关公文格式):

* A4, 210 x 297 mm; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (type area 156 x 225 mm);
  a line grid of 22 lines per page (28.95 pt pitch).
* Body ("Normal", "Notice Body"): 仿宋 三号 (16 pt), the same name in the ascii, hAnsi, eastAsia and cs slots of
  w:rFonts; "Notice Body" indents the first line by two characters.
* Title ("Notice Title"): 方正小标宋简体 二号 (22 pt), centred. A style can name one font only, so the fallback
  lives in the font table: word/fontTable.xml declares 方正小标宋简体 with w:altName 宋体, which Word uses when
  方正小标宋简体 is not installed (LibreOffice falls back through the system's font substitution). To use 宋体
  outright, change TITLE_FONT below and regenerate.
* Table: 仿宋 四号 (14 pt) cells and 黑体 四号 header cells (a three-size body font does not fit six columns in
  156 mm), single 0.5 pt rules ("Notice Table" table style).
* Page numbers: "— 1 —" in 宋体 四号, a PAGE field; odd pages right-aligned one character in from the right,
  even pages one character in from the left; about 7 mm below the type area.
"""

from __future__ import annotations

import argparse
import io
import zipfile
from datetime import datetime
from pathlib import Path

import docx
from docx.document import Document as DocumentObject
from docx.enum.section import WD_SECTION_START
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, Twips

TEMPLATES_DIR = Path(__file__).resolve().parents[3] / "templates"
NOTICE_TEMPLATE = "notice.docx"

# GB/T 9704-2012 page setup.
PAGE_WIDTH = Twips(11906)   # 210 mm
PAGE_HEIGHT = Twips(16838)  # 297 mm
MARGIN_TOP = Mm(37)
MARGIN_BOTTOM = Mm(35)
MARGIN_LEFT = Mm(28)
MARGIN_RIGHT = Mm(26)
HEADER_DISTANCE = Mm(15)
FOOTER_DISTANCE = Mm(25)    # puts the "— n —" line about 7 mm below the type area
LINE_PITCH_TWIPS = 579      # 22 lines in the 225 mm type area: 28.95 pt

BODY_FONT = "仿宋"
TITLE_FONT = "方正小标宋简体"
TITLE_FALLBACK_FONT = "宋体"
HEADER_FONT = "黑体"
PAGE_NUMBER_FONT = "宋体"

BODY_SIZE = Pt(16)         # 三号
TITLE_SIZE = Pt(22)        # 二号
TABLE_SIZE = Pt(14)        # 四号
PAGE_NUMBER_SIZE = Pt(14)  # 四号

# Style names the renderer looks up (their ids are the names without spaces).
STYLE_TITLE = "Notice Title"
STYLE_NUMBER = "Notice Number"
STYLE_BODY = "Notice Body"
STYLE_SIGNATURE = "Notice Signature"
STYLE_TABLE = "Notice Table"
STYLE_TABLE_HEADER = "Notice Table Header"
STYLE_TABLE_TEXT = "Notice Table Text"
STYLE_TABLE_AMOUNT = "Notice Table Amount"
STYLE_PAGE_NUMBER = "Notice Page Number"

NOTICE_STYLES = (
    STYLE_TITLE, STYLE_NUMBER, STYLE_BODY, STYLE_SIGNATURE, STYLE_TABLE, STYLE_TABLE_HEADER, STYLE_TABLE_TEXT,
    STYLE_TABLE_AMOUNT, STYLE_PAGE_NUMBER,
)

# Styles of the stock python-docx template that the notice keeps; the other ~160 are dropped.
_KEEP_STOCK_STYLES = {"Normal", "DefaultParagraphFont", "TableNormal", "NoList", "TableGrid"}

_FIXED_TIME = datetime(2020, 1, 1, 0, 0, 0)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# The font table: each font the template names, with the alternative Word falls back to; charset 86 = GB2312.
# (No w:panose1: its 20-digit values look like ID numbers to the scans that guard published documents.)
_FONTS: tuple[tuple[str, str, str, str], ...] = (
    # name, altName, family, pitch
    ("仿宋", "FangSong", "modern", "fixed"),
    ("宋体", "SimSun", "auto", "variable"),
    ("黑体", "SimHei", "modern", "fixed"),
    (TITLE_FONT, TITLE_FALLBACK_FONT, "auto", "variable"),
    ("Times New Roman", "", "roman", "variable"),
)

_APP_XML = (
    "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    "<Template>notice.docx</Template><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>"
    "<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged>"
    "</Properties>"
)


def _set_fonts(rpr, name: str) -> None:  # type: ignore[no-untyped-def]
    """Name one font in every w:rFonts slot (ascii, hAnsi, eastAsia, cs) and drop theme-font references."""
    rfonts = rpr.get_or_add_rFonts()
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        rfonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        rfonts.set(qn(f"w:{attr}"), name)


def _font_table_xml() -> bytes:
    fonts = []
    for name, alt, family, pitch in _FONTS:
        alt_xml = f'<w:altName w:val="{alt}"/>' if alt else ""
        charset = "00" if name == "Times New Roman" else "86"
        fonts.append(
            f'<w:font w:name="{name}">{alt_xml}<w:charset w:val="{charset}"/>'
            f'<w:family w:val="{family}"/><w:pitch w:val="{pitch}"/></w:font>'
        )
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        '<w:fonts xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">' + "".join(fonts) + "</w:fonts>"
    ).encode("utf-8")


def _trim_package(document: DocumentObject) -> None:
    """Drop the stock template's thumbnail, bibliography item and stylesWithEffects copy: nothing uses them."""
    package = document.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            del package.rels[rid]
    for rid, rel in list(document.part.rels.items()):
        if rel.reltype.endswith(("/stylesWithEffects", "/customXml")):
            del document.part.rels[rid]
    settings = document.settings.element
    for tag in ("w:savePreviewPicture", "w:attachedTemplate"):
        for el in settings.findall(qn(tag)):
            settings.remove(el)
    lang = settings.find(qn("w:themeFontLang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")


def _trim_styles(document: DocumentObject) -> None:
    styles = document.styles.element
    for style in styles.findall(qn("w:style")):
        if style.get(qn("w:styleId")) not in _KEEP_STOCK_STYLES:
            styles.remove(style)
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr, BODY_FONT)
    rpr.find(qn("w:sz")).set(qn("w:val"), str(int(BODY_SIZE.pt * 2)))
    rpr.find(qn("w:szCs")).set(qn("w:val"), str(int(BODY_SIZE.pt * 2)))
    lang = rpr.find(qn("w:lang"))
    lang.set(qn("w:eastAsia"), "zh-CN")
    ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = ppr.find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    spacing.set(qn("w:lineRule"), "auto")


def _paragraph_style(document: DocumentObject, name: str, *, font: str, size: Pt, align, base: str = "Normal"):  # type: ignore[no-untyped-def]
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles[base]
    style.quick_style = True
    style.font.size = size
    _set_fonts(style.element.get_or_add_rPr(), font)
    pf = style.paragraph_format
    pf.alignment = align
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    return style


# Children of w:pPr that come after w:snapToGrid / w:ind in the schema's sequence.
_AFTER_SNAP = ("w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
               "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
               "w:rPr", "w:sectPr", "w:pPrChange")
_AFTER_IND = _AFTER_SNAP[2:]


def _insert_in_order(ppr, element, successors: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    for tag in successors:
        follower = ppr.find(qn(tag))
        if follower is not None:
            follower.addprevious(element)
            return
    ppr.append(element)


def _no_grid_snap(style) -> None:  # type: ignore[no-untyped-def]
    """Lay the paragraph out by its own line spacing instead of the page's 28.95 pt line grid."""
    ppr = style.element.get_or_add_pPr()
    _insert_in_order(ppr, parse_xml(f'<w:snapToGrid {nsdecls("w")} w:val="0"/>'), _AFTER_SNAP)


def _indent_chars(style, *, first_line: int = 0, right: int = 0, left: int = 0, char: Pt = BODY_SIZE) -> None:  # type: ignore[no-untyped-def]
    """Indent in characters (w:firstLineChars etc., hundredths of a character) with the twips Word falls back to."""
    ppr = style.element.get_or_add_pPr()
    ind = ppr.find(qn("w:ind"))
    if ind is None:
        ind = parse_xml(f"<w:ind {nsdecls('w')}/>")
        _insert_in_order(ppr, ind, _AFTER_IND)
    twips_per_char = int(round(char.pt * 20))
    for attr, n in (("firstLine", first_line), ("right", right), ("left", left)):
        if n:
            ind.set(qn(f"w:{attr}Chars"), str(n * 100))
            ind.set(qn(f"w:{attr}"), str(n * twips_per_char))


def _add_styles(document: DocumentObject) -> None:
    normal = document.styles["Normal"]
    normal.font.size = BODY_SIZE
    _set_fonts(normal.element.get_or_add_rPr(), BODY_FONT)
    pf = normal.paragraph_format
    pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Twips(LINE_PITCH_TWIPS)
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    pf.widow_control = False

    title = _paragraph_style(document, STYLE_TITLE, font=TITLE_FONT, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER)
    title.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    title.paragraph_format.line_spacing = Pt(36)
    title.paragraph_format.space_after = Twips(LINE_PITCH_TWIPS)  # one blank line under the title
    title.paragraph_format.keep_with_next = True
    _no_grid_snap(title)

    number = _paragraph_style(document, STYLE_NUMBER, font=BODY_FONT, size=BODY_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER)
    number.paragraph_format.space_after = Twips(LINE_PITCH_TWIPS)
    number.paragraph_format.keep_with_next = True

    body = _paragraph_style(document, STYLE_BODY, font=BODY_FONT, size=BODY_SIZE, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _indent_chars(body, first_line=2)

    signature = _paragraph_style(document, STYLE_SIGNATURE, font=BODY_FONT, size=BODY_SIZE, align=WD_ALIGN_PARAGRAPH.RIGHT)
    signature.paragraph_format.keep_together = True
    _indent_chars(signature, right=2)

    cell = _paragraph_style(document, STYLE_TABLE_TEXT, font=BODY_FONT, size=TABLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER)
    cell.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    cell.paragraph_format.line_spacing = Pt(20)
    _no_grid_snap(cell)
    header = _paragraph_style(document, STYLE_TABLE_HEADER, font=HEADER_FONT, size=TABLE_SIZE,
                              align=WD_ALIGN_PARAGRAPH.CENTER, base=STYLE_TABLE_TEXT)
    header.paragraph_format.keep_with_next = True
    _paragraph_style(document, STYLE_TABLE_AMOUNT, font=BODY_FONT, size=TABLE_SIZE, align=WD_ALIGN_PARAGRAPH.RIGHT,
                     base=STYLE_TABLE_TEXT)

    page_number = _paragraph_style(document, STYLE_PAGE_NUMBER, font=PAGE_NUMBER_FONT, size=PAGE_NUMBER_SIZE,
                                   align=WD_ALIGN_PARAGRAPH.RIGHT)
    page_number.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    _no_grid_snap(page_number)

    table = document.styles.add_style(STYLE_TABLE, WD_STYLE_TYPE.TABLE)
    table.base_style = document.styles["Normal Table"]
    rule = 'w:val="single" w:sz="4" w:space="0" w:color="000000"'
    table.element.append(parse_xml(
        f"<w:tblPr {nsdecls('w')}><w:jc w:val=\"center\"/>"
        f"<w:tblBorders><w:top {rule}/><w:left {rule}/><w:bottom {rule}/><w:right {rule}/>"
        f"<w:insideH {rule}/><w:insideV {rule}/></w:tblBorders>"
        '<w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="85" w:type="dxa"/>'
        '<w:bottom w:w="0" w:type="dxa"/><w:right w:w="85" w:type="dxa"/></w:tblCellMar></w:tblPr>'
    ))


def _page_number_paragraph(style_id: str, *, even: bool) -> str:
    """ "— n —" with n a PAGE field; odd pages one character in from the right, even pages from the left."""
    side = "left" if even else "right"
    jc = "left" if even else "right"
    run = '<w:r><w:t xml:space="preserve">{}</w:t></w:r>'
    return (
        f"<w:p {nsdecls('w')}><w:pPr><w:pStyle w:val=\"{style_id}\"/>"
        f'<w:ind w:{side}Chars="100" w:{side}="{int(PAGE_NUMBER_SIZE.pt * 20)}"/><w:jc w:val="{jc}"/></w:pPr>'
        + run.format("— ")
        + '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        + '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
        + '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        + run.format("1")
        + '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        + run.format(" —")
        + "</w:p>"
    )


def _set_footer(footer, style_id: str, *, even: bool) -> None:  # type: ignore[no-untyped-def]
    footer.is_linked_to_previous = False
    ftr = footer._element
    for p in list(ftr):
        ftr.remove(p)
    ftr.append(parse_xml(_page_number_paragraph(style_id, even=even)))


def _page_setup(document: DocumentObject) -> None:
    section = document.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width = PAGE_WIDTH
    section.page_height = PAGE_HEIGHT
    section.top_margin = MARGIN_TOP
    section.bottom_margin = MARGIN_BOTTOM
    section.left_margin = MARGIN_LEFT
    section.right_margin = MARGIN_RIGHT
    section.header_distance = HEADER_DISTANCE
    section.footer_distance = FOOTER_DISTANCE
    section.gutter = Twips(0)
    sect_pr = section._sectPr
    for attr in list(sect_pr.attrib):
        del sect_pr.attrib[attr]  # drop the stock rsids
    grid = sect_pr.find(qn("w:docGrid"))
    grid.attrib.clear()
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(LINE_PITCH_TWIPS))
    document.settings.odd_and_even_pages_header_footer = True
    style_id = document.styles[STYLE_PAGE_NUMBER].style_id
    _set_footer(section.footer, style_id, even=False)
    _set_footer(section.even_page_footer, style_id, even=True)


def _core_properties(document: DocumentObject) -> None:
    cp = document.core_properties
    cp.title = "公示"
    cp.subject = "公示"
    cp.author = ""
    cp.last_modified_by = ""
    cp.comments = ""
    cp.keywords = ""
    cp.category = ""
    cp.revision = 1
    cp.created = _FIXED_TIME
    cp.modified = _FIXED_TIME


def build_notice_template() -> DocumentObject:
    """The notice template as a python-docx Document (before the font-table and zip normalisation of `notice_template_bytes`)."""
    document = docx.Document()
    _trim_package(document)
    _trim_styles(document)
    _add_styles(document)
    _page_setup(document)
    _core_properties(document)
    body = document.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    return document


def normalise_zip(data: bytes, replace: dict[str, bytes] | None = None) -> bytes:
    """Rewrite a .docx with fixed timestamps (and some parts replaced), so equal content gives equal bytes."""
    replace = replace or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = replace.get(info.filename, None)
            if blob is None:
                blob = src.read(info.filename)
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, blob)
    return out.getvalue()


def notice_template_bytes() -> bytes:
    """The bytes of templates/notice.docx, reproducible."""
    buf = io.BytesIO()
    build_notice_template().save(buf)
    return normalise_zip(buf.getvalue(), {"word/fontTable.xml": _font_table_xml(), "docProps/app.xml": _APP_XML.encode()})


def write_templates(directory: Path = TEMPLATES_DIR) -> list[Path]:
    """Write every template into `directory`; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / NOTICE_TEMPLATE
    path.write_bytes(notice_template_bytes())
    return [path]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the .docx templates.")
    parser.add_argument("--out", type=Path, default=TEMPLATES_DIR, help=f"directory to write into (default {TEMPLATES_DIR})")
    args = parser.parse_args(argv)
    for path in write_templates(args.out):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
