"""No dead end: every link a role's daily pages show opens for that role. A link to a page the role may not read
(the sampling rounds from finance's monthly report, a payee change from claims' payments page) answered 403.

The links to the cases behind a figure (the monthly report's ~300 figures, the dashboard's bars) differ only in their
filters, and the roles that are shown them see the same ones: each is checked in-process for every role (the case
list's GET route, open to any role; only filters it declares; the walker's own county; a report figure the list
knows, for the month), opened once by the first role shown it, and each role opens one of each filter shape."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from pagekit import FACTORY_PASSWORD, Pages, officers_of
from test_web_forms_speak_chinese import _world
from test_web_pages_speak_chinese import SKIP, read

COUNTY = "340223"  # the walkers' one county (pages.as_)
FIGURE_FILTERS = {"county_code", "month", "figure", "town", "village", "cause", "chart", "period", "status"}


def _is_figure_link(link: str) -> bool:
    """A link to the cases behind a report figure or a dashboard bar."""
    split = urlsplit(link)
    return split.path == "/cases" and bool({k for k, _ in parse_qsl(split.query)} & {"figure", "chart"})


def _shape(link: str) -> tuple[str, tuple[str, ...]]:
    split = urlsplit(link)
    return split.path, tuple(sorted(k for k, _ in parse_qsl(split.query, keep_blank_values=True)))


def _figure_link_problem(ctx, app, link: str) -> str | None:  # type: ignore[no-untyped-def]
    """Why a figure's link would not open for a walker of COUNTY, or None: what the case list checks before reading."""
    from verifier.reports.service import figure_cases

    split = urlsplit(link)
    asked = dict(parse_qsl(split.query, keep_blank_values=True))
    route = next(r for r in app.routes if r.path == "/cases" and "GET" in getattr(r, "methods", ()))
    handler = route.route_handler_map["GET"]
    handler = handler[0] if isinstance(handler, tuple) else handler
    if handler.opt.get("roles") != "any" or set(asked) - FIGURE_FILTERS:
        return "not the case list's filters"
    if not set(asked) <= set(handler.parsed_fn_signature.parameters):
        return "a filter the case list does not take"
    if asked.get("county_code") != COUNTY:
        return "another county"
    if "figure" in asked:
        try:
            with ctx.db.read() as session:
                figure_cases(asked["county_code"], asked["month"], asked["figure"], session)
        except Exception as exc:  # noqa: BLE001 - any refusal is a dead link
            return repr(exc)
    elif not asked.get("period"):
        return "a chart without its period"
    return None


def _refused_links(pages: Pages, who: str, ctx, opened: dict[str, int]) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """For each page the role's navigation links: the links on it that answer 403 or 404 to the role. A figure's
    link already opened by another role is checked in-process, and opened if its shape is new for this role."""
    home = pages.get("/")
    assert home.status_code == 200, who
    refused: dict[str, list[str]] = {}
    tried: dict[str, int] = {}
    shapes: set[tuple[str, tuple[str, ...]]] = set()
    for path in ["/"] + [h for h in dict.fromkeys(read(home.text).nav) if h != "/"]:
        page = pages.get(path)
        assert page.status_code == 200, (who, path)
        for link in dict.fromkeys(read(page.text).links):
            if not link.startswith("/") or any(s in link for s in SKIP) or link.startswith("/api/"):
                continue
            if link not in tried and _is_figure_link(link):
                problem = _figure_link_problem(ctx, pages.client.app, link)
                if problem:
                    tried[link] = 404
                    refused.setdefault(f"{who} {path}", []).append(f"{link} ({problem})")
                    continue
                if link in opened and _shape(link) in shapes:
                    tried[link] = opened[link]
                else:
                    tried[link] = opened[link] = pages.get(link).status_code
                    shapes.add(_shape(link))
            if link not in tried:
                tried[link] = pages.get(link).status_code
            if tried[link] in (403, 404):
                refused.setdefault(f"{who} {path}", []).append(f"{link} ({tried[link]})")
    assert len(tried) > 5, who  # the walk found the links
    return refused


def test_every_link_a_role_is_shown_opens_for_it(pages, ctx, users) -> None:  # type: ignore[no-untyped-def]
    world = _world(ctx, pages, users)
    refused: dict[str, list[str]] = {}
    opened: dict[str, int] = {}  # the figures' links, as first opened
    for role in ("town_clerk", "insurer_supervisor", "insurer_claims", "finance", "county_reviewer", "auditor"):
        pages.as_(f"walk-{role}", role)
        refused |= _refused_links(pages, role, ctx, opened)
    pages.login(officers_of(ctx, world["case:scheduled"])[0], FACTORY_PASSWORD)
    refused |= _refused_links(pages, "field_officer", ctx, opened)
    assert refused == {}, "\n".join(f"{where}: {', '.join(links)}" for where, links in refused.items())
    assert len(opened) > 300  # the report's figures and the dashboard's bars were each opened
