"""The audit page's list names a case by its number (340223-2020-000001), linked to the case, as people refer to
it; the stored id stays below it for whoever copies it into a search."""

from __future__ import annotations

import re

from factories import make_case


def test_the_audit_list_shows_a_case_by_its_number(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    from verifier.cases.numbers import numbers_of

    case_id = make_case(ctx, stage="screened")
    with ctx.db.read() as session:
        number = numbers_of(session, [case_id])[case_id]
    pages.as_("auditor-numbers", "auditor")
    html = pages.get("/audit", params={"q": case_id}).text
    assert re.search(rf'<a href="/cases/{case_id}">{re.escape(number)}</a><br><span class="mono small">{case_id}</span>',
                     html), html[html.find("entry-list"):][:2000]
