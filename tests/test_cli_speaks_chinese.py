"""What the command line says to the person at the server is Chinese: every success, refusal and table of the
everyday commands, with only what is typed or copied left as it is (user names, role codes, ids, paths, hashes,
keys, the command names themselves). The JSON and signed notes that programs read (`audit export-entry`,
`audit checkpoint`, `audit public-key`) are unchanged."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from verifier.cli import main

ROOT = Path(__file__).resolve().parent.parent
# A word of English: two letters or more that are not part of a path, an id, a code or a hex string.
WORD = re.compile(r"(?<![\w/.:_@+=-])[A-Za-z]{2,}(?![\w/._:@+-])")
TYPED = {"verifier", "sampling", "replay", "init", "sha", "SQLite", "VERIFIER_HOME", "csv", "xlsx"}


def english_in(text: str, *typed: str) -> list[str]:
    """The English words in `text`, after dropping what a person types or copies (`typed` and role codes)."""
    for t in typed:
        text = text.replace(t, "")
    text = re.sub(r"（只显示这一次）：\S+", "", text)  # a generated password
    text = re.sub(r"\([a-z_]+\)", "", text)  # a role's code after its name: 核查员(field_officer)
    text = re.sub(r"--[a-z-]+", "", text)  # an option to type
    return [w for w in WORD.findall(text) if w not in TYPED]


def test_the_checker_finds_english() -> None:
    assert english_in("created user li.na (finance; every county)") == ["created", "user", "finance", "every",
                                                                          "county"]
    assert english_in("已创建用户 li.na（角色：财务(finance)；全部县（区））", "li.na") == []


def test_everyday_commands_answer_in_chinese(tmp_path: Path, database_url: str) -> None:
    env = {"VERIFIER_HOME": str(tmp_path / "home"), "VERIFIER_DATABASE_URL": database_url}

    def run(*args: str, input: str | None = None, code: int = 0) -> str:
        result = CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)
        assert result.exit_code == code, (args, result.output)
        return result.output

    said = {
        "init": run("init", "--contracts", str(ROOT / "contracts")),
        "add admin": run("users", "add", "first.admin", "--role", "admin", "--all-counties", input="a long password\n"),
        "add": run("users", "add", "li.na", "--role", "finance", "--role", "field_officer", "--county", "340223",
                   input=""),
        "add again": run("users", "add", "li.na", "--role", "finance", "--county", "340223", input="pass words 1\n",
                         code=1),
        "add bad role": run("users", "add", "zhao", "--role", "wizard", "--county", "340223", input="pass words 1\n",
                            code=1),
        "add no county": run("users", "add", "zhao", "--role", "auditor", input="pass words 1\n", code=1),
        "list": run("users", "list"),
        "grants": run("users", "grants"),
        "grant": run("users", "grant", "li.na", "--role", "auditor"),
        "password": run("users", "password", "li.na", input=""),
        "disable": run("users", "disable", "li.na"),
        "disable again": run("users", "disable", "li.na", code=1),
        "enable": run("users", "enable", "li.na"),
        "nobody": run("users", "disable", "nobody", code=1),
        "check": run("contracts", "check", str(ROOT / "contracts" / "demo-2020.toml")),
        "add contract": run("contracts", "add", str(ROOT / "contracts" / "demo-2020.toml")),
        "verify": run("audit", "verify"),
        "secret": run("sampling", "secret"),
        "replay unknown": run("sampling", "replay", "smp_nothing", code=1),
    }
    problems = {what: english_in(text, "li.na", "first.admin", "zhao", "nobody", "wizard", "demo-2020",
                                 "smp_nothing", str(tmp_path), str(ROOT),
                                 database_url.split("@")[-1])
                for what, text in said.items()}
    assert not {what: words for what, words in problems.items() if words}, said
    assert "已停用 li.na" in said["disable"] and re.search(r"li\.na\s+在用", said["list"])
    # What programs read stays as it was.
    entry = CliRunner().invoke(main, ["audit", "export-entry", "0"], env=env)
    assert entry.exit_code == 0 and json.loads(entry.output)["index"] == 0
