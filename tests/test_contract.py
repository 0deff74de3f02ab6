from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from verifier.contract import check_contract_text, load_contract, load_directory, overlap_problems
from verifier.domain.errors import ValidationFailed
from verifier.domain.relief import relief_for

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "contracts" / "demo-2020.toml"


def demo_text() -> str:
    return DEMO.read_text(encoding="utf-8")


def problems_of(text: str) -> list[str]:
    contract, problems = check_contract_text(text.encode("utf-8"))
    assert (contract is None) == bool(problems)
    return [f"{p.field}: {p.message}" for p in problems]


def test_demo_contract_loads_with_every_cause_and_group() -> None:
    c = load_contract(DEMO)
    assert c.id == "demo-2020"
    assert c.budget == 450_000_000
    assert c.income_line == 520_000
    assert c.service_fee_rate == Decimal("0.15")
    assert c.county_signoff_at == 20_000_000
    assert set(c.rules) == {(cause, group) for cause in ("illness", "disaster", "schooling")
                            for group in ("exited_low_standard", "low_income")}
    assert len(c.content_hash) == 64


def test_demo_tiers_price_domain_examples() -> None:
    c = load_contract(DEMO)
    # exited_low_standard, 42,000 self-paid: excess 37,000 → 10,000×0.5 + 20,000×0.6 + 7,000×0.7 = 21,900.
    assert relief_for(4_200_000, c.relief_rule("illness", "exited_low_standard"), 3).amount == 2_190_000
    # low_income, 42,000: excess 22,000 → 20,000×0.5 + 2,000×0.6 = 11,200.
    assert relief_for(4_200_000, c.relief_rule("illness", "low_income"), 3).amount == 1_120_000
    # disaster, 2 members, loss 90,000: excess 80,000 at 100%, capped at 2×30,000 = 60,000.
    quote = relief_for(9_000_000, c.relief_rule("disaster", "low_income"), 2)
    assert (quote.amount, quote.capped) == (6_000_000, True)
    with pytest.raises(ValidationFailed) as refused:  # a cause and group it prices nothing for: said in Chinese
        c.relief_rule("illness", "no_such_group")
    said = refused.value.errors[0]
    assert (said.field, said.message) == ("cause", f"服务合同 {c.id} 没有因病、no_such_group家庭的救助标准")


def test_content_hash_follows_the_bytes() -> None:
    a, _ = check_contract_text(demo_text().encode())
    b, _ = check_contract_text((demo_text() + "\n# a comment\n").encode())
    assert a and b and a.content_hash != b.content_hash


def test_every_problem_is_listed_at_once() -> None:
    text = (
        demo_text()
        .replace('budget = "4500000.00"', 'budget = "-1"')
        .replace('{ upto = "30000.00", rate = "0.60" }', '{ upto = "3000.00", rate = "1.60" }')
        .replace("notice_days = 7", "notice_days = 7\nposting_place = \"村委会\"")
        .replace('service_fee_rate = "0.15"', 'service_fee_rate = "0.15"\ncolour = "red"')
    )
    problems = problems_of(text)
    assert "colour: unknown key" in problems
    assert "deadlines.posting_place: unknown key" in problems
    assert any(p.startswith("budget: must not be negative") for p in problems)
    assert any(p.startswith("relief[0].bands[1].upto: band bounds must be amounts in strictly ascending order") for p in problems)
    assert any(p.startswith("relief[0].bands[1].rate: must be a decimal rate between 0 and 1") for p in problems)
    assert len(problems) == 5


def test_a_cause_without_relief_for_a_group() -> None:
    text = demo_text().replace('cause = "schooling"', 'cause = "schooling"\ngroup = "low_income"')
    assert "relief: cause schooling has no relief for household group exited_low_standard" in problems_of(text)


def test_missing_sections_and_wrong_types() -> None:
    text = demo_text().replace("[approval]\ncounty_signoff_at = \"200000.00\"\n", "").replace(
        "check_within_days = 10", 'check_within_days = "ten"')
    problems = problems_of(text)
    assert "approval: missing" in problems
    assert any(p.startswith("deadlines.check_within_days: Expected `int`") for p in problems)


def test_every_wrong_type_is_listed_not_only_the_first_of_each_table() -> None:
    import re

    text = demo_text().replace("check_within_days = 10", 'check_within_days = "ten"').replace(
        "notice_days = 7", 'notice_days = "7"').replace('{ upto = "10000.00", rate = "0.50" }', "{ upto = 10000, rate = 0.5 }")
    for key, value in (("id", "1"), ("title", "5"), ("budget", "4500000")):
        text = re.sub(rf"^{key} = .*$", f"{key} = {value}", text, count=1, flags=re.M)
    fields = sorted(p.split(":")[0] for p in problems_of(text))
    assert fields == ["budget", "deadlines.check_within_days", "deadlines.notice_days", "id",
                      "relief[0].bands[0].rate", "relief[0].bands[0].upto", "title"]


def test_no_relief_at_all() -> None:
    text = demo_text()[: demo_text().index("# Illness, poverty-exited")]
    assert "relief: missing" in problems_of(text)


def test_not_toml() -> None:
    assert problems_of("id = ")[0].startswith("contract: not valid TOML")


def test_mask_may_not_show_more_than_6_plus_4() -> None:
    assert "notice.id_mask: may show at most the first 6 and the last 4 digits" in problems_of(
        demo_text().replace('id_mask = "6+4"', 'id_mask = "8+4"'))


def test_overlapping_contracts_for_one_county_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(demo_text(), encoding="utf-8")
    (tmp_path / "b.toml").write_text(
        demo_text().replace('id = "demo-2020"', 'id = "demo-2020b"').replace("start = 2020-01-01", "start = 2020-06-01")
        .replace("end = 2020-12-31", "end = 2021-05-31"), encoding="utf-8")
    with pytest.raises(ValidationFailed) as info:
        load_directory(tmp_path)
    assert "contract demo-2020 overlaps contract demo-2020b for county 340223 between 2020-06-01 and 2020-12-31" in str(info.value)


def test_adjacent_periods_or_other_counties_do_not_overlap() -> None:
    a = load_contract(DEMO)
    b, _ = check_contract_text(demo_text().replace('id = "demo-2020"', 'id = "demo-2021"')
                               .replace("2020-01-01", "2021-01-01").replace("2020-12-31", "2021-12-31").encode())
    c, _ = check_contract_text(demo_text().replace('id = "demo-2020"', 'id = "other"')
                               .replace('"340223"', '"340224"').encode())
    assert b and c
    assert overlap_problems([a, b, c]) == []
