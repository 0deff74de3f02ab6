"""Route decorators for our handlers: they talk to the database synchronously, so they run in a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any, TypeAlias, TypeVar

import litestar
from litestar.di import NamedDependency
from litestar.params import JSONBody, MultipartBody, SkipValidation

from .context import Context

Ctx: TypeAlias = NamedDependency[SkipValidation[Context]]
"""The process's Context, provided to every handler as `ctx` (ours, so not validated on every request)."""

__all__ = ["DOCX", "Ctx", "JSONBody", "MultipartBody", "delete", "get", "post", "put", "quick"]

get = partial(litestar.get, sync_to_thread=True)
post = partial(litestar.post, sync_to_thread=True)
put = partial(litestar.put, sync_to_thread=True)
delete = partial(litestar.delete, sync_to_thread=True)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


T = TypeVar("T")


async def quick(db: Any, read: Callable[..., T], *args: Any) -> T:
    """Run a short indexed read (`db.reader()`): on SQLite here, on the event loop, since such a read answers sooner
    than a hand-off to a worker thread would and, under WAL, never waits for a writer; on PostgreSQL, across a
    network, in a worker thread. (A read written in steps, store/reader.py, runs on the loop on both databases:
    `db.ask(steps)`.)"""
    if db.is_sqlite:
        return read(*args)
    return await asyncio.get_running_loop().run_in_executor(None, partial(read, *args))
