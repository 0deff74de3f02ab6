"""No dead end: every link a role's daily pages show opens for that role. A link to a page the role may not read
(the sampling rounds from finance's monthly report, a payee change from claims' payments page) answered 403."""

from __future__ import annotations

from pagekit import FACTORY_PASSWORD, Pages, officers_of
from test_web_forms_speak_chinese import _world
from test_web_pages_speak_chinese import SKIP, read


def _refused_links(pages: Pages, who: str) -> dict[str, list[str]]:
    """For each page the role's navigation links: the links on it that answer 403 or 404 to the role."""
    home = pages.get("/")
    assert home.status_code == 200, who
    refused: dict[str, list[str]] = {}
    tried: dict[str, int] = {}
    for path in ["/"] + [h for h in dict.fromkeys(read(home.text).nav) if h != "/"]:
        page = pages.get(path)
        assert page.status_code == 200, (who, path)
        for link in dict.fromkeys(read(page.text).links):
            if not link.startswith("/") or any(s in link for s in SKIP) or link.startswith("/api/"):
                continue
            if link not in tried:
                tried[link] = pages.get(link).status_code
            if tried[link] in (403, 404):
                refused.setdefault(f"{who} {path}", []).append(f"{link} ({tried[link]})")
    assert len(tried) > 5, who  # the walk found the links
    return refused


def test_every_link_a_role_is_shown_opens_for_it(pages, ctx, users) -> None:  # type: ignore[no-untyped-def]
    world = _world(ctx, pages, users)
    refused: dict[str, list[str]] = {}
    for role in ("town_clerk", "insurer_supervisor", "insurer_claims", "finance", "county_reviewer", "auditor"):
        pages.as_(f"walk-{role}", role)
        refused |= _refused_links(pages, role)
    pages.login(officers_of(ctx, world["case:scheduled"])[0], FACTORY_PASSWORD)
    refused |= _refused_links(pages, "field_officer")
    assert refused == {}, "\n".join(f"{where}: {', '.join(links)}" for where, links in refused.items())
