"""Refusals a clerk reads name a county by its name and a case by its number, never by a code or a stored id."""

from __future__ import annotations

import re

from factories import make_case

from verifier.cases.numbers import numbers_of
from verifier.contract import county_named
from verifier.web import labels
from verifier.web import stagelabels as sl
from verifier.web.common import numbered


def test_payment_refusals_name_the_county(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("claims1", "insurer_claims")  # the pages' app has loaded the demo contract, which names 示范县
    assert labels.COUNTIES.get("340223") == "示范县"
    # the rule says it (payments/service.py), the API passes it on as it is
    r = pages.client.post("/api/payment-batches", headers=pages.users.headers("claims1"), json={"county_code": "340223"})
    assert r.status_code == 422 and r.json()["errors"] == [
        {"field": "county_code", "message": "示范县（340223）没有待支付的案件。"}], r.text
    assert county_named("340223") == "示范县（340223）"  # as the rules say it (不是示范县（340223）的核查员)
    # a county no contract names keeps its code, said as a county
    assert county_named("999999") == "县（区）999999"


def test_a_batch_refusal_names_the_case_by_its_number(ctx) -> None:  # type: ignore[no-untyped-def]
    # `payments.payees.refuse_payee_changers` says it in Chinese itself; the page passes it through.
    said = sl.zh("您登记了案件 case_01a2 的重新核查（其登记的收款人与首次记录的不同），按职责分离规定不能发放包含该案件的批次 "
                 "P2612，须由其他财务人员办理。")
    assert said.startswith("您登记了案件 case_01a2 的重新核查") and "批次 P2612" in said
    case = make_case(ctx, stage="checked")
    with ctx.db.read() as session:
        number = numbers_of(session, [case])[case]
        named = numbered(session, said.replace("case_01a2", case))
        unknown = numbered(session, said.replace("case_01a2", "case_" + "0" * 26))  # an id of no case
    assert named is not None and named.startswith(f"您登记了案件 {number} 的重新核查")
    assert unknown is not None and "case_" not in unknown and "本案件" in unknown
    assert "chk_" not in said


def test_a_case_id_is_named_right_against_chinese_text_and_never_inside_a_word(ctx) -> None:  # type: ignore[no-untyped-def]
    """`\b` takes Chinese characters for word characters: an id written against them (案件case_…的) was left as it
    was; and a longer name beginning with case_ and hex letters (case_added) is no id."""
    case = make_case(ctx, stage="checked")
    assert re.fullmatch(r"case_[0-9a-f]{26}", case)  # the ids `store.base.new_id` makes
    with ctx.db.read() as session:
        number = numbers_of(session, [case])[case]
        said = numbered(session, f"案件{case}已被改变；（{case}）、{case}。")
        english = "case_added case_faded case_" + "a" * 26 + "b" + " x_" + case + " " + case + "_x " + case[:-1]
        kept = numbered(session, english)
    assert said == f"案件{number}已被改变；（{number}）、{number}。"
    assert kept == english  # nothing in it is a case's id standing alone
