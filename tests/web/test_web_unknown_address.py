"""An address no route answers: a browser gets a Chinese page with the way home (not an English JSON body);
programs and the API still get problem details."""

from __future__ import annotations


def test_a_mistyped_address_shows_a_chinese_page(client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor")
    client.post("/login", data={"username": "sup", "password": "correct horse battery"})
    for path in ("/import", "/no/such/page"):
        r = client.get(path, headers={"Accept": "text/html,application/xhtml+xml"})
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("text/html")
        assert "没有找到这个页面" in r.text and "回到首页" in r.text and "Not Found" not in r.text


def test_programs_still_get_problem_details(client) -> None:  # type: ignore[no-untyped-def]
    for path, accept in (("/no-such-page", "*/*"), ("/api/no-such-thing", "text/html")):
        r = client.get(path, headers={"Accept": accept})
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == 404
