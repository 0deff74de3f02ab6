"""Every page names its icon, and the icon is served: without it a browser asks for /favicon.ico, gets a 404 and logs
an error on the console of every page."""

from __future__ import annotations

import re


def test_every_page_links_an_icon_that_is_served(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    assert page.status_code == 200
    links = re.findall(r'<link rel="icon" href="([^"]+)"', page.text)
    assert len(links) == 1 and links[0].startswith("/static/favicon.svg?v=")
    icon = client.get(links[0])
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in icon.content


def test_every_page_layout_links_the_icon() -> None:
    """The printable pages (route sheet, approval form) have their own layout: it names the icon too, or the browser
    logs a 404 for /favicon.ico on every printed page."""
    from verifier.web.templating import TEMPLATE_DIR

    layouts = [p for p in sorted(TEMPLATE_DIR.glob("*.html")) if "<head>" in p.read_text("utf-8")]
    assert {p.name for p in layouts} >= {"base.html", "print_base.html"}
    for layout in layouts:
        assert "static_url('favicon.svg')" in layout.read_text("utf-8"), layout.name
