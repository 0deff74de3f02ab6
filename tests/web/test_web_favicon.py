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
