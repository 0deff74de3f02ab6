"""What the command line says to the person at the server is Chinese: every success, refusal and table of the
everyday commands, with only what is typed or copied left as it is (user names, role codes, ids, paths, hashes,
keys, the command names themselves). The JSON and signed notes that programs read (`audit export-entry`,
`audit checkpoint`, `audit public-key`) are unchanged."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from cli_kit import init_home

from verifier.cli import main

# The wording is the command line's own, the same whatever database it runs on (tests/test_cli.py runs the same
# commands on PostgreSQL and checks what they do there): the SQLite pass runs these, not the PostgreSQL one.
pytestmark = pytest.mark.same_on_either

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


def test_everyday_commands_answer_in_chinese(tmp_path: Path, database_url: str,
                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    env = {"VERIFIER_HOME": str(tmp_path / "home"), "VERIFIER_DATABASE_URL": database_url}

    def run(*args: str, input: str | None = None, code: int = 0) -> str:
        result = CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)
        assert result.exit_code == code, (args, result.output)
        return result.output

    said = {
        "init": init_home(env, tmp_path_factory),  # verifier init --contracts contracts/, on an empty home
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


def _runner(env: dict[str, str]):  # type: ignore[no-untyped-def]
    def run(*args: str, input: str | None = None, code: int | None = 0) -> str:
        result = CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False,
                                    prog_name="verifier")
        assert code is None or result.exit_code == code, (args, result.output)
        return result.output
    return run


def _sql(database_url: str, statement: str, **params: object) -> list[object]:
    from sqlalchemy import text

    from verifier.store.db import Database

    db = Database(database_url)
    try:
        with db.begin() as session:
            result = session.execute(text(statement), params)
            return list(result) if result.returns_rows else []
    finally:
        db.dispose()


def test_replay_and_verify_say_every_check_in_chinese(tmp_path: Path, database_url: str,
                                                     tmp_path_factory: pytest.TempPathFactory) -> None:
    """`sampling replay -v` on the demo's drawn round, then with its seed and a party's commitment rewritten; `audit
    verify` on a log with a forged checkpoint signature and with an entry deleted."""
    env = {"VERIFIER_HOME": str(tmp_path / "home"), "VERIFIER_DATABASE_URL": database_url}
    run = _runner(env)
    demo = init_home(env, tmp_path_factory, "--demo")  # verifier init --demo --contracts contracts/
    database_url = env["VERIFIER_DATABASE_URL"]  # on PostgreSQL, the test's copy
    round_id = re.search(r"轮次 (\S+) 已抽取", demo).group(1)  # type: ignore[union-attr]
    hexes = re.compile(r"\b[0-9a-f]{8,}\b")

    def english(text: str) -> list[str]:
        return english_in(hexes.sub("", text), round_id, "SHA-256")

    agreed = run("sampling", "replay", "-v", round_id)
    assert agreed.count("一致：") >= 15 and "包含在签名检查点内" in agreed and not english(agreed), agreed
    _sql(database_url, "UPDATE sampling_round SET seed = :s WHERE id = :r", s="00" * 32, r=round_id)
    _sql(database_url, "UPDATE sampling_party SET commitment = :c WHERE round_id = :r AND party = 'county'",
         c="11" * 32, r=round_id)
    differs = run("sampling", "replay", "-v", round_id, code=1)
    assert "不一致：种子：重新计算为" in differs and "不一致：县级复核方承诺值：保存的是" in differs
    assert not english(differs), differs

    (note,) = _sql(database_url, "SELECT note FROM audit_checkpoint ORDER BY tree_size DESC LIMIT 1")[0]  # type: ignore[misc]
    head, _, last = note.rpartition(" ")
    forged = ("B" if last[10] == "A" else "A").join((last[:10], last[11:]))
    _sql(database_url, "UPDATE audit_checkpoint SET note = :n WHERE note = :o", n=f"{head} {forged}", o=note)
    bad_signature = run("audit", "verify", code=1)
    assert "签名检查点" in bad_signature and "验证不通过" in bad_signature
    _sql(database_url, "UPDATE audit_checkpoint SET note = :o WHERE note = :n", n=f"{head} {forged}", o=note)
    _sql(database_url, "DELETE FROM audit_entry WHERE idx = 5")
    missing = run("audit", "verify", code=1)
    assert "第 5 条记录缺失" in missing
    for said in (bad_signature, missing):
        assert not english(said), said


def test_contract_problems_name_their_key_in_chinese(tmp_path: Path, database_url: str,
                                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each kind of problem a contract file can have, through `contracts check`, `contracts add` and `init`."""
    env = {"VERIFIER_HOME": str(tmp_path / "home"), "VERIFIER_DATABASE_URL": database_url}
    run = _runner(env)
    demo = (ROOT / "contracts" / "demo-2020.toml").read_text(encoding="utf-8")
    files = {
        "types": demo.replace('budget = "4500000.00"', 'budget = 4500000\ncolour = "red"')
        .replace("check_within_days = 10", 'check_within_days = "ten"')
        .replace('id_mask = "6+4"', 'id_mask = "6+4"\nshow_all = true')
        .replace('cause = "illness"\ngroup = "low_income"', 'group = "low_income"')
        .replace('mode = "marginal"', 'mode = "stepwise"', 1),
        "rules": demo.replace('county_codes = ["340223"]', 'county_codes = ["34022"]')
        .replace('budget = "4500000.00"', 'budget = "45.123"').replace('service_fee_rate = "0.15"', 'service_fee_rate = "1.5"')
        .replace('groups = ["exited_low_standard", "low_income"]', 'groups = ["exited_low_standard", "low_income", "rich"]')
        .replace('id_mask = "6+4"', 'id_mask = "8+4"').replace("check_within_days = 10", "check_within_days = 0")
        .replace('cap_per_year = "100000.00"', 'cap_per_year = "-5.00"', 1).replace('cause = "disaster"', 'cause = "flood"')
        .replace("end = 2020-12-31", "end = 2019-12-31"),
        "toml": demo.replace('budget = "4500000.00"', 'budget = "4500000.00'),
    }
    said = {}
    for name, text in files.items():
        path = tmp_path / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        said[name] = run("contracts", "check", str(path), code=1)
    said["add"] = run("contracts", "add", str(tmp_path / "rules.toml"), code=1)
    init_home(env, tmp_path_factory)  # verifier init --contracts contracts/
    overlapping = tmp_path / "mine.toml"
    overlapping.write_text(demo.replace('id = "demo-2020"', 'id = "mine-2020"'), encoding="utf-8")
    said["overlap"] = run("contracts", "add", str(overlapping), code=1)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "bad.toml").write_text(files["types"], encoding="utf-8")
    said["init"] = run("init", "--contracts", str(folder), code=1)

    assert "键 colour：没有这个键" in said["types"] and "键 budget：应是文字（加引号），这里是整数" in said["types"]
    assert "键 relief[1].cause：缺少这个必填的键" in said["types"]
    assert "键 county_codes[0]：县（区）代码是 6 位数字" in said["rules"]
    assert "键 period.end：结束日期早于开始日期" in said["rules"] and "没有救助原因 “flood”" in said["rules"]
    assert "第 9 行第 21 列" in said["toml"] and "都覆盖县（区）340223" in said["overlap"]
    problems = {}
    for what, text in said.items():
        text = re.sub(r"键 \S+?：", "", text)  # the key, as written in the file
        text = re.sub(r"“[^”]*”", "", text)  # a value repeated from the file
        problems[what] = english_in(text, str(tmp_path), "illness", "disaster", "schooling", "bracket", "marginal",
                                    "county_codes", "demo-2020", "mine-2020", "TOML", "UTF-8")
    assert not {what: words for what, words in problems.items() if words}, said


def _commands(group, path):  # type: ignore[no-untyped-def]
    import click

    yield path
    if isinstance(group, click.Group):
        for name, command in sorted(group.commands.items()):
            yield from _commands(command, [*path, name])


def test_usage_errors_and_help_are_chinese(tmp_path: Path) -> None:
    """click's own refusals (missing argument, unknown option or command, a value not among the choices, a bad
    number, a file that is not there) and every command's `--help`, usage lines included (`用法: verifier import
    [选项] 文件`). What is typed stays: option and command names."""
    run = _runner({"VERIFIER_HOME": str(tmp_path / "home")})
    refused = {
        "missing argument": run("contracts", "check", code=2),
        "unknown option": run("users", "list", "--bogus", code=2),
        "unknown command": run("nosuch", code=2),
        "bad choice": run("registers", "import", str(ROOT / "README.md"), "--kind", "wizard", "--county", "340223",
                          code=2),
        "bad number": run("serve", "--port", "eighty", code=2),
        "no file": run("contracts", "add", str(tmp_path / "none.toml"), code=2),
        "no value": run("users", "add", "x", "--role", code=2),
        "missing option": run("import", str(ROOT / "README.md"), "--county", "340223", code=2),
    }
    assert "错误：缺少参数" in refused["missing argument"] and "没有选项 --bogus" in refused["unknown option"]
    assert "不是可选的值" in refused["bad choice"] and "不存在" in refused["no file"]
    helps = {" ".join(path): run(*path[1:], "--help") for path in _commands(main, ["verifier"])}
    assert len(helps) > 30 and "显示本说明后退出" in helps["verifier"]

    # The usage lines' syntax is Chinese too ([选项], 文件, 命令 [参数]...): only the program's and the commands' names
    # are typed as they are (in lower case), so a capital letter there is click's English (OPTIONS, FILE, COMMAND).
    usages = [line for text in {**refused, **helps}.values() for line in text.splitlines() if line.startswith("用法:")]
    assert len(usages) > 30 and "用法: verifier import [选项] 文件" in usages
    assert "用法: verifier [选项] 命令 [参数]..." in usages
    assert not [u for u in usages if re.search(r"[A-Z]", u)], usages
    assert "缺少参数 '文件...'" in refused["missing argument"]
    # ... and so is what an option takes, in `--help` (`--county 文本`, not TEXT), though the check below leaves out
    # capitalised words (what is typed as it is: VERIFIER_HOME, JSON)
    metavars = {what: re.findall(r"(?m)^\s+(?:-\w, )?--[a-z-]+(?:/--[a-z-]+)? ([A-Z][A-Z_.]*)\b", text)
                for what, text in helps.items()}
    assert not {what: m for what, m in metavars.items() if m}, metavars

    def english(text: str) -> list[str]:
        text = "\n".join(line for line in text.splitlines() if not line.startswith("用法:"))  # checked above
        text = re.sub(r"\b[A-Z][A-Z_.]*\b", "", text)  # a metavar or a name typed as it is: FILE, VERIFIER_HOME
        text = re.sub(r"\[[a-z_|%-]+\]", "", text)  # a choice's or a date's syntax: [vehicle|business], [%Y-%m-%d]
        text = re.sub(r"“[^”]*”|'[^']*'", "", text)  # what was typed, repeated; a choice to type
        text = re.sub(r"(?m)^  [a-z-]+(?=  )", "", text)  # a command's name in a group's list
        return english_in(text, str(tmp_path), "nosuch", "eighty", "json", "api", "audit", "checkpoint", "consistency", "first",
                          "second", "role-grants", "medical_insurance", "civil_affairs", "emergency_management",
                          "education", "bracket", "marginal", "base64", "hex", "keys-to", "Excel", "xlsx", "csv")
    found = {what: english(text) for what, text in {**refused, **helps}.items()}
    assert not {what: words for what, words in found.items() if words}, found


def test_offline_checks_and_the_signing_key_refuse_in_chinese(tmp_path: Path, database_url: str,
                                                             tmp_path_factory: pytest.TempPathFactory) -> None:
    """`audit check-proof` and `audit check-consistency` on files that prove nothing (a bad key, a file that is not
    JSON, an entry of another log size, a changed entry, checkpoints in the wrong order), and `audit public-key` and
    `audit rotate-key` where there is no key: each says why in Chinese."""
    env = {"VERIFIER_HOME": str(tmp_path / "home"), "VERIFIER_DATABASE_URL": database_url}
    run = _runner(env)
    said = {"no key": run("audit", "public-key", code=1), "rotate without key": run("audit", "rotate-key", code=1)}
    init_home(env, tmp_path_factory)  # verifier init --contracts contracts/
    key = run("audit", "public-key").strip()
    entry = json.loads(run("audit", "export-entry", "0"))
    older = tmp_path / "older.txt"
    older.write_text(run("audit", "checkpoint"), encoding="utf-8")
    run("users", "add", "first.admin", "--role", "admin", "--all-counties", input="a long password\n")
    newer = tmp_path / "newer.txt"
    newer.write_text(run("audit", "checkpoint"), encoding="utf-8")

    def proof(name: str, doc: object) -> str:
        path = tmp_path / name
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
        return str(path)

    good = proof("entry.json", entry)
    assert "已证明" in run("audit", "check-proof", good, str(older), "--key", key)
    said |= {
        "bad key": run("audit", "check-proof", good, str(older), "--key", "not-a-key", code=1),
        "not json": run("audit", "check-proof", proof("broken.json", "{"), str(older), "--key", key, code=1),
        "other size": run("audit", "check-proof", good, str(newer), "--key", key, code=1),
        "changed": run("audit", "check-proof", proof("changed.json", {**entry, "leaf_hash": "00" * 32}), str(older),
                       "--key", key, code=1),
        "bad hash": run("audit", "check-proof", proof("short.json", {**entry, "inclusion_proof": ["abc"]}),
                        str(older), "--key", key, code=1),
        "not a checkpoint": run("audit", "check-proof", good, proof("note.txt", "hello\n"), "--key", key, code=1),
        "wrong order": run("audit", "check-consistency", str(newer), str(older), "--proof", proof("p.json", {"proof": []}),
                           "--key", key, code=1),
        "bad proof": run("audit", "check-consistency", str(older), str(newer), "--proof", proof("q.json", {"proof": []}),
                         "--key", key, code=1),
    }
    (tmp_path / "home" / "keys" / "audit-signing.key").write_bytes(b"short")
    said["short key"] = run("audit", "rotate-key", code=1)
    assert "未能证明：" in said["bad key"] and "验证公钥不可用" in said["bad key"]
    assert "请用 --tree-size 2 重新导出这条记录" in said["other size"], said["other size"]
    assert "请先运行 `verifier init`" in said["no key"] and "应有 32 字节" in said["short key"]
    hexes = re.compile(r"\b[0-9a-f]{8,}\b")
    problems = {what: english_in(hexes.sub("", text), str(tmp_path), key, "verifier.example/relief-audit", "base64",
                                 "JSON", "entry", "proof", "inclusion_proof", "tree-size")
                for what, text in said.items()}
    assert not {what: words for what, words in problems.items() if words}, said


def test_the_users_help_names_every_role_that_takes_a_second_person() -> None:
    """`users add` and `users grant` say which roles are only proposed: every guarded role (accounts/grants.py), the
    town clerk and the field officer too, by its Chinese name."""
    from verifier.accounts.grants import GUARDED_ROLES
    from verifier.web.labels import ROLE_LABELS

    for command in ("add", "grant"):
        said = re.sub(r"\s+", "", CliRunner().invoke(main, ["users", command, "--help"]).output)
        missing = [r for r in GUARDED_ROLES if ROLE_LABELS[r] not in said and ROLE_LABELS[r][:2] not in said]
        assert not missing, (command, missing, said)
