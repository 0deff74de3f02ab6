"""Pages and API answer with a content security policy and the other protective headers; cookies are Secure when the
public URL is https."""

from __future__ import annotations

import re
from dataclasses import replace

from litestar.testing import TestClient

from verifier.app import create_app
from verifier.web.templating import STATIC_DIR, TEMPLATE_DIR

PASSWORD = "correct horse battery"


def assert_protected(response, *, policy: bool = True) -> None:  # type: ignore[no-untyped-def]
    h = response.headers
    assert h["x-frame-options"] == "DENY"
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] in ("same-origin", "no-referrer")
    if policy:
        csp = {d.split()[0]: d.split()[1:] for d in h["content-security-policy"].split("; ")}
        assert csp["script-src"] == ["'self'"]  # no inline script, no eval, no other site
        assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
        assert "'unsafe-inline'" not in h["content-security-policy"]
        assert "'unsafe-eval'" not in h["content-security-policy"]


def test_pages_send_the_security_headers(client, users) -> None:  # type: ignore[no-untyped-def]
    assert_protected(client.get("/login"))
    users.add("sup", "insurer_supervisor")
    r = client.post("/login", data={"username": "sup", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303
    assert_protected(r)
    home = client.get("/")
    assert home.status_code == 200 and "<html" in home.text
    assert_protected(home)
    assert_protected(client.get("/no-such-page", headers={"Accept": "text/html"}))
    assert_protected(client.get("/static/app.js"))


def test_the_api_sends_them_too(client, users) -> None:  # type: ignore[no-untyped-def]
    assert_protected(client.get("/api/health"))
    assert_protected(client.get("/api/cases"))  # 401
    users.add("sup", "insurer_supervisor")
    r = client.get("/api/cases", headers=users.headers("sup"))
    assert r.status_code == 200
    assert_protected(r)
    assert_protected(client.get("/api/cases/nope", headers=users.headers("sup")))  # 404 problem details
    assert_protected(client.get("/schema/openapi.json"), policy=False)  # the viewer loads its own scripts


def test_no_template_or_script_holds_inline_script() -> None:
    """What the policy would block: an inline <script>, an on…= handler, a javascript: link, an inline style."""
    for path in sorted(TEMPLATE_DIR.glob("*.html")):
        text = path.read_text("utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text, flags=re.I):
            assert "src=" in tag, f"{path.name}: inline script {tag}"
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", text, flags=re.I), f"{path.name}: an on… handler"
        assert "javascript:" not in text.lower(), path.name
        assert not re.search(r"<[^>]*\sstyle\s*=", text, flags=re.I), f"{path.name}: an inline style"
        assert "hx-on" not in text and "hx-vars" not in text, path.name
    js = (STATIC_DIR / "app.js").read_text("utf-8")
    assert "eval(" not in js and "new Function" not in js and "setAttribute(\"style\"" not in js


def test_cookies_are_secure_when_the_public_url_is_https(ctx, users) -> None:  # type: ignore[no-untyped-def]
    users_ = users
    users_.add("sup", "insurer_supervisor")

    def cookies_of(public_url: str) -> dict[str, str]:
        ctx.settings = replace(ctx.settings, public_url=public_url)
        with TestClient(app=create_app(ctx)) as client:
            form = client.get("/login")
            login = client.post("/login", data={"username": "sup", "password": PASSWORD}, follow_redirects=False)
            assert login.status_code == 303
            found = {}
            for r in (form, login):
                for line in r.headers.get_list("set-cookie"):
                    found[line.split("=", 1)[0]] = line
            return found

    secure = cookies_of("https://relief.example.gov.cn")
    assert {"verifier_token", "verifier_csrf"} <= set(secure), secure
    for line in secure.values():
        assert "secure" in [part.strip().lower() for part in line.split(";")], line
    plain = cookies_of("http://127.0.0.1:8000")
    assert {"verifier_token", "verifier_csrf"} <= set(plain), plain
    for line in plain.values():
        assert "secure" not in [part.strip().lower() for part in line.split(";")], line


def test_the_import_page_names_the_limit_in_chinese(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    from verifier.settings import ImportLimits

    pages.as_("sup1", "insurer_supervisor")
    ctx.settings = replace(ctx.settings, imports=ImportLimits(max_rows=2))
    head = "id_number,name,town,village,household_group,cause,amount,referred_on\n"
    rows = "".join(f"340223197001010000,甲,城关镇,东村,low_income,illness,100.00,2020-05-20\n" for _ in range(3))
    r = pages.post("/referrals/import", {"channel": "medical_insurance", "county_code": "340223"},
                   files={"file": ("big.csv", (head + rows).encode(), "text/csv")})
    assert r.status_code == 413 and "文件超过 2 行的上限" in r.text and "VERIFIER_MAX_IMPORT_ROWS" in r.text
    assert "已导入" not in r.text
