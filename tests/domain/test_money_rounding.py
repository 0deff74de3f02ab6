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
