"""Correcting mistakes through the pages: the supervisor sends a check back for another visit; the town clerk edits
a saved application until it is screened."""

from __future__ import annotations

from factories import make_case


def test_the_supervisor_sends_a_check_back_from_the_determination_page(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", head_name="赵六")
    pages.as_("sup1", "insurer_supervisor")
    url = f"/cases/{case_id}/determination"
    text = pages.get(url).text
    assert 'id="send-back"' in text and "退回重新核查" in text
    r = pages.post(url + "/send-back", {"reason": "", "confirm": "yes"})
    assert r.status_code == 422 and "请说明退回原因" in r.text
    r = pages.post(url + "/send-back", {"reason": "家庭成员人数与户籍不符"})
    assert r.status_code == 422 and "请先勾选确认框" in r.text and "家庭成员人数与户籍不符" in r.text
    r = pages.post(url + "/send-back", {"reason": "家庭成员人数与户籍不符", "confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{case_id}?done=sent_back"
    text = pages.get(r.headers["location"]).text
    assert "核查已退回" in text and "已退回" in text and "sup1" in text and "原因：家庭成员人数与户籍不符" in text
    assert "已初筛" in text  # back to be scheduled
    r = pages.post(url + "/send-back", {"reason": "再退", "confirm": "yes"})
    assert r.status_code == 409


def test_the_clerk_corrects_an_application_until_it_is_screened(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from verifier.audit.canonical import decode_entry
    from verifier.audit.models import AuditEntry
    from verifier.store.tables import Case, Household

    case_id = make_case(ctx, stage="received", head_name="钱七", town="城关镇", village="河口村")
    pages.as_("clerk1", "town_clerk")
    assert 'href="/applications/' + case_id + '/edit"' in pages.get(f"/cases/{case_id}").text
    url = f"/applications/{case_id}/edit"
    form = pages.get(url).text
    assert 'value="钱七"' in form and 'value="河口村"' in form and "身份证号不能修改" in form
    fields = {"name": "钱七", "town": "城关镇", "village": "河口村", "household_group": "exited_low_standard",
              "cause": "illness", "amount": "1000.00", "referred_on": "2020-05-29", "household_size": "3"}
    r = pages.post(url, {**fields, "village": "河口材", "amount": "12.345", "phone": "12345"})
    assert r.status_code == 422 and 'value="河口材"' in r.text  # what was typed is shown again, with the errors
    r = pages.post(url, {**fields, "name": "钱七（户主）", "village": "河口村（二组）", "phone": "13800138000",
                         "cause": "disaster"})
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{case_id}?done=application_edited"
    assert "申请信息已修改" in pages.get(r.headers["location"]).text
    with ctx.db.read() as session:
        case = session.get(Case, case_id)
        household = session.get(Household, case.household_id)
        assert (case.village, case.cause, household.head_name) == ("河口村（二组）", "disaster", "钱七（户主）")
        assert ctx.vault.open(household.phone_enc, "household.phone") == "13800138000"
        assert b"13800138000" not in household.phone_enc
        entry = decode_entry(session.scalar(select(AuditEntry.entry).where(
            AuditEntry.subject == case_id, AuditEntry.action == "case.application_edited")))
    changed = entry.payload["changed"]
    assert changed["village"] == {"before": "河口村", "after": "河口村（二组）"}
    assert changed["phone"]["after"] == "138****8000" and "13800138000" not in str(entry.payload)

    pages.as_("sup1", "insurer_supervisor")
    assert pages.post(url, fields).status_code == 403  # only the clerk
    pages.as_("clerk1", "town_clerk")
    assert pages.post(f"/cases/{case_id}/screening", {"decision": "pass", "reason": ""}).status_code == 303
    r = pages.post(url, {**fields, "name": "再改"})
    assert r.status_code == 409 and "初筛之后不能再修改申请信息" in r.text


def test_the_api_refuses_to_edit_after_screening_and_outside_the_county(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="received", head_name="孙八")
    users.add("clerk", "town_clerk", counties=("340223",))
    users.add("far", "town_clerk", counties=("340999",))
    body = {"name": "孙八", "town": "城关镇", "village": "西村", "household_group": "exited_low_standard",
            "cause": "illness", "amount": "1500.00"}
    url = f"/api/cases/{case_id}/application"
    assert client.post(url, json=body, headers=users.headers("far")).status_code == 404
    assert client.post(url, json={**body, "id_number": "x"}, headers=users.headers("clerk")).status_code == 400
    r = client.post(url, json=body, headers=users.headers("clerk"))
    assert r.status_code == 200, r.text
    assert r.json()["village"] == "西村"
    r = client.post(url, json=body, headers=users.headers("clerk"))
    assert r.status_code == 422  # nothing to change
    client.post(f"/api/cases/{case_id}/screening", json={"decision": "pass", "reason": ""},
                headers=users.headers("clerk"))
    assert client.post(url, json={**body, "village": "北村"}, headers=users.headers("clerk")).status_code == 409


def test_an_edited_village_must_be_on_the_countys_list(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    """Correcting an application cannot make a village of a typo, as entering one cannot (the county's list)."""
    from verifier.places.county_file import import_places

    case_id = make_case(ctx, stage="received", head_name="周九")
    with ctx.db.begin() as session:
        import_places(session, "340223", "乡镇,村\n城关镇,东村\n城关镇,西村\n".encode(), "名单.csv", clock=ctx.clock)
    users.add("clerk", "town_clerk", counties=("340223",))
    body = {"name": "周九", "town": "城关镇", "village": "西材", "household_group": "exited_low_standard",
            "cause": "illness", "amount": "1500.00"}
    url = f"/api/cases/{case_id}/application"
    r = client.post(url, json=body, headers=users.headers("clerk"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "village", r.text
    r = client.post(url, json={**body, "village": "西村"}, headers=users.headers("clerk"))
    assert r.status_code == 200 and r.json()["village"] == "西村", r.text


def test_a_day_the_calendar_has_not_is_said_so_beside_the_day_on_both_forms(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="received", head_name="钱七", town="城关镇", village="河口村")
    pages.as_("clerk1", "town_clerk")
    url = f"/applications/{case_id}/edit"
    fields = {"name": "钱七", "town": "城关镇", "village": "河口村", "household_group": "exited_low_standard",
              "cause": "illness", "amount": "1000.00", "household_size": "3", "note": "户主住院"}
    for typed, said in (("2020/5/32", "没有这一天：2020年5月32日"), ("2020-02-30", "没有这一天：2020年2月30日")):
        r = pages.post(url, {**fields, "referred_on": typed, "name": ""})
        assert r.status_code == 422 and said in r.text, typed
        assert r.text.count('id="referred_on-error"') == 1 and 'id="name-error"' in r.text  # both, at once
        assert f'value="{typed}"' in r.text and "户主住院" in r.text
    r = pages.post("/applications/new", {**fields, "county_code": "340223", "id_number": "340223199001011234",
                                         "referred_on": "2020/5/32"})
    assert r.status_code == 422 and "没有这一天：2020年5月32日" in r.text
    assert r.text.count('id="referred_on-error"') == 1


def test_an_application_of_a_household_with_other_cases_corrects_only_itself(pages, ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The page says the household was left as it was (its other cases and members go by it)."""
    from factories import head_on_record

    from verifier.store.tables import Case, Household

    determined = make_case(ctx, stage="determined", head_name="吴十")
    users.add("clerk", "town_clerk", counties=("340223",))
    fields = {"name": "吴十", "town": "城关镇", "village": "东村", "household_group": "exited_low_standard",
              "cause": "disaster", "amount": "3000.00"}
    r = client.post("/api/referrals", headers=users.headers("clerk"),
                    json={**fields, "county_code": "340223", "id_number": head_on_record(ctx, determined)[1]})
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    pages.as_("clerk1", "town_clerk")
    r = pages.post(f"/applications/{case_id}/edit", {**fields, "name": "吴十一"})
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{case_id}?done=application_edited_only", r.text
    assert "只改本申请及其案件" in pages.get(r.headers["location"]).text
    with ctx.db.read() as session:
        assert session.get(Household, session.get(Case, case_id).household_id).head_name == "吴十"
