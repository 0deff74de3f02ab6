"""The clerk in the demo: the application form proposes today (the demo's contract is in force), the town select
narrows the village select to that town's villages, and the application is saved."""

from __future__ import annotations

from datetime import date

from browserkit import DEMO_PASSWORD

from verifier.clock import Clock
from verifier.domain.idnumber import make_id_number


def test_the_clerk_picks_town_then_village_and_the_default_date_is_accepted(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    try:
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(server + "/applications/new")
        page.fill("#f-username", "clerk")
        page.fill("#f-password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(server + "/applications/new")
        assert page.input_value("#f-referred_on") == Clock().today().isoformat()
        page.select_option("#f-town", "河口镇")
        # (a selector, not a script: the page's policy forbids evaluating strings, which polling a function needs)
        page.wait_for_selector("#f-village optgroup", state="detached")
        villages = page.eval_on_selector_all("#f-village option", "os => os.map(o => o.value).filter(Boolean)")
        assert sorted(villages) == sorted(["河口村", "柳树村", "渡口村"])
        page.select_option("#f-village", "渡口村")
        page.fill("#f-name", "孙小梅")
        page.fill("#f-id_number", make_id_number("340223", date(1985, 3, 4), 321))
        page.select_option("#f-household_group", "low_income")
        page.select_option("#f-cause", "illness")
        page.fill("#f-amount", "8000")
        page.click("form[action='/applications/new'] button[type=submit]")
        page.wait_for_url("**/cases/case_*")
        assert "孙小梅" in page.content() and "渡口村" in page.content()
        assert blocked == []
    finally:
        page.close()
