"""The budget meeting's workbook for `verifier contracts simulate FILE --xlsx OUT`: every household's relief as
determined and as the proposed contract would price it, totals by cause and group, and who gains and who loses.

Amounts are numbers (yuan, two decimals) so the county can sum and chart them; names are masked (张*三): the file
travels to a meeting, and the case id finds the household in the system.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..checks.simulate import Simulation
from ..contract import Contract
from ..domain.cells import escape_row
from ..domain.masking import mask_name

YUAN = "#,##0.00"


def _yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[object]], money: set[int],
           first: bool = False) -> None:
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(escape_row(row))
    for col in money:
        for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.number_format = YUAN
    for i, name in enumerate(header, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, len(name) * 2 + 4)
    ws.freeze_panes = "A2"


def simulation_workbook(result: Simulation, contract: Contract, *, causes: Mapping[str, str],
                        groups: Mapping[str, str], made_at: datetime) -> bytes:
    wb = Workbook()
    cases = sorted(result.cases, key=lambda c: (c.town, c.village, c.case_id))
    _sheet(wb, "逐户测算", ["案件", "乡镇", "村", "户主", "致贫原因", "户类型", "现行救助金额（元）",
                          f"按{contract.id}测算（元）", "变化（元）", "增减"],
           [[c.case_id, c.town, c.village, mask_name(c.head_name), causes.get(c.cause, c.cause),
             groups.get(c.group, c.group), _yuan(c.current), _yuan(c.proposed), _yuan(c.proposed - c.current),
             "增加" if c.proposed > c.current else "减少" if c.proposed < c.current else "不变"] for c in cases],
           money={7, 8, 9}, first=True)
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])  # gaining, losing, same
    for c in result.cases:
        tally[(c.cause, c.group)][0 if c.proposed > c.current else 1 if c.proposed < c.current else 2] += 1
    lines = sorted(result.lines.items())
    _sheet(wb, "按原因和户类型汇总", ["致贫原因", "户类型", "户数", "现行救助合计（元）", "测算救助合计（元）", "变化（元）",
                                "增加户数", "减少户数", "不变户数"],
           [[causes.get(cause, cause), groups.get(group, group), line.cases, _yuan(line.current),
             _yuan(line.proposed), _yuan(line.proposed - line.current), *tally[(cause, group)]]
            for (cause, group), line in lines]
           + [["合计", "", sum(line.cases for _, line in lines), _yuan(result.current), _yuan(result.proposed),
               _yuan(result.proposed - result.current), result.gaining, result.losing,
               len(result.cases) - result.gaining - result.losing]],
           money={4, 5, 6})
    _sheet(wb, "说明", ["项目", "内容"], [
        ["测算合同", f"{contract.id} {contract.spec.title}"],
        ["生成时间", made_at.strftime("%Y-%m-%d %H:%M")],
        ["测算户数", len(result.cases)],
        ["现行救助合计（元）", _yuan(result.current)],
        ["测算救助合计（元）", _yuan(result.proposed)],
        ["增加户数", result.gaining],
        ["减少户数", result.losing],
        ["新合同无对应救助规则的案件数", len(result.not_covered)],
        ["口径", "已认定符合条件的案件，按其认定时的累计支出基础与家庭人口重新计价"],
    ], money=set())
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
