"""`verifier audit ...`: verify the stored log, check exported proofs offline, export entries, rotate the key."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import msgspec

from ..cli_text import Refused
from ..settings import Settings
from ..zhtable import Chinese, Table, translate
from .notes_zh import note_zh

T = TypeVar("T")


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise Refused(f"无法读取 {path}：{exc.strerror or exc}") from None


def _filled(template: str) -> Chinese:
    """A row's Chinese with the match's groups in its {0}, {1}, …"""
    return lambda m: template.format(*m.groups())


# What `verify` may find (verify.py, scan.py), in Chinese; a checkpoint's unreadable note by `notes_zh` (last row).
_BAD: Table = [(pattern, _filled(zh)) for pattern, zh in [
    (re.compile(r"entry (\d+) was changed: .*"), "第 {0} 条记录被改动过：其内容的哈希与保存的叶哈希不符"),
    (re.compile(r"the log was truncated: its head records (\d+) entries, only (\d+) are stored"),
     "日志被截短：日志头记录了 {0} 条，实际只保存了 {1} 条"),
    (re.compile(r"the log was truncated: a checkpoint covers (\d+) entries, only (\d+) are stored"),
     "日志被截短：签名检查点覆盖 {0} 条，实际只保存了 {1} 条"),
    (re.compile(r"entry (\d+) is stored twice"), "第 {0} 条记录重复保存"),
    (re.compile(r"entry (\d+) is missing \(the next stored entry is (\d+)\)"), "第 {0} 条记录缺失（下一条保存的是第 {1} 条）"),
    (re.compile(r"entry (\d+) lies beyond the log's head \(size (\d+)\).*"),
     "第 {0} 条记录超出日志头（长度 {1}）：是绕过日志添加的"),
    (re.compile(r"entry (\d+) holds the entry written as index (\d+).*"), "第 {0} 条记录的内容原为第 {1} 条：记录被移动或调换"),
    (re.compile(r"entry (\d+) is not a canonical entry: .*"), "第 {0} 条记录不是规范格式的记录（内容被改写）"),
    (re.compile(r"the stored tree lacks node \(level (\d+), index (\d+)\) over entries (\d+)\.\.(\d+)"),
     "保存的哈希树缺少第 {0} 层第 {1} 个节点（覆盖第 {2} 至 {3} 条记录）"),
    (re.compile(r"stored node \(level (\d+), index (\d+)\) over entries (\d+)\.\.(\d+) does not match .*"),
     "保存的哈希树第 {0} 层第 {1} 个节点（覆盖第 {2} 至 {3} 条记录）与记录不符：节点或其下的记录被改动过"),
    (re.compile(r"the stored tree has node \(level (\d+), index (\d+)\) over entries (\d+)\.\.(\d+), "
                r"which the (\d+) .*"),
     "保存的哈希树有第 {0} 层第 {1} 个节点（覆盖第 {2} 至 {3} 条记录），但只保存了 {4} 条记录"),
    (re.compile(r"checkpoint for size (\d+): its note is for size (\d+)"),
     "日志长度 {0} 的签名检查点：其签名记录写的长度是 {1}"),
    (re.compile(r"checkpoint for size (\d+): its note's root differs from the stored root"),
     "日志长度 {0} 的签名检查点：签名记录中的根哈希与保存的不同"),
    (re.compile(r"checkpoint for size (\d+): recorded as signed by key (\w+), but signed by (.*)"),
     "日志长度 {0} 的签名检查点：记录为密钥 {1} 所签，实际签名的密钥是 {2}"),
    (re.compile(r"checkpoint for size (\d+): origin (.+) is not its signer's name"),
     "日志长度 {0} 的签名检查点：日志名称 {1} 与签名者名称不符"),
    (re.compile(r"checkpoint for size (\d+): origin (.+) differs from (.+)"),
     "日志长度 {0} 的签名检查点：日志名称 {1} 与之前的 {2} 不同"),
    (re.compile(r"checkpoint for size (\d+): its signed root differs from the root of the stored entries "
                r"(\d+)\.\.(\d+).*"),
     "日志长度 {0} 的签名检查点：签名的根哈希与保存的第 {1} 至 {2} 条记录算出的不同：记录被改写，或检查点是伪造的"),
    # the last checkpoint the signing key signed, saved beside the key (lastsigned.py)
    (re.compile(r"the log's head holds (\d+) entries, fewer than the (\d+) of the last checkpoint .*"),
     "日志头只记录了 {0} 条，少于签名密钥最后签过的检查点的 {1} 条：日志被截短或回退"),
    (re.compile(r"the log's root at size (\d+) differs from the last checkpoint .*"),
     "日志长度 {0} 时的根哈希与签名密钥最后签过的检查点不同：记录被改写"),
    (re.compile(r"the log of (\d+) entries does not extend the last checkpoint the signing key signed \((\d+) entries\).*"),
     "长度 {0} 的日志不是签名密钥最后签过的检查点（{1} 条）的延续：此前的记录被改写"),
]] + [(re.compile(r"checkpoint for size (\d+): (.*)"),  # its signed note could not be opened (notes.NoteError)
       lambda m: f"日志长度 {m.group(1)} 的签名检查点：{note_zh(m.group(2), '签名记录无法验证')}")]


def problem_zh(message: str) -> str:
    """A verification failure in Chinese (a checkpoint's unreadable note by `notes_zh`); one not listed is said in
    general words, the first bad index beside it naming where to look."""
    return translate(_BAD, message) or "校验未通过：日志的记录或哈希树与签名检查点不符"


def _database(settings: Settings):  # type: ignore[no-untyped-def]
    from ..store.db import Database

    return Database(settings.database_url)


@click.group()
def audit() -> None:
    """防篡改的审计日志。"""


@audit.command()
@click.option("--key", "keys", multiple=True, metavar="公钥",
              help="只信任这个验证公钥（公钥本身，或存放公钥的文件）；可重复。默认：数据库中记录的全部公钥和本机的签名密钥。")
@click.option("--strict", is_flag=True, help="同时解析每条记录，要求是完全规范的 JSON（较慢）。")
@click.option("--processes", type=click.IntRange(min=1), default=None, metavar="个数",
              help="用最多这个数目的进程核对大的日志（默认：每个处理器核一个，最多 8 个）。")
def verify(keys: tuple[str, ...], strict: bool, processes: int | None) -> None:
    """重新计算整个审计日志并核对每个签名检查点；有问题时指出第一条有问题的记录序号，退出码为 1。"""
    from sqlalchemy.exc import DBAPIError

    from .checkpoints import KEY_FILE, Signer, known_keys
    from .lastsigned import read_saved
    from .offline import OfflineCheckFailed, load_key
    from .verify import verify_log

    settings = Settings.from_env()
    try:  # read before the log, so a checkpoint signed meanwhile is covered by the log read after it
        last_signed = read_saved(settings.keys_dir)
    except PermissionError:
        last_signed = None  # run where the keys directory cannot be read: the log alone is checked
    except RuntimeError:
        raise Refused(f"无法读取 {settings.keys_dir} 中保存的最后一个签名检查点：文件已损坏") from None
    db = _database(settings)
    try:
        if keys:
            try:
                trusted = [load_key(k) for k in keys]
            except OfflineCheckFailed as exc:
                raise Refused(note_zh(exc)) from None
        else:
            with db.read() as session:
                trusted = known_keys(session)
            if (settings.keys_dir / KEY_FILE).exists():
                trusted.append(Signer.load(settings).verifier)
        result = verify_log(db, trusted, strict=strict, processes=processes, last_signed=last_signed)
    except DBAPIError as exc:
        raise Refused(f"无法读取审计日志（是否已运行 `verifier init`？）：{exc.orig}") from None
    finally:
        db.dispose()
    if result.ok:
        shared = f"（由 {result.processes} 个进程并行核对）" if result.processes > 1 else ""
        click.echo(f"审计日志完整：共 {result.entries} 条记录，{result.checkpoints} 个签名检查点{shared}")
        return
    if result.first_bad_index is None:  # the log is intact in itself but not the one the signing key signed
        click.echo(f"审计日志与密钥目录中保存的最后一个签名检查点不符：{problem_zh(result.message)}", err=True)
    else:
        click.echo(f"审计日志不完整：第一条有问题的记录序号为 {result.first_bad_index}：{problem_zh(result.message)}",
                   err=True)
    sys.exit(1)


@audit.command("check-proof")
@click.argument("entry_file", metavar="记录.json")
@click.argument("checkpoint_file", metavar="检查点.txt")
@click.option("--key", required=True, metavar="公钥", help="日志的验证公钥，或存放公钥的文件。")
def check_proof(entry_file: str, checkpoint_file: str, key: str) -> None:
    """不用数据库，核对导出的一条记录是否包含在签名检查点中。"""
    from .offline import OfflineCheckFailed, check_entry_proof

    try:
        checked = check_entry_proof(_read(entry_file), _read(checkpoint_file), key)
    except OfflineCheckFailed as exc:
        click.echo(f"未能证明：{note_zh(exc, '所给的文件不能证明这一点')}", err=True)
        sys.exit(1)
    e = checked.entry
    click.echo(f"已证明：第 {checked.index} 条记录在日志 {checked.origin} 中（日志长度 {checked.tree_size}，"
               f"根哈希 {checked.root.hex()}）")
    click.echo(f"    {e.time} {e.actor} ({e.role}) {e.action} {e.subject}")


@audit.command("check-consistency")
@click.argument("old_file", metavar="较早检查点")
@click.argument("new_file", metavar="较新检查点")
@click.option("--proof", "proof_file", required=True, metavar="证明.json",
              help="一致性证明，即 /api/audit/consistency?first=OLD_SIZE&second=NEW_SIZE 返回的内容。")
@click.option("--key", required=True, metavar="公钥", help="日志的验证公钥，或存放公钥的文件。")
def check_consistency(old_file: str, new_file: str, proof_file: str, key: str) -> None:
    """不用数据库，核对较新的签名检查点是较早检查点的延续（此前的记录未被改动）。"""
    from .offline import OfflineCheckFailed
    from .offline import check_consistency as check

    try:
        checked = check(_read(old_file), _read(new_file), _read(proof_file), key)
    except OfflineCheckFailed as exc:
        click.echo(f"未能证明：{note_zh(exc, '所给的文件不能证明这一点')}", err=True)
        sys.exit(1)
    click.echo(f"已证明：日志 {checked.origin} 长度 {checked.new_size} 时的状态是长度 {checked.old_size} 时的延续，"
               "此前的记录未被改动")


def _from_db(read: Callable[[Any], T]) -> T:
    """What `read` finds in the database (a proof, a checkpoint); its refusal said plainly (`Refused`)."""
    from ..domain.errors import DomainError

    db = _database(Settings.from_env())
    try:
        return read(db)
    except DomainError as exc:
        raise Refused(exc.detail) from None
    finally:
        db.dispose()


@audit.command("export-entry")
@click.argument("index", type=int)
@click.option("--tree-size", type=int, default=None, help="按这个日志长度证明（默认：最新的检查点）。")
def export_entry(index: int, tree_size: int | None) -> None:
    """以 JSON 输出一条记录及其包含证明（与接口的返回相同）。"""
    from . import service

    doc = _from_db(lambda db: service.entry_with_proof(db, index, tree_size))
    click.echo(json.dumps(msgspec.to_builtins(doc), indent=2))


@audit.command("export-consistency")
@click.argument("first", type=int)
@click.argument("second", type=int)
def export_consistency(first: int, second: int) -> None:
    """以 JSON 输出两个日志长度之间的一致性证明（与接口的返回相同）。"""
    from . import service

    doc = _from_db(lambda db: service.consistency(db, first, second))
    click.echo(json.dumps(msgspec.to_builtins(doc), indent=2))


@audit.command()
def checkpoint() -> None:
    """输出最新的签名检查点。"""
    from . import service

    click.echo(_from_db(service.checkpoint_text), nl=False)


@audit.command("public-key")
def public_key() -> None:
    """输出当前的验证公钥。"""
    from .checkpoints import Signer

    try:
        signer = Signer.load(Settings.from_env())
    except RuntimeError as exc:
        raise Refused(note_zh(exc, "无法读取签名密钥")) from None
    click.echo(signer.verifier_key)


@audit.command("rotate-key")
def rotate_key() -> None:
    """更换检查点签名密钥；旧检查点仍可凭其密钥编号验证。"""
    from .checkpoints import SigningRefused, issue_checkpoint, rotate

    settings = Settings.from_env()
    db = _database(settings)
    try:
        try:
            signer = rotate(db, settings)
        except RuntimeError as exc:
            raise Refused(note_zh(exc, "无法读取签名密钥")) from None
        try:
            issue_checkpoint(db, signer)
        except SigningRefused as exc:
            raise Refused(f"新密钥已启用，但拒绝签名检查点：{problem_zh(str(exc).partition(': ')[2])}"
                          "（请运行 `verifier audit verify`）") from None
    finally:
        db.dispose()
    click.echo(f"新的验证公钥：{signer.verifier_key}")
