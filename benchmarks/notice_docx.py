"""A 1,000-row public notice as .docx, against writing the same table with bare python-docx in the same run.

The baseline is what the straightforward python-docx code does: a default document, `add_table(rows=1, cols=6)` for
the header, then `add_row().cells[i].text = ...` for every row and the total, saved to memory. The measured code
builds the full notice (template, styles, title, paragraphs, the formatted table, footer) with `render_notice`.
"""

from __future__ import annotations

import io
import random
from datetime import date

import docx

from verifier.documents.notice import HEADERS, NoticeDocument, NoticeRow, table_rows, total_cells
from verifier.documents.notice_docx import render_notice

from .harness import Result, best_of

N = 1_000

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "国建明秀英华志强军平桂芳文玉兰红伟丽"
_VILLAGES = ("东庄村", "西岗村", "南河村", "北坡村", "柳林村", "石桥村")


def sample_notice(n: int, seed: int = 2020) -> NoticeDocument:
    rng = random.Random(seed)
    rows = [
        NoticeRow(
            village=rng.choice(_VILLAGES),
            head_name=rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2)))),
            household_size=rng.randint(1, 7),
            cause=rng.choice(("illness", "illness", "illness", "disaster", "schooling")),
            relief_amount=rng.randrange(50_000, 3_000_000),
        )
        for _ in range(n)
    ]
    return NoticeDocument(
        issuing_body="示范县某某镇人民政府",
        title="关于2020年度防贫帮困保障金拟救助对象的公示",
        county="示范县", town="某某镇", village=None,
        posted_on=date(2020, 6, 3), ends_on=date(2020, 6, 9), issued_on=date(2020, 6, 3),
        objection_place="某某镇人民政府民政办公室", objection_phone="0371-1234567",
        rows=rows, mask_names=True,
    )


def _bare(cells: list[tuple[str, ...]]) -> bytes:
    document = docx.Document()
    table = document.add_table(rows=1, cols=6)
    for cell, text in zip(table.rows[0].cells, HEADERS):
        cell.text = text
    for values in cells:
        row = table.add_row().cells
        for i, text in enumerate(values):
            row[i].text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def run(scale: float = 1.0) -> list[Result]:
    n = max(50, int(N * scale))
    notice = sample_notice(n)
    label, households, persons, amount = total_cells(notice)
    cells = [*table_rows(notice), (label, "", households, persons, "", amount)]
    render_notice(notice)  # warm up: imports, the template file in the page cache
    _bare(cells)
    ours = best_of(lambda: render_notice(notice), repeat=5)
    bare = best_of(lambda: _bare(cells), repeat=5)
    return [Result("notice_docx", n, "rows", ours, bare, "bare python-docx add_row/cell.text", target=0.5)]
