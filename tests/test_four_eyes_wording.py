"""A four-eyes refusal is worded one way wherever it is said: 按“四眼原则”，… (not 四眼原则：… beside it, nor
another name for the rule such as 双人规则：…)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAID = re.compile(r"(.?.?)四眼原则(.?.?)")
OTHER_NAMES = re.compile(r"双人规则|两人规则|双人原则")


def _sources() -> list[Path]:
    return [*(ROOT / "src" / "verifier").rglob("*.py"), *(ROOT / "templates").rglob("*.html")]


def test_every_four_eyes_refusal_reads_the_same() -> None:
    others = []
    for path in _sources():
        for m in SAID.finditer(path.read_text(encoding="utf-8")):
            if (m.group(1), m.group(2)) != ("按“", "”，"):
                others.append(f"{path.relative_to(ROOT)}: {m.group(0)}")
    assert not others, others


def test_the_rule_goes_by_no_other_name() -> None:
    others = [f"{path.relative_to(ROOT)}: {m.group(0)}" for path in _sources()
              for m in OTHER_NAMES.finditer(path.read_text(encoding="utf-8"))]
    assert not others, others


def test_the_other_names_are_caught() -> None:
    assert OTHER_NAMES.search("双人规则：这项角色授权是您提出的") and not OTHER_NAMES.search("按“四眼原则”，")
