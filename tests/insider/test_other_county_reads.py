"""A person of another county, holding every reading role, tries each way into this county's households: case and
household reads, the household file, search by an ID number's tail, exports, the report, findings, letters,
batches, notices, rounds. Each answers as if nothing were there, the same as for an id that does not exist."""

from __future__ import annotations

import re

from factories import COUNTY, make_case
from sqlalchemy import select

from verifier.store.tables import Member

OTHER = "340224"
READERS = ("town_clerk", "insurer_supervisor", "county_reviewer", "auditor", "finance", "insurer_claims")


def _setup(ctx, users, client):  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="determined", head_name="郑秋菊")
    users.add("here", *READERS, counties=(COUNTY,))
    users.add("there", *READERS, counties=(OTHER,))
    here, there = users.headers("here"), users.headers("there")
    case = client.get(f"/api/cases/{case_id}", headers=here).json()
    return case_id, case, here, there


def test_attack_another_countys_reader_probes_for_a_household(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id, case, here, there = _setup(ctx, users, client)
    household_id = case["household_id"]
    with ctx.db.read() as session:
        sealed = session.scalars(select(Member.id_number_enc).where(Member.household_id == household_id)).first()
        id_tail = ctx.vault.open(sealed, "member.id_number")[-6:]
    missing_case, missing_household = "case_" + "0" * 26, "hh_" + "0" * 26

    for url, missing in ((f"/api/cases/{case_id}", f"/api/cases/{missing_case}"),
                         (f"/api/households/{household_id}", f"/api/households/{missing_household}"),
                         (f"/api/households/{household_id}/file", f"/api/households/{missing_household}/file"),
                         (f"/api/households/{household_id}/changes", f"/api/households/{missing_household}/changes"),
                         (f"/api/cases/{case_id}/result-letter", f"/api/cases/{missing_case}/result-letter"),
                         (f"/api/cases/{case_id}/findings", f"/api/cases/{missing_case}/findings")):
        mine = client.get(url, headers=here)
        theirs, nothing = client.get(url, headers=there), client.get(missing, headers=there)
        assert theirs.status_code == nothing.status_code and theirs.status_code in (403, 404), (url, theirs.text)
        # The refusal reads like the one for an id that does not exist (the id itself aside).
        assert _neutral(theirs.text, case_id, household_id) == _neutral(nothing.text, missing_case,
                                                                         missing_household), url
        assert "郑秋菊" not in theirs.text
        assert mine.status_code not in (403, 404), (url, mine.text)  # the case's own county reaches it

    # Searches by name and by the tail of an ID number find nothing of another county.
    for url, params in (("/api/households", {"q": id_tail, "county_code": COUNTY}),
                        ("/api/households", {"q": "郑秋菊", "county_code": COUNTY}),
                        ("/api/households", {"q": case["number"], "county_code": COUNTY}),
                        ("/api/cases", {"q": id_tail}), ("/api/cases", {"q": "郑秋菊"}),
                        ("/api/cases", {"county_code": COUNTY}), ("/api/notices", {"county_code": COUNTY}),
                        ("/api/payment-batches", {"county_code": COUNTY}), ("/api/payee-changes", {"county_code": COUNTY}),
                        ("/api/sampling-rounds", {"county_code": COUNTY}), ("/api/conflicts", {}),
                        ("/api/needs", {"county_code": COUNTY}), ("/api/followups", {"county_code": COUNTY})):
        seen = client.get(url, params=params, headers=there)
        assert seen.status_code in (200, 403, 404), (url, params, seen.text)
        assert case_id not in seen.text and household_id not in seen.text and "郑秋菊" not in seen.text, (url, params)
    found = client.get("/api/cases", params={"q": "郑秋菊"}, headers=here).json()
    assert [c["id"] for c in found["items"]] == [case_id]  # the same search by the case's county finds it

    # The ledger export and the monthly report of this county.
    ledger = client.get("/api/cases/ledger.xlsx", params={"county_code": COUNTY}, headers=there)
    assert ledger.status_code in (200, 403, 404)
    assert case["number"] not in _xlsx_text(ledger.content) if ledger.status_code == 200 else True
    assert case["number"] in _xlsx_text(client.get("/api/cases/ledger.xlsx", params={"county_code": COUNTY},
                                                   headers=here).content)
    report = client.get("/api/reports/monthly", params={"county_code": COUNTY, "month": "2020-06"}, headers=there)
    assert report.status_code in (403, 404), report.text


def _neutral(text: str, *ids: str) -> str:
    for i in ids:
        text = text.replace(i, "<id>")
    return re.sub(r'"(request_id|trace)":"[^"]*"', "", text)


def _xlsx_text(data: bytes) -> str:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "\n".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))


def test_attack_another_countys_reader_reads_a_case_with_every_part_before_routing(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The case read answered before routing (cases/shortcut.py) reads a case's determination, village review and
    notice beside its row on PostgreSQL: a reader of another county whose token the process already knows (so the
    shortcut reads the case) is refused as for a case that does not exist, and nothing of those parts comes back;
    the case's own county reads them."""
    case_id, _, here, there = _setup(ctx, users, client)
    r = client.post(f"/api/cases/{case_id}/village-review", headers=here,
                    json={"held_on": "2020-06-01", "result": "pass", "note": "村评议通过郑家"})
    assert r.status_code == 201, r.text
    r = client.post("/api/notices", headers=here,
                    json={"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": "2020-06-01"})
    assert r.status_code == 201, r.text
    missing = "case_" + "0" * 26
    for headers in (here, there):
        assert client.get("/api/auth/me", headers=headers).status_code == 200  # the token known to the process
    mine = client.get(f"/api/cases/{case_id}", headers=here).json()
    assert mine["determination"] and mine["village_review"] and mine["notice"]  # every part read beside the case
    for _ in range(2):
        theirs, nothing = client.get(f"/api/cases/{case_id}", headers=there), client.get(f"/api/cases/{missing}",
                                                                                         headers=there)
        assert theirs.status_code == nothing.status_code == 404, theirs.text
        assert _neutral(theirs.text, case_id) == _neutral(nothing.text, missing)
        assert "郑秋菊" not in theirs.text and "村评议通过郑家" not in theirs.text
