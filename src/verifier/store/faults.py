"""Which database failures are the database's state rather than the request's fault, and how they are answered.

A request that meets a database it cannot reach (PostgreSQL restarting, the network between) or that cannot grow
(disk full, SQLite's size limit) is answered 503 / 507 with a problem body and a Retry-After, and its transaction
is rolled back whole: nothing half-written. The connection pool checks connections before use (`pool_pre_ping`), so
once the database is back the next request is served without restarting anything.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, InterfaceError, OperationalError

RETRY_AFTER_SECONDS = 5

# Words of SQLite ("database or disk is full"), PostgreSQL ("could not extend file", "No space left on device",
# SQLSTATE 53100 disk_full) and the operating system for a storage that cannot grow.
_FULL = ("database or disk is full", "no space left on device", "could not extend file", "disk full",
         "could not write to file")


def storage_full(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in ("53100", "53200"):
        return True
    text = str(getattr(exc, "orig", None) or exc).lower()
    return any(word in text for word in _FULL)


def unavailable(exc: BaseException) -> bool:
    """The database could not be reached or dropped the connection (not a refused value or a broken rule)."""
    if isinstance(exc, (DisconnectionError, InterfaceError)):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError) and not storage_full(exc)


# The text a guarded write (store/writer.py, `_fold(guarded=True)`) fails to read as a number when its last write wrote
# no row: PostgreSQL raises it as a DataError (invalid_text_representation), whose message names it.
NOT_ONE_ROW = "the last write of a guarded batch wrote no row"


def broken_rule(exc: BaseException) -> bool:
    """A guarded write found its row moved although the transaction had locked it (`NOT_ONE_ROW`): never expected, a
    rule broken somewhere, not the request's bad input. Answered 409 (nothing written), logged as an error, and
    never tried again (the check's shortcut answers it itself)."""
    return isinstance(exc, DBAPIError) and NOT_ONE_ROW in str(exc.orig)


_LOG_TABLES = ("audit_entry", "audit_node", "audit_head")


def log_failed(exc: BaseException) -> bool:
    """The audit log refused an append because of its own rows (a constraint of its tables): its head missing or
    damaged (audit/pgappend.py then numbers the entry NULL), or an entry or node already where the head says the
    next one goes. Appends lock the head (or the database), so no race with another writer ends here: the log's
    rows disagree, and every append fails until an administrator looks (`verifier audit verify`), as `LogCorrupt`."""
    if not isinstance(exc, IntegrityError):
        return False
    table = getattr(getattr(exc.orig, "diag", None), "table_name", None)  # PostgreSQL's
    if table is not None:
        return table in _LOG_TABLES
    text = str(exc.orig)  # SQLite's: "UNIQUE constraint failed: audit_entry.idx"
    return any(f"failed: {name}." in text for name in _LOG_TABLES)


# What a page and a problem's detail say of each (in Chinese; the API answers a 503 and 507 with Retry-After).
STORAGE_FULL_ZH = "数据库存储空间已满，本次操作未保存。请联系系统管理员。"
UNAVAILABLE_ZH = "数据库暂时无法连接，本次操作未保存。请稍后重试。"
LOG_FAILED_ZH = "审计日志无法写入（日志数据不一致），本次操作未保存。请联系系统管理员。"
BROKEN_RULE_ZH = "案件状态已被他人改变，本次操作未保存。请刷新页面后重试。"
RACE_LOST_ZH = "与他人同时提交的操作冲突，未保存。请刷新页面后重试。"
VALUE_REFUSED_ZH = "有内容无法保存（过长或含有不可用的字符），请检查后重试。"
DATABASE_ERROR_ZH = "系统出错，本次操作未保存。请稍后重试，仍不行请联系系统管理员。"
