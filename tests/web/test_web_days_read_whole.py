"""A day or a time alone in a table cell is read whole on a phone: in a narrow column 2026-12-06 broke after its
first hyphen (2026- / 12-06) on the schedule, the case page, the home page and a dozen lists."""

from __future__ import annotations

import re
from pathlib import Path

from factories import make_case

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "web"
# a cell (no class `when`) whose first words are a day or a time: `{{ x|day }}`, `{{ x|day if x else "—" }}`
BARE = re.compile(r'<td(?: class="(?![^"]*\bwhen\b)[^"]*")?>\s*\{\{[^}]*\|(?:day|moment)\b')


def test_every_cell_that_shows_only_a_day_or_a_time_is_read_whole() -> None:
    bare = [f"{t.name}: {m.group(0)}" for t in sorted(TEMPLATES.glob("*.html"))
            for m in re.finditer(BARE, t.read_text("utf-8"))]
    assert not bare, "\n".join(bare)


def test_the_case_page_shows_its_days_whole(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", head_name="孙整日")
    pages.as_("sup-whole", "insurer_supervisor")
    case = pages.get(f"/cases/{case_id}").text
    assert re.search(r'<td class="when">\d{4}-\d\d-\d\d</td>', case), "a visit's day"
    assert not re.search(r"<td>\d{4}-\d\d-\d\d", case)
    assert re.search(r'<td><span class="when">\d{4}-\d\d-\d\d</span>', case), "the visit's deadline"
    css = pages.get("/static/app.css").text
    assert re.search(r"^\.when \{ white-space: nowrap; \}", css, re.M)
