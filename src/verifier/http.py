"""Route decorators for our handlers: they talk to the database synchronously, so they run in a worker thread."""

from __future__ import annotations

from functools import partial
from typing import TypeAlias

import litestar
from litestar.di import NamedDependency
from litestar.params import JSONBody, MultipartBody, SkipValidation

from .context import Context

Ctx: TypeAlias = NamedDependency[SkipValidation[Context]]
"""The process's Context, provided to every handler as `ctx` (ours, so not validated on every request)."""

__all__ = ["DOCX", "Ctx", "JSONBody", "MultipartBody", "delete", "get", "post", "put"]

get = partial(litestar.get, sync_to_thread=True)
post = partial(litestar.post, sync_to_thread=True)
put = partial(litestar.put, sync_to_thread=True)
delete = partial(litestar.delete, sync_to_thread=True)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
