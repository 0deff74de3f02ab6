"""A refused form's answer names the GET address it stands as in the browser's history (`data-form-page`, which
app.js puts in place with `history.replaceState`): Back or Forward onto it then loads the form's page, instead of the
browser's own 确认重新提交表单 page (pages are never cached). The answer still shows what was typed."""

from __future__ import annotations

import re

from factories import make_case

BASE = "http://testserver.local"


def _form_page(text: str) -> str | None:
    body = re.search(r"<body[^>]*>", text)
    assert body is not None
    m = re.search(r'data-form-page="([^"]*)"', body.group(0))
    return None if m is None else m.group(1).replace("&amp;", "&")


def test_a_refused_form_stands_as_the_page_it_was_sent_from(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="received", head_name="钱七", town="城关镇", village="河口村")
    pages.as_("clerk1", "town_clerk")
    url = f"/applications/{case_id}/edit"
    assert _form_page(pages.get(url).text) is None  # a GET is its own address already
    r = pages.post(url, {"name": "", "note": "补充说明"}, headers={"referer": BASE + url + "?done=application_edited&x=1"})
    assert r.status_code == 422 and "补充说明" in r.text  # still as typed
    assert _form_page(r.text) == url + "?x=1"  # the page it came from, without the earlier success's message
    # no Referer (or another site's): the form's own address, which a GET answers (or sends on to the page above)
    assert _form_page(pages.post(url, {"name": ""}).text) == url
    r = pages.post(url, {"name": ""}, headers={"referer": "http://elsewhere.example/x?y=1"})
    assert _form_page(r.text) == url


def test_a_refusal_page_of_another_kind_stands_as_the_form_too(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="received", head_name="孙八")
    pages.as_("sup", "insurer_supervisor")
    url = f"/applications/{case_id}/edit"
    r = pages.post(url, {"name": "孙八"}, headers={"referer": BASE + f"/cases/{case_id}"})
    assert r.status_code == 403 and _form_page(r.text) == f"/cases/{case_id}"
