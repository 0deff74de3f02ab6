"""A contract that masks names and posts one notice per town: the JSON, the .docx and the preview."""

from __future__ import annotations

from factories import make_case

from verifier.store.reader import session_reader
from verifier.audit.checkpoints import known_keys
from verifier.audit.verify import verify_log
from verifier.notices.service import notice_summary_for_case

from .conftest import MASKED_COUNTY
from .helpers import ID_LIKE, docx_rows, docx_xml, printed, relief_of, review, status_of, yuan


def test_masked_town_notice(client, users, ctx, clock, masked_contract) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk-m", "town_clerk", counties=(MASKED_COUNTY,))
    users.add("clerk-demo", "town_clerk", counties=("340223",))
    clerk = users.headers("clerk-m")
    east = make_case(ctx, county=MASKED_COUNTY, town="河口镇", village="东村", head_name="欧阳娜娜", members=4)
    west = make_case(ctx, county=MASKED_COUNTY, town="河口镇", village="西村", head_name="张三丰", cause="disaster",
                     medical=2_500_000)
    elsewhere = make_case(ctx, county=MASKED_COUNTY, town="山前乡", village="北村", head_name="李四")
    for case_id in (east, west, elsewhere):
        assert review(client, clerk, case_id).status_code == 201
    # The demo county's clerk may not post here.
    body = {"county_code": MASKED_COUNTY, "town": "河口镇", "posted_on": "2020-06-01"}
    assert client.post("/api/notices", headers=users.headers("clerk-demo"), json=body).status_code == 404

    r = client.post("/api/notices", headers=clerk, json=body)  # no village: the contract posts per town
    assert r.status_code == 201, r.text
    notice = r.json()
    assert notice["scope"] == "town" and notice["village"] is None and notice["mask_names"] is True
    assert notice["contract_id"] == masked_contract.id and notice["ends_on"] == "2020-06-08"
    assert {i["case_id"]: i["head_name"] for i in notice["items"]} == {east: "欧***", west: "张**"}
    assert [status_of(ctx, x) for x in (east, west, elsewhere)] == ["in_notice", "in_notice", "reviewed"]
    reliefs = relief_of(ctx, east) + relief_of(ctx, west)
    assert notice["total"] == yuan(reliefs)

    data = client.get(f"/api/notices/{notice['id']}/document", headers=clerk).content
    rows = docx_rows(data)
    body_rows = {row[1]: row for row in rows[1:-1]}
    assert set(body_rows) == {"东村", "西村"}
    assert body_rows["东村"][2:5] == ["欧***", "4", "因病"] and body_rows["西村"][4] == "因灾"
    assert body_rows["东村"][5] == printed(relief_of(ctx, east))
    assert rows[-1][-1] == printed(reliefs) and "2户" in rows[-1]
    xml = docx_xml(data)
    for secret in ("欧阳娜娜", "张三丰", "李四", "6222020200112233445"):
        assert secret not in xml
    assert not ID_LIKE.search(xml)
    assert "河口镇" in xml and "防贫帮困保障金" in xml

    preview = client.get(f"/api/notices/{notice['id']}/preview", headers=clerk).text
    assert "欧***" in preview and "欧阳娜娜" not in preview and "张三丰" not in preview

    with ctx.db.read() as session:
        assert notice_summary_for_case(session_reader(session), east)["item"]["head_name"] == "欧***"
        keys = known_keys(session)
    assert verify_log(ctx.db, keys).ok
