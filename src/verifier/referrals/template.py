"""The import template: an .xlsx whose first sheet has the Chinese headers the importer accepts (and nothing else,
so it imports as it is once rows are added), and a second sheet explaining each column. The import page lists the
same columns."""

from __future__ import annotations

import io
from dataclasses import dataclass

from ..domain.causes import DEFAULT_TABLE, CauseTable
from .parsing import FIELDS, HEADER_ALIASES, REQUIRED_FIELDS


@dataclass(frozen=True)
class Column:
    field: str
    header: str  # the Chinese header written in the template (the importer also takes the English field name)
    required: bool
    meaning: str
    example: str


_MEANINGS: dict[str, tuple[str, str]] = {
    "id_number": ("申请人（户主）的 18 位身份证号，末位可为 X；同一人只属于一户", "340223197001010011"),
    "name": ("申请人（户主）姓名", "张三"),
    "town": ("户籍所在乡镇", "城关镇"),
    "village": ("户籍所在行政村", "东村"),
    "household_group": ("户类型：非高标准脱贫户 或 非贫低收入户", "非高标准脱贫户"),
    "cause": ("申请原因：因病、因灾 或 因学", "因病"),
    "amount": ("申报金额（元），最多两位小数：自付医疗费用、灾害损失或教育支出", "12000.00"),
    "referred_on": ("报送日期，年-月-日；不填为导入当天；须在服务合同期限内", "2026-03-15"),
    "household_size": ("家庭人口数（整数），可不填", "3"),
    "phone": ("联系电话（11 位手机号），可不填；加密保存，仅派往该户的核查员可见完整号码", "13800138000"),
    "note": ("备注，可不填", ""),
}

def columns(table: CauseTable | None = None) -> tuple[Column, ...]:
    """The columns, the causes and groups named as the contracts in force name them (`table`; default: the
    scheme's three causes and two groups)."""
    table = table or DEFAULT_TABLE
    meanings = dict(_MEANINGS)
    if table != DEFAULT_TABLE:
        meanings["cause"] = ("申请原因：" + "、".join(c.name for c in table.causes), table.causes[0].name)
        meanings["household_group"] = ("户类型：" + " 或 ".join(g.name for g in table.groups), table.groups[0].name)
        meanings["amount"] = ("申报金额（元），最多两位小数：" + "、".join(dict.fromkeys(c.basis_name for c in table.causes)),
                              _MEANINGS["amount"][1])
    return tuple(Column(f, HEADER_ALIASES[f][0], f in REQUIRED_FIELDS, *meanings[f]) for f in FIELDS)


COLUMNS: tuple[Column, ...] = columns()


def template_xlsx(table: CauseTable | None = None) -> bytes:
    """The template workbook: sheet 1 the header row (text columns, so ID numbers keep their digits), sheet 2 the
    meaning of each column with an example."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    sheet = wb.active
    sheet.title = "监测信息"
    sheet.append([c.header for c in COLUMNS])
    for i, c in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=i)
        cell.font = Font(bold=True)
        column = sheet.column_dimensions[cell.column_letter]
        column.width = 22 if c.field == "id_number" else 14
        column.number_format = "@"  # text: an ID number typed in stays 18 digits (no 3.40223E+17)
    help_sheet = wb.create_sheet("填写说明")
    help_sheet.append(["列名", "是否必填", "含义", "示例"])
    for c in columns(table):
        help_sheet.append([c.header, "必填" if c.required else "可不填", c.meaning, c.example])
    for letter, width in (("A", 12), ("B", 10), ("C", 60), ("D", 22)):
        help_sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
