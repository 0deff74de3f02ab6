"""`POST /api/cases/{id}/check` with a bearer token, answered before Litestar routes the request.

Recording a check is the API's most frequent write, and Litestar's work around it (routing, the authentication
middleware, the guard, the handler's arguments, the response objects) cost about a fifth of it. This shortcut records
the plain, successful check itself, with the very same steps as the route: the token's signature already checked by
the authentication middleware in this process (`bearer_session`: `known_token`, its expiry checked again), the session looked up
on every request (on PostgreSQL `session_lookup`, in the check's write transaction with its first reads:
`service.Admission`; on SQLite `open_session_steps`, before the write lock is taken), the route's role rule (a field
officer whose password is their own), the
body decoded and converted by the route's own signature model as Litestar does it (`decode_json`, then msgspec's
`convert` with Litestar's options), the same input check (`check_input`), the same write (`check_recorder`, through
`Database.write`, so the check, its case's move and its audit entry in one transaction), and the route's answer:
201, the same body, `content-type` then `content-length` (`before_send` adds the security headers as to every answer).

Anything else goes to Litestar untouched, with the body it was sent: another method or path, a query, a root path,
a body larger than `MAX_BODY`, not exactly one `Authorization: Bearer` header, a token not yet
checked here or expired, an `Idempotency-Key` header (the route stores and replays the answer), a session refused, a
password to change, another role, a body the route would refuse, and any refusal of the write itself (404, 403, 409,
422, a database error) but a rule found broken (`faults.broken_rule`: the case's locked row found moved), answered
409 here as Litestar answers it, and not made again. A refused write changed nothing (its transaction rolled back), and the trace a refusal keeps
(`keep_after_rollback`, a county conflict's sighting) is dropped here: Litestar then makes the same request, refuses
it as before and keeps the trace once. But a connection lost at COMMIT, after the check was written, is not handed on
(Litestar's re-try of a check that landed would be refused, 409): the check is looked up on a new connection, and
answered 201 when it landed, handed to Litestar when it did not, 503 as Litestar answers a lost database when the
look-up cannot be made (`_after_lost_commit`). The answers are byte for byte Litestar's
(`tests/checks/test_check_shortcut.py`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Any

import msgspec
from litestar._signature.model import _deserializer
from litestar.serialization import decode_json

from ..accounts.auth import bearer_session, principal_of_row
from ..accounts.sessions import open_session_steps, session_lookup
from ..cases.routes import MAX_ID
from ..http import json_headers, send_answer
from ..idempotency import HEADER as IDEMPOTENCY_HEADER
from ..problems import problem_body
from ..store import faults
from ..store.db import drop_kept
from ..store.tables import Check
from .routes import check_input, check_recorder
from .service import Admission

ASGI = Callable[[Any, Any, Any], Awaitable[None]]
_log = logging.getLogger("verifier")
PREFIX = "/api/cases/"
SUFFIX = "/check"
ROUTE = PREFIX + "{case_id:str}" + SUFFIX
ROLE = "field_officer"  # the route's opt["roles"]
MAX_BODY = 64 * 1024  # a check's form is a few kilobytes; anything larger goes Litestar's way
_ID = re.compile(r"[A-Za-z0-9_\-]{1,%d}" % MAX_ID)
_IDEMPOTENCY = IDEMPOTENCY_HEADER.lower().encode()


class CheckShortcut:
    """An ASGI app in front of Litestar's handler (`app.asgi_handler`) for recording a check (see the module)."""

    def __init__(self, handler: ASGI, ctx: Any, token_secret: str, route_handler: Any, taken: Iterable[str]) -> None:
        self._handler = handler
        self._ctx = ctx
        self._secret = token_secret
        self._taken = frozenset(taken)  # other routes' fixed names under /api/cases/ (they win over {case_id})
        # How Litestar turns the route's body into its arguments (`SignatureModel.parse_values_from_connection_kwargs`)
        self._model = route_handler.signature_model
        self._type_decoders = route_handler.resolve_type_decoders()
        self._dec_hook = partial(_deserializer, default_deserializer=route_handler.default_deserializer)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        if not (path.endswith(SUFFIX) and path.startswith(PREFIX)) or scope["method"] != "POST":
            await self._handler(scope, receive, send)  # every other request: a test or two more, nothing else
            return
        call = self._call(scope)
        if call is None:
            await self._handler(scope, receive, send)
            return
        received: list[Any] = []
        body = await _body(receive, received)
        answer = None if body is None else await self._answer(call, body)
        if answer is None:
            await self._handler(scope, _replay(received, receive), send)
            return
        if isinstance(answer, _Problem):
            await answer.send(send)
            return
        await send_answer(send, json_headers(answer), answer, status=201)

    def _call(self, scope: Any) -> tuple[str, Any] | None:
        """(case id, (session id, user id)) when the request's line and headers are those of a plain check; None otherwise."""
        path = scope["path"]
        if (scope.get("root_path") or scope.get("query_string")
                or not _ID.fullmatch(case_id := path[len(PREFIX):-len(SUFFIX)]) or case_id in self._taken):
            return None
        if any(name.lower() == _IDEMPOTENCY for name, _ in scope["headers"]):
            return None  # the route stores and replays keyed answers
        session = bearer_session(self._secret, scope["headers"])
        return None if session is None else (case_id, session)

    async def _answer(self, call: tuple[str, Any], body: bytes) -> bytes | _Problem | None:
        """The route's answer when this check is recorded; None when anything is refused (nothing written)."""
        case_id, (session_id, user_id) = call
        ctx = self._ctx
        try:
            # As Litestar: the body decoded (an empty one as null), then the arguments converted by the route's model.
            data = msgspec.convert({"case_id": case_id, "data": decode_json(body or b"null",
                                                                               type_decoders=self._type_decoders),
                                    "ctx": None, "request": None},
                                   self._model, strict=False, dec_hook=self._dec_hook, str_keys=True).data
            payload = check_input(data)
            if ctx.db.is_sqlite:
                # SQLite: the caller is admitted before the write (`BEGIN IMMEDIATE`, the only write lock, is
                # never taken for a caller the route refuses); folding saves no round trip there.
                caller: Any = _admit(await ctx.db.ask(open_session_steps(session_id, user_id)))
            else:
                # PostgreSQL: the session is looked up in the check's transaction, with its first reads (one round
                # trip saved): refused there, before anything of the case is used (its row, locked by the same
                # batch, only until the rollback), the write is rolled back and Litestar answers (looking the
                # session up again).
                caller = Admission(session_lookup(session_id, user_id), _admit, user_id)
            record = check_recorder(ctx, case_id, payload, caller)
        except Exception:  # noqa: BLE001 — a 400, 401, 403, 422, a database fault: Litestar answers it
            return None

        recorded: list[Any] = []

        def run(session: Any) -> bytes:
            try:
                recorded[:] = [record(session)]  # (made again alone when its group is rolled back: the last run's)
                return msgspec.json.encode(recorded[0])
            except BaseException as exc:
                drop_kept(exc)  # Litestar makes the request again and keeps the refusal's trace once
                raise

        try:
            return await ctx.db.write(run, grouped=True)  # with the checks in flight beside it (store/groups.py)
        except Exception as exc:  # noqa: BLE001 — refused and rolled back: Litestar answers it (doing it all again)
            if recorded and faults.unavailable(exc):  # the connection lost at COMMIT: it may have landed
                return await _after_lost_commit(ctx, recorded[0])
            if faults.broken_rule(exc):  # a rule broken, not a refusal: answered here, as Litestar would, not redone
                _log.error("a guarded write wrote no row (a rule broken): %s", str(exc.orig).splitlines()[0])
                return _Problem(409, [], BROKEN_RULE)
            return None


class _Refused(Exception):
    """The caller is not one the route takes (no open session, a password to change, another role): Litestar answers."""


def _admit(row: Any | None) -> Any:
    """The route's rule for its caller: an open session (`row`) of a field officer whose password is their own."""
    if row is None:
        raise _Refused("no open session")
    principal = principal_of_row(row)
    if principal.must_change_password or not principal.has(ROLE):
        raise _Refused("not a field officer with their own password")
    return principal


# Litestar's answer to a database it cannot reach (app.py `_database_fault_to_problem`), as its problem handler sends it.
LOST = msgspec.json.encode(problem_body(503, faults.UNAVAILABLE_ZH))
# Litestar's answer to a guarded write that wrote no row (app.py `_broken_rule_to_problem`).
BROKEN_RULE = msgspec.json.encode(problem_body(409, faults.BROKEN_RULE_ZH))


async def _after_lost_commit(ctx: Any, recorded: Any) -> bytes | _Problem | None:
    """What happened to a check whose transaction lost its connection after the check was written, at COMMIT: the
    check is looked up on a new connection. There: the route's answer (201); not there: nothing landed, and Litestar
    makes the request again as before (201, or 503 while the database is away). Unknown (the database is still
    away): 503, as Litestar answers a lost connection. Litestar's re-try of a check that had landed would be refused
    (409: the case is checked already) although it was recorded."""
    def landed() -> bool:
        with ctx.db.read() as session:
            return session.get(Check, recorded.id) is not None

    try:
        found = await asyncio.get_running_loop().run_in_executor(None, landed)
    except Exception:  # noqa: BLE001 — still away: answered as Litestar answers a lost database
        return _Problem(503, [(b"retry-after", str(faults.RETRY_AFTER_SECONDS).encode())], LOST)
    return msgspec.json.encode(recorded) if found else None


class _Problem:
    """A problem answer of the shortcut's own (status, its headers but the content's, body), sent as Litestar sends
    a `ProblemDetailsException`'s: its own headers, then the content's."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    async def send(self, send: Any) -> None:
        await send_answer(send, [*self.headers, (b"content-type", b"application/problem+json"),
                                 (b"content-length", str(len(self.body)).encode())], self.body, status=self.status)


async def _body(receive: Any, received: list[Any]) -> bytes | None:
    """The request's body (`received` keeps the messages read, to hand on); None when the client went away or the
    body grows beyond `MAX_BODY` (the rest is then left unread, for Litestar)."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(received: list[Any], receive: Any) -> Any:
    """`receive` for Litestar: the messages already read, then the connection's own."""
    pending = list(received)

    async def again() -> Any:
        if pending:
            return pending.pop(0)
        return await receive()

    return again


def install(app: Any, ctx: Any, token_secret: str) -> None:
    """Put the shortcut in front of a Litestar app's handler (after its routes are known)."""
    route_handler = next(h for route in app.routes if route.path == ROUTE for h in route.route_handlers
                         if "POST" in h.http_methods)
    assert route_handler.opt.get("roles") == (ROLE,), "the check's shortcut follows the route's role rule"
    taken = {path[len(PREFIX):].split("/", 1)[0] for route in app.routes if (path := route.path).startswith(PREFIX)
             and "{" not in path[len(PREFIX):].split("/", 1)[0]}
    app.asgi_handler = CheckShortcut(app.asgi_handler, ctx, token_secret, route_handler, taken)
