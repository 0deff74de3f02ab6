"""Every audit action the code can write has a Chinese label in the one label table (web/labels.ACTIONS).

The actions are found in the source itself, so a new `audit.append(..., action="x.y")` without a label fails here:
a keyword `action=`, a dict's "action" key, the third argument of the payments' `_entry(...)`, module constants
named there, the lifecycle's `case.<action>` for every action of the table, and the f-strings listed below.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from verifier.accounts.service import ROLES
from verifier.domain.lifecycle import Action
from verifier.web import labels, stagelabels

SRC = Path(__file__).resolve().parents[2] / "src" / "verifier"
# Expressions that pass an action through (a parameter forwarded), not a new one.
FORWARDED = {"action", "e.action", "item['action']"}
# f-strings and their every value.
EXPANDED = {
    "audit_action or f'case.{action}'": {f"case.{a.value}" for a in Action},
    "f'payee_change.{verb}'": {"payee_change.approve", "payee_change.reject"},
}


def _constants(tree: ast.AST) -> dict[str, str]:
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.isupper():
                    out.setdefault(target.id, node.value.value)
    return out


def audit_actions() -> tuple[set[str], list[str]]:
    """(every action found, expressions that could not be resolved)."""
    trees = {path: ast.parse(path.read_text("utf-8")) for path in SRC.rglob("*.py")}
    # a constant named in one module and imported by another: its dotted (action-like) values anywhere
    dotted: dict[str, set[str]] = {}
    for tree in trees.values():
        for name, value in _constants(tree).items():
            if "." in value:
                dotted.setdefault(name, set()).add(value)
    found: set[str] = set()
    unknown: list[str] = []

    def take(node: ast.expr, where: Path, constants: dict[str, str]) -> None:
        text = ast.unparse(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)
        elif isinstance(node, ast.Name) and node.id in constants:
            found.add(constants[node.id])
        elif isinstance(node, ast.Name) and node.id in dotted:
            found.update(dotted[node.id])
        elif isinstance(node, ast.Attribute) and node.attr in dotted:  # another module's constant (holds.DECIDED)
            found.update(dotted[node.attr])
        elif text in EXPANDED:
            found.update(EXPANDED[text])
        elif text not in FORWARDED:
            unknown.append(f"{where.relative_to(SRC)}: action={text}")

    for path, tree in trees.items():
        if "web" in path.relative_to(SRC).parts:
            continue  # the pages write no audit entries of their own
        own = _constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "action":
                        take(kw.value, path, own)
                if ast.unparse(node.func).endswith("_entry") and len(node.args) >= 3:
                    take(node.args[2], path, own)
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value == "action":
                        take(value, path, own)
    return found, unknown


def test_every_audit_action_has_a_chinese_label() -> None:
    found, unknown = audit_actions()
    assert not unknown, f"audit actions this test cannot resolve (add them to EXPANDED or FORWARDED): {unknown}"
    # the scan itself works: it finds actions of every stage
    for sure in ("payment_batch.approve", "case.screen_pass", "payee_change.reject", "sampling.drawn", "user.add",
                 "notice.close", "fund.open"):
        assert sure in found, sure
    missing = sorted(a for a in found if a not in labels.ACTIONS)
    assert not missing, f"audit actions without a Chinese label in web/labels.ACTIONS: {missing}"
    for action in found:
        label = labels.action_label(action)
        assert label != action and not label.isascii(), action


def test_a_state_change_reads_in_chinese() -> None:
    assert stagelabels.change_zh("payment_batch.approve", {"from": "prepared", "to": "approved"}) == "待审批 → 已审批"
    assert stagelabels.change_zh("case.screen_pass", {"from": "received", "to": "screened"}).isascii() is False
    assert stagelabels.change_zh("objection.record", {"summary": "x"}) == ""
    assert labels.ROLE_LABELS["system"] == "系统"


def test_every_role_and_grant_status_has_its_chinese_name() -> None:
    """A role added to `accounts.service.ROLES`, or a grant status the code writes, shows in Chinese, never its code."""
    re_status = re.compile(r'status(?:,[^=]*)? = "(\w+)"|status="(\w+)"')
    assert set(ROLES) <= labels.ROLE_LABELS.keys()
    source = (SRC / "accounts" / "grants.py").read_text("utf-8")
    written = {a or b for a, b in re_status.findall(source)}
    assert written == {"pending", "confirmed", "refused"}
    assert written <= labels.GRANT_STATUS.keys()

