"""Tiered relief: what a contract's relief rule pays for a household's verified cost.

Semantics (all amounts integer fen, rates `Decimal` in [0, 1]):

- The *excess* is the basis (the year's cumulative verified cost for the rule's cause) minus the
  rule's deductible, never below zero. Band bounds (`upto`) are measured on the excess, not on the cost.
- Bands are ordered by `upto`, strictly ascending; band i covers the excess from the previous band's
  `upto` (0 for the first) up to and including its own `upto`; the last band has no `upto` and is open.
- ``marginal`` (分段累进): each slice of the excess lying inside a band is paid at that band's rate;
  each slice's amount is rounded half up to the fen on its own, and the slices are summed.
- ``bracket``: the whole excess is paid at the rate of the one band it falls in; an excess exactly
  equal to a band's `upto` falls in that band. Bracket rates must not decrease from band to band, or
  relief could fall as the cost rises.
- The cap is the smaller of `cap_per_year` and `cap_per_member` x members, of those the rule sets
  (no cap when it sets neither). Relief for a claim = min(gross, cap) - already paid for the cause
  in the year, never below zero. Pricing every claim on the cumulative basis this way makes several
  claims add up to exactly what one claim of their total would pay.
- In a breakdown line, `from_` and `to` are the band's bounds on the excess; `base` is the amount the
  rate was applied to (the slice, in marginal mode; the whole excess, in bracket mode).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Literal, NamedTuple

from .causes import BASES as _BASES
from .causes import DEFAULT_TABLE
from .errors import FieldError, ValidationFailed
from .income import members_errors
from .money import Fen, apply_rate

Mode = Literal["bracket", "marginal"]
CAUSES = DEFAULT_TABLE.cause_codes  # the default causes; a contract may declare others (domain/causes.py)
BASES = tuple(_BASES)
MODES = ("bracket", "marginal")


def _is_fen(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Band:
    upto: Fen | None
    rate: Decimal


@dataclass(frozen=True)
class ReliefRule:
    cause: str
    group: str
    basis: str
    deductible: Fen
    mode: Mode
    bands: tuple[Band, ...]
    cap_per_year: Fen | None = None
    cap_per_member: Fen | None = None

    def validate(self, prefix: str = "relief", causes: Collection[str] | None = CAUSES) -> list[FieldError]:
        """Every problem with the rule, each naming its field under `prefix` (e.g. "relief[0].bands[1].rate").

        `causes`: the codes the rule's contract declares (default: the scheme's three); None accepts any cause code
        (for a rule its contract has checked already)."""
        errors: list[FieldError] = []

        def bad(name: str, message: str) -> None:
            errors.append(FieldError(f"{prefix}.{name}", message))

        if not isinstance(self.cause, str) or not self.cause.strip():
            bad("cause", "must name a cause")
        elif causes is not None and self.cause not in causes:
            bad("cause", f"must be one of {', '.join(causes)}, got {self.cause!r}")
        if not isinstance(self.group, str) or not self.group.strip():
            bad("group", "must name a household group")
        if self.basis not in BASES:
            bad("basis", f"must be one of {', '.join(BASES)}, got {self.basis!r}")
        if self.mode not in MODES:
            bad("mode", f"must be bracket or marginal, got {self.mode!r}")
        if not _is_fen(self.deductible) or self.deductible < 0:
            bad("deductible", "must be an amount >= 0")
        for name in ("cap_per_year", "cap_per_member"):
            cap = getattr(self, name)
            if cap is not None and (not _is_fen(cap) or cap < 0):
                bad(name, "must be an amount >= 0 when given")
        errors.extend(self._band_errors(prefix))
        return errors

    @cached_property
    def problems(self) -> tuple[FieldError, ...]:
        """`validate()` worked out once: a rule is immutable, and pricing asks on every call."""
        return tuple(self.validate(causes=None))  # the cause was checked against its contract's table

    @cached_property
    def band_bounds(self) -> tuple[tuple[Fen, Fen | None, Decimal], ...]:
        return tuple(_bounds(self.bands))

    def _band_errors(self, prefix: str) -> list[FieldError]:
        if not isinstance(self.bands, tuple) or not self.bands:
            return [FieldError(f"{prefix}.bands", "at least one band is required, the last one without upto")]
        errors: list[FieldError] = []
        last = len(self.bands) - 1
        previous_upto: Fen = 0
        previous_rate: Decimal | None = None
        for i, band in enumerate(self.bands):
            where = f"{prefix}.bands[{i}]"
            if band.upto is None:
                if i != last:
                    errors.append(FieldError(f"{where}.upto", "only the last band may be open (without upto)"))
            elif i == last:
                errors.append(FieldError(f"{where}.upto", "the last band must be open (without upto)"))
            elif not _is_fen(band.upto) or band.upto <= previous_upto:
                errors.append(FieldError(f"{where}.upto", "band bounds must be amounts in strictly ascending order, above 0"))
            else:
                previous_upto = band.upto
            if not isinstance(band.rate, Decimal) or not band.rate.is_finite() or not (0 <= band.rate <= 1):
                errors.append(FieldError(f"{where}.rate", "must be a decimal rate between 0 and 1"))
                continue
            if self.mode == "bracket" and previous_rate is not None and band.rate < previous_rate:
                errors.append(FieldError(f"{where}.rate", "in bracket mode a band's rate must not be lower than the band before it"))
            previous_rate = band.rate
        return errors

    def checked(self, prefix: str = "relief") -> ReliefRule:
        """Self, or `ValidationFailed` listing every problem."""
        if errors := self.validate(prefix):
            raise ValidationFailed(errors)
        return self


@dataclass(frozen=True)
class BandLine:
    from_: Fen
    to: Fen | None
    rate: Decimal
    base: Fen
    amount: Fen


@dataclass(frozen=True)
class ReliefQuote:
    amount: Fen
    gross: Fen
    cap: Fen | None
    capped: bool
    breakdown: tuple[BandLine, ...]
    already_paid: Fen = 0


class Formula(NamedTuple):
    gross: Fen
    breakdown: tuple[BandLine, ...]
    cap: Fen | None
    capped: bool


def _bounds(bands: tuple[Band, ...]) -> list[tuple[Fen, Fen | None, Decimal]]:
    lower = 0
    out = []
    for band in bands:
        out.append((lower, band.upto, band.rate))
        lower = band.upto if band.upto is not None else lower
    return out


def rule_cap(rule: ReliefRule, members: int) -> Fen | None:
    """min(cap_per_year, cap_per_member x members) of those the rule sets; None when it sets neither."""
    caps = [] if rule.cap_per_year is None else [rule.cap_per_year]
    if rule.cap_per_member is not None:
        caps.append(rule.cap_per_member * members)
    return min(caps) if caps else None


def formula_relief(basis: Fen, rule: ReliefRule, members: int) -> Formula:
    """The rule applied to `basis` before subtracting anything already paid."""
    errors = list(rule.problems) + members_errors(members)
    if not _is_fen(basis) or basis < 0:
        errors.append(FieldError("basis", "must be an amount >= 0"))
    if errors:
        raise ValidationFailed(errors)
    excess = max(0, basis - rule.deductible)
    lines: list[BandLine] = []
    if excess > 0:
        for lower, upper, rate in rule.band_bounds:
            if rule.mode == "marginal":
                if excess <= lower:
                    break
                part = (excess if upper is None else min(excess, upper)) - lower
                lines.append(BandLine(lower, upper, rate, part, apply_rate(part, rate)))
            elif upper is None or excess <= upper:
                lines.append(BandLine(lower, upper, rate, excess, apply_rate(excess, rate)))
                break
    gross = sum(line.amount for line in lines)
    cap = rule_cap(rule, members)
    return Formula(gross, tuple(lines), cap, cap is not None and gross > cap)


def relief_for(cumulative_basis: Fen, rule: ReliefRule, members: int, already_paid: Fen = 0) -> ReliefQuote:
    """Relief still due for a cause in a contract year: min(gross, cap) on the cumulative basis, less what was paid."""
    if not _is_fen(already_paid) or already_paid < 0:
        raise ValidationFailed.one("already_paid", "must be an amount >= 0")
    gross, breakdown, cap, capped = formula_relief(cumulative_basis, rule, members)
    due = min(gross, cap) if cap is not None else gross
    return ReliefQuote(max(0, due - already_paid), gross, cap, capped, breakdown, already_paid)


def cap_room(rule: ReliefRule, members: int, taken: Fen) -> tuple[Fen, Fen] | None:
    """(the cap, what is left of it) for a household that has had `taken` of its year's relief for the rule's cause
    on other cases: the cap is `rule_cap`, what is left never below zero; None when the rule sets no cap."""
    cap = rule_cap(rule, members)
    return None if cap is None else (cap, max(0, cap - taken))
