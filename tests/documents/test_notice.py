"""The public notice (公示) as .docx: content, masking, GB/T 9704 page setup, the template, previews, LibreOffice."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from lxml import etree

from verifier.domain.errors import ValidationFailed
from verifier.documents import make_templates
from verifier.documents.notice import HEADERS, NoticeDocument, NoticeRow
from verifier.documents.notice_docx import DEFAULT_TEMPLATE, render_notice
from verifier.documents.notice_preview import render_notice_html, render_notice_text

ID_LIKE = re.compile(r"\d{17}[\dX]")
FULL_NAMES = ("张三丰", "欧阳娜娜", "李四", "王五")
CAUSES = ("illness", "disaster", "schooling")
LABELS = {"illness": "因病", "disaster": "因灾", "schooling": "因学"}


def make_rows(n: int) -> list[NoticeRow]:
    return [
        NoticeRow(
            village=("东庄村", "西岗村", "南河村")[i % 3],
            head_name=FULL_NAMES[i % len(FULL_NAMES)],
            household_size=1 + i % 6,
            cause=CAUSES[i % 3],  # type: ignore[arg-type]
            relief_amount=100_000 + 137 * i + (i % 100),
        )
        for i in range(n)
    ]


def make_notice(n: int = 5, *, mask_names: bool = True, **changes: object) -> NoticeDocument:
    fields: dict[str, object] = dict(
        issuing_body="示范县某某镇人民政府",
        title="关于2020年度防贫帮困保障金拟救助对象的公示",
        county="示范县",
        town="某某镇",
        village="东庄村",
        posted_on=date(2020, 6, 3),
        ends_on=date(2020, 6, 9),
        objection_place="某某镇人民政府民政办公室",
        objection_phone="0371-1234567",
        issued_on=date(2020, 6, 3),
        rows=make_rows(n),
        mask_names=mask_names,
        number="某政公〔2020〕3号",
    )
    fields.update(changes)
    return NoticeDocument(**fields)  # type: ignore[arg-type]


def yuan(fen: int) -> str:
    """As the county's offices write money on paper: 114,500.00."""
    return f"{fen // 100:,}.{fen % 100:02d}"


def open_docx(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


def xml_parts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name).decode("utf-8") for name in z.namelist() if name.endswith((".xml", ".rels"))}


def rfonts(element) -> dict[str, str]:  # type: ignore[no-untyped-def]
    rpr = element.find(qn("w:rPr"))
    fonts = rpr.find(qn("w:rFonts")) if rpr is not None else None
    if fonts is None:
        return {}
    return {k.split("}")[1]: v for k, v in fonts.attrib.items()}


# --- content ---------------------------------------------------------------------------------------------------------


def test_title_number_period_objection_and_signature() -> None:
    notice = make_notice(5)
    document = open_docx(render_notice(notice))
    paragraphs = [p for p in document.paragraphs if p.text.strip()]
    assert paragraphs[0].text == "关于2020年度防贫帮困保障金拟救助对象的公示"
    assert paragraphs[0].style.name == "Notice Title"
    assert paragraphs[1].text == "某政公〔2020〕3号"
    texts = [p.text for p in paragraphs]
    assert "公示期为2020年6月3日至2020年6月9日。公示期内如有异议，请向某某镇人民政府民政办公室反映。联系电话：0371-1234567。" in texts
    assert texts[-2:] == ["示范县某某镇人民政府", "2020年6月3日"]
    for p in paragraphs[-2:]:
        assert p.style.name == "Notice Signature"
        assert p.style.paragraph_format.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.RIGHT
    # The opening paragraph states the count and the total.
    total = sum(r.relief_amount for r in notice.rows)
    assert any("共5户" in t and yuan(total) in t for t in texts)
    assert document.core_properties.title == notice.title
    assert document.core_properties.author == "示范县某某镇人民政府"


def test_title_line_breaks_are_kept() -> None:
    document = open_docx(render_notice(make_notice(2, title="关于2020年度防贫帮困保障金\n拟救助对象的公示")))
    assert document.paragraphs[0].text == "关于2020年度防贫帮困保障金\n拟救助对象的公示"


def test_table_header_rows_and_total() -> None:
    notice = make_notice(7)
    document = open_docx(render_notice(notice))
    assert len(document.tables) == 1
    table = document.tables[0]
    assert len(table.rows) == 1 + 7 + 1
    assert [c.text for c in table.rows[0].cells] == list(HEADERS)
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    for i, (row, source) in enumerate(zip(table.rows[1:-1], notice.rows), start=1):
        name = source.head_name[0] + "*" * (len(source.head_name) - 1)
        assert [c.text for c in row.cells] == [
            str(i), source.village, name, str(source.household_size), LABELS[source.cause], yuan(source.relief_amount),
        ]
    total_fen = 0
    persons = 0
    for source in notice.rows:
        total_fen += source.relief_amount
        persons += source.household_size
    total = [c.text for c in table.rows[-1].cells]
    assert total[0] == "合计" and total[1] == "合计"  # one cell spanning two grid columns
    assert total[2:] == ["7户", f"{persons}人", "", yuan(total_fen)]
    for row in table.rows:
        assert row._tr.trPr.find(qn("w:cantSplit")) is not None


def test_full_names_are_shown_when_the_contract_allows() -> None:
    notice = make_notice(4, mask_names=False)
    table = open_docx(render_notice(notice)).tables[0]
    assert [row.cells[2].text for row in table.rows[1:-1]] == list(FULL_NAMES)


def test_masked_names_leave_no_full_name_in_any_part() -> None:
    notice = make_notice(8, mask_names=True)
    data = render_notice(notice)
    table = open_docx(data).tables[0]
    assert [row.cells[2].text for row in table.rows[1:5]] == ["张**", "欧***", "李*", "王*"]
    for name, xml in xml_parts(data).items():
        for full in FULL_NAMES:
            assert full not in xml, f"{full} in {name}"
    for full in FULL_NAMES:
        assert full not in render_notice_text(notice)
        assert full not in render_notice_html(notice)


def test_no_id_number_diagnosis_phone_or_account_column() -> None:
    data = render_notice(make_notice(30))
    for name, xml in xml_parts(data).items():
        assert not ID_LIKE.search(xml), f"an ID-like number in {name}"
    header = [c.text for c in open_docx(data).tables[0].rows[0].cells]
    for word in ("身份证", "诊断", "病种", "电话", "账号", "银行"):
        assert not any(word in h for h in header)


@pytest.mark.parametrize(
    "changes",
    [
        {"rows": [NoticeRow("东庄村", "11010519491231002X", 3, "illness", 100)]},
        {"rows": [NoticeRow("东庄村 6222021234567890123", "张三", 3, "illness", 100)]},
        {"intro": "张三（身份证号110105194912310021）"},
    ],
)
def test_id_or_account_numbers_in_any_field_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationFailed) as info:
        make_notice(**changes)  # type: ignore[arg-type]
    assert "不能含有身份证号或银行账号" in str(info.value)


def test_bad_input_is_refused_with_every_problem() -> None:
    rows = [NoticeRow("东庄村", "张三", 0, "flood", 1.5)]  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as info:
        make_notice(rows=rows, ends_on=date(2020, 6, 1), issuing_body=" ")
    fields = {e.field for e in info.value.errors}
    assert {"rows.household_size", "rows.cause", "rows.relief_amount", "ends_on", "issuing_body"} <= fields
    with pytest.raises(ValidationFailed):
        make_notice(rows=[])


def test_markup_in_values_is_escaped() -> None:
    rows = [NoticeRow("<b>东庄村</b> & 西岗", "张三", 2, "illness", 12345)]
    notice = make_notice(rows=rows)
    table = open_docx(render_notice(notice)).tables[0]
    assert table.rows[1].cells[1].text == "<b>东庄村</b> & 西岗"
    html = render_notice_html(notice)
    assert "<b>" not in html and "&lt;b&gt;东庄村&lt;/b&gt; &amp; 西岗" in html


# --- layout ----------------------------------------------------------------------------------------------------------


def test_page_setup_is_gb_t_9704() -> None:
    document = open_docx(render_notice(make_notice(3)))
    section = document.sections[0]
    for value, mm in (
        (section.page_width, 210), (section.page_height, 297), (section.top_margin, 37),
        (section.bottom_margin, 35), (section.left_margin, 28), (section.right_margin, 26),
    ):
        assert value is not None and abs(value.mm - mm) <= 0.1, (value, mm)


def test_fonts_and_sizes() -> None:
    document = open_docx(render_notice(make_notice(3)))
    normal = document.styles["Normal"]
    assert normal.font.size.pt == 16
    assert rfonts(normal.element)["ascii"] == "仿宋" and rfonts(normal.element)["eastAsia"] == "仿宋"
    body = document.styles["Notice Body"]
    assert body.font.size.pt == 16
    assert rfonts(body.element)["ascii"] == "仿宋" and rfonts(body.element)["eastAsia"] == "仿宋"
    # Every non-table paragraph but the title uses a 仿宋 16 pt style.
    for p in document.paragraphs[1:]:
        assert p.style.font.size.pt == 16 and rfonts(p.style.element)["eastAsia"] == "仿宋", p.style.name
    title = document.paragraphs[0]
    assert title.style.font.size.pt == 22
    assert title.style.paragraph_format.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.CENTER
    assert rfonts(title.style.element)["eastAsia"] == make_templates.TITLE_FONT
    # The fallback for the title font is declared in the font table.
    fonts = etree.fromstring(xml_parts(render_notice(make_notice(1)))["word/fontTable.xml"].encode())
    alt = fonts.xpath("//w:font[@w:name=$n]/w:altName/@w:val", n=make_templates.TITLE_FONT,
                      namespaces={"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"})
    assert alt == ["宋体"]


def test_footer_has_a_page_field_on_odd_and_even_pages() -> None:
    document = open_docx(render_notice(make_notice(3)))
    assert document.settings.odd_and_even_pages_header_footer
    section = document.sections[0]
    for footer in (section.footer, section.even_page_footer):
        xml = etree.tostring(footer._element, encoding="unicode")
        assert "PAGE" in xml and 'fldCharType="begin"' in xml
        assert footer.paragraphs[0].text.startswith("— ") and footer.paragraphs[0].text.endswith(" —")


def test_300_rows_repeat_the_header_and_never_split() -> None:
    data = render_notice(make_notice(300))
    xml = xml_parts(data)["word/document.xml"]
    assert xml.count("<w:tblHeader/>") == 1
    assert xml.count("<w:cantSplit/>") == 302
    table = open_docx(data).tables[0]
    assert len(table.rows) == 302
    assert table.rows[-2].cells[0].text == "300"


# --- the template ----------------------------------------------------------------------------------------------------


def _settings_of(data: bytes) -> dict[str, object]:
    document = open_docx(data)
    section = document.sections[0]
    styles = {
        name: (rfonts(document.styles[name].element), document.styles[name].font.size)
        for name in make_templates.NOTICE_STYLES if document.styles[name].type == docx.enum.style.WD_STYLE_TYPE.PARAGRAPH
    }
    return {
        "page": [section.page_width, section.page_height, section.top_margin, section.bottom_margin,
                 section.left_margin, section.right_margin, section.header_distance, section.footer_distance],
        "grid": dict(section._sectPr.find(qn("w:docGrid")).attrib),
        "normal": (rfonts(document.styles["Normal"].element), document.styles["Normal"].font.size),
        "styles": styles,
        "even_odd": document.settings.odd_and_even_pages_header_footer,
        "footers": [etree.tostring(f._element, method="c14n") for f in (section.footer, section.even_page_footer)],
        "body": [child.tag for child in document.element.body],
    }


def test_the_committed_template_matches_a_fresh_build() -> None:
    assert DEFAULT_TEMPLATE.is_file(), "templates/notice.docx is missing: run python -m verifier.documents.make_templates"
    committed = DEFAULT_TEMPLATE.read_bytes()
    fresh = make_templates.notice_template_bytes()
    assert _settings_of(fresh) == _settings_of(committed)
    old, new = xml_parts(committed), xml_parts(fresh)
    assert old.keys() == new.keys()
    for name in old:
        canon = [etree.tostring(etree.fromstring(x.encode()), method="c14n") for x in (old[name], new[name])]
        assert canon[0] == canon[1], f"{name} differs: run python -m verifier.documents.make_templates"


def test_the_template_build_is_reproducible_and_empty(tmp_path: Path) -> None:
    assert make_templates.notice_template_bytes() == make_templates.notice_template_bytes()
    (path,) = make_templates.write_templates(tmp_path)
    document = docx.Document(str(path))
    assert [child.tag for child in document.element.body] == [qn("w:sectPr")]
    assert abs(document.sections[0].top_margin.mm - 37) <= 0.1
    # The generated notice is the same whether built on the committed template or on a fresh copy.
    notice = make_notice(4)
    assert xml_parts(render_notice(notice, path))["word/document.xml"] == xml_parts(render_notice(notice))["word/document.xml"]


def test_a_template_without_the_styles_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "plain.docx"
    docx.Document().save(str(plain))
    with pytest.raises(ValueError, match="Notice Title"):
        render_notice(make_notice(1), plain)


# --- previews --------------------------------------------------------------------------------------------------------


def test_text_preview_has_title_period_rows_and_total() -> None:
    notice = make_notice(6)
    text = render_notice_text(notice)
    lines = text.splitlines()
    assert lines[0] == notice.title
    assert "公示期为2020年6月3日至2020年6月9日。" in text
    total = sum(r.relief_amount for r in notice.rows)
    assert lines[[i for i, line in enumerate(lines) if line.startswith("序号")][0] + 7].startswith("合计")
    assert yuan(total) in text and "6户" in text
    for r in notice.rows:
        assert yuan(r.relief_amount) in text
    assert "2020年6月3日" in lines[-1]


def test_html_preview_is_a_table_fragment() -> None:
    notice = make_notice(3)
    html = render_notice_html(notice)
    assert html.count("<tr>") == 1 + 3 + 1
    assert "<th scope=\"col\">户主姓名</th>" in html
    assert f"<td class=\"num\">{yuan(sum(r.relief_amount for r in notice.rows))}</td>" in html
    assert "张**" in html and "公示期为2020年6月3日至2020年6月9日。" in html


# --- LibreOffice -----------------------------------------------------------------------------------------------------


def _pdf_pages(pdf: Path) -> int:
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo:
        out = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, timeout=60)
        m = re.search(r"^Pages:\s+(\d+)", out.stdout, re.M)
        if m:
            return int(m.group(1))
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf.read_bytes()))


@pytest.mark.slow
def test_libreoffice_renders_a_300_row_notice_over_several_pages(tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice is not installed")
    source = tmp_path / "notice.docx"
    source.write_bytes(render_notice(make_notice(300)))
    out_dir = tmp_path / "out"
    command = [
        soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", "--norestore",
        "--convert-to", "pdf", "--outdir", str(out_dir), str(source),
    ]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.skip("LibreOffice did not finish within 120 s on this machine")
    except OSError as exc:
        pytest.skip(f"LibreOffice could not be started: {exc}")
    pdf = out_dir / "notice.pdf"
    if not pdf.exists():
        # No output at all: LibreOffice could not run here (half installed, no profile, missing libraries).
        pytest.skip(f"LibreOffice did not convert (exit {run.returncode}): {(run.stderr or run.stdout).strip()[:300]}")
    assert pdf.read_bytes().startswith(b"%PDF")
    pages = _pdf_pages(pdf)
    # 300 rows of at least 9 mm each in a 225 mm type area cannot fit on fewer than 12 pages.
    assert pages > 1
    assert pages >= 12, pages


def test_blank_optional_fields_are_left_out() -> None:
    notice = make_notice(2, number=" ", intro="", village=None)
    document = open_docx(render_notice(notice))
    texts = [p.text for p in document.paragraphs if p.text.strip()]
    assert texts[0] == notice.title
    assert texts[1].startswith("经入户核查、村级评议，示范县某某镇拟享受")
    assert "number" not in render_notice_html(notice)
