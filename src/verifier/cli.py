"""The `verifier` command line (INTERFACE.md)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from . import cli_click_zh
from .cli_text import message as message_zh
from .cli_text import roles as roles_zh
from .settings import Settings

REPO_CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


def _settings() -> Settings:
    return Settings.from_env()


def _context(create_keys: bool = False):  # type: ignore[no-untyped-def]
    from .context import Context

    return Context.open(_settings(), create_keys=create_keys)


def _fail(message: str, code: int = 1) -> "None":
    click.echo(message, err=True)
    sys.exit(code)


def _print_problems(problems, header: str) -> None:  # type: ignore[no-untyped-def]
    """`header`, then each problem on its own line (a `FieldError` in Chinese, naming its field)."""
    from .cli_text import problem

    click.echo(header, err=True)
    for p in problems:
        click.echo(f"  - {p if isinstance(p, str) else problem(p)}", err=True)


def _print_contract_problems(problems, header: str, source: Path | None = None) -> None:  # type: ignore[no-untyped-def]
    """`header`, then each problem of a contract file in Chinese, naming its key as written in the file."""
    from .contract_zh import problem_zh

    _print_problems([problem_zh(p, str(source) if source else None) for p in problems], header)


@contextmanager
def _nothing_imported_if_refused(file: Path, before: Callable[[], object] | None = None) -> Iterator[None]:
    """An import refused inside the block prints why, in Chinese (every problem in the file, each naming its row and
    column as the import pages do), and exits 1; `before` runs first (e.g. to finish a progress bar)."""
    from .domain.errors import DomainError, ValidationFailed
    from .web.labels import file_problem, message_zh

    try:
        yield
    except (ValidationFailed, DomainError) as exc:
        if before is not None:
            before()
        if isinstance(exc, ValidationFailed):
            _print_problems([file_problem(e) for e in exc.errors],
                            f"{file}：有 {len(exc.errors)} 处问题，未导入任何内容：")
            sys.exit(1)
        _fail(f"{file}：未导入任何内容：{message_zh(exc.detail)}")


def _checked_contract(file: Path, refusal: str):  # type: ignore[no-untyped-def]
    """The contract in `file`, or every problem with it printed and exit 1."""
    from .contract import check_contract_text

    contract, problems = check_contract_text(file.read_bytes(), source=str(file))
    if contract is None:
        _print_contract_problems(problems, f"{file}：有 {len(problems)} 处问题{refusal}", file)
        sys.exit(1)
    return contract


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """防贫帮困保障核查与兑现系统的命令行。"""
    import os

    from .store.home import PRIVATE_UMASK

    # Whatever a command creates under VERIFIER_HOME (database, keys, evidence) is the owner's alone.
    previous = os.umask(PRIVATE_UMASK)
    click.get_current_context().call_on_close(lambda: os.umask(previous))


def local_minute(moment: Any) -> str:
    """A stored moment as the scheme's local time, to the minute."""
    from datetime import timezone

    from .clock import SCHEME_TZ

    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # stored moments are UTC
    return moment.astimezone(SCHEME_TZ).strftime("%Y-%m-%d %H:%M")


def _private_home() -> Settings:
    """The settings, with VERIFIER_HOME and the SQLite database made private (see store/home.py)."""
    from .store.home import make_private

    settings = _settings()
    make_private(settings.home, settings.database_url)
    return settings


def _default_contracts_dir() -> Path:
    here = Path.cwd() / "contracts"
    return here if here.is_dir() else REPO_CONTRACTS


PENDING_NOTE = ("新载入的服务合同待县审核确认：须由合同所覆盖每个县（区）的县级复核员在“服务合同”页面核对合同内容和 "
                "SHA-256 后确认，确认前不认定、不计算保障金、不开始抽样复核、不签批支付批次")


@main.command()
@click.option("--demo", is_flag=True, help="同时载入一个示范县，含各类用户和处于各个阶段的案件。")
@click.option("--contracts", "contracts_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="要载入的服务合同文件所在目录（默认：./contracts）。")
def init(demo: bool, contracts_dir: Path | None) -> None:
    """建立或升级数据库，缺少密钥时生成密钥，载入服务合同。"""
    from .bootstrap import bootstrap
    from .contract import load_directory
    from .domain.errors import ValidationFailed
    from .store.migrate import upgrade

    _private_home()
    ctx = _context(create_keys=True)
    try:
        upgrade(ctx.db, vault=ctx.vault)
        _seal_evidence(ctx)
        folder = contracts_dir or _default_contracts_dir()
        try:
            loaded = load_directory(folder) if folder.is_dir() else []
            added = bootstrap(ctx, loaded)
        except ValidationFailed as exc:
            _print_contract_problems(exc.errors, f"{folder} 中的服务合同未载入：")
            sys.exit(1)
        click.echo(f"数据库已就绪：{ctx.settings.database_url.split('@')[-1]}；"
                   f"{folder} 中有 {len(loaded)} 份服务合同，新载入 {added} 份")
        if added:
            click.echo(PENDING_NOTE)
        if demo:
            from .demo import load_demo

            for line in load_demo(ctx):
                click.echo(line)
    finally:
        ctx.close()


def _seal_evidence(ctx) -> None:  # type: ignore[no-untyped-def]
    """Evidence stored before files were sealed is sealed now (it is read either way)."""
    from .checks.evidence_files import seal_plain_files

    sealed, odd = seal_plain_files(ctx.settings.evidence_dir, ctx.vault)
    if sealed:
        click.echo(f"已加密 {sealed} 个原先以明文保存的证明材料文件")
    for path in odd:
        click.echo(f"未处理：{path} 的内容与文件名（其 SHA-256）不符", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="监听的地址。")
@click.option("--port", default=8000, show_default=True, type=int, help="监听的端口。")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1, max=64),
              help="共用端口的服务进程数。各进程有自己的数据库连接，由数据库保持一致（审计日志、检查点、幂等键、会话和登录限制都在数据库中）。")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="记录每个请求（繁忙时占用明显的处理时间）。")
def serve(host: str, port: int, workers: int, access_log: bool) -> None:
    """运行网页和接口服务。"""
    import uvicorn

    settings = _private_home()
    options = {"host": host, "port": port, "log_level": "info", "access_log": access_log, **proxy_options(settings)}
    if workers == 1:
        from .app import create_app

        uvicorn.run(create_app(), **options)  # type: ignore[arg-type]
        return
    # Several processes: each one builds the app itself from the same environment.
    uvicorn.run("verifier.app:create_app", factory=True, workers=workers, **options)  # type: ignore[arg-type]


def proxy_options(settings: Settings) -> dict[str, object]:
    """X-Forwarded-For (and -Proto) believed only from VERIFIER_TRUSTED_PROXIES; from nobody when it is empty."""
    if not settings.trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(settings.trusted_proxies)}


@main.group()
def users() -> None:
    """管理用户账号。"""


def _password_from_stdin() -> str | None:
    if sys.stdin.isatty():
        return None
    return sys.stdin.readline().rstrip("\r\n") or None


def _operator() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"


@users.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="角色；多个角色时重复此选项。")
@click.option("--county", "counties", multiple=True, help="把用户限于某个县（区）代码；多个时重复此选项。")
@click.option("--all-counties", is_flag=True, help="不限县（区）：用户可看到全部县（区）（须有意授予）。")
@click.option("--display-name", default=None, help="页面上显示的姓名（默认：用户名）。")
def users_add(name: str, roles: tuple[str, ...], counties: tuple[str, ...], all_counties: bool,
              display_name: str | None) -> None:
    """新建用户。密码从标准输入读取，或自动生成并只显示这一次；账号本人首次登录时须改成自己的密码（运行本命令的人知道它）。

    动用资金或确认角色的角色（财务、理赔、保险公司主管、县级复核员、管理员），作为他人办理事项第二人的角色（乡镇经办人、核查员），以及查阅本县全部案件和个人资料的审计，只是提出，不立即生效：由另一位管理员或县级复核员在“角色授权”页确认。只有在能确认的在用账号不足两个时（系统的第一位管理员和县级复核员），这些角色才立即授予，并记为初始授权。"""
    from .accounts import grants
    from .accounts.passwords import generate_password
    from .accounts.service import open_account
    from .domain.errors import ValidationFailed

    if not counties and not all_counties:
        _fail("未创建用户：请写明该用户负责的县（区）（--county 县代码，可重复），"
              "或有意授予全部县（区）（--all-counties）")
    if counties and all_counties:
        _fail("未创建用户：--county 与 --all-counties 只能二选一，不能同时给出")
    password = _password_from_stdin()
    generated = password is None
    password = password or generate_password()
    ctx = _context()
    try:
        with ctx.db.begin() as session:
            bootstrap = grants.bootstrap_allowed(session) and bool(grants.guarded(list(roles)))
            user, pending = open_account(session, username=name, password=password, roles=list(roles),
                                         counties=list(counties), all_counties=all_counties, display_name=display_name,
                                         proposer=_operator(), proposer_role="admin", clock=ctx.clock,
                                         bootstrap=bootstrap)
    except ValidationFailed as exc:
        _print_problems(exc.errors, "未创建用户：")
        sys.exit(1)
    finally:
        ctx.close()
    click.echo(f"已创建用户 {user.username}（角色：{roles_zh(user.roles)}；"
               f"{'全部县（区）' if not user.counties else '县（区）' + '、'.join(user.counties)}）")
    if bootstrap:
        click.echo("能确认角色的账号不足两个：所有角色已直接授予（记为系统初次开通）")
    if pending:
        click.echo(f"待另一位管理员或县级复核员在“角色授权”页确认：{roles_zh(pending)}")
    if generated:
        click.echo(f"密码（只显示这一次）：{password}")
    click.echo("首次登录时须先设置自己的密码，设置前不能办理其他事项（输入密码的人知道这个密码）")


@users.command("grant")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="角色；多个角色时重复此选项。")
def users_grant(name: str, roles: tuple[str, ...]) -> None:
    """给账号增加角色：动用资金或确认角色的角色（财务、理赔、保险公司主管、县级复核员、管理员），作为他人办理事项第二人的角色（乡镇经办人、核查员），以及查阅本县全部案件和个人资料的审计，只是提出，由另一位管理员或县级复核员在“角色授权”页确认；其他角色立即生效。"""
    from .accounts.auth import Principal
    from .accounts.service import add_roles, user_named
    from .domain.errors import DomainError, ValidationFailed

    operator = _operator()
    ctx = _context()
    try:
        with ctx.db.begin() as session:
            user = user_named(session, name)
            # The command line stands for the server's operator: no county limit, and never the account itself.
            user, pending = add_roles(session, Principal(id=operator, username=operator, display_name=operator,
                                                         roles=("admin",), counties=()),
                                      user.id, list(roles), clock=ctx.clock)
    except ValidationFailed as exc:
        _print_problems(exc.errors, f"{name}：角色未更改：")
        sys.exit(1)
    except DomainError as exc:
        _fail(f"{name}：{message_zh(exc.detail)}")
    finally:
        ctx.close()
    click.echo(f"{name} 现有角色：{roles_zh(user.roles)}")
    if pending:
        click.echo(f"待另一位管理员或县级复核员在“角色授权”页确认：{roles_zh(pending)}")


@users.command("grants")
def users_grants() -> None:
    """列出等待确认的角色授权。"""
    from .accounts import grants
    from .accounts.auth import Principal

    everyone = Principal(id="cli", username="cli", display_name="cli", roles=("admin",), counties=())
    ctx = _context()
    try:
        with ctx.db.read() as session:
            rows = grants.find_grants(session, everyone, page_size=100_000).items
    finally:
        ctx.close()
    from .cli_text import row
    from .web.labels import ROLE_LABELS

    if not rows:
        click.echo("没有待确认的角色授权")
        return
    click.echo(row([("授权编号", 32), ("用户名", 24), ("角色", 30), ("提出人", 24)], "提出时间"))
    for r in rows:
        role = f"{ROLE_LABELS.get(r.grant.role, r.grant.role)}({r.grant.role})"
        click.echo(row([(r.grant.id, 32), (r.username, 24), (role, 30), (r.proposer, 24)],
                       f"{local_minute(r.grant.proposed_at)}"))


@users.command("list")
def users_list() -> None:
    """列出全部用户：角色（及待确认的角色）、县（区）、是否在用、在线会话数。"""
    from .accounts import grants
    from .accounts.service import list_users
    from .accounts.sessions import open_session_counts

    ctx = _context()
    try:
        with ctx.db.read() as session:
            people = list_users(session, limit=100_000)
            open_ = open_session_counts(session)
            pending = grants.pending_roles(session, [u.id for u in people])
    finally:
        ctx.close()
    from .cli_text import pad, row

    click.echo(row([("用户名", 24), ("状态", 6), ("在线会话", 8), ("县（区）", 20)], "角色"))
    for u in people:
        counties = ",".join(u.counties) if u.counties else "全部"
        waiting = f"（待确认：{roles_zh(pending[u.id])}）" if u.id in pending else ""
        click.echo(row([(u.username, 24), ("在用" if u.active else "已停用", 6),
                        (pad(str(open_.get(u.id, 0)), 8, right=True), 8), (counties, 20)], roles_zh(u.roles) + waiting))


def _account_change(name: str, change, done: str) -> None:  # type: ignore[no-untyped-def]
    from .accounts.service import user_named
    from .domain.errors import DomainError

    ctx = _context()
    try:
        with ctx.db.begin() as session:
            user = user_named(session, name)
            result = change(session, user.id, actor=_operator(), actor_role="admin", clock=ctx.clock)
    except DomainError as exc:
        _fail(f"{name}：{message_zh(exc.detail)}")
    finally:
        ctx.close()
    click.echo(done.format(name=name, ended=result))


@users.command("disable")
@click.argument("name")
def users_disable(name: str) -> None:
    """停用用户：不能再登录，其所有会话立即结束。"""
    from .accounts.service import disable_user

    _account_change(name, disable_user, "已停用 {name}；已结束其 {ended} 个登录会话")


@users.command("enable")
@click.argument("name")
def users_enable(name: str) -> None:
    """重新启用已停用的用户。"""
    from .accounts.service import enable_user

    _account_change(name, enable_user, "已启用 {name}")


@users.command("password")
@click.argument("name")
def users_password(name: str) -> None:
    """给用户设新密码（从标准输入读取，或自动生成并只显示这一次）；其所有会话结束。"""
    from .accounts.passwords import generate_password
    from .accounts.service import set_password

    password = _password_from_stdin()
    generated = password is None
    password = password or generate_password()

    def change(session, user_id, **kw):  # type: ignore[no-untyped-def]
        return set_password(session, user_id, password, **kw)

    _account_change(name, change, "已为 {name} 设置新密码；已结束其 {ended} 个登录会话")
    if generated:
        click.echo(f"密码（只显示这一次）：{password}")


@main.group()
def contracts() -> None:
    """检查、添加和比较服务合同。"""


@contracts.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def contracts_check(files: tuple[Path, ...]) -> None:
    """检查服务合同文件；有问题时逐条列出（包括这些文件之间的重叠），退出码为 1。"""
    from .contract import check_contract_text, overlap_problems

    good = []
    bad = False
    for path in files:
        contract, problems = check_contract_text(path.read_bytes(), source=str(path))
        if problems:
            bad = True
            _print_contract_problems(problems, f"{path}：有 {len(problems)} 处问题", path)
        else:
            good.append(contract)
            click.echo(f"{path}：无误（{contract.id}，sha256 {contract.content_hash}）")
    overlaps = overlap_problems(good)
    if overlaps:
        bad = True
        _print_contract_problems(overlaps, "服务合同之间有重叠：")
    sys.exit(1 if bad else 0)


contracts.add_command(contracts_check, name="validate")  # the same check under the name people also use


@contracts.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def contracts_add(file: Path) -> None:
    """检查本地的服务合同并添加到数据库（与其他合同重叠时拒绝）。"""
    from .domain.errors import ValidationFailed
    from .store import contracts as contract_store

    contract = _checked_contract(file, "，未添加")
    ctx = _context()
    try:
        with ctx.db.begin() as session:
            added = contract_store.add_contract(session, contract, actor="system", role="admin", clock=ctx.clock)
    except ValidationFailed as exc:
        _print_contract_problems(exc.errors, f"{file}：未添加：")
        sys.exit(1)
    finally:
        ctx.close()
    click.echo(f"{'已添加服务合同' if added else '服务合同已在库中，未更改：'} {contract.id}（sha256 {contract.content_hash}）")
    if added:
        click.echo(PENDING_NOTE)


@contracts.command("list")
def contracts_list() -> None:
    """列出已载入的服务合同：编号、名称、期间、县（区）、县审核状态（每个县由谁、何时答复）、SHA-256 前 16 位。"""
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from .cli_text import row, width
    from .web.labels import CONTRACT_LIST_DECISION, CONTRACT_LIST_STATUS
    from .store.tables import ContractDecision, ContractRow, User

    ctx = _context()
    try:
        with ctx.db.read() as session:
            rows = list(session.scalars(select(ContractRow).order_by(ContractRow.period_start, ContractRow.id)))
            decisions = {(d.contract_id, d.county_code): d for d in session.scalars(select(ContractDecision))}
            who = {u.id: u.username for u in session.scalars(select(User).where(
                User.id.in_({d.decided_by for d in decisions.values() if d.decided_by})))}
    finally:
        ctx.close()
    if not rows:
        click.echo("尚未载入服务合同（verifier contracts add 文件）。")
        return
    local = ZoneInfo("Asia/Shanghai")
    cells = [[r.id, r.title, f"{r.period_start.isoformat()}至{r.period_end.isoformat()}", ",".join(r.county_codes),
              CONTRACT_LIST_STATUS.get(r.status, r.status)] for r in rows]
    headings = ["编号", "名称", "期间", "县（区）", "状态"]
    columns = [max(width(x) for x in [h] + [c[i] for c in cells]) for i, h in enumerate(headings)]
    click.echo(row(list(zip(headings, columns)), "SHA-256（前 16 位）"))
    for r, line in zip(rows, cells):
        click.echo(row(list(zip(line, columns)), r.content_hash[:16]))
        for code in r.county_codes:
            d = decisions.get((r.id, code))
            if d is None:
                click.echo(f"    {code}：待确认")
                continue
            when = d.decided_at.astimezone(local).strftime("%Y-%m-%d %H:%M")
            by = f"，{who.get(d.decided_by, d.decided_by)}" if d.decided_by else ""
            reason = f"，理由：{d.reason}" if d.reason else ""
            click.echo(f"    {code}：{CONTRACT_LIST_DECISION.get(d.decision, d.decision)}{by}，{when}（北京时间）{reason}")


@main.group()
def places() -> None:
    """县（区）的乡镇、村名单，供表单和转介文件选用。"""


NO_AS = ("没有选项 --as。命令行导入一律记为服务器操作人的导入，不能以其他用户的名义导入（--as 已取消）；要以自己的账号导入，"
         "请登录后在页面上（或通过接口）导入。")


def _refuse_as(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        raise click.UsageError(NO_AS, ctx)


# Imports are the operator's (`_importer`): an old `--as NAME` is refused saying so, not met with click's "no such
# option" and, where another option starts with it (`--as-of`), a suggestion to use that instead.
no_as = click.option("--as", "as_user", hidden=True, expose_value=False, callback=_refuse_as)


@places.command("import")
@no_as
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--county", "county_code", required=True, help="县（区）的 6 位代码。")
def places_import(file: Path, county_code: str) -> None:
    """从 csv 或 xlsx 文件（列为“乡镇”和“村”）导入县（区）的乡镇和村：全部导入或全不导入，列出每一处错误；同一文件再导入不会改变任何内容。"""
    from .places.county_file import import_places

    ctx = _context()
    try:
        with _nothing_imported_if_refused(file), ctx.db.begin() as session:
            outcome = import_places(session, county_code, file.read_bytes(), file.name, clock=ctx.clock,
                                    limits=ctx.settings.imports)
    finally:
        ctx.close()
    if outcome.added:
        click.echo(f"县（区）{county_code}：新增 {outcome.added} 个村（社区），{outcome.already} 个已在名单上")
    else:
        click.echo(f"县（区）{county_code}：文件中的 {outcome.already} 个村（社区）都已在名单上，没有更改")


@contracts.command("simulate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--xlsx", "xlsx_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="同时把结果写成 Excel 工作簿：每户新旧金额、按原因和类别的合计、增加和减少的户。")
def contracts_simulate(file: Path, xlsx_out: Path | None) -> None:
    """按另一份服务合同重新计算每个已认定案件的救助金额，显示救助总额的变化（测算资金规模）。"""
    from .checks.simulate import simulate
    from .domain.money import grouped_yuan as format_yuan

    contract = _checked_contract(file, "")
    ctx = _context()
    try:
        with ctx.db.read() as session:
            result = simulate(session, contract)
        made_at = ctx.clock.now()
    finally:
        ctx.close()
    if xlsx_out is not None:
        from .documents.simulation_sheet import simulation_workbook
        from .domain.scheme_calendar import SCHEME_TZ
        from .web.labels import CAUSES, GROUPS

        xlsx_out.write_bytes(simulation_workbook(result, contract, causes=CAUSES, groups=GROUPS,
                                                 made_at=made_at.astimezone(SCHEME_TZ)))
        click.echo(f"已写出 {xlsx_out}（{len(result.cases)} 户：{result.gaining} 户增加，{result.losing} 户减少）")
    from .cli_text import pad
    from .web.labels import CAUSES, GROUPS

    def line_of(cause: str, group: str, cases: int, current: Any, proposed: Any) -> str:
        return (f"{pad(cause, 10)} {pad(group, 20)} {pad(str(cases), 6, right=True)} "
                f"{pad(format_yuan(current), 14, right=True)} {pad(format_yuan(proposed), 18, right=True)} "
                f"{pad(format_yuan(proposed - current), 14, right=True)}")

    click.echo(f"{pad('致贫原因', 10)} {pad('户类型', 20)} {pad('户数', 6, right=True)} {pad('现行（元）', 14, right=True)} "
               f"{pad('按 ' + contract.id, 18, right=True)} {pad('变化（元）', 14, right=True)}")
    for (cause, group), line in sorted(result.lines.items()):
        click.echo(line_of(CAUSES.get(cause, cause), GROUPS.get(group, group), line.cases, line.current, line.proposed))
    click.echo(line_of("合计", "", sum(v.cases for v in result.lines.values()), result.current, result.proposed))
    if result.not_covered:
        click.echo(f"有 {len(result.not_covered)} 个案件在 {contract.id} 下没有适用的救助规则："
                   f"{'、'.join(result.not_covered[:10])}{' …' if len(result.not_covered) > 10 else ''}")


@main.command("import")
@no_as
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--channel", required=True,
              help="来源渠道：医保 medical_insurance ，民政 civil_affairs ，应急管理 emergency_management ，"
                   "教育 education 。")
@click.option("--county", "county_code", required=True, help="文件所属的县（区）代码。")
def import_(file: Path, channel: str, county_code: str) -> None:
    """导入转介文件（csv 或 xlsx），全部导入或全不导入，规则与接口相同。导入记为服务器命令行（操作人）导入，不能以其他用户的名义导入。"""
    from .referrals.service import import_referral_file

    ctx = _context()
    try:
        principal = _importer(("insurer_supervisor",))
        role = principal.acting_role(("insurer_supervisor", "county_reviewer"))
        size = file.stat().st_size
        with file.open("rb") as source, click.progressbar(length=size, label=f"正在导入 {file.name}",
                                                          file=sys.stderr) as bar:
            done = 0

            def progress(stream) -> None:  # type: ignore[no-untyped-def]
                nonlocal done
                position = stream.bytes_read if stream.bytes_read is not None else source.tell()
                bar.update(max(0, position - done))
                done = max(done, position)

            with _nothing_imported_if_refused(file, before=bar.render_finish):
                result = import_referral_file(ctx.db, vault=ctx.vault, source=source, filename=file.name,
                                              channel=channel, county_code=county_code, principal=principal, role=role,
                                              clock=ctx.clock, limits=ctx.settings.imports, progress=progress)
            bar.update(size - done)
    finally:
        ctx.close()
    if result.repeated:
        click.echo(f"这个文件此前已导入（批次 {result.batch_id}），没有更改")
    else:
        click.echo(f"已导入 {result.rows} 行（批次 {result.batch_id}）：新建 {result.new_cases} 个案件，"
                   f"{result.merged} 行并入已有的未办结案件")
    if result.left_out:
        click.echo(f"另有 {result.left_out} 行须由其他经办人导入，本次未导入；其他经办人导入同一文件时只导入这些行")


@main.group()
def roster() -> None:
    """县（区）的脱贫户和监测户名册。"""


@roster.command("import")
@no_as
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--county", "county_code", required=True, help="名册所属的县（区）代码。")
def roster_import(file: Path, county_code: str) -> None:
    """导入县（区）的完整名册（csv 或 xlsx：每人的身份证号和类别），全部导入或全不导入。只用于尚无在用县级复核员的县（区）（开通时）：已有县级复核员的，须由复核员在“名册”页（或通过接口）导入，这里拒绝。导入记为服务器命令行（操作人）导入，没有哪位县级复核员为它担保；须由本县的县级复核员在“名册”页（或通过接口）核对后确认，确认后才生效。命令行不能确认或退回名册。"""
    from .roster.service import IMPORT_ROLES, import_roster

    ctx = _context()
    try:
        principal = _importer(IMPORT_ROLES)
        with _nothing_imported_if_refused(file):
            result = import_roster(ctx.db, vault=ctx.vault, data=file.read_bytes(), filename=file.name,
                                   county_code=county_code, principal=principal, clock=ctx.clock,
                                   limits=ctx.settings.imports)
    finally:
        ctx.close()
    if result.repeated:
        from .web.labels import ROSTER_STATUS

        click.echo(f"这份名册此前已导入（{result.import_id}，{ROSTER_STATUS.get(result.status, result.status)}），"
                   "没有更改")
        return
    from .domain.roster import CATEGORY_NAMES

    shown = "，".join(f"{CATEGORY_NAMES.get(k, k)} {v} 人" for k, v in result.categories.items())
    click.echo(f"已导入县（区）{county_code} 的名册：共 {result.rows} 人（{shown}），编号 {result.import_id}；"
               "记为由服务器命令行导入。须由本县的县级复核员登录后在“名册”页核对并确认后生效（命令行不能确认），"
               "此前仍按现行名册办理")


def _importer(roles: tuple[str, ...]) -> Any:
    """Who an import from the command line is recorded as: as for role grants, the command line stands for the
    server's operator, never for an account of the application (it holds no password of one), so every import is
    recorded as made by `cli:<operator>` (no county limit) acting in `roles`; there is no `--as`."""
    from .accounts.auth import Principal

    return Principal(id=_operator(), username="operator", display_name="operator", roles=roles, counties=())


@main.group()
def registers() -> None:
    """其他部门的登记信息，与每一户比对。"""


@registers.command("import")
@no_as
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", required=True,
              type=click.Choice(["vehicle", "business", "housing", "public_employment", "assets", "medical"]),
              help="登记信息的种类。")
@click.option("--county", "county_code", required=True, help="登记信息所属的县（区）代码。")
@click.option("--bureau", default="", help="提供数据的部门（默认：该种类通常的部门）。")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="部门数据的日期（默认：今天）。")
@click.option("--valid-until", "valid_until", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="可用到哪一天（默认：数据日期后 90 天）。")
def registers_import(file: Path, kind: str, county_code: str, bureau: str, as_of: Any, valid_until: Any) -> None:
    """导入某个部门的登记信息（csv 或 xlsx，每人每项一行），全部导入或全不导入。只用于尚无在用县级复核员的县（区）（开通时）：已有县级复核员的，须由复核员在“导入部门比对名单”页（或通过接口）导入，再由另一名复核员确认，这里拒绝。导入记为服务器命令行（操作人）导入，不能以其他用户的名义导入；导入后待本县县级复核员在页面上确认才生效。"""
    from .registers.service import IMPORT_ROLES, import_register

    ctx = _context()
    try:
        principal = _importer(IMPORT_ROLES)
        with _nothing_imported_if_refused(file):
            result = import_register(ctx.db, vault=ctx.vault, data=file.read_bytes(), filename=file.name, kind=kind,
                                     county_code=county_code, principal=principal, clock=ctx.clock,
                                     limits=ctx.settings.imports, bureau=bureau,
                                     as_of=as_of.date() if as_of else None,
                                     valid_until=valid_until.date() if valid_until else None)
    finally:
        ctx.close()
    if result.repeated:
        waiting = "，仍待县级复核员确认" if result.status == "pending" else ""
        click.echo(f"这份名单此前已导入（{result.import_id}{waiting}），没有更改")
        return
    from .web.labels import REGISTER_KINDS

    click.echo(f"已导入县（区）{county_code} 的{REGISTER_KINDS.get(kind, kind)}：{result.rows} 条，编号 {result.import_id}"
               "。状态为待确认，尚未参与比对：须由本县一名县级复核员登录后在“导入部门比对名单”页核对变化并确认才生效"
               "（命令行不能确认）")


@main.group()
def sampling() -> None:
    """县级抽查抽样。"""


def _mount_stage_commands() -> None:
    from .audit.cli import audit
    from .backups.cli import backup, restore
    from .evidence_cli import evidence
    from .sampling.cli import replay, secret

    main.add_command(audit)
    main.add_command(evidence)
    main.add_command(backup)
    main.add_command(restore)
    sampling.add_command(replay)
    sampling.add_command(secret)


_mount_stage_commands()
cli_click_zh.speak_usage(main)  # every command mounted: their usage lines in Chinese
