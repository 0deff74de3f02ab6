"""Every page a person reaches from their navigation speaks Chinese: for each role, the home page, every page its
navigation links, and the pages those lists link to (a case, a notice, a batch, a round, a household ...) are read
as a person reads them (visible text, options, button labels, hints in `title` and `placeholder`) and no English
word may be there. Left out: what is copied rather than read (`pre`, `code`, `.mono`, `.hash`), ids, case numbers,
file names and the few names that are written in Latin letters in Chinese offices too (Excel, WPS, SHA-256 ...)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from pagekit import FACTORY_PASSWORD, Pages, officers_of
from test_web_forms_speak_chinese import _world

SKIP_TAGS = {"script", "style", "pre", "code", "template", "noscript", "svg"}
SKIP_CLASSES = {"mono", "hash"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HINTS = ("title", "placeholder", "aria-label", "alt")
# Written in Latin letters by Chinese offices too, or typed by the user as such.
LATIN_OK = {"Excel", "Word", "WPS", "SHA", "csv", "xlsx", "docx", "CSV", "PDF", "ID", "QR", "UTC", "ISO", "Ed25519", "tel",
            "htmx", "JavaScript", "JSON", "BOM", "GBK", "UTF", "Windows"}
WORD = re.compile(r"(?<![\w@./:-])[A-Za-z]{2,}(?![\w@./:-])")


class _Reader(HTMLParser):
    """The text a person reads on a page, and the links on it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: whether it hides its text
        self.texts: list[str] = []
        self.links: list[str] = []
        self.nav: list[str] = []
        self.in_nav = 0

    def _hidden(self) -> bool:
        return any(self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        hides = tag in SKIP_TAGS or bool(classes & SKIP_CLASSES) or "hidden" in a or a.get("type") == "hidden"
        if tag == "a" and (a.get("href") or "").startswith("/"):
            (self.nav if self.in_nav else self.links).append(a["href"] or "")
        if tag == "nav":
            self.in_nav += 1
        if not hides and not self._hidden():
            self.texts += [a[h] or "" for h in HINTS if a.get(h)]
            if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
                self.texts.append(a["value"] or "")
        if tag not in VOID:
            self.stack.append(hides)

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self.in_nav = max(0, self.in_nav - 1)
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._hidden() and data.strip():
            self.texts.append(data.strip())


def read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    return reader


def english_words(text: str) -> list[str]:
    text = re.sub(r"\b\d{6}-\d{4}-\d{6}\b", "", text)  # a case number
    text = re.sub(r"\b[a-z]+_[0-9a-z]{6,}\b", "", text)  # an id
    text = re.sub(r"\S+\.(?:xlsx|csv|docx|txt)\b", "", text)  # a file's name
    return [w for w in WORD.findall(text) if w not in LATIN_OK]


def test_the_reader_finds_english_and_leaves_out_what_is_copied() -> None:
    page = read('<nav><a href="/cases">案件</a></nav><main><p>已保存 Saved</p><code>verifier users list</code>'
                '<span class="mono">case_01abcdef</span><input placeholder="Search"><button>提交</button>'
                '<select><option>Pending</option></select><a href="/cases/case_1">340223-2020-000001</a></main>')
    words = [w for t in page.texts for w in english_words(t)]
    assert words == ["Saved", "Search", "Pending"], words
    assert page.nav == ["/cases"] and page.links == ["/cases/case_1"]


DETAIL = re.compile(r"^/(?:cases|households|notices|payments|sampling|payee-changes|recoveries|followups|"
                    r"need-referrals|users|meetings)/[A-Za-z]+_\w+(?:/[a-z-]+)?$")
SKIP = ("/logout", ".xlsx", ".docx", ".csv", "/print", "/evidence/")


def _walk(pages: Pages, found: dict[str, list[str]], who: str) -> int:
    home = pages.get("/")
    assert home.status_code == 200, (who, home.status_code)
    start = read(home.text)
    to_read = ["/"] + [h for h in dict.fromkeys(start.nav) if h != "/"]
    seen: set[str] = set()
    for path in to_read:
        if path in seen or any(s in path for s in SKIP):
            continue
        seen.add(path)
        r = pages.get(path)
        assert r.status_code == 200, (who, path, r.status_code)
        page = read(r.text)
        words = sorted({w for t in page.texts for w in english_words(t)})
        if words:
            found[f"{who} {path}"] = words
        if path in start.nav or path == "/":  # a list: read a few of the pages it links to
            details = [h for h in dict.fromkeys(page.links) if DETAIL.match(h.split("?")[0]) and not
                       any(s in h for s in SKIP)]
            to_read += details[:6]
    return len(seen)


def test_every_page_of_every_role_speaks_chinese(pages, ctx, users) -> None:  # type: ignore[no-untyped-def]
    world = _world(ctx, pages, users)
    found: dict[str, list[str]] = {}
    read_pages = 0
    for role in ("town_clerk", "insurer_supervisor", "insurer_claims", "finance", "county_reviewer", "auditor",
                 "admin"):
        pages.as_(f"walk-{role}", role)
        read_pages += _walk(pages, found, role)
    pages.login(officers_of(ctx, world["case:scheduled"])[0], FACTORY_PASSWORD)
    read_pages += _walk(pages, found, "field_officer")
    assert read_pages > 60  # the walk reached the lists and what they link to
    assert found == {}, "\n".join(f"{where}: {', '.join(words)}" for where, words in found.items())
