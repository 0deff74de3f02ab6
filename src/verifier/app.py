"""The web application: one `create_app()`, with problem-details errors and OpenAPI at /schema."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Litestar, get
from litestar.di import Provide
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)
from litestar.openapi import OpenAPIConfig
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from sqlalchemy.exc import DataError, DBAPIError, DisconnectionError, IntegrityError

from .audit.log import LogCorrupt
from .context import Context
from .domain.errors import DomainError, ValidationFailed
from .headers import add_security_headers
from .http import Ctx
from .problems import problem
from .settings import Settings


_log = logging.getLogger("verifier")


def _validation_to_problem(exc: ValidationException) -> ProblemDetailsException:
    """A request the schema refused: 400 with each field's message, in Chinese where `labels.schema_message` knows it
    (a text over its cap, empty, a character it does not take, a wrong type, a missing or unknown field ...), and a
    detail in Chinese naming every field by its label."""
    from .web.labels import field_label, schema_message

    errors = []
    said = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict):
            field = str(item.get("key") or item.get("field") or "body").removeprefix("$.")
            message = str(item.get("message", ""))
            field, zh = schema_message(field, message)
            errors.append({"field": field, "message": zh or message})
            said.append(f"{field_label(field)} {zh or '格式有误'}")
    detail = "请求内容有误，未被受理" + ("：" + "；".join(said) if said else "。")
    return problem(400, detail, extra={"errors": errors})


def _domain_to_problem(exc: DomainError) -> ProblemDetailsException:
    """A rule's refusal: its status, and its detail in Chinese as an error page says it (`stagelabels.detail_zh`: the
    pages' tables of messages; a list of bad fields names each by its label, 第 N 行 for a file's); each bad field's
    code and message as the rule said them."""
    from .web import stagelabels

    extra: dict[str, Any] = {}
    detail = stagelabels.detail_zh(exc.detail, exc.status)
    if isinstance(exc, ValidationFailed):
        extra["errors"] = [
            {"field": e.field, "message": e.message, **({"row": e.row} if e.row is not None else {})}
            for e in exc.errors
        ]
        if exc.listing:
            detail = exc.listed(stagelabels.field_problem)
    return problem(exc.status, detail, extra=extra or None, headers=getattr(exc, "headers", None))


def _broken_rule_to_problem(exc: Exception) -> ProblemDetailsException:
    """A guarded write found its row moved (`faults.broken_rule`): never expected, so logged as an error; nothing was
    written, and the caller is told in Chinese that the case changed (409), never the database's words."""
    from .store import faults

    _log.error("a guarded write wrote no row (a rule broken): %s",
               str(getattr(exc, "orig", None) or exc).splitlines()[0])
    return problem(409, faults.BROKEN_RULE_ZH)


def _data_error_to_problem(exc: DataError) -> ProblemDetailsException:
    from .store import faults

    if faults.broken_rule(exc):
        return _broken_rule_to_problem(exc)
    # The database refused a value (a NUL character, a text longer than its column, a number out of range).
    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "?"
    _log.warning("the database refused a value: %s", reason)
    return problem(422, faults.VALUE_REFUSED_ZH)


def _integrity_to_problem(exc: IntegrityError) -> ProblemDetailsException:
    from .store import faults

    if faults.log_failed(exc):  # the audit log's own rows refused the append: not a race, see store/faults.py
        return _log_failed_to_problem(exc)
    # The constraints are the truth (one open case, one live payment, ...): a race lost to another writer.
    return problem(409, faults.RACE_LOST_ZH)


def _log_failed_to_problem(exc: Exception) -> ProblemDetailsException:
    """The audit log cannot take entries (`LogCorrupt`, or its rows' constraint refused an append): 503, nothing
    written, the administrator told by the log (no stack: the cause is the log's rows, not the code)."""
    from .store import faults

    _log.error("the audit log refused an append: %s", str(getattr(exc, "orig", None) or exc).splitlines()[0])
    return problem(503, faults.LOG_FAILED_ZH)


def _database_fault_to_problem(exc: Exception) -> ProblemDetailsException:
    """The database unreachable (503) or full (507): nothing was written; see store/faults.py."""
    from .store import faults

    if faults.broken_rule(exc):
        return _broken_rule_to_problem(exc)
    headers = {"Retry-After": str(faults.RETRY_AFTER_SECONDS)}
    if faults.storage_full(exc):
        return problem(507, faults.STORAGE_FULL_ZH, headers=headers)
    if faults.unavailable(exc):
        return problem(503, faults.UNAVAILABLE_ZH, headers=headers)
    _log.error("database error", exc_info=exc)
    return problem(500, faults.DATABASE_ERROR_ZH)


def _http_to_problem(exc: HTTPException) -> ProblemDetailsException:
    from .web.labels import http_message

    return problem(exc.status_code, http_message(exc.status_code, str(exc.detail)), headers=exc.headers)


def _unexpected(request: Any, exc: Exception) -> Any:
    """Anything else that went wrong (a fault in the code, a 500 of Litestar's own): logged with its trace; the caller
    told in Chinese that nothing was done (an error page for a browser, a problem for a program)."""
    from .web.errors import error_page
    from .web.labels import ERROR_UNSAID

    _log.error("unexpected error answering %s %s", request.method, request.url.path, exc_info=exc)
    return error_page(request, 500, ERROR_UNSAID[500])


@get("/api/health", opt={"public": True}, sync_to_thread=False)
def health(ctx: Ctx) -> dict[str, Any]:
    """Liveness and the database it talks to."""
    return {"status": "ok", "database": ctx.db.dialect}


def route_handlers() -> list[Any]:
    from .accounts.routes import AccountController, AuthController, RoleGrantController, UserController
    from .audit.routes import AuditController
    from .cases.routes import CaseController, ScheduleController
    from .checks.routes import CheckController
    from .conflicts.routes import ConflictController
    from .contract_review.routes import ContractController
    from .households.routes import HouseholdController, HouseholdProposalController
    from .followups.routes import FollowupController
    from .needs.routes import NeedReferralController
    from .notices.routes import ROUTES as NOTICES
    from .peeks.routes import PersonalViewController, PhoneController
    from .payments.routes import ROUTES as PAYMENTS
    from .places.routes import PlaceController
    from .recusal.routes import RecusalController
    from .referrals.routes import ReferralController
    from .reports.routes import ROUTES as REPORTS
    from .registers.routes import FindingController, RegisterController
    from .roster.routes import RosterController
    from .sampling.routes import ROUTES as SAMPLING
    from .web.exports import ROUTES as EXPORTS
    from .web.routes import ROUTES as WEB

    return [health, AuthController, UserController, AccountController, RoleGrantController, AuditController, ReferralController,
            CaseController, ScheduleController, CheckController, ConflictController, ContractController, HouseholdController,
            HouseholdProposalController,
            RosterController, PlaceController, RecusalController, FollowupController, NeedReferralController, RegisterController,
            FindingController, PhoneController, PersonalViewController, *NOTICES, *PAYMENTS, *SAMPLING, *REPORTS, *EXPORTS, *WEB]


def create_app(ctx: Context | None = None, *, debug: bool = False) -> Litestar:
    from .accounts.auth import make_auth, role_guard
    from .web.errors import method_not_allowed, no_such_address
    from .web.security import csrf_config
    from .web.templating import template_config

    context = ctx or Context.open(Settings.from_env())
    auth = make_auth(context)

    def fill_tails() -> None:  # members stored before migration 0016 get their ID-tail index (it needs the key)
        from .cases.numbers import fill_id_tails

        fill_id_tails(context.db, context.vault)

    def load_contracts() -> None:  # the names of the causes and groups contracts declare, for pages (web/labels.py)
        from .store.contracts import all_contracts

        with context.db.read() as session:
            all_contracts(session)

    from .contract import set_name_source

    set_name_source(load_contracts)

    def provide_ctx() -> Context:
        return context

    def provide_db() -> Any:
        return context.db

    def provide_signer() -> Any:
        return context.signer

    problems = ProblemDetailsPlugin(
        ProblemDetailsConfig(
            enable_for_all_http_exceptions=True,
            exception_to_problem_detail_map={
                ValidationException: _validation_to_problem,
                DomainError: _domain_to_problem,
                DataError: _data_error_to_problem,
                IntegrityError: _integrity_to_problem,
                LogCorrupt: _log_failed_to_problem,
                DBAPIError: _database_fault_to_problem,
                DisconnectionError: _database_fault_to_problem,
                HTTPException: _http_to_problem,
            },
        )
    )
    app = Litestar(
        route_handlers=route_handlers(),
        guards=[role_guard],
        on_app_init=[auth.on_app_init],
        dependencies={
            "ctx": Provide(provide_ctx, sync_to_thread=False),
            "db": Provide(provide_db, sync_to_thread=False),
            "signer": Provide(provide_signer, sync_to_thread=False),
        },
        plugins=[problems],
        exception_handlers={MethodNotAllowedException: method_not_allowed, NotFoundException: no_such_address,
                            500: _unexpected},
        before_send=[add_security_headers],
        template_config=template_config(),
        openapi_config=OpenAPIConfig(title="verifier", version="0.1.0", path="/schema"),
        on_startup=[fill_tails],
        on_shutdown=[context.close] if ctx is None else [],
        debug=debug,
        request_max_body_size=256 * 1024 * 1024,
    )
    app.state.ctx = context
    app.state.auth = auth
    from .cases import shortcut
    from .checks import shortcut as check_shortcut
    from .web import list_shortcut
    from .web.routes import GZIP
    from .web.security import CSRF_COOKIE

    # POST /api/cases/{id}/check, GET /cases as the list opens in a browser, then GET /api/cases/{id} with a bearer
    # token: before routing (the last installed is asked first)
    check_shortcut.install(app, context, auth.token_secret)
    list_shortcut.install(app, context, auth.token_secret, token_cookie=auth.key, csrf_cookie=CSRF_COOKIE,
                          compression=GZIP.kwargs["config"])
    shortcut.install(app, context, auth.token_secret)
    app.state.csrf_config = csrf_config(context)
    return app
