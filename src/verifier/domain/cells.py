"""Text that a spreadsheet would run: the one check and the one escape for every cell a person opens.

A cell whose text begins with `=`, `+`, `-` or `@` is taken by Excel, WPS and LibreOffice for a formula
(`=HYPERLINK(...)` sends data away, `=cmd|...` runs a program); a leading tab or carriage return hides such a
start from a quick look. No person's or bank's name begins so, so names are refused at input
(`formula_problem`), and every CSV or xlsx export meant for people passes its text cells through
`escape_cell`, which puts an apostrophe in front (OWASP's advice: the sheet then shows the text as typed).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def starts_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_LEADS)


def formula_problem(text: str) -> str | None:
    """Why `text` may not be a name in a payee or bank field, in Chinese (不能以=开头（表格软件会把它当作公式）), or
    None when it may."""
    if starts_like_formula(text):
        lead = {"\t": "制表符", "\r": "回车符"}.get(text[0], text[0])
        return f"不能以{lead}开头（表格软件会把它当作公式）"
    return None


def escape_cell(value: Any) -> Any:
    """The cell as a spreadsheet should show it: text that would start a formula gets a leading apostrophe."""
    if isinstance(value, str) and starts_like_formula(value):
        return "'" + value
    return value


def escape_row(values: Iterable[Any]) -> list[Any]:
    return [escape_cell(v) for v in values]


def formula_cells(rows: Iterable[Iterable[Any]], header: Iterable[str]) -> list[tuple[int, str]]:
    """(line, column) of every cell that starts like a formula; lines count the header as line 1."""
    names = list(header)
    return [(number, name) for number, row in enumerate(rows, start=2) for name, value in zip(names, row)
            if isinstance(value, str) and starts_like_formula(value)]
