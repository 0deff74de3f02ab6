from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.domain.errors import ValidationFailed
from verifier.domain.idnumber import birth_date, check_digit, make_id_number, validate_id_number

TODAY = date(2024, 6, 1)
KNOWN = "11010519491231002X"


def message(text: object, **kwargs: object) -> str:
    with pytest.raises(ValidationFailed) as info:
        validate_id_number(text, **kwargs)  # type: ignore[arg-type]
    [error] = info.value.errors
    return error.message


def test_known_valid_number() -> None:
    assert validate_id_number(KNOWN, today=TODAY) == KNOWN
    assert birth_date(KNOWN) == date(1949, 12, 31)


def test_normalises_spaces_and_lower_case_x() -> None:
    assert validate_id_number("  11010519491231002x ", today=TODAY) == KNOWN


def test_make_id_number_appends_the_check_digit() -> None:
    assert make_id_number("110105", date(1949, 12, 31), 2) == KNOWN
    assert make_id_number("110105", date(1949, 12, 31), "002") == KNOWN
    with pytest.raises(ValueError):
        make_id_number("010105", date(1949, 12, 31), 2)


def test_check_digit() -> None:
    assert check_digit("11010519491231002") == "X"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1101051949123100", "应为 18 位，现为 16 位"),
        ("11010519491231002XX", "应为 18 位，现为 19 位"),
        ("1101051949123100A2", "前 17 位应为数字"),
        ("１１0105194912310022", "前 17 位应为数字"),  # full-width digits
        ("11010519491231002Y", "最后一位应为数字或 X"),
        ("010105194912310029", "地区码无效"),
        ("910105194912310029", "地区码无效"),
        ("110105199902310020", "出生日期无效"),
        ("110105189912310020", "出生日期早于 1900 年"),
        ("110105203001010020", "出生日期晚于今天"),
        ("110105194912310023", "校验位应为 X，请核对"),
    ],
)
def test_bad_numbers_say_what_is_wrong(text: str, expected: str) -> None:
    """In Chinese, as the rule says it to the API's `errors[].message` and to the pages."""
    assert message(text, today=TODAY) == expected


def test_error_names_the_field() -> None:
    with pytest.raises(ValidationFailed) as info:
        validate_id_number("123", field="members[1].id_number")
    assert info.value.errors[0].field == "members[1].id_number"


def test_not_a_string() -> None:
    assert message(110105194912310023) == "应为 18 位身份证号"


def test_born_today_is_valid() -> None:
    number = make_id_number("340223", TODAY, 17)
    assert validate_id_number(number, today=TODAY) == number


def test_birth_date_of_a_bad_number() -> None:
    with pytest.raises(ValidationFailed):
        birth_date("110105199902310020")


regions = st.builds(lambda first, rest: f"{first}{rest:05d}", st.integers(1, 8), st.integers(0, 99999))
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


@settings(max_examples=200)
@given(regions, births, st.integers(0, 999))
def test_made_numbers_always_validate(region: str, born: date, seq: int) -> None:
    number = make_id_number(region, born, seq)
    assert validate_id_number(number, today=TODAY) == number
    assert birth_date(number) == born


@settings(max_examples=200)
@given(regions, births, st.integers(0, 999), st.integers(0, 17), st.data())
def test_any_single_character_change_fails(region: str, born: date, seq: int, pos: int, data: st.DataObject) -> None:
    number = make_id_number(region, born, seq)
    alphabet = "0123456789X" if pos == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[pos]]))
    changed = number[:pos] + replacement + number[pos + 1 :]
    with pytest.raises(ValidationFailed):
        validate_id_number(changed, today=TODAY)
