"""`verifier backup DEST` and `verifier restore SRC` (see service.py for what a backup holds)."""

from __future__ import annotations

from pathlib import Path

import click

from ..cli_text import Refused
from ..settings import Settings
from ..store.home import PRIVATE_UMASK


@click.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--keys-to", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="把密钥写到这个目录，不放进备份（密钥与数据分开保存）。")
def backup(dest: Path, keys_to: Path | None) -> None:
    """把数据库（一致的快照）、证据文件和密钥复制到新的目标目录。"""
    import os

    from .manifest import BackupError
    from .backup import backup as make_backup

    os.umask(PRIVATE_UMASK)
    try:
        manifest = make_backup(Settings.from_env(), dest, keys_to=keys_to)
    except BackupError as exc:
        raise Refused(str(exc)) from None
    evidence = sum(1 for rel in manifest.files if rel.startswith("evidence/"))
    click.echo(f"已备份 {manifest.database} 数据库（结构版本 {manifest.schema_revision}，审计日志 "
               f"{manifest.audit.size} 条，根哈希 {manifest.audit.root}）和 {evidence} 个证明材料文件到 {dest.resolve()}")
    click.echo(f"密钥：{(keys_to or dest / 'keys').resolve()}（请与数据分开保管：同时拿到两者的人能读出每个身份证号）")


@click.command()
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--keys-from", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="备份时用了 --keys-to 时，密钥所在的目录。")
@click.option("--since", "since_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="备份前保存的检查点（`verifier audit checkpoint` 的输出）：证明恢复的日志是它的延续。")
def restore(src: Path, keys_from: Path | None, since_file: Path | None) -> None:
    """从备份目录建立空的 VERIFIER_HOME（和空数据库），然后核对审计日志。"""
    import os

    from .manifest import BackupError
    from .restore import restore as do_restore

    os.umask(PRIVATE_UMASK)
    since = since_file.read_text("utf-8") if since_file is not None else None
    try:
        result = do_restore(Settings.from_env(), src, keys_from=keys_from, since=since)
    except BackupError as exc:
        raise Refused(str(exc)) from None
    click.echo(f"已恢复 {result.manifest.created} 的备份：审计日志 {result.entries} 条、签名检查点 "
               f"{result.checkpoints} 个已核对，止于备份时记录的检查点")
    if result.since_size is not None:
        click.echo(f"恢复后的日志是所给 {result.since_size} 条时检查点的延续（一致性证明已核对）")
