"""The command line: init (idempotent), contracts, users, import, audit verify."""

from __future__ import annotations

import csv
import os
import re
import stat
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from cli_kit import init_home

from verifier.cli import main
from verifier.domain.idnumber import make_id_number

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {"VERIFIER_HOME": str(tmp_path / "home"), "VERIFIER_DATABASE_URL": database_url}


@pytest.fixture
def initialised(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> None:
    """`env`'s home and database after `verifier init --contracts contracts/`."""
    init_home(env, tmp_path_factory)


def run(env: dict[str, str], *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def test_help_lists_the_commands() -> None:
    out = CliRunner().invoke(main, ["--help"]).output
    for command in ("init", "serve", "users", "import", "contracts", "audit", "sampling"):
        assert command in out


def test_init_is_idempotent_and_keys_are_private(env: dict[str, str],
                                                 tmp_path_factory: pytest.TempPathFactory) -> None:
    first = init_home(env, tmp_path_factory)  # init on an empty home (once per test process; its keys copied as made)
    assert "新载入 1 份" in first
    second = run(env, "init", "--contracts", str(ROOT / "contracts"))
    assert second.exit_code == 0 and "新载入 0 份" in second.output
    keys = Path(env["VERIFIER_HOME"]) / "keys"
    assert len(os.listdir(keys)) >= 2
    for name in os.listdir(keys):
        assert stat.S_IMODE(os.stat(keys / name).st_mode) == 0o600, name
    assert run(env, "audit", "verify").exit_code == 0


def test_contracts_check_lists_every_problem(tmp_path: Path) -> None:
    good = ROOT / "contracts" / "demo-2020.toml"
    ok = CliRunner().invoke(main, ["contracts", "check", str(good)])
    assert ok.exit_code == 0 and "无误（demo-2020" in ok.output
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text(encoding="utf-8").replace('budget = "4500000.00"', 'budget = "lots"')
                   .replace('income_line = "5200.00"', 'income_line = "5200.00"\nline2 = 1'), encoding="utf-8")
    result = CliRunner().invoke(main, ["contracts", "check", str(bad)])
    assert result.exit_code == 1
    assert "键 eligibility.line2：没有这个键（拼写有误，或不属于这一节）" in result.output
    assert "键 budget：不是最多两位小数的元金额：“lots”" in result.output


@pytest.mark.usefixtures("initialised")
def test_contracts_add_refuses_overlaps(env: dict[str, str], tmp_path: Path) -> None:
    overlapping = tmp_path / "mine.toml"
    overlapping.write_text((ROOT / "contracts" / "demo-2020.toml").read_text(encoding="utf-8")
                           .replace('id = "demo-2020"', 'id = "county-2020b"'), encoding="utf-8")
    result = run(env, "contracts", "add", str(overlapping))
    assert result.exit_code == 1 and "服务合同 demo-2020 与 county-2020b 在 2020-01-01 至 2020-12-31 期间都覆盖县（区）340223" in result.output
    other = tmp_path / "next-year.toml"
    other.write_text(overlapping.read_text(encoding="utf-8").replace("2020-01-01", "2021-01-01")
                     .replace("2020-12-31", "2021-12-31"), encoding="utf-8")
    result = run(env, "contracts", "add", str(other))
    assert result.exit_code == 0, result.output
    assert "已添加服务合同 county-2020b" in result.output
    again = run(env, "contracts", "add", str(other))
    assert again.exit_code == 0 and "服务合同已在库中，未更改" in again.output


@pytest.mark.usefixtures("initialised")
def test_users_add_with_a_password_from_stdin_or_generated(env: dict[str, str]) -> None:
    r = run(env, "users", "add", "wang.qiang", "--role", "field_officer", "--county", "340223",
            input="a good password\n")
    assert r.exit_code == 0, r.output
    assert "密码（只显示这一次）" not in r.output
    r = run(env, "users", "add", "li.na", "--role", "finance", "--role", "insurer_claims", "--all-counties", input="")
    assert r.exit_code == 0 and "密码（只显示这一次）" in r.output and "全部县（区）" in r.output
    r = run(env, "users", "add", "li.na", "--role", "finance", "--county", "340223", input="another password\n")
    assert r.exit_code == 1 and "用户名“li.na”已被使用" in r.output
    r = run(env, "users", "add", "zhao", "--role", "wizard", "--county", "340223", input="a good password\n")
    assert r.exit_code == 1 and "没有“wizard”这个角色" in r.output and "核查员(field_officer)" in r.output


@pytest.mark.usefixtures("initialised")
def test_users_add_without_a_county_choice_is_refused(env: dict[str, str]) -> None:
    """No county limit is granted on purpose: leaving out --county does not quietly grant every county."""
    r = run(env, "users", "add", "sun", "--role", "auditor", input="a good password\n")
    assert r.exit_code == 1 and "--all-counties" in r.output and "--county" in r.output
    r = run(env, "users", "add", "sun", "--role", "auditor", "--county", "340223", "--all-counties",
            input="a good password\n")
    assert r.exit_code == 1 and "二选一" in r.output
    listed = run(env, "users", "list")
    assert listed.exit_code == 0 and "sun" not in listed.output
    r = run(env, "users", "add", "sun", "--role", "auditor", "--all-counties", input="a good password\n")
    assert r.exit_code == 0, r.output
    assert re.search(r"sun\s+在用\s+0\s+全部\s+审计\(auditor\)", run(env, "users", "list").output)


@contextmanager
def _cli_login(env: dict[str, str], username: str, password: str):  # type: ignore[no-untyped-def]
    """A TestClient on the same database and keys the command line uses (the test process's application), and its
    answer to `username` logging in."""
    from app_kit import the_app
    from litestar.testing import TestClient

    from verifier.context import Context
    from verifier.settings import Settings

    ctx = Context.open(Settings.from_env(env))
    try:
        with the_app(ctx) as app, TestClient(app=app) as client:
            yield client, client.post("/api/auth/login", json={"username": username, "password": password})
    finally:
        ctx.close()


@pytest.mark.usefixtures("initialised")
def test_a_user_added_on_the_command_line_must_choose_their_own_password_first(env: dict[str, str]) -> None:
    """Whoever ran `users add` knows the password: until its owner has chosen their own it opens nothing else."""
    r = run(env, "users", "add", "qian", "--role", "finance", "--county", "340223", input="typed by the operator\n")
    assert r.exit_code == 0 and "首次登录时须先设置自己的密码" in r.output
    with _cli_login(env, "qian", "typed by the operator") as (client, r):
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        assert client.get("/api/auth/me", headers=headers).json()["must_change_password"] is True
        assert client.get("/api/payment-batches", headers=headers).status_code == 403
        changed = client.post("/api/auth/password", headers=headers, json={
            "current_password": "typed by the operator", "new_password": "my own secret words"})
        assert changed.status_code == 200, changed.text
        token = client.post("/api/auth/login", json={"username": "qian", "password": "my own secret words"}).json()["token"]
        assert client.get("/api/payment-batches", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.usefixtures("initialised")
def test_users_list_disable_enable_and_password(env: dict[str, str]) -> None:
    assert run(env, "users", "add", "zhou", "--role", "finance", "--county", "340223",
               input="first password\n").exit_code == 0
    with _cli_login(env, "zhou", "first password") as (client, r):
        assert r.status_code == 200
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        assert client.get("/api/auth/me", headers=headers).status_code == 200
        listed = run(env, "users", "list").output
        assert re.search(r"zhou\s+在用\s+1\s+340223\s+财务\(finance\)", listed), listed

        # a new password ends the session at once, and is printed only when generated
        r = run(env, "users", "password", "zhou", input="second password\n")
        assert r.exit_code == 0 and "已结束其 1 个登录会话" in r.output and "只显示这一次" not in r.output
        assert client.get("/api/auth/me", headers=headers).status_code == 401
        assert client.post("/api/auth/login", json={"username": "zhou", "password": "first password"}).status_code == 401
        token = client.post("/api/auth/login", json={"username": "zhou", "password": "second password"}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}

        r = run(env, "users", "disable", "zhou")
        assert r.exit_code == 0 and "已停用 zhou；已结束其 1 个登录会话" in r.output
        assert client.get("/api/auth/me", headers=headers).status_code == 401
        assert client.post("/api/auth/login", json={"username": "zhou", "password": "second password"}).status_code == 401
        assert re.search(r"zhou\s+已停用\s+0", run(env, "users", "list").output)
        assert run(env, "users", "disable", "zhou").exit_code == 1  # already disabled

        assert run(env, "users", "enable", "zhou").exit_code == 0
        r = run(env, "users", "password", "zhou", input="")
        assert r.exit_code == 0 and "密码（只显示这一次）" in r.output
        generated = r.output.split("密码（只显示这一次）：")[1].strip()
        assert client.post("/api/auth/login", json={"username": "zhou", "password": generated}).status_code == 200
        assert run(env, "users", "disable", "nobody").exit_code == 1


def test_serve_trusts_forwarded_headers_only_from_the_listed_proxies(env: dict[str, str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """What `serve` hands the server; the application it builds is the one every other test uses (and test_workers
    starts `serve` itself), so here it is a stand-in."""
    import uvicorn

    from verifier import app as app_module

    built: list[object] = []
    monkeypatch.setattr(app_module, "create_app", lambda *args: built.append(args) or built)
    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    assert run(env, "serve").exit_code == 0
    assert calls[-1]["app"] is built and built == [()]  # the application, built from the environment
    assert calls[-1]["proxy_headers"] is False  # by default nobody's X-Forwarded-For is believed
    assert run({**env, "VERIFIER_TRUSTED_PROXIES": "10.0.0.7, 192.168.1.0/24"}, "serve").exit_code == 0
    assert calls[-1]["proxy_headers"] is True
    assert calls[-1]["forwarded_allow_ips"] == ["10.0.0.7/32", "192.168.1.0/24"]


def _referral_file(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id_number", "name", "town", "village", "household_group", "cause", "amount", "referred_on"])
        w.writerows(rows)
    return path


@pytest.mark.usefixtures("initialised")
def test_import_all_or_nothing_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    a = make_id_number("340223", date(1960, 1, 1), 1)
    b = make_id_number("340223", date(1961, 1, 1), 2)
    bad = _referral_file(tmp_path / "bad.csv", [
        [a, "张三", "城关镇", "东村", "low_income", "illness", "30000.00", "2020-05-01"],
        [b[:-1] + ("0" if b[-1] != "0" else "1"), "李四", "城关镇", "东村", "low_income", "illness", "-1", "2020-05-01"],
        [b, "王五", "城关镇", "东村", "low_income", "illness", "100.00", "2019-05-01"],
    ])
    r = run(env, "import", str(bad), "--channel", "medical_insurance", "--county", "340223")
    assert r.exit_code == 1
    assert f"{bad}：有 3 处问题，未导入任何内容" in r.output
    assert "第 3 行，“身份证号”列：校验位应为" in r.output
    assert "第 3 行，“金额”列：不能为负数" in r.output
    assert "第 4 行，“日期”列：2019-05-01 没有覆盖示范县（340223）的服务合同" in r.output
    good = _referral_file(tmp_path / "good.csv", [
        [a, "张三", "城关镇", "东村", "low_income", "illness", "30000.00", "2020-05-01"],
        [a, "张三", "城关镇", "东村", "low_income", "illness", "12000.00", "2020-05-02"],
        [b, "王五", "城关镇", "西村", "exited_low_standard", "illness", "15000", "2020-05-03"],
    ])
    r = run(env, "import", str(good), "--channel", "medical_insurance", "--county", "340223")
    assert r.exit_code == 0, r.output
    assert "已导入 3 行" in r.output and "新建 2 个案件，1 行并入已有的未办结案件" in r.output
    r = run(env, "import", str(good), "--channel", "medical_insurance", "--county", "340223")
    assert r.exit_code == 0 and "此前已导入" in r.output and "没有更改" in r.output
    assert run(env, "audit", "verify").exit_code == 0


@pytest.mark.usefixtures("initialised")
def test_simulate_prices_determined_cases_under_another_contract(env: dict[str, str], tmp_path: Path) -> None:
    from factories import accept_contract, make_case

    from verifier.audit import checkpoints
    from verifier.context import Context
    from verifier.settings import Settings

    ctx = Context.open(Settings.from_env(env))
    try:
        from datetime import datetime, timezone

        from verifier.clock import FixedClock

        ctx.clock = FixedClock(datetime(2020, 6, 1, 2, tzinfo=timezone.utc))
        checkpoints.install(ctx.db, ctx.signer)
        with ctx.db.begin() as session:  # `init` loads it pending: the county accepts it before it prices
            accept_contract(session, "demo-2020", ctx.clock)
        make_case(ctx, medical=4_200_000)  # exited_low_standard, marginal: 21,900.00
    finally:
        ctx.close()
    bracket = tmp_path / "bracket.toml"
    bracket.write_text((ROOT / "contracts" / "demo-2020.toml").read_text(encoding="utf-8")
                       .replace('id = "demo-2020"', 'id = "bracket-2020"').replace('mode = "marginal"', 'mode = "bracket"'),
                       encoding="utf-8")
    r = run(env, "contracts", "simulate", str(bracket))
    assert r.exit_code == 0, r.output
    # Bracket: the whole 37,000 excess at 70% = 25,900.00; marginal gave 21,900.00.
    assert "21,900.00" in r.output and "25,900.00" in r.output and "4,000.00" in r.output
    assert "因病" in r.output and "合计" in r.output

    # The same as a workbook for the county's budget meeting: amounts as numbers, names masked.
    from decimal import Decimal

    from openpyxl import load_workbook

    out = tmp_path / "测算.xlsx"
    r = run(env, "contracts", "simulate", str(bracket), "--xlsx", str(out))
    assert r.exit_code == 0 and "1 户：1 户增加，0 户减少" in r.output, r.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["逐户测算", "按原因和户类型汇总", "说明"]
    header, row = [[c.value for c in r] for r in wb["逐户测算"].iter_rows(max_row=2)]
    assert header[:4] == ["案件", "乡镇", "村", "户主"] and header[6] == "现行救助金额（元）"
    assert row[4:6] == ["因病", "非高标准脱贫户"] and "*" in row[3]
    assert [Decimal(str(v)) for v in row[6:9]] == [Decimal("21900"), Decimal("25900"), Decimal("4000")]
    assert row[9] == "增加" and wb["逐户测算"]["G2"].number_format == "#,##0.00"
    total = [c.value for c in list(wb["按原因和户类型汇总"].iter_rows())[-1]]
    assert total[0] == "合计" and total[2] == 1 and total[6:9] == [1, 0, 0]


def test_sampling_secret_prints_a_fresh_secret_and_its_commitment() -> None:
    import hashlib

    outputs = [CliRunner().invoke(main, ["sampling", "secret"]) for _ in range(2)]
    pairs = []
    for result in outputs:
        assert result.exit_code == 0, result.output
        fields = dict(line.split(":", 1) for line in result.output.strip().splitlines())
        by_name = {name.split("（")[0]: value.strip() for name, value in fields.items()}
        secret, commitment = by_name["秘密值"], by_name["承诺值"]
        assert len(bytes.fromhex(secret)) == 32
        assert hashlib.sha256(bytes.fromhex(secret)).hexdigest() == commitment
        pairs.append(secret)
    assert pairs[0] != pairs[1]
    longer = CliRunner().invoke(main, ["sampling", "secret", "--bytes", "64"])
    assert len(longer.output.splitlines()[0].split()[-1]) == 128
    assert CliRunner().invoke(main, ["sampling", "secret", "--bytes", "8"]).exit_code == 2


@pytest.mark.usefixtures("initialised")
def test_contracts_list_shows_each_county_answer_lined_up(env: dict[str, str], tmp_path: Path) -> None:
    from verifier.accounts.auth import principal_of
    from verifier.accounts.service import add_user
    from verifier.cli_text import width
    from verifier.context import Context
    from verifier.contract_review import service as review
    from verifier.settings import Settings

    other = tmp_path / "next-year.toml"
    other.write_text((ROOT / "contracts" / "demo-2020.toml").read_text(encoding="utf-8")
                     .replace('id = "demo-2020"', 'id = "county-2021"').replace("2020-01-01", "2021-01-01")
                     .replace("2020-12-31", "2021-12-31"), encoding="utf-8")
    assert run(env, "contracts", "add", str(other)).exit_code == 0
    result = run(env, "contracts", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["编号", "名称", "期间", "县（区）", "状态", "SHA-256（前", "16", "位）"]
    demo_line = next(x for x in lines if x.startswith("demo-2020"))
    assert "2020-01-01至2020-12-31" in demo_line and "340223" in demo_line and "待县审核确认" in demo_line
    # The SHA-256 column starts in the same terminal column on the heading and every contract's line.
    rows = [x for x in lines if x.startswith(("demo-2020", "county-2021"))]
    assert len(rows) == 2
    start = width(lines[0][:lines[0].index("SHA-256")])
    for line in rows:
        contract_id = line.split()[0]
        digest = line.split()[-1]
        assert len(digest) == 16 and width(line[:line.index(digest)]) == start, line
        assert contract_id in ("demo-2020", "county-2021")
    assert "    340223：待确认" in lines

    ctx = Context.open(Settings.from_env(env))
    try:
        with ctx.db.begin() as session:
            reviewer = principal_of(add_user(session, username="li-review", password="review password",
                                             roles=["county_reviewer"], counties=["340223"], clock=ctx.clock))
            review.accept(session, "demo-2020", principal=reviewer, clock=ctx.clock)
            review.refuse(session, "county-2021", principal=reviewer, reason="与纸质合同不符", clock=ctx.clock)
        with ctx.db.read() as session:
            hashes = {c.id: c.content_hash for c in review.list_contracts(session, reviewer)}
    finally:
        ctx.close()
    lines = run(env, "contracts", "list").output.splitlines()
    demo_at = next(i for i, x in enumerate(lines) if x.startswith("demo-2020"))
    assert "已确认" in lines[demo_at] and hashes["demo-2020"][:16] in lines[demo_at]
    assert re.fullmatch(r"    340223：已确认，li-review，\d{4}-\d\d-\d\d \d\d:\d\d（北京时间）", lines[demo_at + 1])
    refused_at = next(i for i, x in enumerate(lines) if x.startswith("county-2021"))
    assert "已拒绝" in lines[refused_at] and hashes["county-2021"][:16] in lines[refused_at]
    assert lines[refused_at + 1].startswith("    340223：已拒绝，li-review，")
    assert lines[refused_at + 1].endswith("理由：与纸质合同不符")
