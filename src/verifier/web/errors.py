"""Errors on pages: not logged in → the login page; anything else → a Chinese error page with the right status."""

from __future__ import annotations

import logging

import re
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect
from sqlalchemy.exc import DataError, DBAPIError, DisconnectionError, IntegrityError

from ..accounts.auth import PasswordChangeRequired
from ..audit.log import LogCorrupt
from ..domain.errors import DomainError, ValidationFailed
from ..problems import problem
from . import labels, stagelabels
from .common import is_htmx, page

OWN_PASSWORD_PAGE = "/account/password"


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    """A browser navigating: it names text/html (a script's `*/*` gets problem details, as from the API)."""
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get("accept", "")


def not_logged_in(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[Any]:
    """A page asked for without a (valid) login: go to the login page, and come back afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": target} if target != "/" else {}
    if request.method != "GET":  # a form sent after the login ended: nothing of it was kept, the login page says so
        query["unsaved"] = "1"
    login = "/login?" + urlencode(query) if query else "/login"
    if is_htmx(request):
        return Response(content="", status_code=401, headers={"HX-Redirect": login})
    if _wants_html(request):
        return Redirect(path=login, status_code=303 if request.method != "GET" else 302,
                        headers={"Cache-Control": "no-store"})
    return problem(401, labels.http_message(401, str(exc.detail))).to_response(request)


def error_page(request: Request[Any, Any, Any], status: int, message: str, details: list[str] | None = None) -> Response[Any]:
    if not _wants_html(request):
        return problem(status, message).to_response(request)
    return page(request, "error.html", status_code=status, status=status, title=labels.error_title(status),
                message=message, details=details or [], back=way_back(request))


def way_back(request: Request[Any, Any, Any]) -> str | None:
    """Where 返回上一页 leads from an error page: the page of this site the person came from (the form they sent),
    else the nearest page above the address (a case's list for a case that is not there); None when that is the
    home page or this very address."""
    from urllib.parse import urlsplit

    from .common import safe_next

    here = request.url.path
    came = urlsplit(request.headers.get("referer", ""))
    if came.path and came.netloc == request.headers.get("host", "") and came.path != here:
        target = safe_next(came.path + (f"?{came.query}" if came.query else ""))
    else:
        target = _page_for_get(request)
    return None if target in ("/", here) or target.startswith(("/login", "/logout")) else target


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if isinstance(exc, PasswordChangeRequired):
        if is_htmx(request):
            return Response(content="", status_code=403, headers={"HX-Redirect": OWN_PASSWORD_PAGE})
        if _wants_html(request):
            return Redirect(path=OWN_PASSWORD_PAGE, status_code=303 if request.method != "GET" else 302,
                            headers={"Cache-Control": "no-store"})
        message = str(exc.detail)
    elif isinstance(exc, PermissionDeniedException):  # a form from elsewhere (CSRF), or the role guard's refusal
        message = labels.http_message(403, str(exc.detail))
    elif isinstance(exc, NotFoundException):
        message = "没有找到这个页面。"
    elif isinstance(exc, ValidationException):
        fixed = _without_unknown_filters(request, exc)
        if fixed is not None:  # an old bookmark's filter value, a hand-edited address: the list without it
            return Redirect(path=fixed, status_code=303, headers={"Cache-Control": "no-store"})
        message = "请求参数有误。"
    else:
        message = labels.http_message(status, str(exc.detail))
    return error_page(request, status, message)


LIST_FILTERS = frozenset({"status", "state", "todo", "wall", "role"})
"""A list's filter buttons (全部, 待办…): a value they do not take is dropped (`_without_unknown_filters`)."""


def _without_unknown_filters(request: Request[Any, Any, Any], exc: ValidationException) -> str | None:
    """A list opened (GET, not htmx) with a value its filter buttons do not take (`/notices?status=all` from an old
    bookmark, a typo in the address): the same list without it, as the case list ignores a filter it does not know;
    None for any other bad value (a county, a month, a contract: the error page) or none in the address."""
    from urllib.parse import urlencode

    if request.method not in ("GET", "HEAD") or is_htmx(request) or not _wants_html(request):
        return None
    bad = {e.get("key") for e in (exc.extra or []) if isinstance(e, dict) and e.get("source") == "query"}
    if not bad or not bad <= LIST_FILTERS:
        return None  # a county, a month, a contract named wrong changes what is shown: refused, not dropped
    given = list(request.query_params.multi_items())
    kept = [(k, v) for k, v in given if k not in bad]
    if len(kept) == len(given):
        return None
    return request.url.path + (f"?{urlencode(kept)}" if kept else "")


def _page_for_get(request: Request[Any, Any, Any]) -> str | None:
    """The nearest page above `request`'s path that answers GET: where a form's submit address leads back to."""
    patterns = [re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", r.path.rstrip("/")) + "/?$")
                for r in request.app.routes if "GET" in getattr(r, "methods", ()) and not r.path.startswith("/api")]
    path = request.url.path.rstrip("/")
    while "/" in path:
        path = path.rsplit("/", 1)[0]
        if any(p.match(path or "/") for p in patterns):
            return path or "/"
    return "/"


def method_not_allowed(request: Request[Any, Any, Any], exc: MethodNotAllowedException) -> Response[Any]:
    """A form's submit address opened directly (it stays in the address bar after a refused submission, and a
    reload asks for it with GET): back to the page that holds the form. Any other wrong method: a Chinese page.
    Programs (the API, non-HTML clients) get the problem details as before."""
    if not _wants_html(request):
        return problem(405, f"此地址不支持 {request.method} 请求。", headers=exc.headers).to_response(request)
    if request.method in ("GET", "HEAD"):
        return Redirect(path=_page_for_get(request), status_code=303)
    return error_page(request, 405, "此地址不能这样访问，请从页面上的按钮或表单操作。")


def no_such_address(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[Any]:
    """An address no route answers (a mistyped or outdated bookmark): a Chinese page with the way home for a browser,
    problem details for programs."""
    if not _wants_html(request):
        return problem(404, "没有这个地址，请核对请求的路径。", headers=exc.headers).to_response(request)
    return error_page(request, 404, "没有找到这个页面。请从首页或导航栏进入。")


def _chinese(message: str, status: int) -> str:
    """A service's message in Chinese (the tables of every stage), or a plain Chinese sentence for its status."""
    return stagelabels.detail_zh(message, status)


def domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    details = []
    if isinstance(exc, ValidationFailed):
        details = [labels.labelled(labels.field_label(e.field), _chinese(e.message, 422)) for e in exc.errors]
    message = _chinese(exc.detail, exc.status) if not isinstance(exc, ValidationFailed) else "提交的内容有误。"
    return error_page(request, exc.status, message, details)


def database_refused(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    from ..store import faults

    if faults.storage_full(exc):
        return _with_retry(error_page(request, 507, faults.STORAGE_FULL_ZH))
    if faults.unavailable(exc):
        return _with_retry(error_page(request, 503, faults.UNAVAILABLE_ZH))
    if isinstance(exc, LogCorrupt) or faults.log_failed(exc):  # the audit log's rows disagree: not a race
        logging.getLogger("verifier").error("the audit log refused an append: %s",
                                            str(getattr(exc, "orig", None) or exc).splitlines()[0])
        return error_page(request, 503, faults.LOG_FAILED_ZH)
    if faults.broken_rule(exc):  # a guarded write found its locked row moved: never expected
        logging.getLogger("verifier").error("a guarded write wrote no row (a rule broken): %s",
                                            str(getattr(exc, "orig", None) or exc).splitlines()[0])
        return error_page(request, 409, faults.BROKEN_RULE_ZH)
    if isinstance(exc, IntegrityError):  # a race lost to another writer: the constraints are the truth
        return error_page(request, 409, faults.RACE_LOST_ZH)
    if isinstance(exc, DataError):
        return error_page(request, 422, faults.VALUE_REFUSED_ZH)
    logging.getLogger("verifier").error("database error", exc_info=exc)
    return error_page(request, 500, faults.DATABASE_ERROR_ZH)


def _with_retry(response: Response[Any]) -> Response[Any]:
    from ..store.faults import RETRY_AFTER_SECONDS

    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


EXCEPTION_HANDLERS: dict[Any, Any] = {
    IntegrityError: database_refused,
    DataError: database_refused,
    DBAPIError: database_refused,
    DisconnectionError: database_refused,
    LogCorrupt: database_refused,
    NotAuthorizedException: not_logged_in,
    PermissionDeniedException: http_error,
    NotFoundException: http_error,
    ValidationException: http_error,
    DomainError: domain_error,
}
