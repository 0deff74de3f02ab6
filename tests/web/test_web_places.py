"""The county's list on the pages: the application form picks town then village from it (free text while the county
has none), the places page shows it and lets an admin or a supervisor add a village, and the API reads it."""

from __future__ import annotations

import re

from factories import new_id_number
from sqlalchemy import select

from verifier.audit.models import AuditEntry
from verifier.places import county_file

LIST_CSV = "乡镇,村\n河口镇,河口村\n河口镇,柳树村\n城关镇,东村\n".encode("utf-8")
APPLICATION = {"county_code": "340223", "name": "赵大山", "household_group": "low_income", "cause": "illness",
               "amount": "12500", "referred_on": "2020-05-30"}


def _import(ctx) -> None:  # type: ignore[no-untyped-def]
    with ctx.db.begin() as session:
        county_file.import_places(session, "340223", LIST_CSV, "list.csv", clock=ctx.clock)


def test_without_a_list_the_form_keeps_free_text_and_says_so(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("clerk1", "town_clerk")
    form = pages.get("/applications/new").text
    assert 'type="text" id="f-town" name="town"' in form and "本县尚未导入乡镇村名单" in form
    r = pages.post("/applications/new", {**APPLICATION, "id_number": new_id_number(), "town": "河口镇",
                                         "village": "河口材"})
    assert r.status_code == 303  # as before the list: what is typed is kept
    assert "尚未导入乡镇村名单" in pages.get("/places").text


def test_with_a_list_the_form_picks_town_then_village_and_refuses_one_not_on_it(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    _import(ctx)
    pages.as_("clerk1", "town_clerk")
    form = pages.get("/applications/new").text
    assert '<select id="f-town" name="town"' in form and 'hx-get="/places/fields"' in form
    assert '<optgroup label="河口镇">' in form  # before a town is chosen (or without scripts): every village, by town
    assert "htmx.min.js" in form and "<script>" not in form  # no inline script (CSP)
    fields = pages.get("/places/fields?county_code=340223&town=河口镇", headers={"HX-Request": "true"}).text
    villages = re.findall(r'<option value="([^"]+)"', fields.split('id="f-village"')[1])
    assert villages == ["柳树村", "河口村"]
    r = pages.post("/applications/new", {**APPLICATION, "id_number": new_id_number(), "town": "河口镇",
                                         "village": "河口材"})
    assert r.status_code == 422
    message = r.text.split('id="f-village"')[1].split("</div>")[0]
    assert "“河口材”不是河口镇的村（社区）" in message
    assert 'value="河口镇" selected' in r.text  # what was chosen stays chosen
    r = pages.post("/applications/new", {**APPLICATION, "id_number": new_id_number(), "town": "河口镇",
                                         "village": "河口村"})
    assert r.status_code == 303


def test_fields_of_another_county_show_nothing_of_its_list(pages, ctx, other_county) -> None:  # type: ignore[no-untyped-def]
    with ctx.db.begin() as session:
        county_file.import_places(session, other_county, "乡镇,村\n远山乡,秘密村\n".encode("utf-8"), "l.csv",
                                  clock=ctx.clock)
    pages.as_("clerk1", "town_clerk")
    fields = pages.get(f"/places/fields?county_code={other_county}", headers={"HX-Request": "true"}).text
    assert "秘密村" not in fields and "远山乡" not in fields
    assert "秘密村" not in pages.get(f"/places?county_code={other_county}").text


def test_a_supervisor_adds_a_village_on_purpose_and_a_clerk_cannot(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    _import(ctx)
    pages.as_("clerk1", "town_clerk")
    assert "添加一个村" not in pages.get("/places").text
    assert pages.post("/places", {"county_code": "340223", "town": "河口镇", "village": "渡口村",
                                  "confirm": "yes"}).status_code == 403
    pages.as_("super1", "insurer_supervisor")
    page = pages.get("/places").text
    assert "添加一个村" in page and "柳树村" in page
    r = pages.post("/places", {"county_code": "340223", "town": "河口镇", "village": "渡口村"})
    assert r.status_code == 422 and "请勾选确认" in r.text and 'value="渡口村"' in r.text
    r = pages.post("/places", {"county_code": "340223", "town": "河口镇", "village": "渡口村", "confirm": "yes"})
    assert r.status_code == 303
    page = pages.get(r.headers["location"]).text
    assert "已添加到本县乡镇村名单" in page and "名单导入后添加的村" in page and "渡口村" in page
    r = pages.post("/places", {"county_code": "340223", "town": "河口镇", "village": "渡口村", "confirm": "yes"})
    assert r.status_code == 422 and "已在河口镇的名单上" in r.text
    with ctx.db.read() as session:
        assert session.scalar(select(AuditEntry.action).where(AuditEntry.action == "place.add")) == "place.add"
    assert pages.post("/places", {"county_code": "340224", "town": "河口镇", "village": "渡口村",
                                  "confirm": "yes"}).status_code == 404  # not their county


def test_the_api_reads_the_list_within_the_callers_counties(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk1", "town_clerk", counties=("340223",))
    r = client.get("/api/places?county=340223", headers=users.headers("clerk1"))
    assert r.status_code == 200 and r.json() == {"county_code": "340223", "has_list": False, "towns": []}
    _import(ctx)
    r = client.get("/api/places?county=340223", headers=users.headers("clerk1"))
    assert r.json()["has_list"] is True
    assert r.json()["towns"] == [{"town": "城关镇", "villages": ["东村"]}, {"town": "河口镇", "villages": ["柳树村", "河口村"]}]
    assert client.get("/api/places?county=340224", headers=users.headers("clerk1")).status_code == 404
    assert client.get("/api/places?county=12", headers=users.headers("clerk1")).status_code == 400
