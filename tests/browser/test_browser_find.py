"""Finding a household in Chromium as an office does: the search box in every page's header, by name, by the whole
ID number and by its last four digits; the list's 案件台账 downloaded and opened with openpyxl (ID numbers masked)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from desk import Staff, refer_by_file

from verifier.domain.idnumber import make_id_number

PERSON = {"name": "郑有田", "id": make_id_number("340223", date(1966, 2, 14), 513)}


@pytest.fixture(scope="module")
def staff(server, browser):  # type: ignore[no-untyped-def]
    people = Staff(browser, server)
    yield people
    people.close()


def search(desk, text: str) -> str:  # type: ignore[no-untyped-def]
    """Type into the header's search box and send it as people do (Enter); the results' text."""
    desk.page.fill("#find-q", text)
    desk.page.press("#find-q", "Enter")
    desk.page.wait_for_url(re.compile(r"/cases\?(.*&)?qt?="))  # a whole ID number comes back as a search token
    desk.checked()
    return desk.text("#results")


def test_a_household_is_found_by_name_id_number_and_its_last_four(staff, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    desk = staff.desk("supervisor")
    refer_by_file(desk, tmp_path, PERSON["name"], PERSON["id"], 260000)

    assert PERSON["name"] in search(desk, PERSON["name"])
    assert PERSON["name"] in search(desk, PERSON["name"][1:])  # part of a name
    found = search(desk, PERSON["id"])
    assert PERSON["name"] in found and PERSON["id"] not in found  # found; the list never shows it in full
    assert PERSON["name"] in search(desk, PERSON["id"][-4:])
    assert "没有符合条件的案件" in search(desk, "不存在的人名")

    # The list as a workbook: the same search applied, amounts as numbers, the ID number masked.
    search(desk, PERSON["name"])
    with desk.page.expect_download() as download:
        desk.page.click("a[href^='/cases/ledger.xlsx']")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name.startswith("案件台账")
    sheet = load_workbook(path).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header, body = rows[0], rows[1:]
    assert len(body) == 1 and PERSON["name"] in body[0]
    idn = body[0][header.index("证件号")]
    assert idn != PERSON["id"] and idn.startswith(PERSON["id"][:6]) and idn.endswith(PERSON["id"][-4:])
