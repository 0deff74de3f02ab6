"""One county reviewer shrinking the county's spot-check sample: the round's rates were taken as typed, so 50%
confidence, a 50% tolerable rate and no minimum share made a sample of one household where the accepted contract
(95%, 5%, at least 10%) asks for every one of a few dozen. A round may check more than its contract asks, never less:
each looser rate is refused (422), by the API and by the page, named beside its field with the contract's value."""

from __future__ import annotations

import re

from factories import COUNTY, make_case
from sqlalchemy import func, select

from verifier.sampling.models import SamplingRound

PERIOD = {"checked_from": "2020-05-01", "checked_to": "2020-06-30"}
LOOSE = {"confidence": "0.50", "tolerable_rate": "0.50", "expected_rate": "0.00", "min_rate": "0.00"}


def _rounds(ctx) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(SamplingRound)))


def test_attack_a_reviewer_types_rates_looser_than_the_contract(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    for i in range(6):
        make_case(ctx, stage="checked", town="城关镇", village=f"城关镇{i % 3}村")
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    headers = users.headers("reviewer")

    r = client.post("/api/sampling-rounds", headers=headers, json={"county_code": COUNTY, **PERIOD, **LOOSE})
    assert r.status_code == 422, r.text
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert errors == {"confidence": "不能低于服务合同约定的置信度 95%（本轮可以比合同更严，不能更宽）",
                      "tolerable_rate": "不能高于服务合同约定的可容忍偏差率 5%（本轮可以比合同更严，不能更宽）",
                      "min_rate": "不能低于服务合同约定的最低抽样比例 10%（本轮可以比合同更严，不能更宽）"}, errors
    # One rate looser, the rest as agreed: still refused, that one named.
    for name, value in (("confidence", "0.949"), ("tolerable_rate", "0.06"), ("min_rate", "0.09")):
        r = client.post("/api/sampling-rounds", headers=headers, json={"county_code": COUNTY, **PERIOD, name: value})
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == [name], r.text
    assert _rounds(ctx) == 0

    # The page's form: the same refusal, beside each field, what was typed kept.
    from web.pagekit import Pages

    pages = Pages(client, users).as_("reviewer")
    r = pages.post("/sampling", {"county_code": COUNTY, **PERIOD, "kind": "attribute", "stratify_by_town": "1",
                                 **LOOSE})
    assert r.status_code == 422
    shown = {m.group(1): re.sub(r"<[^>]+>", "", m.group(2)).strip()
             for m in re.finditer(r'<p class="error" id="([^"]+)-error">(.*?)</p>', r.text, re.S)}
    assert set(shown) == {"confidence", "tolerable_rate", "min_rate"}, shown
    assert "置信度 95%" in shown["confidence"] and "可容忍偏差率 5%" in shown["tolerable_rate"]
    assert _rounds(ctx) == 0

    # Stricter than the contract (a larger sample) is the reviewer's to choose; the contract's own rates too.
    stricter = {"confidence": "0.99", "tolerable_rate": "0.04", "expected_rate": "0.01", "min_rate": "0.50"}
    r = client.post("/api/sampling-rounds", headers=headers, json={"county_code": COUNTY, **PERIOD, **stricter})
    assert r.status_code == 201, r.text
    with ctx.db.read() as session:
        row = session.get(SamplingRound, r.json()["id"])
        assert (row.confidence, row.tolerable_rate, row.expected_rate, row.min_rate) == ("0.99", "0.04", "0.01", "0.50")
