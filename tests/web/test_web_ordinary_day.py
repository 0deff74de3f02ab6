"""What a clerk, a county reviewer and a finance officer meet on an ordinary day, read as they read it: a county by
its name, not its code alone."""

from __future__ import annotations

import re


def test_the_fund_page_names_the_contracts_county(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("fin-day", "finance")
    fund = pages.get("/fund").text
    line = re.search(r"合同 demo-2020 · 县（区）([^·<]*)·", fund)
    assert line and line.group(1).strip() == "示范县（340223）", line and line.group(0)
