"""Logging in and out through the pages, the redirect to the login page, CSRF on forms, and the home page."""

from __future__ import annotations

from factories import make_case
from pagekit import card_count, csrf_of, status_of


def test_a_page_without_login_redirects_to_the_login_page_and_back(pages, users) -> None:  # type: ignore[no-untyped-def]
    r = pages.get("/cases?status=received")
    assert r.status_code == 302
    assert r.headers["location"] == "/login?next=%2Fcases%3Fstatus%3Dreceived"
    assert pages.get("/").headers["location"] == "/login"

    users.add("clerk1", "town_clerk", counties=("340223",))
    form = pages.get("/login?next=/cases%3Fstatus%3Dreceived")
    assert "登录" in form.text and 'value="/cases?status=received"' in form.text
    r = pages.client.post("/login", data={"username": "clerk1", "password": "correct horse battery",
                                          "next": "/cases?status=received", "_csrf_token": csrf_of(form.text)},
                          follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/cases?status=received"
    cookie = r.headers["set-cookie"]
    assert "verifier_token=" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert pages.get("/cases").status_code == 200


def test_htmx_api_and_script_requests_are_not_redirected(pages) -> None:  # type: ignore[no-untyped-def]
    r = pages.get("/cases", headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["hx-redirect"] == "/login?next=%2Fcases"
    r = pages.get("/api/cases", headers={"Accept": "text/html"})
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    r = pages.client.get("/cases", headers={"Accept": "*/*"}, follow_redirects=False)
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")


def test_wrong_password_shows_the_form_again(pages, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk1", "town_clerk")
    form = pages.get("/login")
    r = pages.client.post("/login", data={"username": "clerk1", "password": "nope", "_csrf_token": csrf_of(form.text)})
    assert r.status_code == 200
    assert "用户名或密码不正确" in r.text and 'value="clerk1"' in r.text
    assert "verifier_token" not in pages.client.cookies


def test_forms_without_the_csrf_token_are_refused(pages, users) -> None:  # type: ignore[no-untyped-def]
    pages.as_("clerk1", "town_clerk")
    r = pages.post("/applications/new", {"name": "张三"}, csrf=False)
    assert r.status_code == 403 and "表单已过期" in r.text
    r = pages.post("/applications/new", {"name": "张三", "_csrf_token": "x" * 128}, csrf=False)
    assert r.status_code == 403
    assert pages.post("/applications/new", {"name": "张三"}).status_code == 422  # with the token: through to the form
    # a form sent from another site is refused even with a good token
    r = pages.post("/applications/new", {"name": "张三"}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "表单已过期或来源不明" in r.text
    r = pages.post("/applications/new", {"name": "张三"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    r = pages.post("/applications/new", {"name": "张三"}, headers={"Origin": "http://testserver.local"})
    assert r.status_code == 422  # same site: through to the form
    # the login form rides on no session: no token needed, but never from another site
    pages.post("/logout")
    r = pages.post("/login", {"username": "clerk1", "password": "correct horse battery"}, csrf=False,
                   headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    r = pages.post("/login", {"username": "clerk1", "password": "correct horse battery"}, csrf=False)
    assert r.status_code == 303


def test_a_bearer_token_needs_no_csrf_token_on_pages_either(pages, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk1", "town_clerk", counties=("340223",))
    r = pages.client.post("/applications/new", data={"name": "张三"},
                          headers={**users.headers("clerk1"), "Accept": "text/html"})
    assert r.status_code == 422 and "未能保存" in r.text


def test_the_api_needs_no_csrf_token(pages, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk1", "town_clerk", counties=("340223",))
    r = pages.client.post("/api/cases/nope/screening", json={"decision": "pass"}, headers=users.headers("clerk1"))
    assert r.status_code == 404  # got past CSRF to the service


def test_next_never_leaves_the_site(pages, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk1", "town_clerk")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        form = pages.get("/login")
        r = pages.client.post("/login", data={"username": "clerk1", "password": "correct horse battery",
                                              "next": target, "_csrf_token": csrf_of(form.text)},
                              follow_redirects=False)
        assert r.headers["location"] == "/"


def test_logout_forgets_the_login(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("clerk1", "town_clerk")
    assert pages.get("/").status_code == 200
    assert "确定要退出吗" in pages.get("/logout").text
    r = pages.post("/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert pages.get("/").status_code == 302


def test_home_lists_each_roles_work_with_counts(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    make_case(ctx, stage="received")
    make_case(ctx, stage="received")
    make_case(ctx, stage="checked")
    text = pages.as_("clerk1", "town_clerk").get("/").text
    assert "待初筛" in text and "录入农户申请" in text and "待村级评议" in text
    assert card_count(text, "待初筛") == 2 and card_count(text, "待村级评议") == 0
    assert "排期" not in text.split("<main")[0]  # the clerk's navigation has no scheduling

    text = pages.as_("sup1", "insurer_supervisor").get("/").text
    assert "待排期" in text and "待认定" in text and "导入监测信息" in text
    assert card_count(text, "待认定") == 1 and card_count(text, "待排期") == 0

    text = pages.as_("aud1", "auditor", counties=()).get("/").text
    assert "审计日志" in text and "最新签名检查点" in text

    text = pages.as_("claims1", "insurer_claims").get("/").text
    assert 'href="/payments"' in text and "即将上线" not in text  # the payment pages are in the navigation


def test_every_page_is_html_whatever_its_status(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="received")
    pages.as_("clerk1", "town_clerk")
    for r in (pages.get("/"), pages.post(f"/cases/{case_id}/screening", {"decision": "reject"}),
              pages.get("/cases/nope"), pages.get("/schedule")):
        assert r.headers["content-type"] == "text/html; charset=utf-8", (r.status_code, r.headers["content-type"])


def test_the_login_page_says_when_to_try_again(pages, users, clock) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk1", "town_clerk", counties=("340223",))
    for _ in range(5):
        r = pages.post("/login", {"username": "clerk1", "password": "wrong"})
        assert r.status_code == 200 and "用户名或密码不正确" in r.text
    r = pages.post("/login", {"username": "clerk1", "password": "correct horse battery"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) == 15 * 60
    # the clock says 10:00 in Asia/Shanghai: the lock lifts at 10:15
    assert "登录失败次数过多" in r.text and "10:15 之后" in r.text and "约 15 分钟后" in r.text
    assert "verifier_token" not in pages.client.cookies


def test_the_page_cookie_does_not_authenticate_the_api(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """The attack: another site's page posts a text/plain body to the API, and the browser adds the login cookie."""
    case_id = make_case(ctx, stage="received")
    pages.as_("clerk1", "town_clerk")
    assert pages.get("/cases").status_code == 200  # the cookie logs the pages in
    forged = {"Content-Type": "text/plain", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    r = pages.client.post(f"/api/cases/{case_id}/screening", content='{"decision":"reject","reason":"x"}',
                          headers=forged)
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    # nor from this site, nor as JSON, nor for the writes that take no body at all
    r = pages.client.post(f"/api/cases/{case_id}/screening", json={"decision": "reject", "reason": "x"})
    assert r.status_code == 401
    for path in ("/api/notices/nope/close", "/api/payment-batches/nope/approve", "/api/payment-batches/nope/release"):
        assert pages.client.post(path, headers=forged).status_code == 401
    assert pages.client.get("/api/cases").status_code == 401
    assert status_of(ctx, case_id) == "received"


def test_a_bogus_authorization_header_does_not_skip_the_csrf_check(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("clerk1", "town_clerk")
    for bogus in ("Basic Y2xlcmsxOnBhc3M=", "Bearer", "Token abc", "bearer  "):
        r = pages.post("/applications/new", {"name": "张三"}, csrf=False, headers={"Authorization": bogus})
        assert r.status_code == 403 and "表单已过期" in r.text, bogus
    # with the form's token the cookie carries the request through as usual
    r = pages.post("/applications/new", {"name": "张三"}, headers={"Authorization": "Basic Y2xlcmsxOnBhc3M="})
    assert r.status_code == 422
    # a bearer token that does not authenticate is refused, whatever the cookie says
    r = pages.post("/applications/new", {"name": "张三"}, csrf=False, headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code in (302, 303, 401)
    assert "未能保存" not in r.text
