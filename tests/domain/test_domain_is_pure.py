"""The domain stays pure: the rules import nothing that reads files, the database, the network or the clock.

Anything the rules need from the world (today, a contract, the cases) is given to them as arguments, so they are
tested without a database and give the same answer to the same question.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "src" / "verifier" / "domain"

# The standard library's pure pieces the rules may use (no files, processes, sockets or clocks).
ALLOWED = {
    "__future__", "bisect", "collections", "dataclasses", "datetime", "decimal", "enum", "fractions", "functools",
    "hashlib", "hmac", "itertools", "math", "operator", "re", "typing", "unicodedata", "zoneinfo", "string",
    "heapq", "statistics", "struct",
}
# Calls that read the world, wherever they come from.
FORBIDDEN_CALLS = {("date", "today"), ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
                   ("time", "time"), ("os", "urandom")}


def _modules() -> list[Path]:
    return sorted(p for p in DOMAIN.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(DOMAIN)))
def test_a_domain_module_imports_only_the_pure_standard_library_and_the_domain(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    wrong: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            wrong += [a.name for a in node.names if a.name.split(".")[0] not in ALLOWED]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and (node.module or "").split(".")[0] not in ALLOWED:
                wrong.append(node.module or "")
            # Relative imports must stay inside the domain package.
            depth = len(path.relative_to(DOMAIN).parts) - 1
            if node.level > depth + 1:
                wrong.append("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and (owner.id, node.func.attr) in FORBIDDEN_CALLS:
                wrong.append(f"{owner.id}.{node.func.attr}() (line {node.lineno})")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"open", "input"}:
            wrong.append(f"{node.func.id}() (line {node.lineno})")
    assert not wrong, f"{path.relative_to(DOMAIN)} reaches outside the pure rules: {wrong}"


def test_every_domain_module_is_seen() -> None:
    names = {str(p.relative_to(DOMAIN)) for p in _modules()}
    assert "money.py" in names and "planning/planner.py" in names and len(names) > 20
