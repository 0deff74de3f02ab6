"""Route decorators for our handlers: they talk to the database synchronously, so they run in a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any, TypeAlias, TypeVar

import litestar
from litestar.di import NamedDependency
from litestar.params import JSONBody, MultipartBody, SkipValidation
from litestar.serialization import encode_json, get_serializer

from .context import Context

Ctx: TypeAlias = NamedDependency[SkipValidation[Context]]
"""The process's Context, provided to every handler as `ctx` (ours, so not validated on every request)."""

__all__ = ["DOCX", "Ctx", "EncodedJSON", "JSONBody", "MultipartBody", "delete", "get", "post", "put", "quick"]

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


class EncodedJSON(litestar.Response):  # type: ignore[type-arg]
    """A route's `response_class` for a JSON answer of a 200 with nothing else to it (no headers, cookies or
    background work of its own): encoded by msgspec straight to bytes and sent with the two headers Litestar's
    `Response` gives it (`content-type: application/json`, then `content-length`), in the same order, without
    building Litestar's response objects on every request. Anything else goes Litestar's own way."""

    __slots__ = ()

    def __init__(self, content: Any, *, background: Any = None, cookies: Any = None, encoding: str = "utf-8",
                 headers: Any = None, media_type: Any = None, status_code: int | None = None,
                 type_encoders: Any = None) -> None:
        if cookies or headers or type_encoders or self.type_encoders:
            super().__init__(content, background=background, cookies=cookies, encoding=encoding, headers=headers,
                             media_type=media_type, status_code=status_code, type_encoders=type_encoders)
            return
        self.content, self.background, self.cookies, self.encoding = content, background, [], encoding
        self.headers, self.media_type, self.status_code, self.response_type_encoders = {}, media_type, status_code, {}

    def to_asgi_response(self, app: Any, request: Any, **kwargs: Any) -> Any:
        if (kwargs.get("headers") or kwargs.get("cookies") or self.headers or self.cookies or self.background
                or kwargs.get("background") or self.status_code not in (None, 200) or kwargs.get("is_head_response")
                or kwargs.get("type_encoders") or self.response_type_encoders
                or (self.media_type or kwargs.get("media_type") or "application/json") != "application/json"):
            return super().to_asgi_response(app, request, **kwargs)
        body = encode_json(self.content, JSON_SERIALIZER)
        return _Sent(json_headers(body), body)


class _Sent:
    """An ASGI answer: status 200, its headers and body (what `ASGIResponse` sends for them)."""

    __slots__ = ("body", "headers")

    def __init__(self, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.headers = headers
        self.body = body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send_answer(send, self.headers, self.body)


async def send_answer(send: Any, headers: list[tuple[bytes, bytes]], body: bytes, status: int = 200) -> None:
    """Send a whole answer in one body (as Litestar's `ASGIResponse` does): for `_Sent` and the shortcuts in front of
    Litestar (cases/shortcut.py, web/list_shortcut.py, checks/shortcut.py)."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def json_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    """The headers Litestar's `Response` gives a JSON body, in its order."""
    return [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]


JSON_SERIALIZER = get_serializer(None)  # what Litestar's Response encodes with when no layer declares type encoders
