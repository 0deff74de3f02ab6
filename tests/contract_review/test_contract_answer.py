"""The contract API's answer: each relief rule is encoded straight from the terms the service reads
(`contract_terms_zh.ReliefTerms`), with the fields, their order and their values the answer always had."""

from __future__ import annotations

import msgspec

from verifier.accounts.auth import Principal
from verifier.contract_review import service


def test_each_relief_rule_is_answered_byte_for_byte_as_the_terms_read(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("rev", "county_reviewer", counties=("340223",))
    r = client.get("/api/contracts/demo-2020", headers=users.headers("rev"))
    assert r.status_code == 200, r.text
    with ctx.db.read() as session:
        review = service.get_review(session, "demo-2020", Principal(id="x", username="x", display_name="x",
                                                                     roles=("county_reviewer",), counties=("340223",)))
    assert review.terms.relief
    fields = ("cause", "group", "basis", "deductible", "mode", "bands", "caps")  # the answer's keys, in this order
    expected = msgspec.json.encode([{f: getattr(x, f) for f in fields} for x in review.terms.relief])
    assert b'"relief":' + expected + b',"answerable":' in r.content
    relief = r.json()["relief"]
    assert [list(x) for x in relief] == [list(fields)] * len(relief)
    assert all(isinstance(x["bands"], list) and all(isinstance(b, str) for b in x["bands"]) for x in relief)
