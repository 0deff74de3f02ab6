"""The result letter to an ineligible household: what it says, and what it never prints."""

from __future__ import annotations

import io
from datetime import date

import docx
import pytest

from verifier.documents.letter import ResultLetter, letter_paragraphs, render_letter
from verifier.domain.errors import ValidationFailed


def letter(**overrides):  # type: ignore[no-untyped-def]
    args = dict(issuing_body="示范县城关镇人民政府", county="示范县", town="城关镇", village="东村", head_name="李四",
                cause="illness", referred_on=date(2020, 5, 20), decided_on=date(2020, 6, 1),
                reasons=["人均纯收入 9,000.00 元，高于收入线 5,200.00 元，且家庭有稳定收入来源"],
                review_by=date(2020, 6, 16), review_place="示范县城关镇人民政府", review_phone="12317",
                issued_on=date(2020, 6, 2))
    args.update(overrides)
    return ResultLetter(**args)


def test_the_letter_says_the_decision_the_reason_and_how_to_ask_for_a_review() -> None:
    doc = docx.Document(io.BytesIO(render_letter(letter())))
    text = [p.text for p in doc.paragraphs]
    assert text[0] == "防贫帮困保障认定结果告知书"
    assert "示范县城关镇东村李四户：" in text
    body = "\n".join(text)
    assert "2020年6月1日认定为不符合救助条件" in body and "因病" in body
    assert "1. 人均纯收入 9,000.00 元，高于收入线 5,200.00 元，且家庭有稳定收入来源。" in text
    assert "2020年6月16日前（含当日）向示范县城关镇人民政府提出书面复核申请" in body
    assert text[-2:] == ["示范县城关镇人民政府", "2020年6月2日"]
    assert doc.core_properties.title == "防贫帮困保障认定结果告知书"
    # the same page and styles as the notice
    assert doc.paragraphs[0].style.name == "Notice Title"
    assert [k for k, _ in letter_paragraphs(letter())][:3] == ["title", "to", "body"]


def test_no_id_or_account_number_is_ever_printed() -> None:
    with pytest.raises(ValidationFailed) as err:
        letter(head_name="李四 340223199001011234", reasons=["账号 6222020200112233445 收入高"], review_phone="")
    assert {e.field for e in err.value.errors} == {"head_name", "reasons[0]", "review_phone"}


def test_a_review_period_ending_before_the_decision_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        letter(review_by=date(2020, 5, 31), cause="flood", reasons=[])
    assert {e.field for e in err.value.errors} == {"review_by", "cause", "reasons"}
