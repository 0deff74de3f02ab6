import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.domain.errors import ValidationFailed
from verifier.domain.masking import mask_account, mask_id, mask_name, mask_phone, parse_mask_spec

ID = "11010519491231002X"


def test_mask_id_default_keeps_6_and_4() -> None:
    assert mask_id(ID) == "110105********002X"


def test_mask_id_other_specs() -> None:
    assert mask_id(ID, "3+1") == "110**************X"
    assert mask_id(ID, "0+0") == "*" * 18
    assert mask_id(ID, " 6 + 4 ") == "110105********002X"


@pytest.mark.parametrize("spec", ["6-4", "6", "a+b", "", "9+9", "17+1", "100+1"])
def test_bad_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_mask_spec(spec, field="notice.id_mask")
    assert info.value.errors[0].field == "notice.id_mask"


def test_short_input_is_masked_entirely() -> None:
    assert mask_id("1234567890") == "**********"
    assert mask_id("") == ""
    assert mask_name("张") == "*"
    assert mask_name("") == ""
    assert mask_phone("5678") == "****"
    assert mask_account("1234") == "****"
    assert mask_account("1234567") == "*******"


def test_names() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_name("张三") == "张*"
    assert mask_name(" 欧阳娜娜 ") == "欧***"


def test_phone() -> None:
    assert mask_phone("13812345678") == "138****5678"


def test_account() -> None:
    assert mask_account("6222 0212 3456 1234") == "************1234"


@settings(max_examples=200)
@given(st.text("0123456789X", max_size=25), st.integers(0, 17), st.integers(0, 17))
def test_mask_id_never_reveals_more_than_kept(text: str, head: int, tail: int) -> None:
    if head + tail >= 18:
        with pytest.raises(ValidationFailed):
            mask_id(text, f"{head}+{tail}")
        return
    masked = mask_id(text, f"{head}+{tail}")
    assert len(masked) == len(text)
    shown = [i for i, c in enumerate(masked) if c != "*"]
    assert len(shown) <= head + tail
    assert all(masked[i] == text[i] and (i < head or i >= len(text) - tail) for i in shown)


@settings(max_examples=200)
@given(st.text("0123456789", max_size=25))
def test_phone_and_account_never_reveal_more_than_kept(text: str) -> None:
    for masked, head, tail in ((mask_phone(text), 3, 4), (mask_account(text), 0, 4)):
        assert len(masked) == len(text)
        shown = [i for i, c in enumerate(masked) if c != "*"]
        assert len(shown) <= head + tail
        assert all(masked[i] == text[i] and (i < head or i >= len(text) - tail) for i in shown)
        if shown:
            assert len(text) - len(shown) >= 4  # something real stays hidden
