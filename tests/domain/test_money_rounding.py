"""The integer form of `apply_rate` agrees with Decimal arithmetic rounded half up, for any sign."""

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.domain.money import apply_rate, format_yuan, parse_yuan

rates = st.decimals(min_value=Decimal("-2"), max_value=Decimal("2"), places=4, allow_nan=False, allow_infinity=False)


@settings(max_examples=500)
@given(st.integers(min_value=-10**12, max_value=10**12), rates)
def test_apply_rate_is_decimal_half_up(fen: int, rate: Decimal) -> None:
    expected = int((Decimal(fen) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert apply_rate(fen, rate) == expected


def test_half_fen_rounds_away_from_zero() -> None:
    assert apply_rate(1, Decimal("0.5")) == 1
    assert apply_rate(-1, Decimal("0.5")) == -1
    assert apply_rate(3, Decimal("0.5")) == 2
    assert apply_rate(101, Decimal("0.15")) == 15  # 15.15 → 15


@given(st.integers(min_value=-10**15, max_value=10**15))
def test_format_and_parse_round_trip(fen: int) -> None:
    assert parse_yuan(format_yuan(fen), allow_negative=True) == fen


def test_money_is_written_grouped_as_offices_write_it() -> None:
    """The one formatter of pages, notices, letters and text cells: 114500.00 reads 114,500.00."""
    from verifier.domain.money import grouped_yuan
    from verifier.web.templating import yuan

    assert yuan is grouped_yuan  # the pages' filter is the same function, not a second copy
    assert grouped_yuan(11_450_000) == "114,500.00"
    assert grouped_yuan("114500.00") == "114,500.00"
    assert grouped_yuan(-123_456_789) == "-1,234,567.89"
    assert grouped_yuan(5) == "0.05" and grouped_yuan("999.5") == "999.50"
    assert grouped_yuan(None) == "" and grouped_yuan("") == ""


@settings(max_examples=300)
@given(st.integers(min_value=-10**14, max_value=10**14))
def test_grouped_money_reads_back_to_the_same_fen(fen: int) -> None:
    from verifier.domain.money import grouped_yuan

    shown = grouped_yuan(fen)
    assert parse_yuan(shown.replace(",", ""), allow_negative=True) == fen
    assert all(len(part) == 3 for part in shown.lstrip("-").split(".")[0].split(",")[1:])
