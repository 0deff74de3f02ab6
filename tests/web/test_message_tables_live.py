"""The pages' tables of messages (`labels._MESSAGES`, `stagelabels._MESSAGES`) translate English a rule still says.
A rule that says its message in Chinese at the raise leaves its row unused: the row is deleted, never kept "in case".
So every row must match a message the code can say: a string of the source (outside the tables), an f-string with
its values filled in, or, for a message put together at run time, the example `SAID_AT_RUN_TIME` gives, which must
fit the shape of a string of the source (its values standing for any text)."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

from verifier.web import labels, stagelabels

SRC = Path(__file__).resolve().parents[2] / "src" / "verifier"
TABLES = {"web/labels.py", "web/stagelabels.py"}
# What a value of an f-string is taken to be, one at a time, when its text is matched against the rows.
FILLINGS = ("0", "2026-01-01", "x", "a b", "340223", "'x'", "x (y)", "1,200.00", "county", "approve")
# Messages the code puts together from pieces (a joined list, a word chosen by a variable): the module that says each
# and the message as it says it, which must match its row and fit a string of that module.
SAID_AT_RUN_TIME: dict[str, tuple[str, str]] = {}  # none left: the rules that put theirs together say them in Chinese


def _shape(node: ast.AST) -> str | None:
    """A string of the source as a regular expression: its text, each value (an f-string's, a `format` field, the
    other side of a `+`) standing for any text; None for what is not a string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return ".+".join(re.escape(part) for part in re.split(r"\{[^{}]*\}|%s|%d", node.value))
    if isinstance(node, ast.JoinedStr):
        return "".join(re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _shape(node.left), _shape(node.right)
        if left is None and right is None:
            return None
        return (left or ".+") + (right or ".+")
    return None


@functools.cache
def _source_strings() -> tuple[frozenset[str], dict[str, list[re.Pattern[str]]]]:
    """The English strings of the source (f-strings filled in), and each module's shapes of strings with values."""
    texts: set[str] = set()
    shapes: dict[str, list[re.Pattern[str]]] = {}
    for path in SRC.rglob("*.py"):
        module = path.relative_to(SRC).as_posix()
        if module in TABLES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                texts.add(node.value)
            elif isinstance(node, ast.JoinedStr):
                texts.update("".join(v.value if isinstance(v, ast.Constant) else filling for v in node.values)
                             for filling in FILLINGS)
            shape = _shape(node)
            if shape is not None and ".+" in shape and _ENGLISH.search(shape):  # values and commas alone fit anything
                shapes.setdefault(module, []).append(re.compile(shape, re.DOTALL))
    return frozenset(t for t in texts if _ENGLISH.search(t)), shapes


_ENGLISH = re.compile(r"[a-z]{3}")  # a message the tables could translate: English


def unreached(rows: list[re.Pattern[str]]) -> list[str]:
    """The rows no message of the code reaches (see the module's docstring)."""
    texts, shapes = _source_strings()
    dead = []
    for pattern in rows:
        if any(pattern.fullmatch(text) for text in texts):
            assert pattern.pattern not in SAID_AT_RUN_TIME, f"a string of the source says it: {pattern.pattern}"
            continue
        module, example = SAID_AT_RUN_TIME.get(pattern.pattern, ("", ""))
        if not pattern.fullmatch(example) or not any(s.fullmatch(example) for s in shapes.get(module, ())):
            dead.append(pattern.pattern)
    return dead


def _rows() -> list[re.Pattern[str]]:
    return [pattern for pattern, _ in labels._MESSAGES] + [pattern for pattern, _ in stagelabels._MESSAGES]


def test_every_row_of_the_message_tables_translates_a_message_the_code_says() -> None:
    assert unreached(_rows()) == [], "rows no message of the code reaches: delete them"


def test_the_examples_are_rows_of_the_tables() -> None:
    assert set(SAID_AT_RUN_TIME) <= {pattern.pattern for pattern in _rows()}


def test_a_row_for_a_sentence_the_code_does_not_say_is_caught() -> None:
    """The check can fail: a row whose sentence the rule now says in Chinese (the check's visit day), or one no code
    ever said, is reported."""
    gone = [re.compile(r"\S+ is before the referral of (\S+)"), re.compile(r"a rule's new English sentence")]
    kept = re.compile(r"unknown key")  # the contract's loader still says it (its problems are translated later)
    assert unreached(gone + [kept]) == [p.pattern for p in gone]


def test_no_row_of_one_table_shadows_a_row_of_the_other() -> None:
    """A message is said the same whichever table is asked first: `labels` answers only the case looked up and not
    found (no catch-all of every message opening "no case" that stagelabels' rows would have to be asked before)."""
    period = ("no case of county 340223 with a confirmed relief above zero has a completed home check visited from "
              "2020-01-01 to 2020-01-02")
    # (the rule says that one in Chinese where it raises it, sampling/flow.py): no row swallows an English sentence
    # that opens like a refusal it once translated
    assert labels.message_zh(period) == stagelabels.zh(period) == period
    assert labels.message_zh("no case 'case_01'") == stagelabels.zh("no case 'case_01'") == "no case 'case_01'"
    assert labels.message_zh("案件不存在") == stagelabels.zh("案件不存在") == "案件不存在"  # said where it is raised
