"""The service contract: the TOML format of INTERFACE.md as msgspec Structs, checked as a whole.

`check_contract_text` lists *every* problem it finds (syntax, unknown keys, wrong types, bad amounts and rates,
bands out of order, a cause or group without relief), so a contract author fixes a file in one pass.
Each contract's content hash is the SHA-256 of its file's bytes; whatever it priced records that hash.
"""

from __future__ import annotations

import hashlib
import tomllib
import typing
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from collections.abc import Callable
from typing import Any, Literal

import msgspec

from .domain.causes import BASES as BASIS_NAMES
from .domain.causes import DEFAULT_TABLE, CauseDef, CauseTable, GroupDef, table_problems
from .domain.errors import FieldError, ValidationFailed
from .domain.money import Fen, parse_rate, parse_yuan
from .domain.registers import RegisterRules
from .domain.relief import Band, ReliefRule

# The defaults: what a contract without its own [[causes]] / [[household_groups]] tables serves.
CAUSES = DEFAULT_TABLE.cause_codes
GROUPS = DEFAULT_TABLE.group_codes
BASES = tuple(BASIS_NAMES)
CAUSE_BASIS = {c.code: c.basis for c in DEFAULT_TABLE.causes}


class _S(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    pass


class Period(_S):
    start: date
    end: date


class EligibilitySection(_S):
    income_line: str
    burden_ratio: str
    groups: list[str]


class DeadlinesSection(_S):
    check_within_days: int
    notice_days: int
    review_request_days: int = 15  # an ineligible household may ask for a review within this many days of the decision


class VisitsSection(_S):
    """Who can visit how much, and when: the planner's and the scheduler's working calendar."""

    capacity_per_day: int = 4  # home visits one officer makes in a day
    workdays: list[int] = msgspec.field(default_factory=lambda: [1, 2, 3, 4, 5])  # ISO weekdays: Monday 1 … Sunday 7
    holidays: list[date] = []  # public holidays on working weekdays
    extra_workdays: list[date] = []  # weekend days worked in exchange for a holiday (调休)


class NoticeSection(_S):
    id_mask: str = "6+4"
    mask_names: bool = False
    scope: Literal["village", "town"] = "village"


class ApprovalSection(_S):
    county_signoff_at: str


class SamplingSection(_S):
    min_rate: str
    confidence: str
    tolerable_rate: str
    income_tolerance: str
    expected_rate: str = "0.00"
    reveal_within_days: int = 7  # after the freeze; then a party that has not revealed may be passed over


class FollowupSection(_S):
    """Follow-up (回访) after a payment: whether the contract requires one, and within how many days of the bank's
    settlement; how long a department has to answer a need passed to it (发点球)."""

    required: bool = True
    within_days: int = 30
    referral_answer_days: int = 30


class RegistersSection(_S):
    """What other agencies' registers mean for a household (`domain/registers.py`): above these a hit excludes it
    unless explained; below, a hit needs an explanation."""

    vehicle_value_above: str = "100000.00"  # a vehicle worth more than this
    business_capital_above: str = "500000.00"  # a business registered with more capital than this
    assets_above: str = "200000.00"  # deposits or financial assets above this
    housing_excludes: bool = True  # a purchased commercial flat
    public_employment_excludes: bool = True
    medical_tolerance: str = "0.10"  # a settlement total off the recorded self-paid cost by more than this share


REFERRAL_FEEDS = ("medical_insurance", "civil_affairs", "emergency_management", "education")
REGISTER_FEEDS = ("vehicle", "business", "housing", "public_employment", "assets", "medical")


class FeedSpec(_S):
    """A list a bureau sends: a referral channel or a register kind, in which months, due by which day."""

    source: str
    months: list[int] = msgspec.field(default_factory=lambda: list(range(1, 13)))
    due_day: int = 5


def _default_feeds() -> list[FeedSpec]:
    return [FeedSpec("medical_insurance"), FeedSpec("civil_affairs"), FeedSpec("emergency_management"),
            FeedSpec("education", months=[3, 9], due_day=31)]


class BandSpec(_S):
    rate: str
    upto: str | None = None


class ReliefSpec(_S):
    cause: str
    basis: str
    deductible: str
    mode: Literal["bracket", "marginal"]
    bands: list[BandSpec]
    cap_per_year: str | None = None
    cap_per_member: str | None = None
    group: str | None = None  # absent: the rule applies to every group of the contract


class CauseSpec(_S):
    """One `[[causes]]` table: a cause the contract serves."""

    code: str
    name: str
    basis: str
    channel: str | None = None  # the bureau that refers it; with the household's own application
    channels: list[str] | None = None  # instead: exactly the channels that may refer it
    synonyms: list[str] = []
    basis_label: str | None = None


class GroupSpec(_S):
    """One `[[household_groups]]` table: a household group the contract knows."""

    code: str
    name: str
    synonyms: list[str] = []


class ContractSpec(_S):
    id: str
    title: str
    purchaser: str
    insurer: str
    county_codes: list[str]
    period: Period
    budget: str
    service_fee_rate: str
    eligibility: EligibilitySection
    deadlines: DeadlinesSection
    notice: NoticeSection
    approval: ApprovalSection
    sampling: SamplingSection
    relief: list[ReliefSpec]
    visits: VisitsSection = msgspec.field(default_factory=VisitsSection)
    followup: FollowupSection = msgspec.field(default_factory=FollowupSection)
    registers: RegistersSection = msgspec.field(default_factory=RegistersSection)
    feeds: list[FeedSpec] = msgspec.field(default_factory=_default_feeds)
    # The counties' names as people write them, e.g. { "340223" = "南陵县" }: optional; without it a contract of one
    # county names it after its purchaser ("南陵县人民政府" → "南陵县").
    county_names: dict[str, str] = msgspec.field(default_factory=dict)
    # The causes and household groups the contract serves; absent, the defaults (domain/causes.py DEFAULT_TABLE).
    causes: list[CauseSpec] = []
    household_groups: list[GroupSpec] = []


_ARRAYS: dict[str, type[msgspec.Struct]] = {"relief": ReliefSpec, "causes": CauseSpec, "household_groups": GroupSpec}

_SECTIONS: dict[str, type[msgspec.Struct]] = {
    "period": Period,
    "eligibility": EligibilitySection,
    "deadlines": DeadlinesSection,
    "notice": NoticeSection,
    "approval": ApprovalSection,
    "sampling": SamplingSection,
    "visits": VisitsSection,
    "followup": FollowupSection,
    "registers": RegistersSection,
}


@dataclass(frozen=True)
class Contract:
    """A checked contract, with its money parsed to fen and its relief rules ready to price."""

    spec: ContractSpec
    content_hash: str
    source: str

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def county_codes(self) -> list[str]:
        return self.spec.county_codes

    @property
    def start(self) -> date:
        return self.spec.period.start

    @property
    def end(self) -> date:
        return self.spec.period.end

    @property
    def year(self) -> int:
        return self.spec.period.start.year

    def county_name(self, county_code: str) -> str | None:
        """The county's name by this contract: from `county_names`, or from the purchaser of a one-county contract;
        None when the contract does not say."""
        named = self.spec.county_names.get(county_code, "").strip()
        if named:
            return named
        if self.spec.county_codes == [county_code]:
            name = self.spec.purchaser.strip()
            for suffix in ("人民政府", "政府"):
                if name.endswith(suffix) and len(name) > len(suffix):
                    return name.removesuffix(suffix)
            return name or None
        return None

    @cached_property
    def cause_table(self) -> CauseTable:
        """The causes and household groups this contract serves (the defaults for what it does not declare)."""
        return table_of(self.spec)

    def covers(self, county_code: str, on: date) -> bool:
        return county_code in self.spec.county_codes and self.start <= on <= self.end

    @cached_property
    def budget(self) -> Fen:
        return parse_yuan(self.spec.budget, "budget")

    @cached_property
    def service_fee_rate(self) -> Decimal:
        return parse_rate(self.spec.service_fee_rate, "service_fee_rate")

    @cached_property
    def income_line(self) -> Fen:
        return parse_yuan(self.spec.eligibility.income_line, "eligibility.income_line")

    @cached_property
    def burden_ratio(self) -> Decimal:
        return parse_rate(self.spec.eligibility.burden_ratio, "eligibility.burden_ratio", high=Decimal(100))

    @cached_property
    def county_signoff_at(self) -> Fen:
        return parse_yuan(self.spec.approval.county_signoff_at, "approval.county_signoff_at")

    @cached_property
    def rules(self) -> dict[tuple[str, str], ReliefRule]:
        out: dict[tuple[str, str], ReliefRule] = {}
        for i, spec in enumerate(self.spec.relief):
            groups = [spec.group] if spec.group else list(self.spec.eligibility.groups)
            for group in groups:
                out[(spec.cause, group)] = _relief_rule(spec, group, f"relief[{i}]")
        return out

    @cached_property
    def register_rules(self) -> RegisterRules:
        r = self.spec.registers
        return RegisterRules(
            vehicle_value_above=parse_yuan(r.vehicle_value_above, "registers.vehicle_value_above"),
            business_capital_above=parse_yuan(r.business_capital_above, "registers.business_capital_above"),
            assets_above=parse_yuan(r.assets_above, "registers.assets_above"),
            housing_excludes=r.housing_excludes, public_employment_excludes=r.public_employment_excludes,
            medical_tolerance=parse_rate(r.medical_tolerance, "registers.medical_tolerance"))

    def relief_rule(self, cause: str, group: str) -> ReliefRule:
        try:
            return self.rules[(cause, group)]
        except KeyError:
            names = self.cause_table
            raise ValidationFailed.one("cause", f"服务合同 {self.id} 没有{names.cause_names().get(cause, cause)}、"
                                                f"{names.group_names().get(group, group)}家庭的救助标准") from None

    def overlaps(self, other: "Contract") -> list[str]:
        """The county codes both contracts serve over intersecting periods (empty when they do not overlap)."""
        if self.start > other.end or other.start > self.end:
            return []
        return sorted(set(self.county_codes) & set(other.county_codes))


def table_of(spec: ContractSpec) -> CauseTable:
    if not spec.causes and not spec.household_groups:
        return DEFAULT_TABLE
    causes = tuple(CauseDef(c.code, c.name, c.basis, c.channel or (c.channels or ["application"])[0],
                            tuple(c.synonyms), c.basis_label, tuple(c.channels or ()))
                   for c in spec.causes) or DEFAULT_TABLE.causes
    groups = tuple(GroupDef(g.code, g.name, tuple(g.synonyms)) for g in spec.household_groups) or DEFAULT_TABLE.groups
    return CauseTable(causes, groups)


# The Chinese names of every cause and group some contract loaded in this process declares, for pages and
# documents that show a code without its contract at hand (web/labels.py falls back to them).
_DECLARED: dict[str, dict[str, str]] = {"causes": {}, "groups": {}, "counties": {}}


def remember_names(contract: "Contract") -> None:
    """Remember the names a *stored* contract declares (store/contracts.py, as it parses one): a text only checked
    (`verifier contracts check`, an upload refused) names nothing on any page."""
    _DECLARED["causes"].update(contract.cause_table.cause_names())
    _DECLARED["groups"].update(contract.cause_table.group_names())
    _DECLARED["counties"].update({c: n for c in contract.county_codes if (n := contract.county_name(c))})


_SOURCE: list[Callable[[], object]] = []  # reads every stored contract (set by whoever opens the database)
_ASKED: set[tuple[str, str]] = set()


def set_name_source(load_all: Callable[[], object]) -> None:
    """`load_all` parses every stored contract (which remembers their names): asked once for a code not yet known,
    so that a contract another process added is named too."""
    _SOURCE[:] = [load_all]


def declared_name(kind: str, code: str) -> str | None:
    """The Chinese name a loaded contract gives the cause (`kind` "causes"), group ("groups") or county
    ("counties") `code`."""
    found = _DECLARED.get(kind, {}).get(code)
    if found is None and _SOURCE and (kind, code) not in _ASKED and isinstance(code, str) and code:
        _ASKED.add((kind, code))
        try:
            _SOURCE[0]()
        except Exception:  # a label must never break a page: the code is shown instead
            return None
        found = _DECLARED.get(kind, {}).get(code)
    return found


def county_named(code: str) -> str:
    """A county in a message as the pages name it (示范县（340223）), or 县（区）340223 when no contract names it."""
    name = declared_name("counties", code) if isinstance(code, str) else None
    return f"{name}（{code}）" if name else f"县（区）{code}"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _relief_rule(spec: ReliefSpec, group: str, where: str) -> ReliefRule:
    return ReliefRule(
        cause=spec.cause,
        group=group,
        basis=spec.basis,
        deductible=parse_yuan(spec.deductible, f"{where}.deductible"),
        mode=spec.mode,
        bands=tuple(
            Band(
                upto=None if b.upto is None else parse_yuan(b.upto, f"{where}.bands[{j}].upto"),
                rate=_lenient_rate(b.rate),
            )
            for j, b in enumerate(spec.bands)
        ),
        cap_per_year=None if spec.cap_per_year is None else parse_yuan(spec.cap_per_year, f"{where}.cap_per_year"),
        cap_per_member=None if spec.cap_per_member is None else parse_yuan(spec.cap_per_member, f"{where}.cap_per_member"),
    )


def _lenient_rate(text: str) -> Decimal:
    """A band's rate as written; its range is judged by `ReliefRule.validate` beside the bands' order."""
    try:
        return Decimal(text)
    except (ArithmeticError, ValueError):
        return Decimal("NaN")


def _struct_problems(value: Any, struct: type[msgspec.Struct], where: str) -> tuple[list[FieldError], list[FieldError]]:
    """Unknown keys, then missing keys, of one table: every one of them (msgspec alone stops at the first).

    Unknown keys are removed from `value` so that the rest of the file can still be checked.
    """
    if not isinstance(value, dict):
        return [], [FieldError(where, "must be a table")]
    fields = {f.encode_name: f for f in msgspec.structs.fields(struct)}
    unknown = [k for k in value if k not in fields]
    for k in unknown:
        del value[k]
    missing = [
        FieldError(f"{where}.{name}" if where else name, "missing")
        for name, f in fields.items()
        if f.required and name not in value
    ]
    return [FieldError(f"{where}.{k}" if where else k, "unknown key") for k in unknown], missing


def _convert_problem(value: Any, target: Any, where: str) -> list[FieldError]:
    """Every value that does not convert to `target`: a table field by field (msgspec stops at the first wrong
    value, a contract's author wants them all), an array of tables element by element."""
    if isinstance(target, type) and issubclass(target, msgspec.Struct) and isinstance(value, dict):
        problems = []
        for f in msgspec.structs.fields(target):
            if f.encode_name in value:
                name = f"{where}.{f.encode_name}" if where else f.encode_name
                problems += _convert_problem(value[f.encode_name], f.type, name)
        return problems or _convert_one(value, target, where)
    item = _struct_items(target)
    if item is not None and isinstance(value, list):
        return [e for j, v in enumerate(value) for e in _convert_problem(v, item, f"{where}[{j}]")]
    return _convert_one(value, target, where)


def _struct_items(target: Any) -> type[msgspec.Struct] | None:
    """The table type of an array-of-tables type (list[BandSpec] -> BandSpec), else None."""
    if typing.get_origin(target) is list:
        (item,) = typing.get_args(target)
        if isinstance(item, type) and issubclass(item, msgspec.Struct):
            return item
    return None


def _convert_one(value: Any, target: Any, where: str) -> list[FieldError]:
    try:
        msgspec.convert(value, target, strict=True)
    except msgspec.ValidationError as exc:
        msg = str(exc)
        path = ""
        if " - at `$" in msg:
            msg, _, path = msg.partition(" - at `$")
            path = path.rstrip("`")
        field = f"{where}{path}" if where else path.lstrip(".")
        return [FieldError(field or where or "contract", msg)]
    return []


def _try(problems: list[FieldError], fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except ValidationFailed as exc:
        problems.extend(exc.errors)
        return None


def _semantic_problems(spec: ContractSpec) -> list[FieldError]:
    p: list[FieldError] = []
    if not spec.id.strip():
        p.append(FieldError("id", "must not be empty"))
    if not spec.county_codes:
        p.append(FieldError("county_codes", "at least one county code is needed"))
    for i, code in enumerate(spec.county_codes):
        if not (len(code) == 6 and code.isdigit()):
            p.append(FieldError(f"county_codes[{i}]", f"a county code is six digits, got {code!r}"))
    for code, name in spec.county_names.items():
        if code not in spec.county_codes:
            p.append(FieldError(f"county_names.{code}", "names a county the contract does not cover"))
        elif not name.strip() or len(name) > 50:
            p.append(FieldError(f"county_names.{code}", "a county's name has 1 to 50 characters"))
    if spec.period.end < spec.period.start:
        p.append(FieldError("period.end", "ends before it starts"))
    _try(p, parse_yuan, spec.budget, "budget")
    _try(p, parse_rate, spec.service_fee_rate, "service_fee_rate")
    _try(p, parse_yuan, spec.eligibility.income_line, "eligibility.income_line")
    _try(p, parse_rate, spec.eligibility.burden_ratio, "eligibility.burden_ratio", high=Decimal(100))
    table = table_of(spec)
    p.extend(table_problems(table.causes, table.groups, causes_at="causes", groups_at="household_groups"))
    known_groups = table.group_codes
    groups = spec.eligibility.groups
    if not groups:
        p.append(FieldError("eligibility.groups", "at least one household group is needed"))
    for i, g in enumerate(groups):
        if g not in known_groups:
            p.append(FieldError(f"eligibility.groups[{i}]",
                                f"unknown household group {g!r}; known: {', '.join(known_groups)}"))
    if spec.deadlines.check_within_days < 1:
        p.append(FieldError("deadlines.check_within_days", "must be at least 1"))
    if spec.deadlines.notice_days < 1:
        p.append(FieldError("deadlines.notice_days", "must be at least 1"))
    if spec.deadlines.review_request_days < 1:
        p.append(FieldError("deadlines.review_request_days", "must be at least 1"))
    if not 1 <= spec.followup.within_days <= 365:
        p.append(FieldError("followup.within_days", "must be from 1 to 365 days"))
    if not 1 <= spec.followup.referral_answer_days <= 365:
        p.append(FieldError("followup.referral_answer_days", "must be from 1 to 365 days"))
    visits = spec.visits
    if not 1 <= visits.capacity_per_day <= 50:
        p.append(FieldError("visits.capacity_per_day", f"must be between 1 and 50, got {visits.capacity_per_day}"))
    if not visits.workdays:
        p.append(FieldError("visits.workdays", "at least one working weekday is needed"))
    for i, w in enumerate(visits.workdays):
        if not 1 <= w <= 7:
            p.append(FieldError(f"visits.workdays[{i}]", f"a weekday is 1 (Monday) to 7 (Sunday), got {w}"))
    for d in sorted(set(visits.holidays) & set(visits.extra_workdays)):
        p.append(FieldError("visits.extra_workdays", f"{d} is also listed as a holiday"))
    mask = spec.notice.id_mask
    parts = mask.split("+")
    if len(parts) != 2 or not all(x.isdigit() for x in parts):
        p.append(FieldError("notice.id_mask", f"must look like \"6+4\", got {mask!r}"))
    elif int(parts[0]) > 6 or int(parts[1]) > 4:
        p.append(FieldError("notice.id_mask", "may show at most the first 6 and the last 4 digits"))
    _try(p, parse_yuan, spec.approval.county_signoff_at, "approval.county_signoff_at")
    for name in ("min_rate", "confidence", "tolerable_rate", "income_tolerance", "expected_rate"):
        _try(p, parse_rate, getattr(spec.sampling, name), f"sampling.{name}")
    if not 1 <= spec.sampling.reveal_within_days <= 90:
        p.append(FieldError("sampling.reveal_within_days", "must be from 1 to 90 days"))
    for name in ("vehicle_value_above", "business_capital_above", "assets_above"):
        _try(p, parse_yuan, getattr(spec.registers, name), f"registers.{name}")
    _try(p, parse_rate, spec.registers.medical_tolerance, "registers.medical_tolerance")
    for i, feed in enumerate(spec.feeds):
        if feed.source not in REFERRAL_FEEDS + REGISTER_FEEDS:
            p.append(FieldError(f"feeds[{i}].source", f"unknown list {feed.source!r}; known: "
                                                      f"{', '.join(REFERRAL_FEEDS + REGISTER_FEEDS)}"))
        if not feed.months or any(not 1 <= m <= 12 for m in feed.months):
            p.append(FieldError(f"feeds[{i}].months", "months are 1 to 12, at least one"))
        if not 1 <= feed.due_day <= 31:
            p.append(FieldError(f"feeds[{i}].due_day", "a day of the month, 1 to 31 (the month's last day when shorter)"))
    if not spec.relief:
        p.append(FieldError("relief", "the contract prices no relief at all"))
    covered: dict[tuple[str, str], int] = {}
    causes: set[str] = set()
    for i, r in enumerate(spec.relief):
        where = f"relief[{i}]"
        cause_basis = table.basis_of(r.cause)
        if cause_basis is None:
            p.append(FieldError(f"{where}.cause",
                                f"unknown cause {r.cause!r}; known: {', '.join(table.cause_codes)}"))
            continue
        causes.add(r.cause)
        if r.basis not in BASES:
            p.append(FieldError(f"{where}.basis", f"unknown basis {r.basis!r}; known: {', '.join(BASES)}"))
        elif r.basis != cause_basis:
            p.append(FieldError(f"{where}.basis", f"cause {r.cause} is priced on {cause_basis}, not {r.basis}"))
        if r.group is not None and r.group not in groups:
            p.append(FieldError(f"{where}.group", f"group {r.group!r} is not one of the contract's groups"))
        for g in [r.group] if r.group else groups:
            if (r.cause, g) in covered:
                p.append(FieldError(f"{where}", f"{r.cause} for {g} is already priced by relief[{covered[(r.cause, g)]}]"))
            covered[(r.cause, g)] = i
        before = len(p)
        rule = _try(p, _relief_rule, r, r.group or "all", where)
        if rule is not None and len(p) == before:
            p.extend(rule.validate(prefix=where, causes=table.cause_codes))
    for cause in [c.code for c in spec.causes if c.code not in causes]:
        p.append(FieldError("relief", f"cause {cause} is declared but has no relief"))
    for cause in sorted(causes):
        for g in groups:
            if g in known_groups and (cause, g) not in covered:
                p.append(FieldError("relief", f"cause {cause} has no relief for household group {g}"))
    return p


def check_contract_text(data: bytes, *, source: str = "contract") -> tuple[Contract | None, list[FieldError]]:
    """Parse and check one contract file; returns the contract (when sound) and every problem found."""
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return None, [FieldError(source, f"not UTF-8 text: {exc}")]
    except tomllib.TOMLDecodeError as exc:
        return None, [FieldError(source, f"not valid TOML: {exc}")]
    unknown, blocking = _struct_problems(raw, ContractSpec, "")

    def table(value: Any, struct: type[msgspec.Struct], where: str) -> None:
        u, b = _struct_problems(value, struct, where)
        unknown.extend(u)
        blocking.extend(b or _convert_problem(value, struct, where))

    for key, struct in _SECTIONS.items():
        if key in raw:
            table(raw[key], struct, key)
    for name, item in _ARRAYS.items():
        array = raw.get(name)
        if array is not None and not isinstance(array, list):
            blocking.append(FieldError(name, f"must be an array of tables ([[{name}]])"))
        elif array is not None:
            for i, r in enumerate(array):
                if name == "relief" and isinstance(r, dict) and isinstance(r.get("bands"), list):
                    for j, b in enumerate(r["bands"]):
                        unknown.extend(_struct_problems(b, BandSpec, f"relief[{i}].bands[{j}]")[0])
                table(r, item, f"{name}[{i}]")
    for f in msgspec.structs.fields(ContractSpec):  # the top-level values, beside any problem in the tables
        if f.encode_name in raw and f.encode_name not in _SECTIONS and f.encode_name not in _ARRAYS:
            blocking.extend(_convert_problem(raw[f.encode_name], f.type, f.encode_name))
    if not blocking:
        try:
            spec = msgspec.convert(raw, ContractSpec, strict=True)
        except msgspec.ValidationError:  # a top-level scalar of the wrong type
            blocking = _convert_problem(raw, ContractSpec, "")
    if blocking:
        return None, unknown + blocking
    problems = unknown + _semantic_problems(spec)
    if problems:
        return None, problems
    return Contract(spec=spec, content_hash=content_hash(data), source=data.decode("utf-8")), []


def load_contract(path: Path) -> Contract:
    contract, problems = check_contract_text(path.read_bytes(), source=str(path))
    if contract is None:
        raise ValidationFailed(problems)
    return contract


def overlap_problems(contracts: list[Contract]) -> list[FieldError]:
    """Two contracts serving one county over intersecting periods: which one prices a case would be ambiguous."""
    problems = []
    for i, a in enumerate(contracts):
        for b in contracts[i + 1:]:
            shared = a.overlaps(b)
            if shared and a.content_hash != b.content_hash:
                problems.append(FieldError(
                    "period",
                    f"contract {a.id} overlaps contract {b.id} for county {', '.join(shared)} "
                    f"between {max(a.start, b.start)} and {min(a.end, b.end)}",
                ))
    return problems


def load_directory(path: Path) -> list[Contract]:
    contracts = [load_contract(p) for p in sorted(path.glob("*.toml"))]
    problems = overlap_problems(contracts)
    if problems:
        raise ValidationFailed(problems)
    return contracts
