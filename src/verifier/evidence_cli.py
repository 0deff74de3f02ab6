"""`verifier evidence sweep [--dry-run]`: remove evidence files that no row names and that are over a day old
(see evidence_sweep.py)."""

from __future__ import annotations

import click

from .cli_text import Refused


@click.group()
def evidence() -> None:
    """证明材料文件（照片、扫描件）。"""


@evidence.command("sweep")
@click.option("--dry-run", is_flag=True, help="只列出会删除的文件，不删除，不记审计日志。")
def sweep(dry_run: bool) -> None:
    """删除没有任何记录引用、且超过一天未写入的证明材料文件。

    这类文件来自被退回后没有再提交的村民主评议表单所保留的扫描件，或保存时事务未能提交而留下的文件；
    页面不会提供它们。一天以内写入的文件一律保留（可能正在保存）；有记录引用的文件从不删除。删除后记一条审计日志（含删除的数量）。"""
    from sqlalchemy.exc import SQLAlchemyError

    from .context import Context
    from .evidence_sweep import MIN_AGE, sweep as run_sweep
    from .settings import Settings

    try:
        ctx = Context.open(Settings.from_env())
    except (RuntimeError, OSError, ValueError) as exc:  # no key files (run `verifier init`): say so plainly
        raise Refused(f"无法打开系统目录（VERIFIER_HOME，是否已运行 `verifier init`？）：{exc}") from None
    try:
        result = run_sweep(ctx.db, ctx.settings.evidence_dir, clock=ctx.clock, dry_run=dry_run)
    except SQLAlchemyError as exc:
        raise Refused(f"无法读取数据库：{exc.__class__.__name__}: {exc}") from None
    finally:
        ctx.close()
    hours = MIN_AGE.days * 24 + MIN_AGE.seconds // 3600
    for path in result.files:
        click.echo(f"{'将删除' if dry_run else '已删除'}：{path}")
    verb = "可删除" if dry_run else "已删除"
    click.echo(f"{verb} {len(result.files)} 个没有记录引用、超过 {hours} 小时的证明材料文件（共 {result.size} 字节）；"
               f"保留有记录引用的 {result.kept_referenced} 个、{hours} 小时内写入的 {result.kept_young} 个")
    if dry_run:
        click.echo("（试运行：没有删除任何文件，也没有记审计日志）")
