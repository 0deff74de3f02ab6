"""`Idempotency-Key` for state-changing routes: a repeated request gets the first answer and changes nothing.

A client that is not sure its write arrived (a dropped connection, a timeout) sends it again with the same
`Idempotency-Key` header. The first successful response is stored in the `idempotency_key` table in the SAME
transaction as the write it answers, so either both are committed or neither is:

- a repeat with the same key, the same method and path and the same request body returns the stored status and
  body byte for byte (with the header `Idempotent-Replayed: true`) and runs nothing;
- the same key with a different request (another path, another body) is refused with 422;
- keys are scoped to the user who sent them (the primary key is the user id and the key);
- only successful (2xx) answers are stored: a refused request changed nothing, so repeating it is safe and
  may succeed later (say, after the fund was topped up);
- two requests with the same key at the same moment: the database lets one commit its row; the other's write
  is rolled back as a whole and it answers with the stored response;
- stored answers are kept for seven days (`KEEP`): at most once an hour, a keyed write is followed by a prune.

Use from a route (the handler's return annotation gives OpenAPI its schema; the body is sent as stored):

    @post("/{batch_id:str}/approve", opt={"roles": ("finance",)}, status_code=200)
    def approve(self, batch_id: str, ctx: Ctx, request: Request[Principal, Any, Any]) -> Response[BatchOut]:
        return idempotent(ctx.db, request, lambda session: service.approve(session, batch_id, ...))

`run` gets the open write session and returns anything msgspec can encode (a Struct, a dict, a list).
Pass `body=` the parsed request (a Struct, dict or bytes such as an uploaded file's content) so that a
different request under the same key is recognised.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import msgspec
from litestar import Request, Response
from sqlalchemy import Integer, LargeBinary, String, delete
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from .clock import Clock
from .domain.errors import DomainError, ValidationFailed
from .store.base import Base, UtcDateTime
from .store.db import Database

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, no spaces
_default_clock = Clock()
log = logging.getLogger(__name__)


class IdempotencyKey(Base):
    """The first successful answer to a keyed write, stored with the write."""

    __tablename__ = "idempotency_key"

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method_path: Mapped[str] = mapped_column(String(400))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


def request_hash(method_path: str, body: Any) -> str:
    """SHA-256 over the method and path and the request's content (bytes as given, anything else as JSON)."""
    if body is None:
        data = b""
    elif isinstance(body, (bytes, bytearray, memoryview)):
        data = bytes(body)
    else:
        data = msgspec.json.encode(body, order="deterministic")
    h = hashlib.sha256(method_path.encode("utf-8"))
    h.update(b"\n")
    h.update(data)
    return h.hexdigest()


def key_of(request: Request[Any, Any, Any]) -> str | None:
    """The request's Idempotency-Key header (None when absent); 422 when it is malformed."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.match(key):
        raise ValidationFailed.one(HEADER, "应为 1 至 255 个可见 ASCII 字符（建议使用 UUID）")
    return key


def _replay(row: IdempotencyKey) -> Response[bytes]:
    return Response(content=bytes(row.response_body), status_code=row.response_status, media_type="application/json",
                    headers={REPLAYED_HEADER: "true"})


def _stored(db: Database, user_id: str, key: str, method_path: str, digest: str) -> Response[bytes] | None:
    with db.read() as session:
        row = session.get(IdempotencyKey, (user_id, key))
        if row is None:
            return None
        if row.method_path != method_path or row.request_hash != digest:
            raise ValidationFailed.one(
                HEADER,
                f"此幂等键已用于另一个请求（{row.method_path}），新的请求请使用新的键",
            )
        return _replay(row)


def _keyed(run: Callable[[Session], Any], *, user_id: str, key: str, method_path: str, digest: str, status_code: int,
           clock: Clock | None) -> Callable[[Session], bytes]:
    """`run`, its answer encoded and stored under the key in the same transaction."""

    def write(session: Session) -> bytes:
        content = msgspec.json.encode(run(session))
        session.add(IdempotencyKey(
            user_id=user_id, key=key, method_path=method_path, request_hash=digest, response_status=status_code,
            response_body=content, created_at=(clock or _default_clock).now(),
        ))
        session.flush()
        return content

    return write


def _answer(content: bytes, status_code: int) -> Response[bytes]:
    return Response(content=content, status_code=status_code, media_type="application/json")


def run_once(
    db: Database,
    *,
    user_id: str,
    key: str | None,
    method_path: str,
    body: Any,
    run: Callable[[Session], Any],
    status_code: int = 200,
    clock: Clock | None = None,
) -> Response[bytes]:
    """Run `run` in one write transaction; with a key, store its answer in that transaction or replay a stored one."""
    if key is None:
        with db.begin() as session:
            content = msgspec.json.encode(run(session))
        return _answer(content, status_code)
    digest = request_hash(method_path, body)
    replay = _stored(db, user_id, key, method_path, digest)
    if replay is not None:
        return replay
    try:
        with db.begin() as session:
            content = _keyed(run, user_id=user_id, key=key, method_path=method_path, digest=digest,
                             status_code=status_code, clock=clock)(session)
    except (IntegrityError, DomainError):
        # A request with the same key may have committed meanwhile (and this one was refused, or its key row
        # collided): then this is a repeat and gets the stored answer. Otherwise the error stands.
        replay = _stored(db, user_id, key, method_path, digest)
        if replay is not None:
            return replay
        raise
    _prune_now_and_then(db, clock or _default_clock)
    return _answer(content, status_code)


async def _stored_soon(db: Database, user_id: str, key: str, method_path: str, digest: str) -> Response[bytes] | None:
    """`_stored` from the event loop: on SQLite here (one row by its key; under WAL a read never waits for a
    writer), on PostgreSQL in a worker thread."""
    if db.is_sqlite:
        return _stored(db, user_id, key, method_path, digest)
    return await asyncio.get_running_loop().run_in_executor(
        None, partial(_stored, db, user_id, key, method_path, digest))


async def write_once(
    db: Database,
    request: Request[Any, Any, Any],
    run: Callable[[Session], Any],
    *,
    body: Any = None,
    status_code: int = 200,
    clock: Clock | None = None,
) -> Response[bytes]:
    """`idempotent` for a route that is a coroutine: the write through `Database.write` (on SQLite on the event loop,
    without a hand-off to a worker thread), for short writes; the same answers, keys and replays."""
    user_id, key, method_path = request.user.id, key_of(request), f"{request.method} {request.url.path}"
    if key is None:
        return _answer(await db.write(lambda session: msgspec.json.encode(run(session))), status_code)
    digest = request_hash(method_path, body)
    replay = await _stored_soon(db, user_id, key, method_path, digest)
    if replay is not None:
        return replay
    try:
        content = await db.write(_keyed(run, user_id=user_id, key=key, method_path=method_path, digest=digest,
                                        status_code=status_code, clock=clock))
    except (IntegrityError, DomainError):
        replay = await _stored_soon(db, user_id, key, method_path, digest)
        if replay is not None:
            return replay
        raise
    if time.monotonic() >= _next_prune:
        await asyncio.get_running_loop().run_in_executor(None, _prune_now_and_then, db, clock or _default_clock)
    return _answer(content, status_code)


def idempotent(
    db: Database,
    request: Request[Any, Any, Any],
    run: Callable[[Session], Any],
    *,
    body: Any = None,
    status_code: int = 200,
    clock: Clock | None = None,
) -> Response[bytes]:
    """`run_once` for a route: the key from its header, the user from the login, the method and path from the URL."""
    return run_once(
        db, user_id=request.user.id, key=key_of(request), method_path=f"{request.method} {request.url.path}",
        body=body, run=run, status_code=status_code, clock=clock,
    )


def replayed(db: Database, request: Request[Any, Any, Any], *, body: Any = None) -> Response[bytes] | None:
    """The stored answer to this request's key, if there is one (what `idempotent` would replay): for a route that
    does costly reading before its write, to skip it on a repeat. None without a key or before a first answer."""
    key = key_of(request)
    if key is None:
        return None
    method_path = f"{request.method} {request.url.path}"
    return _stored(db, request.user.id, key, method_path, request_hash(method_path, body))


def prune(session: Session, older_than: datetime) -> int:
    """Forget keys stored before `older_than` (clients retry within minutes; keep at least a day)."""
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < older_than))
    return int(result.rowcount or 0)


KEEP = timedelta(days=7)  # how long a stored answer can be replayed
PRUNE_EVERY = 3600.0  # seconds between prunes in one process
_next_prune = 0.0


def _prune_now_and_then(db: Database, clock: Clock) -> None:
    """After a keyed write, at most once an hour per process: forget the keys older than `KEEP`, in a
    transaction of its own (the write it follows is committed and answered whatever happens here)."""
    global _next_prune
    now = time.monotonic()
    if now < _next_prune:
        return
    _next_prune = now + PRUNE_EVERY
    try:
        with db.begin() as session:
            forgotten = prune(session, clock.now() - KEEP)
    except SQLAlchemyError:
        log.warning("could not prune old idempotency keys; trying again in an hour", exc_info=True)
        return
    if forgotten:
        log.info("forgot %d idempotency keys older than %s", forgotten, KEEP)
