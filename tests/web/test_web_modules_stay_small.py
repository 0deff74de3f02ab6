"""The web layer stays easy to live in: pages read through the stages' services (no table queried in `web/`), a
module whose sections had grown comment bars is a package of one module per section, and the pages' Chinese labels
live in the label tables (`web/labels.py`, `web/stagelabels.py`), not in literal dicts scattered over the pages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "src" / "verifier" / "web"
LABEL_TABLES = {"labels.py", "stagelabels.py"}
# HTML of the case list's rows (markup, not words to look up): kept beside the rows that carry it.
NOT_LABELS = {("cases.py", "CONTRACT_MARKS")}
_HAN = re.compile(r"[\u4e00-\u9fff]")
_BAR = re.compile(r"^\s*#\s*(-{3}|={3})")
_QUERY = re.compile(r"\bselect\(|session\.(execute|scalars?|get|query)\(|from \.\.store\.tables import|\.models import"
                    r"|import tables\b")
# The parts of `store/` a page may use, and why: none of them reads a table for the page. Every other store module
# (`store.contracts`, `store.tables`, …) is read through its stage (e.g. `contract_review.reads`, `sampling.service`).
STORE_ALLOWED = {
    "paged": "fold_search: the search box's text folded as the services fold it (no read)",
    "reader": "Steps and session_reader: the plumbing that hands a service's read its connection (no query of its own)",
    "vault": "Vault: the key that decrypts what a service read, passed on to an export",
    "keys": "the session cookie's secret, read once at start-up (a file, not a table)",
    "faults": "which database errors mean a full disk or a lost server, for the error pages (no read)",
}
_STORE_IMPORT = re.compile(r"from \.{2,3}store(?:\.(\w+))? import (\w+)")


def _modules() -> list[Path]:
    return sorted(p for p in WEB.rglob("*.py"))


def _name(p: Path) -> str:
    return str(p.relative_to(WEB))


def test_no_page_queries_a_table_itself() -> None:
    found = [f"{_name(p)}:{n}" for p in _modules() for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
             if _QUERY.search(line)]
    assert found == []


def test_pages_use_only_the_stores_plumbing() -> None:
    found = []
    for p in _modules():
        for n, line in enumerate(p.read_text("utf-8").splitlines(), 1):
            m = _STORE_IMPORT.search(line)
            if m and (m.group(1) or m.group(2)) not in STORE_ALLOWED:
                found.append(f"{_name(p)}:{n} {line.strip()}")
    assert found == []


def test_no_module_has_grown_section_bars() -> None:
    found = [f"{_name(p)}:{n}" for p in _modules() for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
             if _BAR.match(line)]
    assert found == []


def _chinese(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str) and _HAN.search(n.value)
               for n in ast.walk(node))


def test_label_dicts_live_in_the_label_tables() -> None:
    found = []
    for p in _modules():
        if p.name in LABEL_TABLES:
            continue
        for node in ast.parse(p.read_text("utf-8")).body:
            target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
            value = getattr(node, "value", None)
            if isinstance(target, ast.Name) and isinstance(value, ast.Dict) and _chinese(value) \
                    and (_name(p), target.id) not in NOT_LABELS:
                found.append(f"{_name(p)}:{node.lineno} {target.id}")
    assert found == []
