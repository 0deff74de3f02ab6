"""Small helpers shared by the notices tests."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from typing import Any

import docx
from sqlalchemy import select

from verifier.store.tables import Case, Check, Determination

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DAY0 = date(2020, 6, 1)  # the `clock` fixture's day; factories check cases on it
ID_LIKE = re.compile(r"\d{17}[\dXx]")


def review(client: Any, headers: dict[str, str], case_id: str, held_on: date = DAY0, result: str = "pass",
           note: str = "") -> Any:
    return client.post(f"/api/cases/{case_id}/village-review", headers=headers,
                       json={"held_on": held_on.isoformat(), "result": result, "note": note})


def fields(response: Any) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


def status_of(ctx: Any, case_id: str) -> str:
    with ctx.db.read() as session:
        return session.get(Case, case_id).status


def relief_of(ctx: Any, case_id: str) -> int:
    with ctx.db.read() as session:
        return session.scalar(select(Determination.relief).join(Check, Check.id == Determination.check_id)
                              .where(Determination.case_id == case_id).order_by(Check.seq.desc()).limit(1))


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def printed(fen: int) -> str:
    """Money as the notice prints it (the county's offices group thousands): 114,500.00."""
    return f"{fen // 100:,}.{fen % 100:02d}"


def docx_rows(data: bytes) -> list[list[str]]:
    """The cells' text of the notice's (only) table."""
    document = docx.Document(io.BytesIO(data))
    assert len(document.tables) == 1
    rows = []
    for row in document.tables[0].rows:
        cells: list[str] = []
        last = None
        for cell in row.cells:  # a merged cell appears once per grid column it spans
            if cell._tc is not last:
                cells.append(cell.text)
            last = cell._tc
        rows.append(cells)
    return rows


def docx_xml(data: bytes) -> str:
    """Every XML part of the package, concatenated (for asserting what is nowhere in the file)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "\n".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith((".xml", ".rels")))
