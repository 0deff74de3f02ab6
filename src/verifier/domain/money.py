"""Money: integer fen inside, "1234.56" yuan strings at every boundary, one rounding rule (half up to the fen).

Rates (relief rates, service fee) are `Decimal`; the only place a rate meets money is `apply_rate`.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from .errors import ValidationFailed

Fen = int
"""An amount of money in fen (0.01 yuan). Never a float."""

_YUAN = re.compile(r"^(-)?(\d{1,15})(?:\.(\d{1,2}))?$")
# Commas only as thousands groups ("12,345.60"): "5200,00" and "1,5" are no amounts (not 520000 and 15).
THOUSANDS = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_RATE = re.compile(r"^\d{1,3}(?:\.\d{1,12})?$")


def parse_yuan(text: object, field: str = "amount", *, allow_negative: bool = False) -> Fen:
    """Parse a yuan amount given as a string ("5200", "5200.5", "5200.00") into fen.

    Floats are refused outright: they cannot carry money exactly. Ints are accepted as whole yuan.
    """
    if type(text) is str and (m := _YUAN.match(text)) is not None and not m.group(1):  # the usual: "5200.00"
        whole, frac = m.group(2, 3)  # (what `strip` would leave is the same amount: `$` matches before a last "\n")
        return int(whole) * 100 + (int(frac.ljust(2, "0")) if frac else 0)
    if isinstance(text, bool) or isinstance(text, float):
        raise ValidationFailed.one(field, "money must be a string of yuan such as \"5200.00\", not a floating-point number")
    if isinstance(text, int):
        text = str(text)
    if isinstance(text, Decimal):
        text = format(text, "f")
    if not isinstance(text, str):
        raise ValidationFailed.one(field, "money must be a string of yuan such as \"5200.00\"")
    plain = text.strip()
    if "," in plain and THOUSANDS.fullmatch(plain):
        plain = plain.replace(",", "")
    m = _YUAN.match(plain)
    if not m:
        raise ValidationFailed.one(field, f"not an amount of yuan with at most two decimals: {text!r}")
    sign, whole, frac = m.groups()
    fen = int(whole) * 100 + int((frac or "").ljust(2, "0") or 0)
    if sign and fen:
        if not allow_negative:
            raise ValidationFailed.one(field, f"must not be negative: {text!r}")
        fen = -fen
    return fen


def format_yuan(fen: Fen) -> str:
    """Fen to the boundary form: yuan with exactly two decimals, "-" for negatives."""
    if type(fen) is int and fen >= 0:  # the usual case, first (a case detail formats dozens)
        return f"{fen // 100}.{fen % 100:02d}"
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise TypeError(f"money must be integer fen, got {type(fen).__name__}")
    sign = "-" if fen < 0 else ""
    whole, frac = divmod(abs(fen), 100)
    return f"{sign}{whole}.{frac:02d}"


def grouped_yuan(value: Fen | str | None) -> str:
    """Money as every page, document and text cell shows it: fen (int) or a "114500.00" string to "114,500.00"
    (yuan, two decimals, thousands grouped as Chinese offices write them); "" for nothing."""
    if value is None or value == "":
        return ""
    if type(value) is int:  # fen: straight to the grouped form (a list page formats hundreds of these)
        whole, frac = divmod(abs(value), 100)
        return f"{'-' if value < 0 else ''}{whole:,}.{frac:02d}"
    text = str(value).strip()
    sign = "-" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").replace(",", "").partition(".")
    return f"{sign}{int(whole):,}.{(frac or '00'):0<2}"


def round_half_up(value: Decimal) -> Fen:
    """The one rounding rule: a Decimal amount of fen to whole fen, half away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@lru_cache(maxsize=1024)
def _ratio(rate: Decimal) -> tuple[int, int]:
    return rate.as_integer_ratio()


def apply_rate(fen: Fen, rate: Decimal) -> Fen:
    """`fen x rate`, rounded to the fen half up (away from zero), in exact integer arithmetic."""
    num, den = _ratio(rate)
    magnitude = (2 * abs(fen) * abs(num) + den) // (2 * den)
    return magnitude if (fen < 0) == (num < 0) or magnitude == 0 else -magnitude


def parse_rate(text: object, field: str = "rate", *, low: Decimal = Decimal(0), high: Decimal = Decimal(1)) -> Decimal:
    """Parse a rate given as a decimal string ("0.15") and check it lies in [low, high]."""
    if isinstance(text, bool) or isinstance(text, float):
        raise ValidationFailed.one(field, "a rate must be a decimal string such as \"0.15\", not a floating-point number")
    if isinstance(text, Decimal):
        value = text
    else:
        s = str(text).strip()
        if not _RATE.match(s):
            raise ValidationFailed.one(field, f"not a decimal rate: {text!r}")
        try:
            value = Decimal(s)
        except InvalidOperation:  # pragma: no cover - the pattern already excludes this
            raise ValidationFailed.one(field, f"not a decimal rate: {text!r}") from None
    if not (low <= value <= high):
        raise ValidationFailed.one(field, f"must lie between {low} and {high}, got {value}")
    return value
