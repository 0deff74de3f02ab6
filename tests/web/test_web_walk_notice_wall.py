"""The notice's wall photos as a walk met them: after uploading one the page said nothing (the redirect put `done`
behind the `#posting` fragment, where the page never reads it), and a photo that does not count said only what it
lacked, not that it did not count."""

from __future__ import annotations

from datetime import timedelta

from test_web_notice_posting import _notice
from village_kit import wall_photo

from verifier.web.common import see_other
from verifier.web.labels import DONE_MESSAGES


def test_a_redirect_puts_its_fragment_after_the_query() -> None:
    assert see_other("/notices/n1#posting", done="wall_photo").url == \
        "/notices/n1?done=wall_photo#posting"
    assert see_other("/cases", done="x").url == "/cases?done=x"
    assert see_other("/notices/n1#posting").url == "/notices/n1#posting"


def test_an_uploaded_wall_photo_is_said_and_one_outside_the_period_says_it_does_not_count(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    url = f"/notices/{_notice(ctx)}"
    pages.as_("wall-reviewer", "county_reviewer")
    r = pages.post(url + "/posting/photos", {}, files={"photo": ("墙.jpg", wall_photo(ctx.clock.today() - timedelta(
        days=30)), "image/jpeg")})
    assert r.status_code == 303 and r.headers["location"] == f"{url}?done=wall_photo#posting"
    page = pages.get(r.headers["location"].split("#")[0]).text
    assert DONE_MESSAGES["wall_photo"] in page
    assert "不在公示期内拍摄，不计入" in page
