"""The county's roster of registered households, as the national monitoring system exports it (防返贫监测信息系统):
poverty-alleviated households (脱贫户) and monitored households (监测对象) in three kinds. Pure: no I/O.

A bureau's referral file may leave out the household group (户类型): it then comes from the roster. The scheme
serves two groups (see DOMAIN.md): households that left poverty on a low standard (非高标准脱贫户) and non-poor
low-income households (非贫低收入户). A household registered as having left poverty, stable or not, is of the first;
a household at the edge of poverty or in sudden hardship that never was registered poor is of the second, and so is
anyone on no roster (a candidate the check will confirm or not).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Literal

RosterCategory = Literal["exited", "exited_unstable", "edge", "sudden_hardship"]

CATEGORY_NAMES: Mapping[RosterCategory, str] = {
    "exited": "脱贫户",
    "exited_unstable": "脱贫不稳定户",
    "edge": "边缘易致贫户",
    "sudden_hardship": "突发严重困难户",
}

# What the exports write, after NFKC and with spaces removed; "监测对象-" and similar prefixes are dropped first.
_VALUES: Mapping[str, RosterCategory] = {
    **{name: code for code, name in CATEGORY_NAMES.items()},
    **{code: code for code in CATEGORY_NAMES},
    "脱贫人口": "exited",
    "已脱贫户": "exited",
    "不稳定脱贫户": "exited_unstable",
    "脱贫不稳定": "exited_unstable",
    "边缘户": "edge",
    "边缘易致贫": "edge",
    "突发严重困难": "sudden_hardship",
}

GROUP_OF: Mapping[RosterCategory, str] = {
    "exited": "exited_low_standard",
    "exited_unstable": "exited_low_standard",
    "edge": "low_income",
    "sudden_hardship": "low_income",
}

NOT_ON_ROSTER_GROUP = "low_income"


def parse_category(text: str) -> RosterCategory | None:
    """The category a roster cell names, or None when it names none we know."""
    value = "".join(unicodedata.normalize("NFKC", text).split())
    for prefix in ("监测对象", "监测户"):
        if value.startswith(prefix) and value != prefix:
            value = value[len(prefix):].lstrip("-—:：/(（").rstrip(")）")
    return _VALUES.get(value) or _VALUES.get(value.lower())


def group_for(category: RosterCategory | None) -> str:
    """The household group of a person with this roster category (None: on no roster)."""
    return NOT_ON_ROSTER_GROUP if category is None else GROUP_OF[category]
