"""A four-eyes refusal is worded one way wherever it is said: 按“四眼原则”，… (not 四眼原则：… beside it)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAID = re.compile(r"(.?.?)四眼原则(.?.?)")


def test_every_four_eyes_refusal_reads_the_same() -> None:
    others = []
    for path in [*(ROOT / "src" / "verifier").rglob("*.py"), *(ROOT / "templates").rglob("*.html")]:
        for m in SAID.finditer(path.read_text(encoding="utf-8")):
            if (m.group(1), m.group(2)) != ("按“", "”，"):
                others.append(f"{path.relative_to(ROOT)}: {m.group(0)}")
    assert not others, others
