"""`verifier sampling replay ROUND`: re-derive a drawn sample from its recorded inputs and compare;
`verifier sampling secret`: make a party's secret and its commitment."""

from __future__ import annotations

import secrets as random_source
import sys

import click

from ..cli_text import Refused


@click.command("secret")
@click.option("--bytes", "size", type=click.IntRange(16, 512), default=32, show_default=True,
              help="秘密值的字节数。")
def secret(size: int) -> None:
    """生成一个新的随机秘密值及其承诺值（秘密值字节的 SHA-256），均为十六进制。

    不需要数据库：请在本方自己的电脑上运行（县级复核方不要在保险公司的系统上运行）。现在提交承诺值；秘密值自行保管，总体冻结后再揭示。"""
    from ..domain.sampling import commitment_of

    value = random_source.token_bytes(size)
    click.echo(f"秘密值（自行保管，总体冻结后再揭示）: {value.hex()}")
    click.echo(f"承诺值（现在提交）: {commitment_of(value).hex()}")


@click.command("replay")
@click.argument("round_id")
@click.option("--key", "keys", multiple=True, metavar="公钥",
              help="只信任这个验证公钥来核对本轮的检查点（公钥本身，或存放公钥的文件）；可重复。默认：数据库中记录的全部公钥。")
@click.option("-v", "--verbose", is_flag=True, help="同时列出每一项通过的核对。")
def replay(round_id: str, keys: tuple[str, ...], verbose: bool) -> None:
    """只凭记录的输入重新核对本轮的承诺值并重新抽取样本。

    全部一致时退出码为 0，否则列出不一致之处，退出码为 1。"""
    from sqlalchemy.exc import SQLAlchemyError

    from ..audit.notes_zh import note_zh
    from ..audit.offline import OfflineCheckFailed, load_key
    from ..context import Context
    from ..domain.errors import NotFound
    from ..settings import Settings
    from . import replay as replays

    try:
        trusted = [load_key(k) for k in keys]
    except OfflineCheckFailed as exc:
        raise Refused(note_zh(exc)) from None
    try:
        ctx = Context.open(Settings.from_env())
    except (RuntimeError, OSError, ValueError) as exc:  # no key files (run `verifier init`): say so plainly
        raise Refused(f"无法打开系统目录（VERIFIER_HOME，是否已运行 `verifier init`？）：{exc}") from None
    try:
        with ctx.db.read() as session:
            try:
                report = replays.replay(session, round_id, keys=trusted)
            except NotFound:
                click.echo(f"没有抽样轮次 {round_id}", err=True)
                sys.exit(1)
            except SQLAlchemyError as exc:
                raise Refused(f"无法读取数据库：{exc.__class__.__name__}: {exc}") from None
    finally:
        ctx.close()
    if verbose or report.ok:
        for line in report.confirmed:
            click.echo(f"一致：{line}")
    if report.ok:
        click.echo(f"抽样轮次 {round_id}：重新抽取的样本与记录的完全一致")
        return
    for line in report.differences:
        click.echo(f"不一致：{line}", err=True)
    click.echo(f"抽样轮次 {round_id}：重新抽取的结果与记录不符", err=True)
    sys.exit(1)
