"""Causes of hardship and household groups, as data: what a contract declares, and today's defaults.

A *cause* (因病, 因灾, 因学, and whatever a county adds: 因残, 因意外 …) has a code stored on cases, a Chinese name
shown on pages and documents, the words bureaus write for it in their files (synonyms), the *basis* of the rigid
expenditure it brings (the field of a home check its relief is priced on) and the channels that may refer it (a
bureau's file, or the household's own application); a referral through another channel is refused.
A *household group* has a code, a Chinese name and synonyms.

`CauseTable` is the whole vocabulary of one contract. `DEFAULT_TABLE` is the one every contract without its own
`[[causes]]` / `[[groups]]` tables keeps: the three causes and two groups the scheme started with.
Pure data and rules: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .errors import FieldError

CHANNEL_ZH = {"medical_insurance": "医保局", "civil_affairs": "民政局", "emergency_management": "应急管理局",
              "education": "教育局", "application": "农户申请"}
"""The channels a referral comes through (`[[causes]] channel`), as pages name them (`web.labels.CHANNELS`)."""

# The rigid-expenditure bases a cause may be priced on: the amounts a home check records. `other_rigid` is the
# generic one for a cause the scheme did not start with (a contract names what it stands for).
BASES: Mapping[str, str] = {
    "medical_self_paid": "合规自付医疗费用",
    "disaster_loss": "灾害损失",
    "schooling": "教育支出",
    "other_rigid": "其他刚性支出",
}
# The channels that refer cases (a bureau's file, or the household's own application).
CHANNELS = ("medical_insurance", "civil_affairs", "emergency_management", "education", "application")

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_CAUSE_CODE = 16  # the width of the stored column
MAX_GROUP_CODE = 32


def norm_word(text: str) -> str:
    """A value as a file's cell is compared: NFKC, trimmed, lower-case, spaces and dashes as underscores."""
    folded = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"[\s\-]+", "_", folded)


@dataclass(frozen=True)
class CauseDef:
    code: str
    name: str  # 因病
    basis: str  # one of BASES
    channel: str = "application"  # the bureau that refers it ("application": only households apply for it)
    synonyms: tuple[str, ...] = ()
    basis_label: str | None = None  # what the basis stands for, when it is `other_rigid` (e.g. 残疾康复支出)
    # Every channel that may refer it; empty: `channel` and the household's own application.
    channels: tuple[str, ...] = ()

    @property
    def basis_name(self) -> str:
        return self.basis_label or BASES.get(self.basis, self.basis)

    @property
    def referred_by(self) -> tuple[str, ...]:
        """The channels that may refer this cause."""
        if self.channels:
            return self.channels
        return (self.channel,) if self.channel == "application" else (self.channel, "application")


def channel_refusal(cause: CauseDef, channels: str | Iterable[str], contract_id: str) -> str | None:
    """Why none of `channels` (one channel, or the several a case came through) may refer `cause` under the contract
    (None when one may): the reason names the cause, the channels and the channels that may."""
    came = (channels,) if isinstance(channels, str) else tuple(channels)
    if any(c in cause.referred_by for c in came):
        return None
    return (f"服务合同 {contract_id} 不受理来自{'、'.join(CHANNEL_ZH.get(c, c) for c in came)}的{cause.name}转介，"
            f"可由：{'、'.join(CHANNEL_ZH.get(c, c) for c in cause.referred_by)}")


@dataclass(frozen=True)
class GroupDef:
    code: str
    name: str
    synonyms: tuple[str, ...] = ()


def _vocabulary(items: Iterable[CauseDef | GroupDef]) -> dict[str, str]:
    """Every accepted word → code: the code itself, the Chinese name and each synonym (normalised)."""
    out: dict[str, str] = {}
    for item in items:
        for word in (item.code, item.name, *item.synonyms):
            out.setdefault(norm_word(word), item.code)
    return out


@dataclass(frozen=True)
class CauseTable:
    causes: tuple[CauseDef, ...]
    groups: tuple[GroupDef, ...]
    _cause_words: dict[str, str] = field(init=False, repr=False, compare=False)
    _group_words: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cause_words", _vocabulary(self.causes))
        object.__setattr__(self, "_group_words", _vocabulary(self.groups))

    # -- look-ups -----------------------------------------------------------------------------------------------

    @property
    def cause_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.causes)

    @property
    def group_codes(self) -> tuple[str, ...]:
        return tuple(g.code for g in self.groups)

    def cause(self, code: str) -> CauseDef | None:
        return next((c for c in self.causes if c.code == code), None)

    def group(self, code: str) -> GroupDef | None:
        return next((g for g in self.groups if g.code == code), None)

    @property
    def cause_words(self) -> Mapping[str, str]:
        """Every accepted word for a cause, normalised (`norm_word`) → its code."""
        return self._cause_words

    @property
    def group_words(self) -> Mapping[str, str]:
        return self._group_words

    def cause_name(self, code: str) -> str:
        found = self.cause(code)
        return found.name if found else code

    def group_name(self, code: str) -> str:
        found = self.group(code)
        return found.name if found else code

    def basis_of(self, code: str) -> str | None:
        found = self.cause(code)
        return found.basis if found else None

    def cause_names(self) -> dict[str, str]:
        return {c.code: c.name for c in self.causes}

    def group_names(self) -> dict[str, str]:
        return {g.code: g.name for g in self.groups}

    def resolve_cause(self, text: str) -> str | None:
        """The cause a file's cell names (its code, Chinese name or a synonym), or None."""
        return self._cause_words.get(text) or self._cause_words.get(norm_word(text))

    def resolve_group(self, text: str) -> str | None:
        return self._group_words.get(text) or self._group_words.get(norm_word(text))

    def accepted_causes(self) -> str:
        """"因病 (illness), 因灾 (disaster) …": what a refused cell may say instead."""
        return "、".join(f"{c.name} ({c.code})" for c in self.causes)

    def accepted_groups(self) -> str:
        return "、".join(f"{g.name} ({g.code})" for g in self.groups)

    def merged(self, other: CauseTable) -> CauseTable:
        """This table with the causes and groups of `other` it lacks (for a county served by several contracts:
        the words any of them accepts)."""
        causes = tuple(c for c in other.causes if self.cause(c.code) is None)
        groups = tuple(g for g in other.groups if self.group(g.code) is None)
        return CauseTable(self.causes + causes, self.groups + groups) if causes or groups else self


# Civil affairs also lists people with large medical costs or disaster losses (DOMAIN.md, referral); households
# may apply for each of the three themselves.
DEFAULT_CAUSES = (
    CauseDef("illness", "因病", "medical_self_paid", "medical_insurance", ("illness",),
             channels=("medical_insurance", "civil_affairs", "application")),
    CauseDef("disaster", "因灾", "disaster_loss", "emergency_management", ("disaster",),
             channels=("emergency_management", "civil_affairs", "application")),
    CauseDef("schooling", "因学", "schooling", "education", ("schooling",), channels=("education", "application")),
)
DEFAULT_GROUPS = (
    GroupDef("exited_low_standard", "非高标准脱贫户"),
    GroupDef("low_income", "非贫低收入户"),
)
DEFAULT_TABLE = CauseTable(DEFAULT_CAUSES, DEFAULT_GROUPS)


def table_problems(causes: Iterable[CauseDef], groups: Iterable[GroupDef], *,
                   causes_at: str = "causes", groups_at: str = "groups") -> list[FieldError]:
    """Every problem with a declared vocabulary: bad or repeated codes, empty names, unknown bases or channels,
    and a word (code, name or synonym) that would name two different causes (or groups)."""
    p: list[FieldError] = []
    for kind, items, where, width in (("cause", list(causes), causes_at, MAX_CAUSE_CODE),
                                      ("group", list(groups), groups_at, MAX_GROUP_CODE)):
        seen: dict[str, int] = {}
        words: dict[str, tuple[str, int]] = {}
        for i, item in enumerate(items):
            at = f"{where}[{i}]"
            if not _CODE.match(item.code) or len(item.code) > width:
                p.append(FieldError(f"{at}.code", f"a {kind} code is lower-case letters, digits and _ (at most "
                                                  f"{width}), starting with a letter; got {item.code!r}"))
            if item.code in seen:
                p.append(FieldError(f"{at}.code", f"{kind} code {item.code!r} is already used by {where}[{seen[item.code]}]"))
            seen.setdefault(item.code, i)
            if not item.name.strip() or len(item.name) > 20:
                p.append(FieldError(f"{at}.name", f"a {kind}'s Chinese name has 1 to 20 characters"))
            for word in (item.code, item.name, *item.synonyms):
                key = norm_word(word)
                if not key:
                    p.append(FieldError(f"{at}.synonyms", "a synonym must not be empty"))
                    continue
                owner = words.get(key)
                if owner is not None and owner[0] != item.code:
                    p.append(FieldError(f"{at}.synonyms", f"{word!r} already names {kind} {owner[0]!r} "
                                                          f"({where}[{owner[1]}])"))
                words.setdefault(key, (item.code, i))
            if isinstance(item, CauseDef):
                if item.basis not in BASES:
                    p.append(FieldError(f"{at}.basis", f"unknown basis {item.basis!r}; known: {', '.join(BASES)}"))
                if item.channel not in CHANNELS:
                    p.append(FieldError(f"{at}.channel",
                                        f"unknown channel {item.channel!r}; known: {', '.join(CHANNELS)}"))
                for channel in item.channels:
                    if channel not in CHANNELS:
                        p.append(FieldError(f"{at}.channels",
                                            f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}"))
                if len(set(item.channels)) < len(item.channels):
                    p.append(FieldError(f"{at}.channels", "a channel is listed twice"))
                if item.channels and item.channel not in item.channels:
                    p.append(FieldError(f"{at}.channel", f"channel {item.channel!r} is not among its channels"))
                if item.basis_label is not None and (not item.basis_label.strip() or len(item.basis_label) > 20):
                    p.append(FieldError(f"{at}.basis_label", "a basis label has 1 to 20 characters"))
        if not items:
            p.append(FieldError(where, f"at least one {kind} is needed"))
    return p
