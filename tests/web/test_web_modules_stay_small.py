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


def _modules() -> list[Path]:
    return sorted(p for p in WEB.rglob("*.py"))


def _name(p: Path) -> str:
    return str(p.relative_to(WEB))


def test_no_page_queries_a_table_itself() -> None:
    found = [f"{_name(p)}:{n}" for p in _modules() for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
             if _QUERY.search(line)]
    assert found == []


def _store_imports(p: Path) -> list[tuple[int, str]]:
    """Each part of `store/` a web module imports (`from ..store import paged, reader`, `from ..store.vault import
    Vault`, `from verifier.store import x`, `import verifier.store.x`), by line, read from its syntax tree (an import
    spread over several lines or naming several parts is seen whole)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(p.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".")
            absolute = node.level == 0 and parts[:2] == ["verifier", "store"]
            relative = node.level >= 2 and parts[:1] == ["store"]
            if absolute or relative:
                rest = parts[2:] if absolute else parts[1:]
                found += [(node.lineno, rest[0])] if rest else [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[:2] == ["verifier", "store"]:
                    found.append((node.lineno, parts[2] if len(parts) > 2 else "store"))
    return found


def test_pages_use_only_the_stores_plumbing() -> None:
    found = [f"{_name(p)}:{n} {part}" for p in _modules() for n, part in _store_imports(p) if part not in STORE_ALLOWED]
    assert found == []


def test_the_store_import_guard_sees_every_form(tmp_path: Path) -> None:
    sample = tmp_path / "page.py"
    sample.write_text("from ..store import paged, contracts\n"
                      "from ..store import (\n    reader,\n    tables,\n)\n"
                      "from ..store.vault import Vault\n"
                      "from ..store.models import Case\n"
                      "from verifier.store.db import Database\n"
                      "import verifier.store.twins\n", "utf-8")
    parts = [part for _, part in _store_imports(sample)]
    assert parts == ["paged", "contracts", "reader", "tables", "vault", "models", "db", "twins"]
    assert [part for part in parts if part not in STORE_ALLOWED] == ["contracts", "tables", "models", "db", "twins"]


def test_no_module_has_grown_section_bars() -> None:
    found = [f"{_name(p)}:{n}" for p in _modules() for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
             if _BAR.match(line)]
    assert found == []


def _chinese(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str) and _HAN.search(n.value)
               for n in ast.walk(node))


def _label_dicts(p: Path) -> list[tuple[int, str]]:
    """(line, name) of each dict of Chinese words assigned to a name in `p`, at any depth (a page's function too)."""
    found = []
    for node in ast.walk(ast.parse(p.read_text("utf-8"))):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name) and isinstance(node.value, ast.Dict) and _chinese(node.value):
                found.append((node.lineno, target.id))
    return found


def test_label_dicts_live_in_the_label_tables() -> None:
    found = [f"{_name(p)}:{n} {name}" for p in _modules() if p.name not in LABEL_TABLES
             for n, name in _label_dicts(p) if (_name(p), name) not in NOT_LABELS]
    assert found == []


SRC = WEB.parent
# Chinese dicts outside `web/` that stay where they are, and why; any other is a label for the label tables. The
# domain keeps its own words (it imports nothing), and the translation tables (zhtable's rows) are not dicts.
OUTSIDE_WEB = {
    # A service's read model or message carries the words (services never import web/).
    ("contract_review/service.py", "STATUS_ZH"): "the contract's review, in ContractReview.status_zh",
    ("contract_review/service.py", "DECISION_ZH"): "a county's answer, in ContractReview's counties",
    ("payments/batch_read.py", "BATCH_STATUS_LABELS_ZH"): "BatchOut.status_label; a household merge's refusal",
    ("payments/payees.py", "STATUS_LABELS_ZH"): "PayeeChangeOut.status_label",
    ("payments/batch_recheck.py", "VERBS"): "the step a held batch's refusal names, in its message",
    ("payments/payees.py", "BATCH_STEPS"): "the step a payee changer's (or a linked account's) refusal names, "
                                           "and who else takes it",
    ("payments/payees.py", "_ACTS"): "the step a failed transfer's importer is refused, in its message",
    # The statuses and columns a rule's refusal names where it raises it (README: "Chinese said where the rule raises
    # it"); the pages' labels read the same dicts.
    ("notices/objections.py", "STATUS_ZH"): "an objection's status, in a refusal (labels.OBJECTION_STATUS reads it)",
    ("payments/batch_read.py", "ITEM_STATUS_LABELS_ZH"): "an item's status, in a refusal (stagelabels.ITEM_STATUS)",
    ("accounts/service.py", "ROLE_NAMES_ZH"): "a role's name, in a refusal (labels.ROLE_LABELS reads it)",
    ("accounts/grants.py", "GRANT_STATUS_ZH"): "a role grant's status, in a refusal (labels.GRANT_STATUS reads it)",
    ("payments/batch_read.py", "_ACTIONS_ZH"): "the step a batch in a wrong status cannot take, in its refusal",
    ("payments/batch_read.py", "_FIRST"): "what must happen to a batch first, in its refusal",
    ("payments/batch_read.py", "SUPPLEMENT_STATUS_ZH"): "a supplement's status, in a refusal (stagelabels.SUPPLEMENT_STATUS)",
    ("households/service/proposals.py", "DECIDED"): "why a decided merge or move proposal is not decided again (409)",
    ("checks/bills.py", "BILL_KINDS_ZH"): "a bill's kind, in a refusal (labels.BILL_KINDS reads it)",
    ("sampling/flow.py", "PARTY_ZH"): "a round's party, in a refusal (stagelabels.PARTIES reads it)",
    ("sampling/flow.py", "ROUND_STATUS_ZH"): "a round's status, in a refusal (stagelabels.ROUND_STATUS reads it)",
    ("sampling/flow.py", "ROUND_KIND_NAMES_ZH"): "a round's kind, in a refusal (stagelabels.ROUND_KIND_NAMES reads it)",
    ("sampling/service.py", "VERDICTS_ZH"): "a round's verdict, in a refusal (stagelabels.VERDICTS reads it)",
    ("payments/recovery_reading.py", "RECOVERY_STATUS_ZH"): "a recovery's status, in a refusal (stagelabels.RECOVERY_STATUS)",
    ("payments/recoveries.py", "_DECIDED_ZH"): "a decided repayment, in a refusal",
    ("payments/bankfiles.py", "BANK_FILE_COLUMNS_ZH"): "the bank file's columns, in a release's refusal",
    ("payments/bankfiles.py", "RETURN_COLUMNS_ZH"): "a bank return's columns, in its refusal",
    ("payments/batch_stops.py", "CONTRACT_WHAT"): "what a batch's step is called in its contract's refusal",
    ("followups/receipt.py", "DID"): "what a follow-up's or a receipt review's refusal says the person did",
    ("sampling/replay.py", "_NAMES"): "the replay's findings name the round's fields",
    ("sampling/replay.py", "_PARTIES"): "the replay's findings name the parties",
    # Data, not labels: stored or written as they are.
    ("needs/service.py", "DEPARTMENTS"): "the department a need is passed to, stored with it",
    ("registers/service.py", "DEFAULT_BUREAUS"): "the bureau a register is recorded from, stored with it",
    ("demo.py", "ISSUERS"): "the demo's bill issuers, stored as data",
    # A file's columns as offices write them (headers read or written, not shown as labels).
    ("payments/bankfiles.py", "_RETURN_ALIASES"): "a bank return's headers",
    ("payments/bankfiles.py", "_STATUSES"): "a bank return's status words",
    ("referrals/parsing/rows.py", "HEADER_ALIASES"): "a referral file's headers",
    ("referrals/settlements.py", "COLUMNS"): "a settlement export's headers",
    ("referrals/template.py", "_MEANINGS"): "the referral template's header notes",
    ("registers/parsing.py", "KIND_COLUMNS"): "a register file's headers",
    # Tables of their own kind: the command line's click catalogue, the contract's terms, the audit notes' files.
    ("cli_click_zh.py", "CATALOG"): "click's messages", ("cli_click_zh.py", "PLURALS"): "click's messages",
    ("cli_click_zh.py", "SUBCOMMAND_METAVARS"): "click's help", ("cli_click_zh.py", "ARGUMENTS"): "click's help",
    ("cli_click_zh.py", "TYPES"): "click's parameter types",
    ("contract_zh.py", "_TYPES"): "the contract's terms", ("contract_zh.py", "_KINDS"): "the contract's terms",
    ("contract_terms_zh.py", "MODES"): "the contract's terms",
    ("audit/notes_zh.py", "_FILES"): "the audit check's file names",
    # Who did which part of a case's step, said in its four-eyes refusal through a linked account (refuse_linked).
    ("checks/service.py", "parts"): "a determination's refusal",
    ("notices/posting.py", "parts"): "a notice wall confirmation's refusal",
    ("notices/objections.py", "parts"): "an objection dismissal's refusal",
    ("payments/bank.py", "parts"): "a bank return import's refusal",
    ("payments/deciders.py", "parts"): "whose part in a batch a password-linked approver's or sign-off's refusal names",
    ("registers/service.py", "parts"): "a register finding answer's refusal",
    ("recusal/removal.py", "parts"): "a 回避申报 removal decision's refusal",
}


def test_label_dicts_outside_web_are_known() -> None:
    found = []
    for p in sorted(SRC.rglob("*.py")):
        rel = str(p.relative_to(SRC))
        if rel.startswith(("web/", "domain/")) or rel == "zhtable.py":
            continue
        found += [f"{rel}:{n} {name}" for n, name in _label_dicts(p) if (rel, name) not in OUTSIDE_WEB]
    assert found == []
