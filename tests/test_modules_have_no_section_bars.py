"""A module that has grown section bars (comment lines like `# --- … ---` or `# ===`) is several modules: it is split
along its bars into modules with names of their own. `tests/web/test_web_modules_stay_small.py` keeps `web/` so; this
keeps every other module of `src/verifier` so too."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "verifier"
_BAR = re.compile(r"^\s*#\s*(-{3}|={3})")
# Modules that still have bars, and why (none now); each is split when it can be, and then leaves this list (the
# second test fails while a module listed here has no bar left).
NOT_YET_SPLIT: dict[str, str] = {}


def _bars() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for p in sorted(SRC.rglob("*.py")):
        lines = [n for n, line in enumerate(p.read_text("utf-8").splitlines(), 1) if _BAR.match(line)]
        if lines:
            found[str(p.relative_to(SRC))] = lines
    return found


def test_no_module_has_grown_section_bars() -> None:
    assert {name: lines for name, lines in _bars().items() if name not in NOT_YET_SPLIT} == {}


def test_every_module_not_yet_split_still_has_its_bars() -> None:
    assert sorted(set(NOT_YET_SPLIT) - set(_bars())) == []


def test_the_guard_sees_a_bar_of_either_kind() -> None:
    assert [bool(_BAR.match(line)) for line in ("# --- the county's file ---", "    # === totals", "# -- note",
                                                "x = 1  # --- not a bar", "#: ---")] == [True, True, False, False,
                                                                                        False]
