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


# The town's answer held back in the page (htmx sends through XMLHttpRequest) until the village has been picked: a
# quick hand on a slow connection, or a test's clerk on a busy machine.
SLOW_PLACES = """(() => {
  const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) { this.url = String(url); return open.apply(this, arguments); };
  XMLHttpRequest.prototype.send = function () {
    if (!this.url.includes('/places/fields')) return send.apply(this, arguments);
    setTimeout(() => send.apply(this, arguments), 1500);
  };
})();"""


def test_a_village_picked_before_the_towns_answer_stays_picked(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    try:
        page.add_init_script(SLOW_PLACES)
        page.goto(server + "/applications/new")
        page.fill("#f-username", "clerk")
        page.fill("#f-password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(server + "/applications/new")
        page.select_option("#f-town", "河口镇")
        page.select_option("#f-village", "渡口村")  # from the list of every village, the town's answer not yet in
        page.wait_for_selector("#f-village optgroup", state="detached")  # now it is: the town's villages only
        assert page.input_value("#f-town") == "河口镇"
        assert page.input_value("#f-village") == "渡口村"
        # a village of another town is not kept: the new town's list does not offer it
        page.select_option("#f-town", "城关镇")
        page.select_option("#f-village", "渡口村")
        page.wait_for_selector("#f-village option[value='北村']", state="attached")  # 城关镇's villages
        assert page.input_value("#f-village") == ""
    finally:
        page.close()
