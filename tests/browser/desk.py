"""A person at a desk in Chromium, for the browser tests: log in as a demo user, go to pages, fill and send forms
(by default with a double click, as a tired clerk does), and check every page shown on the way:

- every message is in Chinese, and the visible text has no raw code (`usr_…`, `payment_batch.…`, `{'`, snake_case
  status names, English sentences); hashes, ids and raw records (`pre`, `code`, `.mono`, `.hash`) are left out;
- nothing was written to the console as an error and no script failed;
- no response was 4xx/5xx, unless the step said it expects a refusal (`desk.refusal(422)`).

Dates: the demo's contract covers one year (see `DEMO_YEAR`); every date a test types comes from `flow_day`, so a demo
in another year is a one-line change here.

Usage, for a new page:

    staff = Staff(browser, server)           # one tab per person for the module, each logged in once
    desk = staff.desk("clerk", start="/notices/new")
    stale = desk.second_tab(desk.path)       # the same form, open in another tab
    desk.fill({"#f-town": "城关镇"})
    assert desk.submit("form[action='/notices/new']", expect=r"done=notice") == 1  # double click: one POST
    with stale.refusal(409, 422):
        stale.submit("form[action='/notices/new']", double=False)   # sent again: refused, in Chinese
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from browserkit import DEMO_PASSWORD

from verifier.clock import Clock

# The day the flow's own paper work starts, in the county's calendar (Asia/Shanghai; after 16:00 UTC that is the
# machine's tomorrow): inside the demo's current-year contract (the notice is posted today, its period passed by moving the
# server's days on: browserkit.move_server_days).
FLOW_START = Clock().today() - timedelta(days=20)
DEMO_YEAR = FLOW_START.year


def flow_day(n: int = 0) -> str:
    """The flow's n-th day (ISO), in the demo contract's period: what a clerk types into a date field."""
    return (FLOW_START + timedelta(days=n)).isoformat()


# How long a clicked submit button may take to send its form (the browser does it at once; a loaded machine
# may take a second or two): past it, the form was kept on the page, and waiting longer for a page would be in vain.
SENT_WITHIN = 10_000
# A form's state when it was not sent: the fields the browser's own check refuses, and app.js's mark.
_FORM_STATE = """form => ({
  invalid: [...form.querySelectorAll(':invalid')].filter(e => e !== form)
    .map(e => `${e.name || e.id}=${JSON.stringify(e.value)} (${e.validationMessage})`),
  submitting: form.hasAttribute('data-submitting'),
})"""

DESK = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# What must never be read on a page (outside hashes, ids and raw records).
RAW_CODE = [
    (re.compile(r"\busr_\w+"), "a user id"),
    (re.compile(r"\{'|'\}|\{\"|\":\s"), "a Python or JSON literal"),
    (re.compile(r"\b(?:None|True|False|null|undefined|NaN|Traceback|Exception)\b"), "a code word"),
    (re.compile(r"\b[a-z]+(?:_[a-z]+)+\b"), "a snake_case code"),
    (re.compile(r"\b(?:case|cases|payment_batch|payment|payments|notice|notices|sampling|check|checks|referral|visit|"
                r"objection|payee|user|users|audit|fund)\.[a-z_]+\b"), "an action code"),
    (re.compile(r"\b[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,}){2,}\b"), "an English phrase"),
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d"), "an ISO timestamp"),
]
# Money as the pages and the documents (the `.paper` previews show a document as printed) write it is grouped
# ("114,500.00"); a bare "114500.00" is a raw value. An example of what to type ("如 1200.50") is left out: typed
# amounts are not grouped.
BARE_MONEY = re.compile(r"(?<![\d,.])(?<!如 )\d{4,}\.\d\d(?![\d%])")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _codes() -> frozenset[str]:
    """Every code a label table puts in Chinese (`received`, `low_income`, `pass`, ...): one shown alone as a
    page's text is a label that was forgotten."""
    from verifier.web import labels, stagelabels

    codes: set[str] = set()
    for module in (labels, stagelabels):
        for table in vars(module).values():
            if isinstance(table, dict):
                codes.update(k for k in table if isinstance(k, str) and re.fullmatch(r"[a-z][a-z0-9_]*", k))
    return frozenset(codes)


CODES = _codes()

# Every visible text node outside hashes, ids and raw records, and every option of every select; then the messages
# (flash, field errors, alerts), each on its own, which must be Chinese.
_VISIBLE_TEXT = """() => {
  const skip = 'pre, code, .mono, .hash, script, style, template, noscript';
  const out = [];
  const paper = [], hints = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement, t = n.textContent.trim();
    if (!t || !el || el.closest(skip)) continue;
    if (el.closest('option')) { out.push(t); continue; }
    if (el.checkVisibility && !el.checkVisibility()) continue;
    (el.closest('.paper') ? paper : out).push(t);
  }
  for (const el of document.querySelectorAll('[title], [placeholder], [aria-label], img[alt]')) {
    if (el.closest(skip)) continue;
    for (const a of ['title', 'placeholder', 'aria-label', 'alt']) {
      const t = (el.getAttribute(a) || '').trim();
      if (t) hints.push(t);
    }
  }
  const messages = [...document.querySelectorAll('.flash, .error, [role=alert]')]
    .filter(e => !e.closest(skip) && (!e.checkVisibility || e.checkVisibility()))
    .map(e => e.innerText.trim()).filter(t => t);
  return {texts: out, paper, hints, messages, title: document.title};
}"""


def page_problems(page: Any, allow: tuple[str, ...] = ()) -> list[str]:
    """What a Chinese-reading user should not see on `page`: English or ASCII-only messages, raw code."""
    seen = page.evaluate(_VISIBLE_TEXT)
    problems: list[str] = []
    if not CJK.search(seen["title"]):
        problems.append(f"title without Chinese: {seen['title']!r}")
    for message in seen["messages"]:
        if not CJK.search(message):
            problems.append(f"message without Chinese: {message!r}")
    shown = seen["texts"] + seen["messages"]
    for text in shown + seen["paper"] + seen["hints"]:
        for allowed in allow:
            text = text.replace(allowed, "")
        for pattern, what in RAW_CODE:
            m = pattern.search(text)
            if m:
                problems.append(f"{what} {m.group(0)!r} in {text[:120]!r}")
        if text in CODES:
            problems.append(f"a code without its label {text!r}")
    for text in shown + seen["paper"] + seen["hints"]:
        m = BARE_MONEY.search(text)
        if m:
            problems.append(f"money without thousands separators {m.group(0)!r} in {text[:120]!r}")
    return sorted(set(problems))


def expect_chinese_only(page: Any, allow: tuple[str, ...] = ()) -> None:
    problems = page_problems(page, allow)
    assert not problems, f"{page.url}:\n" + "\n".join(problems)


@dataclass(frozen=True)
class Shown:
    """A select's option as the user reads it (part of its text), for `Desk.fill`."""

    text: str


@dataclass
class Desk:
    """One person's browser tab, watching what goes wrong on it."""

    page: Any
    base: str
    username: str
    console: list[str] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)
    posts: list[str] = field(default_factory=list)
    expected: set[int] = field(default_factory=set)
    allow: tuple[str, ...] = ()
    # What the page sent and got, and when (seconds since the tab opened): shown when a step waits in vain.
    timeline: list[tuple[float, str]] = field(default_factory=list)
    opened: float = field(default_factory=time.monotonic)

    # ---- starting -----------------------------------------------------------------------------------------------
    @classmethod
    def login_as(cls, browser: Any, base: str, username: str, *, phone: bool = False, start: str = "/",
                 locale: str = "zh-CN", password: str = DEMO_PASSWORD) -> Desk:
        """A fresh context (no cookies), logged in through the login page, on `start`; `locale` is the browser's
        language (an office's borrowed computer may speak English); `password`: the demo's, or the kits' (a server
        on a test's own database, browserkit.serving)."""
        if phone:
            context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale=locale,
                                          timezone_id="Asia/Shanghai")
        else:
            context = browser.new_context(viewport=DESK, locale=locale, timezone_id="Asia/Shanghai")
        context.set_default_timeout(40_000)  # generous: the suite runs beside other tests on a loaded machine
        desk = cls._watching(context.new_page(), base, username)
        page = desk.page
        page.goto(base + "/login?next=" + start)
        desk.checked()
        page.fill("#f-username", username)
        page.fill("#f-password", password)
        with page.expect_navigation():
            page.click("main button[type=submit]")
        assert page.url == base + start, f"{username} did not land on {start}: {page.url}"
        desk.checked()
        return desk

    @classmethod
    def _watching(cls, page: Any, base: str, username: str) -> Desk:
        desk = cls(page, base, username)
        page.on("console", lambda m: desk.console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: desk.console.append(f"script: {e}"))
        page.on("response", desk._response)
        page.on("request", desk._request)
        page.on("requestfinished", lambda r: desk._note(f"done {r.method} {desk._short(r.url)}"))
        page.on("requestfailed", lambda r: desk._note(f"failed {r.method} {desk._short(r.url)}: {r.failure}"))
        page.on("framenavigated", lambda f: desk._note(f"shown {desk._short(f.url)}") if f == page.main_frame else None)
        return desk

    def _short(self, url: str) -> str:
        return url[len(self.base):] if url.startswith(self.base) else url

    def _note(self, what: str) -> None:
        self.timeline.append((time.monotonic() - self.opened, what))
        del self.timeline[:-60]

    def _request(self, request: Any) -> None:
        if request.method == "POST":
            self.posts.append(request.url)
        self._note(f"sent {request.method} {self._short(request.url)}")

    def recent(self, seconds: float = 60) -> str:
        """The page's requests, responses and navigations of the last `seconds`, one a line."""
        since = time.monotonic() - self.opened - seconds
        return "\n".join(f"  {t:8.3f}s {what}" for t, what in self.timeline if t >= since)

    def second_tab(self, path: str) -> Desk:
        """The same person's other tab on `path`, opened now and used later: the stale page a tired clerk comes
        back to and submits again (no script can stop that second submission; the server must)."""
        tab = Desk._watching(self.page.context.new_page(), self.base, self.username)
        tab.allow = self.allow
        return tab.go(path)

    def close(self) -> None:
        self.page.context.close()

    def _response(self, response: Any) -> None:
        self._note(f"got {response.status} {response.request.method} {self._short(response.url)}")
        if response.status >= 400:
            self.failures.append((response.status, response.url))

    # ---- checking -----------------------------------------------------------------------------------------------
    @contextmanager
    def refusal(self, *statuses: int) -> Iterator[None]:
        """Within: a response with one of `statuses` is what the step expects (a refused form), not a failure."""
        self.expected = set(statuses)
        try:
            yield
        finally:
            self.expected = set()

    def checked(self) -> None:
        """The page now shown: Chinese only, no console error, no unexpected refusal or server error."""
        self.page.wait_for_load_state("load")
        unexpected = [(s, u) for s, u in self.failures if s not in self.expected]
        self.failures.clear()
        assert unexpected == [], f"unexpected responses on {self.page.url}: {unexpected}"
        console, self.console[:] = [m for m in self.console if not self._expected_refusal(m)], []
        assert console == [], f"console errors on {self.page.url}: {console}"
        expect_chinese_only(self.page, self.allow)

    def _expected_refusal(self, message: str) -> bool:
        """Chromium logs every 4xx page load as a console error: an expected refusal's is no error."""
        m = re.search(r"Failed to load resource: the server responded with a status of (\d{3})", message)
        return bool(m) and int(m.group(1)) in self.expected

    # ---- moving -------------------------------------------------------------------------------------------------
    def go(self, path: str) -> Desk:
        self.page.goto(self.base + path)
        self.checked()
        return self

    def follow(self, selector: str) -> Desk:
        """Click a link (the first matching `selector`) and check the page it leads to."""
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()
        self.checked()
        return self

    @property
    def path(self) -> str:
        return self.page.url[len(self.base):]

    def text(self, selector: str = "main") -> str:
        return str(self.page.inner_text(selector))

    # ---- forms --------------------------------------------------------------------------------------------------
    def fill(self, values: Mapping[str, Any]) -> Desk:
        """Fill fields by selector: text into inputs and textareas; a select's value, or `Shown(text)` for the option
        that reads so; True/False to tick or untick a radio button or box."""
        for selector, value in values.items():
            element = self.page.locator(selector).first
            tag = element.evaluate("e => e.tagName + ':' + (e.type || '')")
            if tag.startswith("SELECT") and isinstance(value, Shown):
                options = element.locator("option").all()
                element.select_option([o.get_attribute("value") for o in options if value.text in o.inner_text()][:1])
            elif tag.startswith("SELECT"):
                element.select_option(value)
            elif tag.endswith(":radio") or tag.endswith(":checkbox"):
                element.check() if value else element.uncheck()
            else:
                element.fill(str(value))
        return self

    def submit(self, form: str, *, double: bool = True, expect: str | None = None, button: str | None = None,
               blocked: bool = False) -> int:
        """Send `form` by (double-)clicking its submit button; wait for the page that answers and check it.

        Returns how many POSTs left the page (the caller asserts it is 1 for an action, and the one effect).
        `expect`: a regular expression the new URL must match (a refused form stays on its own URL).
        `blocked`: the browser's own check (required, pattern) stops the form: nothing is sent, the page stays."""
        locator = self.page.locator(f"{form} button[type=submit]" if button is None else button).first
        action = self.page.locator(form).first.get_attribute("action") or ""
        before = len(self.posts)
        if blocked:
            locator.dblclick() if double else locator.click()
            invalid = self.page.locator(f"{form} :invalid").count()
            assert invalid, f"{form}: the browser found nothing to stop, yet nothing was sent"
        else:
            from playwright.sync_api import TimeoutError as PlaywrightTimeout

            try:
                with self.page.expect_navigation():
                    self._click_and_see_it_sent(form, locator, double)
            except PlaywrightTimeout:
                raise AssertionError(f"{form} on {self.path}: sent, but no page came back in time\n"
                                     f"what the page sent and got:\n{self.recent()}") from None
            self.page.wait_for_load_state("load")
        address = action.split("#")[0].split("?")[0]
        sent = [u for u in self.posts[before:] if address and u.split("?")[0].endswith(address)]
        if expect is not None:
            try:
                self.page.wait_for_url(lambda url: re.search(expect, url) is not None, timeout=5_000)
            except Exception:  # noqa: BLE001 - the assertion below says what was shown instead
                pass
            assert re.search(expect, self.page.url), f"after {form}: {self.page.url} does not match {expect}" + (
                "; the page says: " + self.flash() if self.flash() else "")
        self.checked()
        return len(sent)

    def _click_and_see_it_sent(self, form: str, locator: Any, double: bool) -> None:
        """(Double-)click `locator` and see the form leave the page within `SENT_WITHIN` ms: a form that the browser
        (a field it finds wrong) or a script keeps on the page fails here at once, saying why, instead of in the
        navigation's long wait."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        main = self.page.main_frame
        try:
            with self.page.expect_request(lambda r: r.frame == main and (r.is_navigation_request()
                                                                         or r.resource_type in ("xhr", "fetch")),
                                          timeout=SENT_WITHIN):  # a page, or htmx's request for part of one
                locator.dblclick() if double else locator.click()
        except PlaywrightTimeout:
            state = self.page.locator(form).first.evaluate(_FORM_STATE)
            raise AssertionError(
                f"{form} on {self.path}: nothing was sent within {SENT_WITHIN / 1000:.0f} s of the click; "
                f"fields the browser refuses: {state['invalid'] or 'none'}; "
                f"form marked as being sent (app.js): {state['submitting']}\n"
                f"what the page sent and got:\n{self.recent()}") from None

    def flash(self) -> str:
        flash = self.page.locator(".flash")
        return " ".join(flash.all_inner_texts())


def refer_by_file(desk: Desk, folder: Any, name: str, id_number: str, amount: int) -> None:
    """A civil-affairs file naming one household (in `folder`), imported through the page: one POST."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["姓名", "身份证号", "乡镇", "村", "户类型", "原因", "金额", "日期"])
    book.active.append([name, id_number, "城关镇", "东村", "非贫低收入户", "因病", amount, flow_day(0)])
    xlsx = folder / "民政局名单.xlsx"
    book.save(xlsx)
    desk.follow("main a[href='/referrals/import']")
    desk.fill({"#f-channel": "civil_affairs"})
    desk.page.set_input_files("#f-file", str(xlsx))
    assert desk.submit("form[action='/referrals/import']") == 1


class Staff:
    """The demo's people at their desks for one module: each logs in once (through the login page), and keeps their
    tab for the next step of the flow, as people do. `staff.desk("clerk")` is the clerk's tab, on `start`."""

    def __init__(self, browser: Any, base: str) -> None:
        self.browser, self.base = browser, base
        self.desks: dict[tuple[str, bool], Desk] = {}

    def desk(self, username: str, *, phone: bool = False, start: str = "/") -> Desk:
        desk = self.desks.get((username, phone))
        if desk is None:
            desk = self.desks[(username, phone)] = Desk.login_as(self.browser, self.base, username, phone=phone,
                                                                 start=start)
        else:
            desk.allow = ()
            desk.go(start)
        return desk

    def close(self) -> None:
        for desk in self.desks.values():
            desk.close()
        self.desks.clear()


@pytest.fixture(scope="module")
def staff(server, browser) -> Iterator[Staff]:  # type: ignore[no-untyped-def]
    """A walk's people, each logged in once for the module (a walk takes it as `staff = desk.staff`)."""
    people = Staff(browser, server)
    yield people
    people.close()


@pytest.fixture(scope="module")
def walk() -> dict[str, Any]:
    """What one step of a walk leaves for the next (a notice's address, a household's name)."""
    return {}


# Whether the page fits the screen's width (nothing to scroll sideways on a phone).
FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"
# A folder to keep each step's screenshot in, when looking at a walk by eye.
SHOTS = os.environ.get("WALK_SHOTS")
# A stored id (a case's, a notice's, a household's, a member's, a roster import's ...) as it would leak into a page's
# text.
ID = re.compile(r"\b(?:case|ntc|obj|usr|smp|pb|hh|mem|nref|fu|ref|ros)_[0-9a-f]{6,}")


_ADD_PERSON = """import sys
from verifier.accounts.service import add_user
from verifier.context import Context
from verifier.settings import Settings
ctx = Context.open(Settings.from_env())
with ctx.db.begin() as session:
    add_user(session, username=sys.argv[1], password=sys.argv[2], roles=[sys.argv[3]], counties=[sys.argv[4]],
             display_name=sys.argv[5], clock=ctx.clock)
ctx.close()
"""


def add_person(base: str, username: str, role: str, display_name: str, county: str = "340223") -> None:
    """Another person of the demo county on the module's server (the demo has one of each role; a second county
    reviewer, say, who confirms what the first imported), with the demo's password, as the server's operator adds
    one; done once per module."""
    from browserkit import SERVER_HOMES, Starter

    home = SERVER_HOMES[base]
    log = home / f"add-person-{username}.log"
    code = Starter.run(_ADD_PERSON, [username, DEMO_PASSWORD, role, county, display_name], home, log)
    assert code == 0, log.read_text("utf-8", "replace")


def audit_count(base: str, action: str) -> int:
    """How many entries of `action` the module's server has on record (its SQLite database, read only)."""
    import sqlite3

    from browserkit import SERVER_HOMES

    with sqlite3.connect(f"file:{SERVER_HOMES[base] / 'verifier.db'}?mode=ro", uri=True) as db:
        return int(db.execute("select count(*) from audit_entry where action = ?", (action,)).fetchone()[0])


def shot(desk: Desk, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        desk.page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def no_ids(desk: Desk) -> None:
    """No stored id in what the page says (links may carry them; the text may not; an id shown on purpose as a
    reference, in `.mono`, is left out as `Desk.checked` leaves it)."""
    said = desk.page.evaluate("""() => { const m = document.querySelector('main').cloneNode(true);
      m.querySelectorAll('.mono, code, pre, .hash').forEach(e => e.remove()); return m.innerText; }""")
    found = ID.findall(said)
    assert found == [], f"{desk.path}: {found}"


# What the browser shows instead of a page when Back or Forward lands on the answer of a POST.
RESUBMIT = ("确认重新提交", "ERR_CACHE_MISS", "Confirm Form Resubmission")


def back(desk: Desk, forward: bool = False) -> None:
    """The browser's Back (or Forward): a normal page of the site, loaded by GET; nothing sent."""
    posts = len(desk.posts)
    desk.page.go_forward() if forward else desk.page.go_back()
    desk.checked()
    content = desk.page.content()
    assert not any(s in content for s in RESUBMIT), desk.path
    assert len(desk.posts) == posts, f"{desk.path}: going back sent a form"
